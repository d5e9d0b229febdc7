"""Edge models benchmark: size and latency of scikit-learn against ONNX fp32 and int8.

    python bench/edge.py                       # MLP, gradient boosting, linear; 4,000 rows
    python bench/edge.py --rows 2000 --repeats 100 --no-record

For each kind the model is trained on Friedman #1 (synthetic, 10 features), converted
with skl2onnx, optimised by ONNX Runtime (basic level) and quantised to int8 with
dynamic quantisation, forced even where Beacon's packaging would skip it, so the table
shows what int8 does (and does not do) to each kind. Latency is the median of repeated
calls on one thread (OMP_NUM_THREADS=1 for scikit-learn too): one row, and a batch of
1,000 rows. Deviation is the largest |variant - scikit-learn| over 500 held-out rows,
relative to the spread of scikit-learn's outputs. Results are printed and appended to
bench/RESULTS.md under "# Edge models benchmark". If bench/edge_routing.py is present,
its routing benchmark runs afterwards. Nothing here asserts times.
"""

from __future__ import annotations

import os

# Before numpy/scikit-learn load: one thread each, as on a busy 2-core edge box.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import importlib.util
import pickle
import platform
import sys
import warnings
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: import Beacon from the project root
    sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "bench" / "RESULTS.md"
HEADER = "# Edge models benchmark"
LABELS = {"mlp": "MLP (256, 256)", "gbm": "Gradient boosting (200 trees)", "linear": "Ridge"}


def bench_kind(kind: str, rows: int, repeats: int) -> list[dict]:
    """One row per variant of one model kind."""
    import numpy as np

    from core.fleet import measure, optimise
    from core.fleet.packaging import convert
    from core.fleet.trained import benchmark_model
    from core.fleet.verify import run, session

    candidate = benchmark_model(kind, rows=rows)
    model, holdout = candidate.estimator, candidate.holdout
    one, many = holdout[:1], np.resize(holdout, (measure.BATCH_ROWS, holdout.shape[1]))
    fp32 = optimise.optimise(convert(candidate))
    int8 = optimise.quantise(fp32, force=True)
    reference = np.asarray(model.predict(holdout), dtype=np.float64)
    spread = float(np.std(reference))
    out = []
    size = len(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
    timed = measure.measure(
        "scikit-learn",
        size,
        lambda: model.predict(one),
        lambda: model.predict(many),
        repeats=repeats,
    )
    out.append({"kind": kind, **timed.as_dict(), "deviation": 0.0, "weights": None})
    for variant, data in (("onnx fp32", fp32), ("onnx int8", int8.model)):
        sess = session(data)
        timed = measure.measure(
            variant,
            len(data),
            lambda s=sess: s.run(None, {"input": one}),
            lambda s=sess: s.run(None, {"input": many}),
            repeats=repeats,
        )
        got = run(sess, {"input": holdout})[0].ravel().astype(np.float64)
        deviation = float(np.abs(got - reference).max()) / spread
        out.append(
            {"kind": kind, **timed.as_dict(), "deviation": deviation, "weights": int8.weights}
        )
    return out


def markdown(rows: list[dict], args: argparse.Namespace) -> str:
    """The results section for RESULTS.md."""
    lines = [
        HEADER,
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; `python bench/edge.py --rows {args.rows} "
        f"--repeats {args.repeats}`. Friedman #1, 10 features; median of repeated calls on "
        "one thread; deviation = max |variant - scikit-learn| / std of scikit-learn's outputs "
        "on 500 held-out rows. int8 is forced here; Beacon's packaging keeps fp32 where "
        "int8 gains nothing. scikit-learn's size is its pickle, which for the MLP also holds "
        "the optimiser's state: compare int8 with fp32 for what quantisation saves.",
        "",
        "| model | variant | size (KB) | one row (µs) | 1,000 rows (ms) | smaller | faster "
        "(one row) | deviation |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for kind in dict.fromkeys(r["kind"] for r in rows):
        part = [r for r in rows if r["kind"] == kind]
        base = part[0]
        for r in part:
            lines.append(
                f"| {LABELS[kind]} | {r['variant']} | {r['size_bytes'] / 1024:,.1f} | "
                f"{r['single_row_ms'] * 1000:,.1f} | {r['batch_ms']:,.2f} | "
                f"{base['size_bytes'] / r['size_bytes']:.1f}x | "
                f"{base['single_row_ms'] / r['single_row_ms']:.1f}x | {r['deviation']:.2g} |"
            )
    return "\n".join(lines) + "\n"


def _routing() -> None:
    """Run bench/edge_routing.py's benchmark, if it is there."""
    path = Path(__file__).with_name("edge_routing.py")
    if not path.exists():
        return
    spec = importlib.util.spec_from_file_location("edge_routing", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main([])


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=4000, help="training rows per model")
    parser.add_argument("--repeats", type=int, default=200, help="timed calls per variant")
    parser.add_argument("--no-record", action="store_true", help="do not append to RESULTS.md")
    parser.add_argument("--no-routing", action="store_true", help="skip bench/edge_routing.py")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", message=".*Maximum iterations.*")
    rows = []
    for kind in ("mlp", "gbm", "linear"):
        rows += bench_kind(kind, args.rows, args.repeats)
    section = markdown(rows, args)
    print(section)
    if not args.no_record:
        with RESULTS.open("a", encoding="utf-8") as out:
            out.write("\n" + section)
    if not args.no_routing:
        _routing()
    return rows


if __name__ == "__main__":
    main()
