"""`python -m core kpis SOURCE`: revenue, orders, customers and AOV per period, and totals."""

from __future__ import annotations

import argparse
import math
from datetime import date

from core.cli import emit
from core.errors import UserInputError
from core.kpis import grains
from core.kpis.metrics import catalog
from core.kpis.periods import Window
from core.kpis.queries import date_range, series, totals
from core.kpis.source import DuckRunner, from_dataset
from core.services import Services
from core.sources import open_source, parse_map, with_roles

KEYS = ("revenue", "orders", "customers", "aov")


def _date(text: str | None, flag: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserInputError(f"{flag} takes a date like 2024-01-31, got {text!r}.") from None


def _number(value: float) -> float | int | None:
    if value is None or math.isnan(value):
        return None
    return int(value) if float(value).is_integer() else round(float(value), 6)


def handle(args: argparse.Namespace, services: Services) -> None:
    grain = grains.check_grain(args.grain)
    start, end = _date(args.start, "--start"), _date(args.end, "--end")
    with open_source(services, args.source) as dataset:
        dataset = with_roles(dataset, parse_map(args.map))
        source = from_dataset(dataset)
        missing = [r for r in ("date", "amount") if not source.column_for(r)]
        if missing:
            raise UserInputError(
                f"{dataset.name} needs columns with the roles {', '.join(missing)}: "
                f"map them with --map {','.join(f'{r}=COLUMN' for r in missing)}."
            )
        con = services.catalog.connect()
        try:
            runner = DuckRunner(con, source)
            available = catalog(source)
            metrics = [available[k] for k in KEYS if k in available]
            span = date_range(runner, source)
            if (start is None or end is None) and span is None:
                periods, total = [], {k: (0 if k in ("revenue", "orders") else None) for k in KEYS}
            else:
                window = Window(start or span[0], end or span[1])
                frame = series(runner, source, metrics, grain, window)
                periods = [
                    {"period": row["period"].isoformat()}
                    | {k: _number(row[k]) if k in available else None for k in KEYS}
                    for row in frame.to_dict("records")
                ]
                whole = totals(runner, source, metrics, {"all": window}).iloc[0]
                total = {k: _number(whole[k]) if k in available else None for k in KEYS}
        finally:
            con.close()
    payload = {"grain": grain, "periods": periods, "totals": total}
    lines = [f"{'period':<12}" + "".join(f"{k:>16}" for k in KEYS)]
    for row in [*periods, {"period": "total", **total}]:
        cells = "".join(f"{'' if row[k] is None else f'{row[k]:,.2f}':>16}" for k in KEYS)
        lines.append(f"{row['period']:<12}{cells}")
    emit(args, payload, "\n".join(lines))


def register(add_command) -> None:
    """Add the `kpis` command to the CLI."""
    p = add_command("kpis", "revenue, orders, customers and average order value per period", handle)
    p.add_argument("source", help="dataset name or file path")
    p.add_argument("--grain", default="month", choices=grains.GRAINS)
    p.add_argument("--start", help="first day (YYYY-MM-DD; default: the first date in the data)")
    p.add_argument("--end", help="last day, included (default: the last date in the data)")
    p.add_argument("--map", help="column roles as role=column,... (e.g. amount=total)")
