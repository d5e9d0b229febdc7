"""Cloud work an admin asks for: test a target, import an object as a dataset, export one.

`Cloud` ties the target registry, the storage client and the catalog together; pages,
the CLI and jobs build one from their services and call it with the acting user.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import BinaryIO

from core.auth.roles import Role, User, require
from core.config import Settings
from core.data import export
from core.data.catalog import Catalog, Dataset, check_name, suggest_name
from core.data.ingest import ReadOptions
from core.errors import UserInputError
from core.fleet import targets
from core.fleet.storage import ConnectionCheck, ObjectStore, Progress, Transfer
from core.integrations import BREAKERS, BreakerRegistry, BreakerSnapshot, CallPolicy
from core.secrets_box import SecretBox
from core.store import Store

log = logging.getLogger(__name__)
EXPORT_FORMATS = ("parquet", "csv", "xlsx")


class Cloud:
    """Cloud targets in use: every method takes the acting user (admins only)."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        catalog: Catalog | None = None,
        *,
        breakers: BreakerRegistry = BREAKERS,
        policy: CallPolicy | None = None,
        multipart_mb: int = 8,
    ) -> None:
        self.store = store
        self.settings = settings
        self.catalog = catalog
        self.box = SecretBox.from_settings(settings)
        self.breakers = breakers
        self.policy = policy or CallPolicy.from_settings(settings.fleet)
        self.multipart_mb = multipart_mb

    def open(self, user: User, name: str) -> ObjectStore:
        """The bucket of target `name`, ready for calls."""
        access = targets.access(self.store, self.box, user, name)
        return ObjectStore(
            access, self.policy, breakers=self.breakers, multipart_mb=self.multipart_mb
        )

    def breaker(self, target: targets.CloudTarget) -> BreakerSnapshot:
        """The circuit breaker of a target in this process."""
        return self.breakers.snapshot(target.breaker_name)

    def test(self, user: User, name: str) -> ConnectionCheck:
        """Test a target's connection and remember the outcome."""
        require(user, Role.ADMIN, "Testing cloud targets")
        try:
            check = self.open(user, name).check()
        except UserInputError as exc:  # no credentials, unknown profile
            check = ConnectionCheck(False, False, False, "no_credentials", str(exc), 0.0)
        targets.record_test(self.store, user, name, check.ok, check.message)
        log.info("tested cloud target %s: %s", name, check.kind)
        return check

    def _scratch(self) -> Path:
        folder = self.settings.home / "tmp" / "cloud"
        folder.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix="transfer-", dir=folder))

    def import_object(
        self,
        user: User,
        name: str,
        key: str,
        *,
        dataset: str | None = None,
        options: ReadOptions | None = None,
        progress: Progress | None = None,
    ) -> Dataset:
        """Download an object and ingest it as a dataset (or a new version of `dataset`)."""
        require(user, Role.ADMIN, "Importing from cloud targets")
        if self.catalog is None:
            raise UserInputError("Importing needs the dataset catalog.")
        bucket = self.open(user, name)
        filename = key.rstrip("/").rsplit("/", 1)[-1]
        dataset_name = check_name(dataset or suggest_name(filename))
        info = bucket.head(key)
        limit = self.settings.upload_limit_bytes
        if info.size > limit:
            raise UserInputError(
                f"{filename} is {info.size / 1024 / 1024:,.1f} MB; the upload limit is "
                f"{limit / 1024 / 1024:,.0f} MB (BEACON_UPLOAD_LIMIT_MB)."
            )
        scratch = self._scratch()
        try:
            local = scratch / f"{uuid.uuid4().hex}{Path(filename).suffix.lower()[:10]}"
            bucket.get_file(key, local, progress)
            return self.catalog.ingest_file(
                user,
                local,
                name=dataset_name,
                options=options,
                source_name=f"{bucket.target.location}{info.key}"[:500],
            )
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def export_dataset(
        self,
        user: User,
        name: str,
        dataset: Dataset,
        fmt: str = "parquet",
        *,
        key: str | None = None,
        progress: Progress | None = None,
    ) -> Transfer:
        """Write a dataset version to the target (Parquet as stored, or CSV/Excel)."""
        require(user, Role.ADMIN, "Exporting to cloud targets")
        if fmt not in EXPORT_FORMATS:
            raise UserInputError(f"Export format must be one of {', '.join(EXPORT_FORMATS)}.")
        key = key or f"exports/{dataset.name}_v{dataset.version}.{fmt}"
        bucket = self.open(user, name)
        if fmt == "parquet":  # the version file is already zstd Parquet: send it as it is
            return bucket.put_file(dataset.path, key, progress)
        if self.catalog is None:
            raise UserInputError("Exporting as CSV or Excel needs the dataset catalog.")
        scratch = self._scratch()
        try:
            con = self.catalog.connect()
            try:
                data = export.export_dataset(con, dataset, fmt, self.settings.export_row_cap)
            finally:
                con.close()
            local = scratch / f"export.{fmt}"
            local.write_bytes(data)
            return bucket.put_file(local, key, progress)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def upload_artifact(
        self, user: User, name: str, path: Path, key: str, progress: Progress | None = None
    ) -> Transfer:
        """Upload any file (a report, a model, a log bundle) to the target."""
        require(user, Role.ADMIN, "Uploading to cloud targets")
        return self.open(user, name).put_file(path, key, progress)

    def upload_stream(
        self,
        user: User,
        name: str,
        stream: BinaryIO,
        key: str,
        size: int,
        progress: Progress | None = None,
    ) -> Transfer:
        """Upload an open file (e.g. one a user dropped on the page) to the target."""
        require(user, Role.ADMIN, "Uploading to cloud targets")
        return self.open(user, name).put_stream(stream, key, size, progress)

    def download_artifact(
        self, user: User, name: str, key: str, path: Path, progress: Progress | None = None
    ) -> Transfer:
        """Download an object to a local file."""
        require(user, Role.ADMIN, "Downloading from cloud targets")
        return self.open(user, name).get_file(key, path, progress)
