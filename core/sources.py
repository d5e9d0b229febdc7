"""SOURCE arguments of the CLI and jobs: a catalog dataset name or a file path."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from core.auth.roles import User
from core.data.catalog import Dataset
from core.errors import NotFound, UserInputError
from core.services import Services, open_services


@contextmanager
def open_source(services: Services, source: str, user: User | None = None) -> Iterator[Dataset]:
    """The dataset named `source`, or the file at `source` ingested into a throwaway catalog."""
    user = user or User.system()
    try:
        dataset = services.catalog.get(user, source)
    except NotFound:
        dataset = None
    if dataset is not None:
        yield dataset  # outside the try: errors of the caller's block pass through
        return
    path = Path(source)
    if not path.is_file():
        raise UserInputError(
            f"{source!r} is neither a dataset in the catalog nor a file: "
            "list datasets with `python -m core datasets list`."
        )
    with tempfile.TemporaryDirectory(prefix="beacon-source-") as home:
        settings = replace(
            services.settings,
            home=Path(home),
            database_url=f"sqlite:///{Path(home) / 'beacon.db'}",
        )
        temporary = open_services(settings)
        try:
            yield temporary.catalog.ingest_file(user, path)
        finally:
            temporary.store.engine.dispose()


def parse_map(text: str | None) -> dict[str, str]:
    """Parse `--map role=column,role=column` into {role: column}."""
    mapping: dict[str, str] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        role, sep, column = part.partition("=")
        if not sep or not role.strip() or not column.strip():
            raise UserInputError(
                f"--map takes role=column pairs separated by commas, got {part!r}."
            )
        mapping[role.strip()] = column.strip()
    return mapping


def with_roles(dataset: Dataset, mapping: dict[str, str]) -> Dataset:
    """A copy of `dataset` whose roles follow `mapping` ({role: column}), validated, not saved."""
    from core.data.catalog import ColumnInfo
    from core.data.roles import validate_roles

    if not mapping:
        return dataset
    roles = {c.name: c.role for c in dataset.columns}
    for role, column in mapping.items():
        if column not in roles:
            raise UserInputError(f"--map: there is no column {column!r} in {dataset.name}.")
        for name, current in roles.items():
            if current == role:
                roles[name] = None
        roles[column] = role
    validate_roles(roles, {c.name: c.type for c in dataset.columns})
    columns = tuple(ColumnInfo(c.name, c.type, roles[c.name]) for c in dataset.columns)
    return replace(dataset, current=replace(dataset.current, columns=columns))
