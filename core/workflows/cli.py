"""`python -m core workflow ...` and `python -m core worker`."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

from core.auth.roles import User
from core.cli import emit
from core.errors import UserInputError
from core.workflows import history, service
from core.workflows.definition import parse_yaml

ACTIONS = ("validate", "run", "list", "history", "export", "enable", "disable", "webhook-token")


def _read(path: str) -> str:
    file = Path(path)
    if not file.is_file():
        raise UserInputError(f"There is no workflow file at {path}.")
    try:
        return file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UserInputError(f"{path} is not UTF-8 text.") from None


def summarise(output: Any) -> str:
    """A short description of a step's output for listings."""
    if isinstance(output, dict) and isinstance(output.get("rows"), list):
        return f"{len(output['rows'])} row(s)" + (" (truncated)" if output.get("truncated") else "")
    if isinstance(output, dict) and "path" in output:
        return str(output["path"])
    if output is None:
        return ""
    text = json.dumps(output, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def _run_json(detail: history.RunDetail) -> dict[str, Any]:
    run = detail.run
    return {
        "run": run.id,
        "workflow": run.workflow,
        "version": run.version,
        "status": run.status,
        "trigger": run.trigger,
        "duration_seconds": run.duration_seconds,
        "error": run.error,
        "steps": [
            {
                "id": s.step_id,
                "type": s.type,
                "status": s.status,
                "attempts": s.attempt,
                "duration_ms": s.duration_ms,
                "output": summarise(s.output),
                "error": s.error,
            }
            for s in detail.steps
        ],
    }


def _run_text(detail: history.RunDetail) -> str:
    run = detail.run
    took = f" in {run.duration_seconds:.1f} s" if run.duration_seconds is not None else ""
    lines = [f"run {run.id} of {run.workflow} v{run.version}: {run.status}{took}"]
    for s in detail.steps:
        tries = f"{s.attempt} attempt(s)" if s.attempt else ""
        took = f"{s.duration_ms} ms" if s.duration_ms is not None else ""
        extra = s.error or summarise(s.output)
        lines.append(f"  {s.step_id}\t{s.status}\t{tries}\t{took}\t{extra}".rstrip())
    if run.error:
        lines.append(f"error: {run.error}")
    return "\n".join(lines)


def _summary_json(run: history.RunSummary) -> dict[str, Any]:
    return {
        "run": run.id,
        "version": run.version,
        "status": run.status,
        "trigger": run.trigger,
        "scheduled_for": run.scheduled_for,
        "created_at": run.created_at,
        "duration_seconds": run.duration_seconds,
        "steps": f"{run.steps_done}/{run.steps_total}",
        "error": run.error,
    }


def cmd_workflow(args: argparse.Namespace, services) -> None:
    system = User.system()
    if args.action == "list":
        found = service.list_workflows(services, system)
        payload = []
        for w in found:
            last = history.list_runs(services, system, w.name, limit=1)
            payload.append(
                {
                    "name": w.name,
                    "enabled": w.enabled,
                    "version": w.version,
                    "steps": len(w.definition.steps),
                    "triggers": [t.type for t in w.definition.triggers],
                    "last_run": _summary_json(last[0]) if last else None,
                }
            )
        lines = [
            f"{p['name']}\tv{p['version']}\t{'on' if p['enabled'] else 'off'}\t"
            f"{','.join(p['triggers'])}\t{p['last_run']['status'] if p['last_run'] else '-'}"
            for p in payload
        ]
        emit(args, payload, "\n".join(lines) or "(no workflows)")
        return
    if not args.target:
        raise UserInputError(f"Name the workflow: python -m core workflow {args.action} NAME")
    if args.action == "validate":
        definition = parse_yaml(_read(args.target))
        payload = {
            "valid": True,
            "name": definition.name,
            "steps": [s.id for s in definition.steps],
            "triggers": [t.type for t in definition.triggers],
        }
        emit(args, payload, f"ok: {definition.name} ({len(definition.steps)} steps)")
    elif args.action == "run":
        _run(args, services, system)
    elif args.action == "history":
        runs = history.list_runs(services, system, args.target, limit=args.limit)
        lines = [
            f"{r.id}\t{r.status}\t{r.trigger}\t{r.created_at:%Y-%m-%d %H:%M:%S}\t"
            f"{r.steps_done}/{r.steps_total}\t{r.error}".rstrip()
            for r in runs
        ]
        emit(args, [_summary_json(r) for r in runs], "\n".join(lines) or "(no runs)")
    elif args.action == "export":
        text = service.export_yaml(services, system, args.target, args.version)
        emit(args, {"name": args.target, "yaml": text}, text.rstrip())
    elif args.action in ("enable", "disable"):
        info = service.set_enabled(services, system, args.target, args.action == "enable")
        emit(args, {"name": info.name, "enabled": info.enabled}, f"{info.name}: {args.action}d")
    elif args.action == "webhook-token":
        token = service.issue_webhook_token(services, system, args.target)
        emit(args, {"name": args.target, "token": token}, token)


def _run(args: argparse.Namespace, services, system: User) -> None:
    from core.workflows.worker import Worker

    name = args.target
    if Path(args.target).is_file():
        name = service.save_workflow(services, system, parse_yaml(_read(args.target))).name
    run = history.start_run(services, system, name)
    if args.wait and not run.finished:
        worker = Worker(services, schedule=False)
        try:
            done = worker.run_until_done([run.id], timeout=args.timeout)
        finally:
            worker.close()
        if not done:
            raise UserInputError(
                f"Run {run.id} did not finish within {args.timeout:g} s; "
                f"see python -m core workflow history {name}"
            )
    detail = history.run_detail(services, system, run.id)
    emit(args, _run_json(detail), _run_text(detail))
    if detail.run.status in ("failed", "cancelled"):
        raise SystemExit(1)


def cmd_worker(args: argparse.Namespace, services) -> None:
    from core.workflows.worker import Worker

    logging.getLogger("core").setLevel(logging.INFO)
    worker = Worker(services, slots=args.slots)
    stats = worker.run_forever()
    emit(
        args,
        {"steps": stats.steps, "runs_fired": stats.runs_fired, "seconds": stats.seconds},
        f"worker stopped: {stats.steps} steps, {stats.runs_fired} runs fired",
    )


def register(add_command) -> None:
    """Add `workflow` and `worker` to the command line."""
    p = add_command("workflow", "validate, run, list and inspect workflows", cmd_workflow)
    p.add_argument("action", choices=ACTIONS)
    p.add_argument("target", nargs="?", help="workflow name, or a YAML file for validate/run")
    p.add_argument("--wait", action="store_true", help="run: execute now and wait for the end")
    p.add_argument("--timeout", type=float, default=3600, help="run --wait: give up after S s")
    p.add_argument("--limit", type=int, default=20, help="history: most recent N runs")
    p.add_argument("--version", type=int, help="export: this version instead of the current")
    p = add_command("worker", "run the workflow scheduler and execute steps", cmd_worker)
    p.add_argument("--slots", type=int, help="steps at once (default BEACON_WORKER_SLOTS)")
