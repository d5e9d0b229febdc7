"""Export-report step: a query's rows as CSV, Excel or HTML in the artifact store.

Files go to BEACON_HOME/artifacts/workflows/<workflow>/run-<id>/; CSV and Excel cells
that a spreadsheet would run as formulas are neutralised, HTML is escaped.
"""

from __future__ import annotations

import html
import io
import os
import re
from typing import Any, Literal

import pandas as pd
from pydantic import Field

from core.data.export import EXCEL_MAX_ROWS, frame_to_csv, neutralise_frame
from core.workflows.tasks.base import Params, StepContext, TaskType, register
from core.workflows.tasks.query import run_select

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class ExportParams(Params):
    sql: str = Field(
        title="SQL", description="The rows of the report", json_schema_extra={"multiline": True}
    )
    format: Literal["csv", "xlsx", "html"] = Field("csv", title="Format")
    filename: str = Field("report", title="File name", description="Without the extension")
    title: str = Field("", title="Title", description="Heading of an HTML report")


def _html(frame: pd.DataFrame, title: str) -> bytes:
    table = frame.to_html(index=False, escape=True, border=0, na_rep="")
    heading = html.escape(title or "Report")
    page = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{heading}</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{padding:4px 8px;border-bottom:1px solid #ddd;text-align:left}</style>"
        f"</head><body><h1>{heading}</h1><p>{len(frame):,} rows</p>{table}</body></html>"
    )
    return page.encode("utf-8")


def _excel(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    safe = neutralise_frame(frame)
    for column in safe.columns:  # Excel has no time zones
        if isinstance(safe[column].dtype, pd.DatetimeTZDtype):
            safe[column] = safe[column].dt.tz_localize(None)
    safe.to_excel(buffer, index=False, engine="openpyxl")
    return buffer.getvalue()


def run_export(ctx: StepContext, params: ExportParams) -> dict[str, Any]:
    cap = ctx.settings.export_row_cap
    if params.format == "xlsx":
        cap = min(cap, EXCEL_MAX_ROWS)
    result = run_select(ctx, params.sql, cap)
    frame = result.frame()
    data = {"csv": frame_to_csv, "xlsx": _excel}.get(params.format)
    content = data(frame) if data else _html(frame, params.title)
    name = _UNSAFE.sub("_", params.filename).strip("._") or "report"
    folder = ctx.artifacts_dir
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name[:100]}.{params.format}"
    staging = target.with_suffix(target.suffix + ".part")
    staging.write_bytes(content)
    os.replace(staging, target)
    relative = target.relative_to(ctx.settings.home / "artifacts").as_posix()
    ctx.log(f"wrote {relative}: {len(frame):,} rows, {len(content):,} bytes")
    return {
        "path": relative,
        "format": params.format,
        "rows": len(frame),
        "bytes": len(content),
        "truncated": result.truncated,
    }


register(
    TaskType(
        name="export_report",
        label="Export report",
        help="Write a query's rows to the artifact store as CSV, Excel or HTML.",
        params=ExportParams,
        run=run_export,
    )
)
