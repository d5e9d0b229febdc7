"""`python -m core segment SOURCE ...`: RFM segments, clusters and lifetime value."""

from __future__ import annotations

import argparse
import math
from datetime import date
from pathlib import Path
from typing import Any

from core.auth.roles import User
from core.cli import emit
from core.data.export import frame_to_csv
from core.errors import UserInputError
from core.segmentation.estimators import SEGMENTERS
from core.segmentation.orders import MONETARY, RETURNS, OrderOptions
from core.segmentation.pipeline import SegmentationResult, SegmentationSettings, segment
from core.segmentation.rule_store import load_rules
from core.services import Services
from core.sources import open_source, parse_map, with_roles

OUT_FORMATS = (".csv", ".parquet")


def _k(text: str) -> int | None:
    if text == "auto":
        return None
    try:
        k = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--k is auto or a whole number, not {text!r}") from None
    if not 2 <= k <= 50:
        raise argparse.ArgumentTypeError("--k is between 2 and 50")
    return k


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--as-of takes YYYY-MM-DD, not {text!r}") from None


def _number(value: float | None, digits: int = 4) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), digits)


def payload(result: SegmentationResult) -> dict[str, Any]:
    """The JSON the command prints (DESIGN.md's contract plus RFM segments and CLV)."""
    clusters = result.clusters
    out: dict[str, Any] = {
        "as_of": result.table.as_of.isoformat(),
        "customers": len(result.table.customers),
        "k": clusters.k if clusters else None,
        "silhouette": _number(clusters.silhouette) if clusters else None,
        "stability": (
            _number(clusters.stability.score) if clusters and clusters.stability else None
        ),
        "segments": [],
        "rfm_segments": [
            {
                "segment": row.segment,
                "rule": row.rule,
                "customers": int(row.customers),
                "share": _number(row.share),
                "revenue_share": _number(row.revenue_share),
                "recency_days": _number(row.recency_days, 2),
                "frequency": _number(row.frequency, 2),
                "monetary": _number(row.monetary, 2),
            }
            for row in result.rfm.summary.itertuples()
        ],
        "notes": list(result.notes),
    }
    if clusters:
        out["segments"] = [
            {
                "segment": int(row.cluster),
                "name": row.name,
                "customers": int(row.customers),
                "recency_days": _number(row.recency_days, 2),
                "frequency": _number(row.orders, 2),
                "monetary": _number(row.monetary, 2),
                "revenue_share": _number(row.revenue_share),
            }
            for row in clusters.profiles.itertuples()
        ]
        out["k_scan"] = [
            {
                "k": int(r.k),
                "silhouette": _number(r.silhouette),
                clusters.scan.criterion: _number(r.criterion, 2),
            }
            for r in clusters.scan.table.itertuples()
        ]
    if result.clv is not None:
        out["clv"] = {
            "model": "BG/NBD + Gamma-Gamma",
            "time_unit": result.clv.time_unit,
            "horizon": result.clv.horizon,
            "params": {k: _number(v, 6) for k, v in result.clv.params().items()},
            "log_likelihood": _number(result.clv.bgnbd.log_likelihood, 3),
            "expected_purchases": _number(
                float(result.clv.customers["expected_purchases"].sum()), 2
            ),
            "total_clv": _number(float(result.clv.customers["clv"].sum()), 2),
        }
    else:
        out["clv"] = None
    return out


def _text(result: SegmentationResult) -> str:
    lines = [f"{len(result.table.customers):,} customers as of {result.table.as_of}"]
    lines += [
        f"  {r.segment:<20} {int(r.customers):>8,}  {r.share:6.1%} of customers  "
        f"{r.revenue_share:6.1%} of revenue"
        for r in result.rfm.summary.itertuples()
    ]
    if result.clusters:
        c = result.clusters
        lines.append(f"clusters: k={c.k} ({c.chosen_by}), silhouette {c.silhouette:.2f}")
        lines += [
            f"  {int(r.cluster)}. {r.name} ({int(r.customers):,})" for r in c.profiles.itertuples()
        ]
    if result.clv:
        params = ", ".join(f"{k}={v:.4g}" for k, v in result.clv.params().items() if v is not None)
        lines.append(f"lifetime value ({result.clv.time_unit}): {params}")
    lines += [f"note: {n}" for n in result.notes]
    return "\n".join(lines)


def _write_out(result: SegmentationResult, path: Path) -> None:
    suffix = path.suffix.lower()
    if suffix not in OUT_FORMATS:
        raise UserInputError(f"--out writes .csv or .parquet files, not {path.name}.")
    if not path.parent.is_dir():
        raise UserInputError(f"--out: the folder {path.parent} does not exist.")
    frame = result.per_customer()
    if suffix == ".csv":
        path.write_bytes(frame_to_csv(frame))
    else:
        frame.to_parquet(path, index=False)


def cmd_segment(args: argparse.Namespace, services: Services) -> None:
    user = User.system()
    settings = SegmentationSettings(
        orders=OrderOptions(as_of=args.as_of, monetary=args.monetary, returns=args.returns),
        algorithm=args.algorithm,
        k=args.k,
        time_unit=args.time_unit,
        clv_horizon=args.clv_horizon,
        random_state=args.seed,
    )
    if args.clv_horizon is not None and args.clv_horizon <= 0:
        raise UserInputError("--clv-horizon is a positive number of time units.")
    rule_set = load_rules(services.store, user).rules
    with open_source(services, args.source, user) as dataset:
        dataset = with_roles(dataset, parse_map(args.map))
        con = services.catalog.connect()
        try:
            result = segment(con, user, dataset, settings, rule_set)
        finally:
            con.close()
    if args.out:
        _write_out(result, Path(args.out))
    emit(args, payload(result), _text(result))


def register(add_command) -> None:
    """Add the `segment` command to the CLI."""
    p = add_command(
        "segment", "RFM segments, clusters and lifetime value of customers", cmd_segment
    )
    p.add_argument("source", help="a catalog dataset name or an order-log file")
    p.add_argument("--k", type=_k, default=None, help="clusters: auto (default) or a number")
    p.add_argument("--as-of", type=_date, help="YYYY-MM-DD; later orders are ignored")
    p.add_argument("--time-unit", choices=["days", "weeks"], default="weeks")
    p.add_argument("--clv-horizon", type=float, help="periods of the time unit (default: one year)")
    p.add_argument("--algorithm", choices=list(SEGMENTERS), default="kmeans")
    p.add_argument("--monetary", choices=list(MONETARY), default="total")
    p.add_argument("--returns", choices=list(RETURNS), default="net")
    p.add_argument("--seed", type=int, default=0, help="random seed of the clustering")
    p.add_argument("--map", help="role=column pairs, e.g. customer_id=buyer,amount=total")
    p.add_argument("--out", help="write per-customer results to a .csv or .parquet file")
