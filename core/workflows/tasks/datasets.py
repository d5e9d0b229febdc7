"""Refresh-dataset step: re-ingest a file from the server import folder as a new version."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from core.workflows.tasks.base import Params, StepContext, TaskType, register


class RefreshParams(Params):
    dataset: str = Field(title="Dataset", description="Catalog name; a new version is added")
    path: str = Field(
        title="File",
        description="Path inside the server import folder (BEACON_IMPORT_DIR), "
        "e.g. orders/latest.csv or {{ trigger.path }} for a file trigger",
    )


def run_refresh(ctx: StepContext, params: RefreshParams) -> dict[str, Any]:
    dataset = ctx.services.catalog.ingest_server_file(ctx.user, params.path, name=params.dataset)
    ctx.log(f"{dataset.name} v{dataset.version}: {dataset.rows:,} rows from {params.path}")
    return {
        "dataset": dataset.name,
        "version": dataset.version,
        "rows": dataset.rows,
        "columns": len(dataset.columns),
    }


register(
    TaskType(
        name="refresh_dataset",
        label="Refresh dataset",
        help="Re-ingest a file from the server import folder as a new version of a dataset.",
        params=RefreshParams,
        run=run_refresh,
    )
)
