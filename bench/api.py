"""Heartbeat benchmark: how many heartbeats per second the machine API sustains.

    python bench/api.py                          # SQLite store, 1,000 devices
    python bench/api.py --rates 1000 1500 2000   # several offered loads
    python bench/api.py --database-url postgresql+psycopg://beacon@127.0.0.1:5432/bench

1,000 devices are registered and enrolled through core (each with its own credential).
The API runs as `python -m core api` in its own process (one uvicorn worker), as in
production. The load generator, in this process, is an open-loop client on loopback:
each device posts a heartbeat on its own schedule so that together they offer RATE
heartbeats per second for DURATION seconds (bounded in time), over a pool of
keep-alive connections. Latency runs from the moment a heartbeat was due to the moment
its answer arrived, so time spent waiting for a free connection counts (no coordinated
omission). Afterwards the API is stopped gracefully and the heartbeats in the store are
counted: they must equal the number acknowledged (202), and nothing may fail.

Target: >= 1,000 heartbeats/s with p99 < 100 ms on 2 cores (load generator included).
Generated state lives in bench/.work/fleet-api (git-ignored).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, bench/ comes first on sys.path, where a benchmark module could shadow
# the standard library (a bench/copy.py did): import from the project root instead.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
WORK = ROOT / "bench" / ".work" / "fleet-api"
BODY = {
    "cpu_pct": 37.5,
    "mem_pct": 61.0,
    "temp_c": 55.0,
    "disk_pct": 42.0,
    "models": [{"name": "demand", "version": "7"}],
    "inference": {"count": 240, "p50_ms": 3.2, "p95_ms": 7.9, "p99_ms": 12.4},
}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def environment(home: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEACON_")}
    env.update(
        BEACON_HOME=str(home),
        BEACON_SECRETS_FILE=str(home / "no-secrets.toml"),
        BEACON_DATABASE_URL=database_url,
        # Each device posts about once a second here; the default bucket allows 5/s.
        BEACON_API_RATE_PER_SECOND="20",
        BEACON_API_RATE_BURST="40",
    )
    return env


def prepare(home: Path, database_url: str, count: int) -> list[str]:
    """A fresh store with `count` enrolled devices; returns their credentials."""
    os.environ.update(environment(home, database_url))
    from core.auth.roles import User
    from core.config import load_settings
    from core.fleet import devices
    from core.fleet.tokens import TokenHasher
    from core.services import open_services

    services = open_services(load_settings())
    hasher = TokenHasher.for_store(services.store)
    system = User.system()
    credentials = []
    kinds = list(devices.KINDS)
    for i in range(count):
        spec = devices.DeviceSpec(f"bench-{i:04d}", kinds[i % len(kinds)], tags=("bench",))
        enrolment = devices.add_device(services.store, hasher, system, spec)
        _, credential = devices.enrol(services.store, hasher, enrolment.token, arch="arm64")
        credentials.append(credential)
    services.store.engine.dispose()
    return credentials


def stored_heartbeats(home: Path, database_url: str) -> int:
    os.environ.update(environment(home, database_url))
    from sqlalchemy import func, select

    from core.fleet.models import HeartbeatRow
    from core.store import open_store

    store = open_store(database_url or f"sqlite:///{home / 'beacon.db'}")
    with store.session() as s:
        count = s.scalar(select(func.count()).select_from(HeartbeatRow))
    store.engine.dispose()
    return int(count)


def start_api(home: Path, database_url: str, port: int, workers: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "core", "api", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--workers", str(workers)],
        cwd=ROOT,
        env=environment(home, database_url),
        stdout=subprocess.DEVNULL,
        stderr=open(home / "api.log", "w"),  # noqa: SIM115 (closed with the process)
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the API did not start: see " + str(home / "api.log"))


def stop_api(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGINT)  # graceful: the heartbeat writer drains its queue
    try:
        process.wait(60)
    except subprocess.TimeoutExpired:
        process.kill()


class Connection:
    """One keep-alive HTTP/1.1 connection with a minimal request/response codec."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def post(self, request: bytes) -> int:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        if length:
            await self.reader.readexactly(length)
        return status


def request_bytes(credential: str) -> bytes:
    body = json.dumps(BODY).encode()
    return (
        b"POST /v1/devices/heartbeat HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Authorization: Bearer " + credential.encode() + b"\r\n"
        b"Content-Type: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n"
        b"\r\n" + body
    )


async def offer(port: int, credentials: list[str], rate: float, seconds: float, pool: int):
    """Send heartbeats at `rate` per second for `seconds`; returns latencies and status counts."""
    requests_ = [request_bytes(c) for c in credentials]
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(pool):
        idle.put_nowait(await Connection.open(port))
    period = len(credentials) / rate  # each device's interval
    rng = random.Random(7)
    offsets = [rng.uniform(0, period) for _ in credentials]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.2

    async def one(index: int, due: float) -> None:
        await asyncio.sleep(max(0.0, due - loop.time()))
        conn = await idle.get()
        try:
            status = await conn.post(requests_[index])
        except (ConnectionError, asyncio.IncompleteReadError):
            status = 0
            conn = await Connection.open(port)
        idle.put_nowait(conn)
        latencies.append(loop.time() - due)
        statuses[status] = statuses.get(status, 0) + 1

    tasks = []
    rounds = int(seconds / period)
    for k in range(rounds):
        for i, offset in enumerate(offsets):
            tasks.append(asyncio.ensure_future(one(i, start + k * period + offset)))
        await asyncio.sleep(max(0.0, start + (k + 1) * period - loop.time() - period / 2))
    await asyncio.gather(*tasks)
    elapsed = loop.time() - start
    while not idle.empty():
        idle.get_nowait().writer.close()
    return latencies, statuses, elapsed, len(tasks)


def timed(run):
    """Run the load generator without its own garbage-collection pauses.

    It keeps every request's task and latency, and a full collection over them stalls
    its event loop for 100 ms and more, which would be counted as the API's latency.
    """
    gc.collect()
    gc.disable()
    try:
        return asyncio.run(run)
    finally:
        gc.enable()


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its live children (Linux /proc)."""
    total = 0.0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(c) for c in children.read_text().split()]
    for one in pids:
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def event_loop() -> str:
    """The loop uvicorn picks ("auto": uvloop when installed)."""
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--rates", type=float, nargs="+", default=[1000.0])
    parser.add_argument("--seconds", type=float, default=20.0, help="per offered rate")
    parser.add_argument("--connections", type=int, default=64, help="keep-alive pool size")
    parser.add_argument("--database-url", default="", help="default: SQLite in the work folder")
    parser.add_argument("--workers", type=int, default=1, help="API worker processes")
    parser.add_argument(
        "--warmup", type=float, default=3.0, help="seconds at the first rate, not timed"
    )
    args = parser.parse_args()

    home = WORK / ("postgresql" if args.database_url else "sqlite")
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    log(f"load average before: {os.getloadavg()}")
    started = time.perf_counter()
    credentials = prepare(home, args.database_url, args.devices)
    took = time.perf_counter() - started
    log(f"registered and enrolled {len(credentials)} devices in {took:.1f} s")

    port = free_port()
    api = start_api(home, args.database_url, port, args.workers)
    results = []
    warmed = 0
    try:
        if args.warmup > 0:  # connections, caches and the store's pages warm up first
            _, statuses, _, _ = asyncio.run(
                offer(port, credentials, args.rates[0], args.warmup, args.connections)
            )
            warmed = statuses.get(202, 0)
            log(f"warm-up: {warmed} heartbeats in {args.warmup:.0f} s (stored, not timed)")
        for rate in args.rates:
            load_before = os.getloadavg()[0]
            cpu_before = os.times()
            api_before = process_cpu_seconds(api.pid)
            latencies, statuses, elapsed, sent = timed(
                offer(port, credentials, rate, args.seconds, args.connections)
            )
            cpu_after = os.times()
            api_cpu = process_cpu_seconds(api.pid) - api_before
            ok = statuses.get(202, 0)
            row = {
                "offered_per_s": rate,
                "sent": sent,
                "acknowledged": ok,
                "statuses": statuses,
                "achieved_per_s": round(ok / elapsed, 1),
                "p50_ms": round(percentile(latencies, 50) * 1000, 1),
                "p99_ms": round(percentile(latencies, 99) * 1000, 1),
                "max_ms": round(max(latencies) * 1000, 1),
                "mean_ms": round(statistics.fmean(latencies) * 1000, 1),
                "seconds": round(elapsed, 1),
                "generator_cpu_s": round(
                    (cpu_after.user - cpu_before.user) + (cpu_after.system - cpu_before.system), 1
                ),
                "api_cpu_s": round(api_cpu, 1),
                "api_cpu_ms_per_heartbeat": round(api_cpu / max(ok, 1) * 1000, 3),
                "load_1min_before": load_before,
            }
            results.append(row)
            log(json.dumps(row))
    finally:
        stop_api(api)
    stored = stored_heartbeats(home, args.database_url)
    acknowledged = warmed + sum(r["acknowledged"] for r in results)
    summary = {
        "backend": "postgresql" if args.database_url else "sqlite",
        "devices": args.devices,
        "connections": args.connections,
        "workers": args.workers,
        "event_loop": event_loop(),
        "stored": stored,
        "acknowledged": acknowledged,
        "lost": acknowledged - stored,
        "load_after": os.getloadavg(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "runs": results,
    }
    (home / "results.json").write_text(json.dumps(summary, indent=2))
    log(json.dumps({k: v for k, v in summary.items() if k != "runs"}))
    if stored != acknowledged:
        raise SystemExit(f"LOST HEARTBEATS: acknowledged {acknowledged}, stored {stored}")


if __name__ == "__main__":
    main()
