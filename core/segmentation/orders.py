"""Per-customer summaries of an order log at an as-of date, with the data checks a marketer needs.

Rules, shown on the page and the CLI:
- Rows without a customer ID, a date or an amount are left out and counted.
- Rows dated after today are left out and counted ("future dates"); rows after the as-of
  date are left out too, so a calibration period is just an earlier as-of date.
- Zero amounts are left out. Negative amounts (returns) are netted into the customer's
  spend (`returns="net"`), or left out (`returns="exclude"`).
- A purchase day is a day on which the customer's net spend is positive. Orders are
  distinct order IDs with a positive line; without an order ID column, a customer's lines
  on one day are one order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import duckdb
import pandas as pd

from core.auth.roles import Role, User, require
from core.data.catalog import Dataset
from core.data.duck import first_line, quote_ident
from core.data.roles import missing_roles
from core.errors import UserInputError

NEEDED_ROLES = ("customer_id", "date", "amount")
MIX_ROLES = ("category", "channel")
MONETARY = {"total": "Total spend", "average": "Average order value"}
RETURNS = {"net": "Net returns into spend", "exclude": "Leave returns out"}
MAX_MIX_LEVELS = 6  # most frequent categories/channels get a share column; the rest is "other"


@dataclass(frozen=True, slots=True)
class OrderOptions:
    """How to read the order log: as-of date (None: latest order), monetary and returns."""

    as_of: date | None = None
    monetary: str = "total"
    returns: str = "net"
    mix_roles: tuple[str, ...] = ()
    today: date | None = None  # the clock for "future dates"; None means the real today

    def __post_init__(self) -> None:
        if self.monetary not in MONETARY:
            raise UserInputError(f"Monetary is 'total' or 'average', not {self.monetary!r}.")
        if self.returns not in RETURNS:
            raise UserInputError(f"Returns are 'net' or 'exclude', not {self.returns!r}.")
        unknown = set(self.mix_roles) - set(MIX_ROLES)
        if unknown:
            raise UserInputError(f"Mix features come from category or channel, not {unknown}.")


@dataclass(frozen=True, slots=True)
class DataQuality:
    """Counts of order-log rows left out or changed, and why."""

    rows: int
    used_rows: int
    missing_customer: int
    missing_date: int
    missing_amount: int
    returns: int
    returns_excluded: bool
    zero_amount: int
    future: int
    after_as_of: int
    nonpositive_customers: int = 0

    def notes(self) -> list[str]:
        """One line per issue found, for the page and the CLI."""
        notes = []
        for count, text in (
            (self.missing_customer, "without a customer ID were left out"),
            (self.missing_date, "without a date were left out"),
            (self.missing_amount, "without an amount were left out"),
            (self.zero_amount, "with a zero amount were left out"),
            (self.future, "dated after today were left out (future dates)"),
            (self.after_as_of, "after the as-of date were left out"),
        ):
            if count:
                notes.append(f"{count:,} rows {text}.")
        if self.returns:
            how = "left out" if self.returns_excluded else "netted into customers' spend"
            notes.append(f"{self.returns:,} rows with a negative amount (returns) were {how}.")
        if self.nonpositive_customers:
            notes.append(
                f"{self.nonpositive_customers:,} customers have no purchase left after "
                "netting returns and are not segmented."
            )
        return notes


@dataclass(frozen=True, slots=True)
class CustomerTable:
    """One row per customer at `as_of` (columns documented in `load_customers`)."""

    as_of: date
    first_order: date
    latest_order: date
    customers: pd.DataFrame
    quality: DataQuality
    mix_columns: tuple[str, ...] = field(default=())


def _run(con, sql: str, params: dict[str, Any]):
    """Execute with only the named parameters the SQL uses (DuckDB refuses extras)."""
    used = set(re.findall(r"\$([a-z_0-9]+)", sql))
    return con.execute(sql, {k: v for k, v in params.items() if k in used})


def _column(dataset: Dataset, role: str) -> str:
    column = dataset.column_for(role)
    if column is None:  # checked before: kept for type checkers
        raise UserInputError(f"{dataset.name} has no column with the role {role!r}.")
    return column


def suitable_datasets(datasets: list[Dataset]) -> list[str]:
    """Names of the datasets that have a customer ID, a date and an amount column."""
    return [d.name for d in datasets if not missing_roles(d.roles, NEEDED_ROLES)]


def check_roles(dataset: Dataset) -> None:
    """Refuse a dataset that lacks a customer ID, a date or an amount column."""
    missing = missing_roles(dataset.roles, NEEDED_ROLES)
    if missing:
        raise UserInputError(
            f"Segmenting customers needs columns with the roles {', '.join(missing)} in "
            f"{dataset.name}: set them on the Data page or with --map role=column."
        )


def _source(dataset: Dataset, mix_roles: tuple[str, ...]) -> tuple[str, dict[str, Any]]:
    """SELECT of the order log's columns under fixed names (identifiers quoted)."""
    cust = quote_ident(_column(dataset, "customer_id"))
    day = quote_ident(_column(dataset, "date"))
    amount = quote_ident(_column(dataset, "amount"))
    order = dataset.column_for("order_id")
    order_sql = f"CAST({quote_ident(order)} AS VARCHAR)" if order else "NULL"
    extra = "".join(
        f", CAST({quote_ident(_column(dataset, role))} AS VARCHAR) AS {role}" for role in mix_roles
    )
    # Every identifier goes through quote_ident; the path is a bound value.
    sql = f"""
        SELECT NULLIF(trim(CAST({cust} AS VARCHAR)), '') AS customer_id,
               CAST({day} AS DATE) AS day, CAST({amount} AS DOUBLE) AS amount,
               {order_sql} AS order_key{extra}
        FROM read_parquet($path)
    """  # noqa: S608
    return sql, {"path": str(dataset.path)}


def _quality(con, source: str, params: dict[str, Any], today: date) -> dict[str, Any]:
    sql = f"""
        SELECT count(*) AS rows,
               count(*) FILTER (WHERE customer_id IS NULL) AS missing_customer,
               count(*) FILTER (WHERE day IS NULL) AS missing_date,
               count(*) FILTER (WHERE amount IS NULL OR isnan(amount)) AS missing_amount,
               count(*) FILTER (WHERE amount < 0) AS returns,
               count(*) FILTER (WHERE amount = 0) AS zero_amount,
               count(*) FILTER (WHERE day > $today) AS future,
               min(day) FILTER (WHERE customer_id IS NOT NULL) AS first_day,
               max(day) FILTER (WHERE day <= $today AND customer_id IS NOT NULL
                                AND amount > 0) AS latest_day
        FROM ({source})
    """  # noqa: S608 - identifiers quoted in _source, values bound
    cursor = _run(con, sql, params | {"today": today})
    names = [d[0] for d in cursor.description]
    return dict(zip(names, cursor.fetchone(), strict=True))


def _resolve_as_of(found: dict[str, Any], options: OrderOptions, today: date) -> date:
    if found["latest_day"] is None:
        raise UserInputError("The order log has no purchases (positive amounts) to segment.")
    if options.as_of is None:
        return found["latest_day"]
    if options.as_of > today:
        raise UserInputError(
            f"The as-of date {options.as_of} is in the future: choose {today} or earlier."
        )
    if found["first_day"] is None or options.as_of < found["first_day"]:
        raise UserInputError(
            f"There are no orders on or before {options.as_of}: the first order is on "
            f"{found['first_day']}. Choose a later as-of date."
        )
    return options.as_of


def _mix_levels(con, source: str, params: dict[str, Any], role: str) -> list[str]:
    sql = f"""
        SELECT {role} AS level FROM ({source})
        WHERE {role} IS NOT NULL AND amount > 0 AND day <= $as_of
        GROUP BY 1 ORDER BY sum(amount) DESC, 1 LIMIT {MAX_MIX_LEVELS}
    """  # noqa: S608 - role is a fixed name from MIX_ROLES
    return [row[0] for row in _run(con, sql, params).fetchall()]


def load_customers(con, user: User, dataset: Dataset, options: OrderOptions) -> CustomerTable:
    """Summarise the order log per customer at the as-of date.

    Columns of `customers`, one row per customer with a purchase, sorted by customer_id:
    customer_id, first_date, last_date, recency_days (as-of minus last purchase day),
    tenure_days (as-of minus first purchase day), orders, purchase_days, revenue (net
    spend), monetary (total or average per the options), aov (revenue / orders),
    repeat_spend (spend on purchase days after the first), and one share-of-spend column
    per mix level (`category: Camping`, ..., `category: other`) when asked for.
    """
    require(user, Role.VIEWER, "Segmenting customers")
    check_roles(dataset)
    mix_roles = tuple(r for r in options.mix_roles if dataset.column_for(r))
    source, params = _source(dataset, mix_roles)
    today = options.today or date.today()
    try:
        found = _quality(con, source, params, today)
        as_of = _resolve_as_of(found, options, today)
        params = params | {"as_of": as_of, "today": today}
        keep = "amount > 0" if options.returns == "exclude" else "amount <> 0"
        valid = f"""
            SELECT * FROM ({source})
            WHERE customer_id IS NOT NULL AND day IS NOT NULL AND amount IS NOT NULL
              AND NOT isnan(amount) AND {keep} AND day <= $as_of
        """  # noqa: S608 - built from constants and _source
        frame = _summaries(con, valid, params)
        mix_columns: list[str] = []
        for role in mix_roles:
            levels = _mix_levels(con, source, params, role)
            shares = _mix_shares(con, valid, params, role, levels)
            mix_columns += [c for c in shares.columns if c != "customer_id"]
            frame = frame.merge(shares, on="customer_id", how="left")
        after = _run(
            con,
            f"SELECT count(*) FROM ({source}) WHERE day > $as_of AND day <= $today",  # noqa: S608
            params,
        ).fetchone()[0]
    except duckdb.Error as exc:  # e.g. a date column holding text that is not a date
        raise UserInputError(f"Could not read {dataset.name}: {first_line(exc)}") from exc
    positive = frame["purchase_days"] > 0
    dropped = int((~positive).sum())
    frame = frame[positive].reset_index(drop=True)
    used_rows = int(frame.pop("row_count").sum())
    quality = DataQuality(
        rows=int(found["rows"]),
        used_rows=used_rows,
        missing_customer=int(found["missing_customer"]),
        missing_date=int(found["missing_date"]),
        missing_amount=int(found["missing_amount"]),
        returns=int(found["returns"]),
        returns_excluded=options.returns == "exclude",
        zero_amount=int(found["zero_amount"]),
        future=int(found["future"]),
        after_as_of=int(after),
        nonpositive_customers=dropped,
    )
    if len(frame) < 2:
        raise UserInputError(
            f"Segmenting needs at least 2 customers with purchases on or before {as_of}; "
            f"{dataset.name} has {len(frame)}."
        )
    frame["monetary"] = frame["aov"] if options.monetary == "average" else frame["revenue"]
    return CustomerTable(
        as_of=as_of,
        first_order=frame["first_date"].min().date(),
        latest_order=frame["last_date"].max().date(),
        customers=frame,
        quality=quality,
        mix_columns=tuple(mix_columns),
    )


def _summaries(con, valid: str, params: dict[str, Any]) -> pd.DataFrame:
    sql = f"""
        WITH days AS (
            SELECT customer_id, day, sum(amount) AS day_amount, count(*) AS row_count,
                   coalesce(count(DISTINCT order_key) FILTER (WHERE amount > 0), 0) AS day_orders
            FROM ({valid}) GROUP BY customer_id, day
        ), customers AS (
            SELECT customer_id,
                   min(day) FILTER (WHERE day_amount > 0) AS first_date,
                   max(day) FILTER (WHERE day_amount > 0) AS last_date,
                   count(*) FILTER (WHERE day_amount > 0) AS purchase_days,
                   sum(CASE WHEN day_orders > 0 THEN day_orders
                            WHEN day_amount > 0 THEN 1 ELSE 0 END) AS orders,
                   sum(day_amount) AS revenue,
                   coalesce(sum(day_amount) FILTER (WHERE day_amount > 0), 0)
                     - coalesce(arg_min(day_amount, day) FILTER (WHERE day_amount > 0), 0)
                     AS repeat_spend,
                   sum(row_count) AS row_count
            FROM days GROUP BY customer_id
        )
        SELECT customer_id, first_date, last_date,
               coalesce(date_diff('day', last_date, $as_of), 0) AS recency_days,
               coalesce(date_diff('day', first_date, $as_of), 0) AS tenure_days,
               orders, purchase_days, revenue,
               revenue / greatest(orders, 1) AS aov, repeat_spend, row_count
        FROM customers ORDER BY customer_id
    """  # noqa: S608 - built from constants
    frame = _run(con, sql, params).df()
    for column in ("first_date", "last_date"):
        frame[column] = pd.to_datetime(frame[column])
    for column in ("orders", "purchase_days", "recency_days", "tenure_days", "row_count"):
        frame[column] = frame[column].astype("int64")
    return frame


def _mix_shares(
    con, valid: str, params: dict[str, Any], role: str, levels: list[str]
) -> pd.DataFrame:
    """Share of each customer's positive spend per level of `role` (top levels + other)."""
    level_params = {f"level_{i}": level for i, level in enumerate(levels)}
    parts = ", ".join(
        f"coalesce(sum(amount) FILTER (WHERE {role} = $level_{i}), 0) / total AS s{i}"
        for i in range(len(levels))
    )
    sql = f"""
        SELECT customer_id{", " + parts if parts else ""},
               1 - ({
        " + ".join(
            f"coalesce(sum(amount) FILTER (WHERE {role} = $level_{i}), 0)"
            for i in range(len(levels))
        )
        or "0"
    }) / total AS other
        FROM (SELECT *, sum(amount) OVER (PARTITION BY customer_id) AS total
              FROM ({valid}) WHERE amount > 0)
        GROUP BY customer_id, total
    """  # noqa: S608 - role is a fixed name; levels are bound values
    frame = _run(con, sql, params | level_params).df()
    names = {f"s{i}": f"{role}: {level}" for i, level in enumerate(levels)}
    names["other"] = f"{role}: other"
    frame = frame.rename(columns=names)
    share_columns = [c for c in frame.columns if c != "customer_id"]
    frame[share_columns] = frame[share_columns].clip(lower=0.0).fillna(0.0)
    return frame


def previous_date(as_of: date, days: int = 90) -> date:
    """The comparison date `days` before the as-of date."""
    return as_of - timedelta(days=days)


def monthly_activity(
    con, user: User, dataset: Dataset, as_of: date, months: int = 12
) -> pd.DataFrame:
    """Customers with a purchase and revenue per calendar month, the last `months` to as-of.

    Columns: month (first day), customers, revenue. Months without orders show 0.
    """
    require(user, Role.VIEWER, "Segmenting customers")
    check_roles(dataset)
    source, params = _source(dataset, ())
    start = (pd.Timestamp(as_of).to_period("M") - (months - 1)).to_timestamp().date()
    sql = f"""
        SELECT date_trunc('month', day) AS month, count(DISTINCT customer_id) AS customers,
               sum(amount) AS revenue
        FROM ({source})
        WHERE customer_id IS NOT NULL AND amount > 0 AND day >= $start AND day <= $as_of
        GROUP BY 1 ORDER BY 1
    """  # noqa: S608 - built from _source and constants
    try:
        found = _run(con, sql, params | {"start": start, "as_of": as_of}).df()
    except duckdb.Error as exc:
        raise UserInputError(f"Could not read {dataset.name}: {first_line(exc)}") from exc
    index = pd.date_range(start, periods=months, freq="MS")
    found["month"] = pd.to_datetime(found["month"])
    frame = found.set_index("month").reindex(index, fill_value=0)
    frame.index.name = "month"
    return frame.reset_index()
