"""`python -m core fleet rollouts|simulate|infer ...`: rollouts, simulator, test inference.

    fleet rollouts list | show ID | create MODEL VERSION [--strategy S ...] | tick
    fleet rollouts pause ID | resume ID | abort ID [--rollback]
    fleet simulate --devices N [--api URL] [--fail MODE[:N][@V] ...] [--seconds S]
    fleet infer MODEL [--strategy S] [--requests N] [--rows JSON]

`simulate` without --api serves the machine API itself on a free loopback port.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.auth.roles import User
from core.cli import emit
from core.errors import UserInputError
from core.fleet import inference, model_registry, rollouts, simulate
from core.fleet.rollout_catalog import RegistryCatalog
from core.fleet.rollout_plans import ON_FAILURE, STRATEGIES, WAVE_SIZING, Gate, Plan
from core.fleet.routing import STRATEGIES as ROUTING
from core.fleet.tokens import TokenHasher
from core.services import Services
from core.store.models import utcnow

Handler = Callable[[argparse.Namespace, Services], None]
DEFAULT_GATE = Gate()


def rollout_json(r: rollouts.Rollout) -> dict[str, Any]:
    """A rollout as the CLI prints it."""
    return {
        "id": r.id,
        "model": r.model_name,
        "version": r.model_version,
        "state": r.state,
        "wave": r.wave + 1,
        "waves": r.waves,
        "strategy": r.plan.strategy,
        "message": r.message,
        "gate": r.gate,
        "counts": {k: v for k, v in r.counts().items() if v},
        "devices": [
            {"device": d.device, "wave": d.wave + 1, "state": d.state, "detail": d.detail}
            for d in r.devices
        ],
    }


def _line(r: rollouts.Rollout) -> str:
    counts = ", ".join(f"{k} {v}" for k, v in r.counts().items() if v)
    return (
        f"#{r.id} {r.model_name} v{r.model_version} {r.state} wave {r.wave + 1}/{r.waves} "
        f"({counts}) {r.message}"
    )


def _plan(args: argparse.Namespace) -> Plan:
    gate = Gate(
        max_error_rate=args.max_error_rate,
        max_p95_ms=args.max_p95_ms,
        min_heartbeat_ratio=args.min_heartbeat_ratio,
        window_seconds=args.window,
        bake_seconds=args.bake,
        install_timeout_seconds=args.install_timeout,
        max_failed=args.max_failed,
    )
    return Plan(
        strategy=args.strategy,
        tags=tuple(args.tag or ()),
        canary_percent=args.canary_percent,
        canary_devices=tuple(args.canary_device or ()),
        sizing=args.sizing,
        wave_sizes=tuple(args.wave_size or (1,)),
        on_failure=args.on_failure,
        gate=gate,
    )


def rollouts_cmd(args: argparse.Namespace, services: Services) -> None:
    store, system, now = services.store, User.system(), utcnow()
    if args.action == "list":
        found = rollouts.list_rollouts(store, system)
        emit(args, [rollout_json(r) for r in found], "\n".join(map(_line, found)) or "(none)")
        return
    if args.action == "tick":
        result = rollouts.tick(store, now)
        changes = [{"rollout": i, "change": c} for i, c in result.changes]
        emit(args, changes, "\n".join(f"#{i}: {c}" for i, c in result.changes) or "no change")
        return
    if args.action == "create":
        catalog = RegistryCatalog(services, system)
        found = rollouts.create_rollout(
            store, catalog, system, args.model, args.version, _plan(args), now, start=not args.draft
        )
    elif args.action == "show":
        found = rollouts.get_rollout(store, system, args.id)
    elif args.action == "abort":
        found = rollouts.abort(store, system, args.id, now, rollback=args.rollback)
    else:
        found = ACTIONS[args.action](store, system, args.id, now)
    emit(args, rollout_json(found), _line(found))


ACTIONS = {"start": rollouts.start_rollout, "pause": rollouts.pause, "resume": rollouts.resume}


def _serve_api(services: Services) -> tuple[str, Callable[[], None]]:
    """The machine API on a free loopback port in this process; returns its URL and a stop."""
    import uvicorn

    from core.api.app import create_app
    from core.api.cli import UVICORN_OPTIONS

    options = {**UVICORN_OPTIONS, "log_level": "warning"}
    server = uvicorn.Server(
        uvicorn.Config(create_app(services), host="127.0.0.1", port=0, **options)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise UserInputError("The machine API did not start.")
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]

    def stop() -> None:
        server.should_exit = True
        thread.join(10)

    return f"http://127.0.0.1:{port}", stop


def simulate_cmd(args: argparse.Namespace, services: Services) -> None:
    specs = [simulate.parse_fail(text) for text in args.fail or ()]
    system = User.system()
    hasher = TokenHasher.for_store(services.store)
    tags = ["sim", *(args.tag or ())]
    tokens = simulate.enrolment_tokens(
        services.store, hasher, system, args.devices, prefix=args.prefix, tags=tags
    )
    stop_api: Callable[[], None] = lambda: None  # noqa: E731
    url = args.api
    if not url:
        url, stop_api = _serve_api(services)
    state = Path(tempfile.mkdtemp(prefix="beacon-sim-"))
    sim = simulate.start(url, tokens, state, specs=specs, interval=args.interval)
    sim.schedule_crashes(args.crash_after)
    devices = [{"device": a.name, "endpoint": a.endpoint} for a in sim.agents]
    emit(
        args,
        {"api": url, "devices": devices},
        f"{len(devices)} simulated devices on {url} (Ctrl-C stops)\n"
        + "\n".join(f"  {d['device']}  {d['endpoint']}" for d in devices),
    )
    try:
        deadline = time.monotonic() + args.seconds if args.seconds else None
        while deadline is None or time.monotonic() < deadline:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
        stop_api()


def infer_cmd(args: argparse.Namespace, services: Services) -> None:
    system = User.system()
    if args.rows:
        try:
            rows = json.loads(args.rows)
        except ValueError:
            raise UserInputError("--rows must be JSON, e.g. [[0.1, 2, 3]].") from None
    else:
        schema = model_registry.latest(services.store, system, args.model).input_schema
        rows = inference.sample_rows(schema)
    summary = inference.trial_inference(
        services.store, system, args.model, args.strategy, args.requests, rows, utcnow()
    )
    payload = {
        "strategy": summary.strategy,
        "requests": summary.requests,
        "failed": summary.failed,
        "by_device": summary.by_device,
        "p50_ms": summary.p50_ms,
        "p99_ms": summary.p99_ms,
    }
    text = "\n".join(f"{name:20s} {count}" for name, count in summary.by_device.items())
    emit(args, payload, f"{text}\nfailed {summary.failed}, p50 {summary.p50_ms} ms")


HANDLERS: dict[str, Handler] = {
    "rollouts": rollouts_cmd,
    "simulate": simulate_cmd,
    "infer": infer_cmd,
}


def register(areas: Any, leaf: Callable[..., argparse.ArgumentParser]) -> None:
    """Add the rollouts, simulate and infer areas to `fleet`."""
    p = areas.add_parser("rollouts", help="staged model rollouts")
    actions = p.add_subparsers(dest="action", required=True)
    leaf(actions, "list", "list rollouts")
    leaf(actions, "tick", "advance running rollouts once")
    for name in ("show", "start", "pause", "resume"):
        leaf(actions, name, f"{name} a rollout").add_argument("id", type=int)
    abort = leaf(actions, "abort", "abort a rollout")
    abort.add_argument("id", type=int)
    abort.add_argument("--rollback", action="store_true", help="devices go back to their version")
    create = leaf(actions, "create", "plan a rollout and start it")
    create.add_argument("model")
    create.add_argument("version", type=int)
    create.add_argument("--strategy", choices=list(STRATEGIES), default="canary")
    create.add_argument("--tag", action="append", help="only devices with this tag (repeat)")
    create.add_argument("--canary-percent", type=float, default=10.0)
    create.add_argument("--canary-device", action="append", help="a canary device (repeat)")
    create.add_argument("--sizing", choices=list(WAVE_SIZING), default="exponential")
    create.add_argument("--wave-size", type=int, action="append", help="wave sizes (repeat)")
    create.add_argument("--on-failure", choices=list(ON_FAILURE), default="rollback")
    create.add_argument("--max-error-rate", type=float, default=DEFAULT_GATE.max_error_rate)
    create.add_argument("--max-p95-ms", type=float, default=DEFAULT_GATE.max_p95_ms)
    create.add_argument(
        "--min-heartbeat-ratio", type=float, default=DEFAULT_GATE.min_heartbeat_ratio
    )
    create.add_argument("--window", type=int, default=DEFAULT_GATE.window_seconds)
    create.add_argument("--bake", type=int, default=DEFAULT_GATE.bake_seconds)
    create.add_argument("--install-timeout", type=int, default=DEFAULT_GATE.install_timeout_seconds)
    create.add_argument("--max-failed", type=int, default=DEFAULT_GATE.max_failed)
    create.add_argument("--draft", action="store_true", help="plan only; start it later")

    sim = leaf(areas, "simulate", "run simulated edge devices on loopback")
    sim.add_argument("--devices", type=int, default=10)
    sim.add_argument("--api", help="machine API URL (default: serve one here)")
    sim.add_argument("--fail", action="append", help="crash|slow|bad-model[:N][@VERSION]")
    sim.add_argument("--crash-after", type=float, default=30.0, help="seconds before crashing")
    sim.add_argument("--interval", type=float, default=2.0, help="seconds between reports")
    sim.add_argument("--prefix", default="sim", help="device names PREFIX-01…")
    sim.add_argument("--tag", action="append", help="extra tags for the devices")
    sim.add_argument("--seconds", type=float, default=0, help="stop after S seconds")

    infer = leaf(areas, "infer", "route test requests to devices serving a model")
    infer.add_argument("model")
    infer.add_argument("--strategy", choices=list(ROUTING), default="round-robin")
    infer.add_argument("--requests", type=int, default=100)
    infer.add_argument("--rows", help="JSON rows (default: zeros shaped like the model)")
