"""Workflow engine benchmark: overhead per no-op step, 1,000 runs end to end, 500 cron workflows.

    python bench/workflows.py                       # everything, SQLite store (a few minutes)
    python bench/workflows.py --runs 100 --crons 50 # quick smoke run

(a) Engine overhead per no-op step: a chain of `wait 0` steps run by a real worker (each
    step in a child process, states in the store). The wall time per step is all engine:
    claim, hand-over to the child, template rendering, recording the result, moving the
    run on. Reported for the real process pool and, to separate the store's share, for
    steps run in the worker's own process.
(b) 1,000 runs of a 5-step workflow end to end: queued at once, worker with 2 children.
(c) 500 workflows with a minutely cron over a simulated hour: two schedulers tick at
    random moments (1-20 s apart, sometimes at the same moment); every workflow must get
    exactly 60 runs, one per minute, none missed and none twice.

Each part uses a fresh BEACON_HOME under bench/.work (SQLite in WAL mode), or the store
at --database-url. Results are printed as a Markdown section (and JSON with --json).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# bench/ itself must not be on the path: bench/copy.py would shadow the standard library.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from core.auth.roles import User  # noqa: E402
from core.config import load_settings  # noqa: E402
from core.services import open_services  # noqa: E402
from core.workflows import history, service, triggers  # noqa: E402
from core.workflows.definition import from_data  # noqa: E402
from core.workflows.models import WorkflowRunRow  # noqa: E402
from core.workflows.pool import InlinePool  # noqa: E402
from core.workflows.worker import Worker  # noqa: E402

SYSTEM = User.system()


def fresh_services(database_url: str | None):
    home = Path(tempfile.mkdtemp(prefix="wf-bench-", dir=ROOT / "bench" / ".work"))
    os.environ["BEACON_HOME"] = str(home)
    os.environ["BEACON_SECRETS_FILE"] = str(home / "none.toml")
    os.environ["BEACON_WORKER_POLL_SECONDS"] = "0.05"
    os.environ["BEACON_WORKFLOW_MAX_RUNS"] = "50"
    if database_url:
        os.environ["BEACON_DATABASE_URL"] = database_url
    return open_services(load_settings()), home


def chain(name: str, steps: int, **extra) -> dict:
    data = [
        {"id": f"s{i}", "type": "wait", "params": {"seconds": 0}}
        | ({"depends_on": [f"s{i - 1}"]} if i else {})
        for i in range(steps)
    ]
    return {"name": name, "steps": data} | extra


def step_overhead(database_url: str | None, steps: int, repeats: int) -> dict:
    services, home = fresh_services(database_url)
    service.save_workflow(services, SYSTEM, from_data(chain("noop", steps)))
    results = {}
    for label, pool in (("child processes", None), ("in the worker", InlinePool(services))):
        worker = Worker(services, pool=pool, schedule=False, slots=1)
        per_step = []
        for _ in range(repeats):
            run = history.start_run(services, SYSTEM, "noop")
            started = time.perf_counter()
            assert worker.run_until_done([run.id], timeout=600)
            per_step.append((time.perf_counter() - started) / steps * 1000)
            assert history.run_detail(services, SYSTEM, run.id).run.status == "succeeded"
        worker.close()
        results[label] = {
            "median_ms": statistics.median(per_step),
            "min_ms": min(per_step),
            "runs": repeats,
            "steps_per_run": steps,
        }
    services.store.engine.dispose()
    shutil.rmtree(home, ignore_errors=True)
    return results


def many_runs(database_url: str | None, runs: int, slots: int) -> dict:
    services, home = fresh_services(database_url)
    service.save_workflow(services, SYSTEM, from_data(chain("five", 5, policy={"concurrency": 50})))
    worker = Worker(services, schedule=False, slots=slots)
    started = time.perf_counter()
    ids = [history.start_run(services, SYSTEM, "five").id for _ in range(runs)]
    queued = time.perf_counter() - started
    assert worker.run_until_done(ids, timeout=3600)
    wall = time.perf_counter() - started
    worker.close()
    with services.store.session() as s:
        rows = s.execute(
            select(WorkflowRunRow.status, WorkflowRunRow.created_at, WorkflowRunRow.finished_at)
        ).all()
    latencies = sorted((f - c).total_seconds() for _, c, f in rows)
    statuses = {status for status, _, _ in rows}
    services.store.engine.dispose()
    shutil.rmtree(home, ignore_errors=True)
    return {
        "runs": runs,
        "steps": runs * 5,
        "slots": slots,
        "statuses": sorted(statuses),
        "queue_seconds": queued,
        "wall_seconds": wall,
        "runs_per_second": runs / wall,
        "steps_per_second": runs * 5 / wall,
        "ms_per_step": wall / (runs * 5) * 1000,
        "latency_p50_s": latencies[len(latencies) // 2],
        "latency_p95_s": latencies[int(len(latencies) * 0.95)],
    }


def cron_hour(database_url: str | None, workflows: int, seed: int) -> dict:
    services, home = fresh_services(database_url)
    start = datetime(2026, 11, 1, 5, 30, 30, tzinfo=UTC)  # across New York's fall-back (06:00Z)
    zones = ["UTC", "America/New_York", "Europe/Berlin", "Asia/Kolkata"]
    for i in range(workflows):
        data = chain(f"cron-{i:03d}", 1)
        data["triggers"] = [{"type": "cron", "cron": "* * * * *", "timezone": zones[i % 4]}]
        service.save_workflow(services, SYSTEM, from_data(data), now=start)
    rng = random.Random(seed)
    moment, end = start, start + timedelta(hours=1)
    ticks, tick_times, fired = 0, [], 0
    while moment < end:
        moment = min(end, moment + timedelta(seconds=rng.uniform(1, 20)))
        schedulers = 2 if rng.random() < 0.3 else 1  # sometimes both at the same moment
        for _ in range(schedulers):
            began = time.perf_counter()
            fired += len(triggers.tick(services, moment).fired)
            tick_times.append(time.perf_counter() - began)
            ticks += 1
    with services.store.session() as s:
        counts = select(WorkflowRunRow.workflow_id, func.count())
        per_workflow = dict(s.execute(counts.group_by(WorkflowRunRow.workflow_id)).all())
        distinct = s.scalar(
            select(func.count()).select_from(
                select(WorkflowRunRow.workflow_id, WorkflowRunRow.scheduled_for)
                .distinct()
                .subquery()
            )
        )
        total = s.scalar(select(func.count()).select_from(WorkflowRunRow))
    expected = workflows * 60
    services.store.engine.dispose()
    shutil.rmtree(home, ignore_errors=True)
    return {
        "workflows": workflows,
        "ticks": ticks,
        "runs": total,
        "expected": expected,
        "missed": sum(max(0, 60 - per_workflow.get(w, 0)) for w in range(1, workflows + 1)),
        "duplicated": total - distinct,
        "fired_reported": fired,
        "tick_ms_median": statistics.median(tick_times) * 1000,
        "tick_ms_max": max(tick_times) * 1000,
        "workflows_with_60": sum(1 for n in per_workflow.values() if n == 60),
    }


def markdown(result: dict) -> str:
    a, b, c = result["overhead"], result["runs"], result["cron"]
    child, inline = a["child processes"], a["in the worker"]
    return "\n".join(
        [
            "",
            "## Workflows: engine overhead, 1,000 runs, 500 minutely crons",
            "",
            f"`python bench/workflows.py` on {result['store']}, load average {result['load']}"
            " when it started (2 cores shared with other sessions).",
            "",
            "| measure | result |",
            "| --- | --- |",
            f"| overhead per no-op step, each in a child process (median of {child['runs']} runs"
            f" of {child['steps_per_run']} chained steps) | **{child['median_ms']:.2f} ms** "
            f"(best {child['min_ms']:.2f}) |",
            "| same, steps run inside the worker (the store's share) | "
            f"{inline['median_ms']:.2f} ms (best {inline['min_ms']:.2f}) |",
            f"| {b['runs']:,} runs of a 5-step workflow, {b['slots']} child processes | "
            f"**{b['wall_seconds']:.1f} s**: {b['runs_per_second']:.1f} runs/s, "
            f"{b['steps_per_second']:.0f} steps/s, {b['ms_per_step']:.2f} ms per step; all "
            f"{', '.join(b['statuses'])} |",
            "| run latency, queued to finished (all queued at once) | "
            f"p50 {b['latency_p50_s']:.1f} s, p95 {b['latency_p95_s']:.1f} s |",
            f"| {c['workflows']} minutely cron workflows over a simulated hour, {c['ticks']:,} "
            f"scheduler ticks | {c['runs']:,} runs of {c['expected']:,} expected: "
            f"**{c['missed']} missed, {c['duplicated']} duplicated** |",
            f"| scheduler tick | median {c['tick_ms_median']:.1f} ms, "
            f"max {c['tick_ms_max']:.0f} ms |",
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50, help="(a) chained no-op steps per run")
    parser.add_argument("--repeats", type=int, default=5, help="(a) runs per pool")
    parser.add_argument("--runs", type=int, default=1000, help="(b) runs of the 5-step workflow")
    parser.add_argument("--slots", type=int, default=2, help="(b) worker child processes")
    parser.add_argument("--crons", type=int, default=500, help="(c) minutely workflows")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--database-url", help="a store URL instead of SQLite in a temp folder")
    parser.add_argument("--json", action="store_true", help="print the raw results as JSON too")
    args = parser.parse_args()
    (ROOT / "bench" / ".work").mkdir(parents=True, exist_ok=True)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    result = {
        "store": "PostgreSQL" if args.database_url else "SQLite (WAL)",
        "load": load,
        "overhead": step_overhead(args.database_url, args.steps, args.repeats),
        "runs": many_runs(args.database_url, args.runs, args.slots),
        "cron": cron_hour(args.database_url, args.crons, args.seed),
    }
    result["load_after"] = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    print(markdown(result))


if __name__ == "__main__":
    main()
