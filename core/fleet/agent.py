"""Beacon's edge agent: enrol, report, install the desired models and serve /infer.

The reference agent for real devices and the one the simulator runs. It needs only
Python's standard library, numpy and onnxruntime, so a Raspberry Pi runs it with

    pip install onnxruntime numpy
    python -m core.fleet.agent --api https://beacon.example.com --enrol-token bcn_enr_...

Each cycle it asks the API for its desired state, downloads any new model version from
the link it is given, checks the sha256, loads it in ONNX Runtime, runs one self-test
inference, and only then swaps it in; then it sends a heartbeat and a report of every
model (version, state, requests, errors, p95 latency, the address of its /infer).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import hashlib
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np

from core.fleet.agent_io import AgentError, Api, download, serve_http
from core.fleet.agent_readings import DeviceReadings

log = logging.getLogger("beacon.agent")
_DTYPES = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(string)": np.str_,
    "tensor(bool)": np.bool_,
}


@dataclass(frozen=True, slots=True)
class Faults:
    """Failures the simulator can inject: slow answers, bad model copies, a crash."""

    slow_ms: float = 0.0
    bad_model: bool = False
    bad_versions: tuple[int, ...] = ()  # empty: every version is bad (when bad_model)

    def bad(self, version: int) -> bool:
        """Whether this version's copy on the device is corrupted."""
        return self.bad_model and (not self.bad_versions or version in self.bad_versions)


@dataclass
class Loaded:
    """A model version in memory with its traffic counters."""

    name: str
    version: int
    sha256: str
    session: Any  # onnxruntime.InferenceSession
    requests: int = 0
    errors: int = 0
    latencies: collections.deque = field(default_factory=lambda: collections.deque(maxlen=512))


@dataclass(frozen=True, slots=True)
class Status:
    """A model's install state on this device."""

    version: int
    state: str  # downloading, installed, active, failed
    sha256: str = ""
    detail: str = ""


def _percentile(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


def _jsonable(value: Any) -> Any:
    """ONNX outputs as JSON: arrays to lists, ZipMap dicts keyed by strings."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _feeds(session: Any, body: dict) -> dict[str, np.ndarray]:
    inputs = session.get_inputs()
    if "rows" in body:
        first = inputs[0]
        return {first.name: np.asarray(body["rows"], dtype=_DTYPES.get(first.type, np.float32))}
    given = body.get("inputs")
    if not isinstance(given, dict):
        raise ValueError("send 'rows' (a list of rows) or 'inputs' (name -> values)")
    missing = [i.name for i in inputs if i.name not in given]
    if missing:
        raise ValueError(f"missing input(s): {', '.join(missing)}")
    return {
        i.name: np.asarray(given[i.name], dtype=_DTYPES.get(i.type, np.float32)) for i in inputs
    }


def _self_test(session: Any) -> None:
    """One inference on zeros shaped like the inputs (dynamic sizes become 1)."""
    feeds = {}
    for item in session.get_inputs():
        shape = [d if isinstance(d, int) and d > 0 else 1 for d in item.shape]
        feeds[item.name] = np.zeros(shape, dtype=_DTYPES.get(item.type, np.float32))
    session.run(None, feeds)


class Agent:
    """One edge device: its credential, its models, its /infer server and its loop."""

    def __init__(
        self,
        api: str,
        state_dir: Path,
        *,
        credential: str | None = None,
        listen: tuple[str, int] = ("127.0.0.1", 0),
        advertise: str | None = None,
        faults: Faults | None = None,
        interval: float | None = None,
    ) -> None:
        self.state_dir = Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        saved = self.state_dir / "credential"
        if credential is None and saved.exists():
            credential = saved.read_text().strip()
        self.api = Api(api, credential)
        self.listen, self.advertise = listen, advertise
        self.faults = faults or Faults()
        self.interval = interval
        self.name = ""
        self.models: dict[str, Loaded] = {}
        self.status: dict[str, Status] = {}
        self._lock = threading.Lock()
        self.readings = DeviceReadings(disk=str(self.state_dir))
        self._stop = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self._since_heartbeat: list[float] = []
        self.crashed = False

    # --- enrolment and the loop -------------------------------------------------------

    def enrol(self, token: str, *, arch: str = "", os_name: str = "") -> str:
        """Exchange the one-time token for a credential, kept in the state folder (0600)."""
        import onnxruntime as ort

        answer = self.api.call(
            "POST",
            "/v1/devices/enrol",
            {
                "token": token,
                "arch": arch or os.uname().machine,
                "os": os_name or f"{os.uname().sysname} {os.uname().release}"[:100],
                "capabilities": {"execution_providers": ort.get_available_providers()},
            },
        )
        self.api.credential, self.name = answer["credential"], answer["device"]
        if self.interval is None:
            self.interval = float(answer.get("heartbeat_seconds", 30))
        path = self.state_dir / "credential"
        path.write_text(answer["credential"])
        path.chmod(0o600)
        return self.name

    def start(self) -> Agent:
        """Serve /infer and run the loop in background threads."""
        self.serve()
        loop = threading.Thread(target=self._loop, name=f"agent-{self.name}", daemon=True)
        loop.start()
        self._threads.append(loop)
        return self

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.step()
            except AgentError as exc:
                log.warning("%s: %s", self.name or "agent", exc)
            self._stop.wait(self.interval or 30.0)

    def step(self) -> None:
        """One cycle: desired state, install, heartbeat, report."""
        if self.crashed:
            return
        desired = self.api.call("GET", "/v1/devices/desired-state")
        self.name = desired.get("device", self.name)
        if self.interval is None:
            self.interval = float(desired.get("heartbeat_seconds", 30))
        self.reconcile(desired.get("models", []))
        self.heartbeat()
        self.report()

    def stop(self) -> None:
        """Stop the loop and the server."""
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(5)

    def crash(self) -> None:
        """Simulate a power loss: no more reports, /infer stops answering."""
        self.crashed = True
        self.stop()

    # --- models -----------------------------------------------------------------------

    def reconcile(self, desired: list[dict]) -> None:
        """Install what is desired and not yet active; unload what is no longer desired."""
        wanted = {entry["name"]: entry for entry in desired}
        with self._lock:
            for name in set(self.models) - set(wanted):
                self.models.pop(name)
            for name in set(self.status) - set(wanted):
                self.status.pop(name)
        for name, entry in sorted(wanted.items()):
            version = int(entry["version"])
            current = self.status.get(name)
            same = current and (current.version, current.sha256) == (version, entry["sha256"])
            if same and current.state in ("active", "failed"):
                continue  # a failed version is not retried until the desired state changes
            self.install(entry)

    def install(self, entry: dict) -> None:
        """Download, verify, load, self-test and activate one model version."""
        import onnxruntime as ort

        name, version, sha = entry["name"], int(entry["version"]), entry["sha256"]
        self.status[name] = Status(version, "downloading", sha)
        path = self.state_dir / "models" / name / f"v{version}.onnx"
        try:
            if not (path.exists() and hashlib.sha256(path.read_bytes()).hexdigest() == sha):
                download(entry["url"], sha, path)
            self.status[name] = Status(version, "installed", sha)
            content = path.read_bytes()
            if self.faults.bad(version):  # the simulator's "bad model": a corrupted copy
                content = content[: len(content) // 2]
            options = ort.SessionOptions()
            options.intra_op_num_threads = 1
            session = ort.InferenceSession(content, options, providers=["CPUExecutionProvider"])
            _self_test(session)
        except Exception as exc:
            detail = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
            self.status[name] = Status(version, "failed", sha, detail)
            log.warning("%s: %s v%s failed: %s", self.name, name, version, detail)
            return
        with self._lock:
            self.models[name] = Loaded(name, version, sha, session)
            self.status[name] = Status(version, "active", sha)

    def infer(self, body: dict) -> tuple[int, dict]:
        """Run one request; returns an HTTP status and a JSON body."""
        with self._lock:
            name = body.get("model") or (next(iter(self.models)) if len(self.models) == 1 else "")
            loaded = self.models.get(name)
        if loaded is None:
            return 404, {"error": f"model {name or '?'} is not active on {self.name}"}
        started = time.perf_counter()
        if self.faults.slow_ms:
            time.sleep(self.faults.slow_ms / 1000)
        try:
            feeds = _feeds(loaded.session, body)
            outputs = loaded.session.run(None, feeds)
        except ValueError as exc:
            return 400, {"error": str(exc)[:300]}
        except Exception as exc:
            bad_input = type(exc).__name__ in ("InvalidArgument", "InvalidGraph")
            with self._lock:
                loaded.requests += 1
                loaded.errors += 0 if bad_input else 1
            return (400 if bad_input else 500), {"error": str(exc).splitlines()[0][:300]}
        took = (time.perf_counter() - started) * 1000
        with self._lock:
            loaded.requests += 1
            loaded.latencies.append(took)
            self._since_heartbeat.append(took)
        names = [o.name for o in loaded.session.get_outputs()]
        return 200, {
            "device": self.name,
            "model": loaded.name,
            "version": loaded.version,
            "latency_ms": took,
            "outputs": {n: _jsonable(v) for n, v in zip(names, outputs, strict=True)},
        }

    def health(self) -> dict:
        """What GET /health answers: the device and the versions it serves."""
        with self._lock:
            return {
                "device": self.name,
                "models": {m.name: m.version for m in self.models.values()},
            }

    # --- reporting --------------------------------------------------------------------

    def heartbeat(self) -> None:
        """Post status: CPU, memory, disk, temperature, models, inference since the last one."""
        with self._lock:
            latencies, self._since_heartbeat = self._since_heartbeat, []
            models = [{"name": m.name, "version": str(m.version)} for m in self.models.values()]
        self.api.call(
            "POST",
            "/v1/devices/heartbeat",
            {
                **self.readings.all(),
                "models": models,
                "inference": {
                    "count": len(latencies),
                    "p50_ms": _percentile(latencies, 50),
                    "p95_ms": _percentile(latencies, 95),
                    "p99_ms": _percentile(latencies, 99),
                },
            },
        )

    def report(self) -> None:
        """Post every model's state and counters, with where /infer is served."""
        entries = []
        with self._lock:
            for name, status in sorted(self.status.items()):
                loaded = self.models.get(name)
                live = loaded is not None and loaded.version == status.version
                entries.append(
                    {
                        "name": name,
                        "version": status.version,
                        "state": status.state,
                        "sha256": status.sha256,
                        "requests": loaded.requests if live and loaded else 0,
                        "errors": loaded.errors if live and loaded else 0,
                        "p95_ms": _percentile(list(loaded.latencies), 95)
                        if live and loaded
                        else None,
                        "detail": status.detail,
                    }
                )
        self.api.call(
            "POST", "/v1/devices/models/report", {"endpoint": self.endpoint, "models": entries}
        )

    # --- the /infer server ------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        """The URL others reach this agent's /infer at."""
        if self.advertise:
            return self.advertise.rstrip("/")
        if self._server is None:
            return ""
        host, port = self._server.server_address[:2]
        if host in ("0.0.0.0", "::"):  # noqa: S104 - listening everywhere: name this host
            host = socket.gethostname()
        return f"http://{host}:{port}"

    def serve(self) -> None:
        """Start the HTTP server for /infer and /health."""
        self._server = serve_http(self.listen, self.infer, self.health)


def _listen(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host or "0.0.0.0", int(port)  # noqa: S104 - a device serves its network


def main(argv: list[str] | None = None) -> int:
    """Run the agent until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m core.fleet.agent", description=__doc__)
    parser.add_argument("--api", required=True, help="Beacon's machine API, e.g. https://host")
    parser.add_argument("--enrol-token", help="one-time token (first start only)")
    parser.add_argument("--state-dir", default=str(Path.home() / ".beacon-agent"))
    parser.add_argument("--listen", default="0.0.0.0:8600", help="HOST:PORT for /infer")
    parser.add_argument("--advertise", help="URL others reach /infer at (default: hostname)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    agent = Agent(
        args.api, Path(args.state_dir), listen=_listen(args.listen), advertise=args.advertise
    )
    if args.enrol_token:
        log.info("enrolled as %s", agent.enrol(args.enrol_token))
    elif not agent.api.credential:
        parser.error("first start: give --enrol-token (an admin creates it in Beacon)")
    agent.start()
    with contextlib.suppress(KeyboardInterrupt):
        while True:
            time.sleep(3600)
    agent.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
