"""The dataset catalog: immutable Parquet versions on disk, their metadata in the store.

A version is written once under a staging name, validated, then renamed into place
while the store transaction that records it is open; if anything fails the staging
file is removed and the transaction rolled back, so the catalog and the files are
exactly as they were. Restoring a version only moves the dataset's pointer.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import pandas as pd
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core import audit
from core.auth.roles import Role, User, require
from core.config import Settings
from core.data import duck, ingest
from core.data.roles import guess_roles, validate_roles
from core.errors import NotFound, UserInputError
from core.store import Store
from core.store.models import DatasetRow, DatasetVersionRow, as_utc, utcnow

log = logging.getLogger(__name__)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.\-]{0,63}$")
STAGING = ".staging"
STALE_STAGING_SECONDS = 6 * 3600


@dataclass(frozen=True, slots=True)
class ColumnInfo:
    """A column of a dataset version: name, DuckDB type and role (or None)."""

    name: str
    type: str
    role: str | None = None


@dataclass(frozen=True, slots=True)
class DatasetVersion:
    """One immutable version of a dataset."""

    version: int
    rows: int
    size_bytes: int
    source_name: str
    source_format: str
    columns: tuple[ColumnInfo, ...]
    created_by: str
    created_at: datetime
    path: Path


@dataclass(frozen=True, slots=True)
class Dataset:
    """A dataset as the pages see it: its metadata and its current version."""

    id: int
    name: str
    description: str
    created_by: str
    created_at: datetime
    updated_at: datetime
    current: DatasetVersion
    version_count: int

    @property
    def version(self) -> int:
        return self.current.version

    @property
    def rows(self) -> int:
        return self.current.rows

    @property
    def path(self) -> Path:
        return self.current.path

    @property
    def columns(self) -> tuple[ColumnInfo, ...]:
        return self.current.columns

    @property
    def roles(self) -> dict[str, str | None]:
        """Column name -> role."""
        return {c.name: c.role for c in self.columns}

    def column_for(self, role: str) -> str | None:
        """The column holding `role`, if any."""
        return next((c.name for c in self.columns if c.role == role), None)


def suggest_name(filename: str) -> str:
    """A dataset name from a file name: 'Orders 2024 (final).csv' -> 'orders_2024_final'."""
    stem = re.sub(r"[^A-Za-z0-9]+", "_", Path(filename).stem).strip("_").lower()
    return (stem or "dataset")[:64]


def check_name(name: str) -> str:
    """A valid dataset name, trimmed."""
    name = name.strip()
    if not _NAME.match(name):
        raise UserInputError(
            "A dataset name has 1-64 letters, digits, spaces, '_', '-' or '.', "
            "and starts with a letter or digit."
        )
    return name


def _human_bytes(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"


class Catalog:
    """Datasets and their versions; every method takes the acting user and checks its role."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.root = settings.datasets_dir
        self.staging_dir = self.root / STAGING

    # --- reading ---------------------------------------------------------------------

    def connect(self):
        """A private DuckDB connection for queries over dataset files."""
        return duck.connect(
            self.settings.duckdb_memory_limit,
            self.settings.duckdb_threads,
            self.settings.home / "tmp" / "duckdb",
        )

    def _version(self, row: DatasetVersionRow) -> DatasetVersion:
        return DatasetVersion(
            version=row.version,
            rows=row.rows,
            size_bytes=row.size_bytes,
            source_name=row.source_name,
            source_format=row.source_format,
            columns=tuple(ColumnInfo(**c) for c in row.columns),
            created_by=row.created_by,
            created_at=as_utc(row.created_at),
            path=self.root / row.path,
        )

    def _dataset(self, row: DatasetRow) -> Dataset:
        current = next(v for v in row.versions if v.version == row.current_version)
        return Dataset(
            id=row.id,
            name=row.name,
            description=row.description,
            created_by=row.created_by,
            created_at=as_utc(row.created_at),
            updated_at=as_utc(row.updated_at),
            current=self._version(current),
            version_count=len(row.versions),
        )

    def datasets(self, user: User) -> list[Dataset]:
        """Every dataset, by name."""
        require(user, Role.VIEWER, "Reading datasets")
        with self.store.session() as s:
            return [
                self._dataset(r) for r in s.scalars(select(DatasetRow).order_by(DatasetRow.name))
            ]

    def get(self, user: User, name: str) -> Dataset:
        """One dataset by name."""
        require(user, Role.VIEWER, "Reading datasets")
        with self.store.session() as s:
            return self._dataset(self._row(s, name))

    def versions(self, user: User, name: str) -> list[DatasetVersion]:
        """All versions of a dataset, newest first."""
        require(user, Role.VIEWER, "Reading datasets")
        with self.store.session() as s:
            return [self._version(v) for v in reversed(self._row(s, name).versions)]

    def _row(self, session, name: str) -> DatasetRow:
        row = session.scalar(select(DatasetRow).where(DatasetRow.name == name))
        if row is None:
            raise NotFound(f"No dataset named {name!r}.")
        return row

    # --- writing ---------------------------------------------------------------------

    def _check_size(self, size: int, filename: str) -> None:
        limit = self.settings.upload_limit_bytes
        if size > limit:
            raise UserInputError(
                f"{filename} is {_human_bytes(size)}; the upload limit is {_human_bytes(limit)} "
                "(BEACON_UPLOAD_LIMIT_MB)."
            )

    def _staging_path(self, suffix: str = ".parquet") -> Path:
        self.staging_dir.mkdir(parents=True, exist_ok=True)
        return self.staging_dir / f"{uuid.uuid4().hex}{suffix}"

    def ingest_file(
        self,
        user: User,
        source: Path,
        *,
        name: str | None = None,
        options: ingest.ReadOptions | None = None,
        source_name: str | None = None,
        description: str = "",
    ) -> Dataset:
        """Add `source` as a new dataset, or as a new version of the dataset `name`."""
        require(user, Role.ANALYST, "Ingesting data")
        source = Path(source)
        filename = source_name or source.name
        name = check_name(name or suggest_name(filename))
        if not source.is_file():
            raise UserInputError(f"There is no file at {filename}.")
        self._check_size(source.stat().st_size, filename)
        staging = self._staging_path()
        try:
            con = self.connect()
            try:
                staged = ingest.stage(
                    con, source, filename, staging, options or ingest.ReadOptions()
                )
            finally:
                con.close()
            return self._commit(user, name, staged, filename, description)
        finally:
            staging.unlink(missing_ok=True)

    def ingest_upload(self, user: User, data: BinaryIO, filename: str, **kwargs) -> Dataset:
        """Ingest an uploaded file object: spooled to a staging file, then `ingest_file`."""
        require(user, Role.ANALYST, "Ingesting data")
        spool = self._staging_path(Path(filename).suffix.lower()[:10])
        try:
            written = 0
            with spool.open("wb") as out:
                while chunk := data.read(1024 * 1024):
                    written += len(chunk)
                    self._check_size(written, filename)
                    out.write(chunk)
            return self.ingest_file(user, spool, source_name=filename, **kwargs)
        finally:
            spool.unlink(missing_ok=True)

    def server_files(self, user: User) -> list[str]:
        """Files under the admin-allowed import folder, as relative paths."""
        require(user, Role.ANALYST, "Importing server files")
        folder = self.settings.import_dir
        if folder is None or not folder.is_dir():
            return []
        return sorted(
            str(p.relative_to(folder))
            for p in folder.rglob("*")
            if p.is_file() and not p.name.startswith(".")
        )

    def ingest_server_file(self, user: User, relative: str, **kwargs) -> Dataset:
        """Ingest a file from the import folder; paths outside it are refused."""
        require(user, Role.ANALYST, "Importing server files")
        folder = self.settings.import_dir
        if folder is None:
            raise UserInputError("Server-side import is off: an admin sets BEACON_IMPORT_DIR.")
        target = (folder / relative).resolve()
        if not target.is_relative_to(folder) or not target.is_file():
            raise UserInputError(f"{relative!r} is not a file in the import folder.")
        return self.ingest_file(user, target, source_name=target.name, **kwargs)

    def ingest_frame(
        self, user: User, frame: pd.DataFrame, name: str, source_name: str, description: str = ""
    ) -> Dataset:
        """Add a DataFrame (e.g. generated sample data) as a dataset version."""
        require(user, Role.ANALYST, "Ingesting data")
        name = check_name(name)
        staging = self._staging_path()
        try:
            con = self.connect()
            try:
                con.register("frame", frame)
                con.execute(f"COPY frame TO '{ingest._sql_path(staging)}' {ingest.PARQUET_OPTIONS}")
                staged = ingest._validate(con, staging, source_name, "dataframe")
            finally:
                con.close()
            return self._commit(user, name, staged, source_name, description)
        finally:
            staging.unlink(missing_ok=True)

    def _commit(
        self, user: User, name: str, staged: ingest.StagedFile, source_name: str, description: str
    ) -> Dataset:
        final: Path | None = None
        try:
            with self.store.session() as s:
                row = s.scalar(select(DatasetRow).where(DatasetRow.name == name))
                previous_roles: Mapping[str, str | None] = {}
                if row is None:
                    row = DatasetRow(
                        name=name, description=description, current_version=1, created_by=user.email
                    )
                    s.add(row)
                    s.flush()
                    version = 1
                else:
                    version = max(v.version for v in row.versions) + 1
                    current = next(v for v in row.versions if v.version == row.current_version)
                    previous_roles = {c["name"]: c.get("role") for c in current.columns}
                    if description:
                        row.description = description
                guessed = guess_roles(staged.columns)
                roles = {
                    col: previous_roles[col] if col in previous_roles else guessed[col]
                    for col, _ in staged.columns
                }
                relative = f"{row.id}/v{version}.parquet"
                s.add(
                    DatasetVersionRow(
                        dataset_id=row.id,
                        version=version,
                        path=relative,
                        source_name=source_name[:500],
                        source_format=staged.source_format,
                        rows=staged.rows,
                        size_bytes=staged.path.stat().st_size,
                        columns=[
                            {"name": c, "type": t, "role": roles[c]} for c, t in staged.columns
                        ],
                        created_by=user.email,
                    )
                )
                row.current_version = version
                row.updated_at = utcnow()
                audit.record(
                    s,
                    user,
                    "dataset.ingest",
                    name,
                    version=version,
                    rows=staged.rows,
                    source=source_name[:200],
                )
                s.flush()
                final = self.root / relative
                final.parent.mkdir(parents=True, exist_ok=True)
                os.replace(staged.path, final)  # atomic on one filesystem
                # committed when the block exits; on failure the except below removes `final`
            log.info("ingested %s v%d (%d rows)", name, version, staged.rows)
        except IntegrityError:
            if final is not None:
                final.unlink(missing_ok=True)
            raise UserInputError(
                f"Dataset {name!r} was changed by someone else at the same moment: try again."
            ) from None
        except BaseException:
            if final is not None:
                final.unlink(missing_ok=True)
            raise
        return self.get(user, name)

    def set_roles(self, user: User, name: str, roles: Mapping[str, str | None]) -> Dataset:
        """Confirm or change the column roles of the dataset's current version."""
        require(user, Role.ANALYST, "Editing column roles")
        with self.store.session() as s:
            row = self._row(s, name)
            current = next(v for v in row.versions if v.version == row.current_version)
            types = {c["name"]: c["type"] for c in current.columns}
            merged = {c["name"]: c.get("role") for c in current.columns} | dict(roles)
            validate_roles(merged, types)
            current.columns = [{"name": c, "type": types[c], "role": merged[c]} for c in types]
            changed = {c: r for c, r in roles.items()}
            audit.record(s, user, "dataset.set_roles", name, version=current.version, roles=changed)
        return self.get(user, name)

    def restore(self, user: User, name: str, version: int) -> Dataset:
        """Make an earlier version current again (no file is touched)."""
        require(user, Role.ANALYST, "Restoring versions")
        with self.store.session() as s:
            row = self._row(s, name)
            if version not in {v.version for v in row.versions}:
                raise NotFound(f"Dataset {name!r} has no version {version}.")
            before = row.current_version
            row.current_version = version
            row.updated_at = utcnow()
            audit.record(s, user, "dataset.restore", name, before=before, after=version)
        return self.get(user, name)

    def delete(self, user: User, name: str) -> None:
        """Remove a dataset, all its versions and their files."""
        require(user, Role.ANALYST, "Deleting datasets")
        with self.store.session() as s:
            row = self._row(s, name)
            folder = self.root / str(row.id)
            versions = len(row.versions)
            s.delete(row)
            audit.record(s, user, "dataset.delete", name, versions=versions)
        shutil.rmtree(folder, ignore_errors=True)

    def sweep(self) -> int:
        """Remove staging leftovers of crashed ingests and files no version refers to."""
        removed = 0
        now = time.time()
        if self.staging_dir.is_dir():
            for leftover in self.staging_dir.iterdir():
                # Another process may be ingesting right now: only clear old leftovers.
                if now - leftover.stat().st_mtime > STALE_STAGING_SECONDS:
                    leftover.unlink(missing_ok=True)
                    removed += 1
        with self.store.session() as s:
            known = {self.root / p for p in s.scalars(select(DatasetVersionRow.path))}
        if self.root.is_dir():
            for path in self.root.glob("*/v*.parquet"):
                if path not in known and now - path.stat().st_mtime > 60:
                    path.unlink(missing_ok=True)
                    removed += 1
        return removed
