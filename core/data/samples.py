"""Loading the sample company into the catalog (the generator lives in core.data.sample)."""

from __future__ import annotations

import pandas as pd

from core.auth.roles import User
from core.data.catalog import Catalog, Dataset
from core.data.sample import generate_company

SAMPLE_PREFIX = "sample_"
LOADED_FLAG = "sample_loaded"


def _dates_as_dates(frame: pd.DataFrame) -> pd.DataFrame:
    """Timestamps that are all midnight become plain dates (shown without 00:00:00)."""
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if pd.api.types.is_datetime64_any_dtype(values) and (values.dt.normalize() == values).all():
            out[column] = values.dt.date
    return out


def load_sample(catalog: Catalog, user: User) -> list[Dataset]:
    """Generate the sample company and add each table as a dataset named sample_<table>."""
    tables = {name: _dates_as_dates(frame) for name, frame in generate_company().items()}
    loaded = [
        catalog.ingest_frame(
            user,
            frame,
            name=f"{SAMPLE_PREFIX}{table}",
            source_name=f"sample company: {table}",
            description=f"Sample company: {table} (generated, fictional)",
        )
        for table, frame in tables.items()
    ]
    catalog.store.set_meta(LOADED_FLAG, "1")
    return loaded


def sample_pending(catalog: Catalog) -> bool:
    """True on a fresh install: the sample was never loaded and the catalog is empty."""
    if catalog.store.get_meta(LOADED_FLAG):
        return False
    return not catalog.datasets(User.system())
