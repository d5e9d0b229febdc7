"""Edge routing benchmark: requests per second through the router to 10 simulated devices.

    python bench/edge_routing.py                         # 10 devices, 2,000 requests per strategy
    python bench/edge_routing.py --requests 5000 --concurrency 16

The devices are Beacon's edge agents (core.fleet.agent) serving a small ONNX model
(a ridge regression on 10 features, converted with skl2onnx) on loopback, all in one
child process, so the router and the devices do not share an interpreter. The router
runs in this process with a keep-alive HTTP client and sends each request through the
chosen strategy, its circuit breakers and retries, with CONCURRENCY requests in flight.
Every run is bounded by a request count and a time limit. Results are printed and
appended to bench/RESULTS.md under "# Edge routing benchmark".
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: import Beacon from the project root
    sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "bench" / "RESULTS.md"
HEADER = "# Edge routing benchmark"
FEATURES = 10


def _model(path: Path) -> str:
    """Write the benchmark model; returns its sha256."""
    import numpy as np
    from skl2onnx import to_onnx
    from sklearn.linear_model import Ridge

    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, FEATURES)).astype(np.float32)
    data = to_onnx(Ridge().fit(x, x @ rng.normal(size=FEATURES)), x[:1]).SerializeToString()
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def serve_devices(count: int, model: Path, sha: str) -> None:
    """Child process: start `count` agents serving the model; print endpoints; wait."""
    from core.fleet.agent import Agent

    state = Path(tempfile.mkdtemp(prefix="beacon-bench-agents-"))
    agents = []
    for index in range(count):
        agent = Agent("http://127.0.0.1:9", state / f"d{index}")  # no API: routing only
        agent.name = f"bench-{index + 1:02d}"
        agent.serve()
        agent.install({"name": "bench", "version": 1, "sha256": sha, "url": model.as_uri()})
        agents.append(agent)
    print(json.dumps([[a.name, a.endpoint] for a in agents]), flush=True)
    sys.stdin.read()  # the parent closes stdin to stop us
    for agent in agents:
        agent.stop()


def _run(strategy: str, devices, requests: int, concurrency: int, seconds: float) -> dict:
    import httpx

    from core.fleet.routing import DeviceError, Router, http_transport, summarise
    from core.integrations.breaker import BreakerRegistry

    limits = httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency)
    body = {"model": "bench", "rows": [[0.1] * FEATURES]}
    with httpx.Client(limits=limits, timeout=5.0) as client:
        router = Router(strategy, http_transport(client), breakers=BreakerRegistry())
        for _ in range(50):  # warm the connections up, not timed
            router.send(devices, body, key="warm")
        deadline = time.monotonic() + seconds

        def one(index: int):
            if time.monotonic() > deadline:
                return "skipped: time limit"
            try:
                return router.send(devices, body, key=f"customer-{index}")
            except DeviceError as exc:
                return str(exc)

        started = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            outcomes = list(pool.map(one, range(requests)))
        elapsed = time.perf_counter() - started
    summary = summarise(strategy, outcomes)
    served = summary.requests - summary.failed
    counts = list(summary.by_device.values())
    return {
        "strategy": strategy,
        "requests": summary.requests,
        "failed": summary.failed,
        "per_second": round(served / elapsed, 1),
        "p50_ms": round(summary.p50_ms or 0, 2),
        "p99_ms": round(summary.p99_ms or 0, 2),
        "devices": len(counts),
        "min_per_device": min(counts) if counts else 0,
        "max_per_device": max(counts) if counts else 0,
    }


def _append(rows: list[dict], args: argparse.Namespace) -> None:
    text = RESULTS.read_text() if RESULTS.exists() else ""
    block = []
    if HEADER not in text:
        block += [
            "",
            HEADER,
            "",
            "`bench/edge_routing.py` routes requests for one model through `core.fleet.routing`",
            "to simulated edge agents on loopback (all agents in one child process, the router",
            "in the benchmark process, keep-alive HTTP). Each request is a one-row inference of",
            "a 10-feature ridge regression in ONNX Runtime. Latency is the router's: choosing",
            "a device, the HTTP round trip and the inference. Both processes share 2 cores.",
        ]
    block += [
        "",
        f"## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {args.devices} devices, "
        f"{args.concurrency} in flight, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs",
        "",
        "| strategy | requests | failed | requests/s | p50 ms | p99 ms | per device (min-max) |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    block += [
        f"| {r['strategy']} | {r['requests']} | {r['failed']} | {r['per_second']} | "
        f"{r['p50_ms']} | {r['p99_ms']} | {r['min_per_device']}-{r['max_per_device']} "
        f"over {r['devices']} |"
        for r in rows
    ]
    if HEADER in text:  # a new run goes at the end of this section, before the next one
        start = text.index(HEADER)
        end = text.find("\n# ", start + len(HEADER))
        end = len(text) if end < 0 else end + 1
        head, tail = text[:end].rstrip("\n"), text[end:]
        RESULTS.write_text(head + "\n" + "\n".join(block) + "\n" + ("\n" + tail if tail else ""))
        return
    RESULTS.write_text(text.rstrip("\n") + "\n" + "\n".join(block) + "\n")


def main(argv: list[str] | None = None) -> list[dict]:
    """Run the benchmark (defaults when `argv` is None); returns one row per strategy."""
    from core.fleet.device_models import ServingDevice
    from core.fleet.routing import STRATEGIES

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=10)
    parser.add_argument("--requests", type=int, default=2000, help="per strategy")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60.0, help="time limit per strategy")
    parser.add_argument("--no-record", action="store_true", help="do not append to RESULTS.md")
    parser.add_argument("--serve-devices", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--sha", help=argparse.SUPPRESS)
    args = parser.parse_args([] if argv is None else argv)
    if args.serve_devices:
        serve_devices(args.devices, Path(args.model), args.sha)
        return []

    work = Path(tempfile.mkdtemp(prefix="beacon-bench-routing-"))
    model = work / "model.onnx"
    sha = _model(model)
    child = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--serve-devices",
            "--devices",
            str(args.devices),
            "--model",
            str(model),
            "--sha",
            sha,
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    try:
        endpoints = json.loads(child.stdout.readline())
        devices = [
            ServingDevice(name, url, 1, weight=1 + i % 3) for i, (name, url) in enumerate(endpoints)
        ]
        rows = []
        for strategy in STRATEGIES:
            row = _run(strategy, devices, args.requests, args.concurrency, args.seconds)
            print(json.dumps(row), flush=True)
            rows.append(row)
    finally:
        child.stdin.close()
        child.wait(30)
    if not args.no_record:
        _append(rows, args)
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
