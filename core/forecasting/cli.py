"""`python -m core forecast SOURCE --horizon H`: forecasts with intervals and backtest scores.

Columns default to the dataset's roles: the date column, then the quantity (or, if
there is none, the amount) as the value; without --id-col the whole dataset is one
series. With --save NAME the run is stored for supply chain and workflows.
"""

from __future__ import annotations

import argparse

from core.auth.roles import User
from core.cli import emit
from core.data.catalog import Dataset
from core.errors import UserInputError
from core.forecasting import batch, runs
from core.forecasting.results import ForecastSettings
from core.services import Services
from core.sources import open_source, parse_map, with_roles


def _column(dataset: Dataset, given: str | None, roles: tuple[str, ...], flag: str) -> str:
    if given:
        if given not in dataset.roles:
            raise UserInputError(f"{flag}: there is no column {given!r} in {dataset.name}.")
        return given
    for role in roles:
        if column := dataset.column_for(role):
            return column
    wanted = " or ".join(roles)
    raise UserInputError(
        f"{dataset.name} has no column with the role {wanted}: name one with {flag} COLUMN."
    )


def _models(text: str | None) -> tuple[str, ...]:
    return tuple(m.strip() for m in (text or "").split(",") if m.strip())


def handle(args: argparse.Namespace, services: Services) -> None:
    if args.horizon is None or args.horizon < 1:
        raise UserInputError("Give the horizon in periods: --horizon 12.")
    with open_source(services, args.source) as dataset:
        dataset = with_roles(dataset, parse_map(args.map))
        date_col = _column(dataset, args.date_col, ("date",), "--date-col")
        value_col = _column(dataset, args.value_col, ("quantity", "amount"), "--value-col")
        if args.id_col and args.id_col not in dataset.roles:
            raise UserInputError(f"--id-col: there is no column {args.id_col!r} in {dataset.name}.")
        regressors = _models(args.regressors)
        for column in regressors:
            if column not in dataset.roles:
                raise UserInputError(f"--regressors: there is no column {column!r}.")
        settings = ForecastSettings(
            horizon=args.horizon,
            freq=args.freq,
            agg=args.agg,
            models=_models(args.models),
            folds=args.folds,
            step=args.step,
            exog_cols=regressors,
        )
        con = services.catalog.connect()
        try:
            periods, freq = batch.dataset_periods(
                con,
                dataset,
                date_col=date_col,
                value_col=value_col,
                id_col=args.id_col,
                freq=args.freq,
                agg=args.agg,
                exog_cols=regressors,
                top=args.top,
            )
        finally:
            con.close()
        result = batch.forecast_periods(periods, freq, settings, n_jobs=args.jobs)
        payload = result.to_json()
        if args.save:
            saved = runs.save_run(
                services.store,
                User.system(),
                result,
                name=args.save,
                dataset=dataset.name,
                dataset_version=dataset.version,
                source={"date_col": date_col, "value_col": value_col, "id_col": args.id_col},
            )
            payload["run_id"] = saved.id
    lines = []
    for s in result.series:
        first = s.forecast.iloc[0]
        lines.append(
            f"{s.id}\t{s.freq}\t{s.model_label}\tnext {first.ds:%Y-%m-%d}: {first.yhat:,.2f} "
            f"(95%: {first.lo95:,.2f} to {first.hi95:,.2f})"
        )
    lines += [f"skipped {s.id}: {s.reason}" for s in result.skipped]
    if args.save:
        lines.append(f"saved as run {payload['run_id']}")
    emit(args, payload, "\n".join(lines))


def register(add_command) -> None:
    """Add the `forecast` command to the CLI."""
    p = add_command("forecast", "forecast one or many series with backtested intervals", handle)
    p.add_argument("source", help="dataset name or file path")
    p.add_argument("--horizon", type=int, required=True, help="periods ahead to forecast")
    p.add_argument("--id-col", help="column that splits the rows into series (e.g. sku)")
    p.add_argument("--date-col", help="date column (default: the column with the date role)")
    p.add_argument(
        "--value-col", help="value column (default: the quantity column, else the amount)"
    )
    p.add_argument("--folds", type=int, default=3, help="rolling-origin backtest folds")
    p.add_argument("--step", type=int, help="periods between folds (default: the horizon)")
    p.add_argument(
        "--freq",
        choices=["daily", "weekly", "monthly", "quarterly", "yearly"],
        help="aggregate to this frequency (default: detect)",
    )
    p.add_argument(
        "--agg",
        choices=["sum", "count", "mean", "last", "max", "min"],
        default="sum",
        help="how rows in one period combine",
    )
    p.add_argument("--models", help="comma-separated models (default: the automatic set)")
    p.add_argument(
        "--regressors",
        help="comma-separated known drivers (e.g. promotion); used by ARIMA and gradient "
        "boosting, continued by repeating the last cycle",
    )
    p.add_argument("--top", type=int, help="only the N largest series")
    p.add_argument("--map", help="role=column pairs, e.g. date=day,quantity=units")
    p.add_argument("--save", metavar="NAME", help="store the run under this name")
    p.add_argument("--jobs", type=int, default=2, help="worker processes")
