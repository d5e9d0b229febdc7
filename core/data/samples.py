"""Loading the sample company into the catalog (the generator lives in core.data.sample)."""

from __future__ import annotations

from core.auth.roles import User
from core.data.catalog import Catalog, Dataset
from core.data.sample import generate_company

SAMPLE_PREFIX = "sample_"
LOADED_FLAG = "sample_loaded"


def load_sample(catalog: Catalog, user: User) -> list[Dataset]:
    """Generate the sample company and add each table as a dataset named sample_<table>."""
    tables = generate_company()
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
