"""One cloud target's bucket through boto3, every call bounded and behind its breaker.

Keys are relative to the target's prefix: `store.put_file(path, "exports/a.csv")` writes
`<prefix>exports/a.csv`. Large files move in parts (multipart upload, ranged download)
with a progress callback; a download lands in a temporary name and is renamed only
when complete, so a failed transfer leaves no partial file.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

import boto3
from boto3.s3.transfer import TransferConfig

from core.errors import IntegrationError, UserInputError
from core.fleet.providers import provider
from core.fleet.s3_errors import Failure, explain, is_outage
from core.fleet.targets import TargetAccess
from core.integrations import BREAKERS, BreakerRegistry, BreakerSnapshot, CallPolicy
from core.store.models import as_utc

Progress = Callable[[int, int], None]  # (bytes done, bytes in all)
MB = 1024 * 1024
PROBE_KEY = ".beacon-connection-test"
MAX_LISTED = 5000


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """An object under the target's prefix."""

    key: str  # relative to the prefix
    size: int
    modified: datetime | None


@dataclass(frozen=True, slots=True)
class Listing:
    """One level of a target: sub-prefixes ('folders') and objects."""

    path: str
    prefixes: tuple[str, ...]
    objects: tuple[ObjectInfo, ...]
    truncated: bool


@dataclass(frozen=True, slots=True)
class ConnectionCheck:
    """The outcome of a connection test: reading and writing, and the error if any."""

    ok: bool
    can_read: bool
    can_write: bool
    kind: str  # "ok" or a core.fleet.s3_errors kind
    message: str
    seconds: float


@dataclass(frozen=True, slots=True)
class Transfer:
    """A finished upload or download."""

    key: str
    bytes: int
    seconds: float


def _relative(key: str) -> str:
    key = key.strip().lstrip("/")
    if not key or ".." in key.split("/"):
        raise UserInputError("Name the object: a key such as reports/2026-11.csv, without '..'.")
    return key


class _Counter:
    """Adds up boto3's per-chunk progress (from several threads) for one callback."""

    def __init__(self, total: int, progress: Progress | None) -> None:
        self.total, self.done, self._progress = total, 0, progress
        self._lock = threading.Lock()

    def __call__(self, amount: int) -> None:
        with self._lock:
            self.done += amount
            done = self.done
        if self._progress is not None:
            self._progress(done, self.total)


class ObjectStore:
    """Calls to one target's bucket: listing, transfers, presigned links, connection tests."""

    def __init__(
        self,
        access: TargetAccess,
        policy: CallPolicy | None = None,
        *,
        breakers: BreakerRegistry = BREAKERS,
        multipart_mb: int = 8,
        client: Any = None,
    ) -> None:
        self.target = access.target
        self.policy = policy or CallPolicy()
        self.breaker = breakers.get(
            self.target.breaker_name,
            threshold=self.policy.breaker_threshold,
            reset_seconds=self.policy.breaker_reset_seconds,
        )
        self.transfer_config = TransferConfig(
            multipart_threshold=multipart_mb * MB,
            multipart_chunksize=max(5, multipart_mb) * MB,  # S3's smallest part is 5 MB
            max_concurrency=4,
        )
        self._access = access
        self._client = client

    @property
    def client(self):
        """The boto3 S3 client, built on first use (building one reads credential files)."""
        if self._client is None:
            self._client = self._build_client()
        return self._client

    def _build_client(self):
        target, access = self.target, self._access
        kind = provider(target.provider)
        keys: dict[str, str] = {}
        if access.access_key_id is not None and access.secret_access_key is not None:
            keys = {
                "aws_access_key_id": access.access_key_id.reveal(),
                "aws_secret_access_key": access.secret_access_key.reveal(),
            }
        try:
            session = boto3.session.Session(profile_name=target.profile or None, **keys)
        except Exception as exc:  # ProfileNotFound and friends
            raise self._failure(exc, "read credentials").error() from exc
        addressing = kind.addressing if target.addressing == "auto" else target.addressing
        checksums = "when_supported" if kind.checksums_by_default else "when_required"
        config = self.policy.botocore_config(
            s3={"addressing_style": addressing},
            request_checksum_calculation=checksums,
            response_checksum_validation=checksums,
            signature_version="s3v4",
        )
        return session.client(
            "s3",
            endpoint_url=target.endpoint_url or None,
            region_name=target.region or None,
            config=config,
        )

    # --- calls ----------------------------------------------------------------------

    def _failure(self, exc: BaseException, action: str, key: str = "") -> Failure:
        where = f"Cloud target {self.target.name} (bucket {self.target.bucket})"
        failure = explain(exc, where, action, key)
        if failure is None:
            raise exc
        return failure

    def _call(self, action: str, func: Callable[[], Any], key: str = "") -> Any:
        try:
            return self.breaker.call(func, is_outage)
        except IntegrationError:
            raise
        except Exception as exc:
            raise self._failure(exc, action, key).error() from exc

    def _key(self, relative: str) -> str:
        return self.target.prefix + _relative(relative)

    def breaker_state(self) -> BreakerSnapshot:
        """This target's circuit breaker, as it is now."""
        return self.breaker.snapshot()

    def browse(self, path: str = "") -> Listing:
        """Sub-prefixes and objects one level under `path` (at most 5,000 entries)."""
        path = path.strip().lstrip("/")
        if path and not path.endswith("/"):
            path += "/"
        if ".." in path.split("/"):
            raise UserInputError("A path may not contain '..'.")
        full = self.target.prefix + path
        prefixes: list[str] = []
        objects: list[ObjectInfo] = []
        token: str | None = None
        while True:
            kwargs = {"Bucket": self.target.bucket, "Prefix": full, "Delimiter": "/"}
            if token:
                kwargs["ContinuationToken"] = token
            page = self._call("list objects", lambda kw=kwargs: self.client.list_objects_v2(**kw))
            cut = len(self.target.prefix)
            prefixes += [p["Prefix"][cut:] for p in page.get("CommonPrefixes", [])]
            objects += [
                ObjectInfo(o["Key"][cut:], int(o["Size"]), as_utc(o.get("LastModified")))
                for o in page.get("Contents", [])
                if o["Key"] != full  # a "folder" marker object
            ]
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or len(prefixes) + len(objects) >= MAX_LISTED:
                return Listing(path, tuple(prefixes), tuple(objects), bool(page.get("IsTruncated")))

    def head(self, key: str) -> ObjectInfo:
        """Size and time of one object."""
        full = self._key(key)
        meta = self._call(
            "read objects",
            lambda: self.client.head_object(Bucket=self.target.bucket, Key=full),
            key,
        )
        return ObjectInfo(_relative(key), int(meta["ContentLength"]), as_utc(meta["LastModified"]))

    def put_bytes(self, data: bytes, key: str) -> Transfer:
        """Write a small object in one request."""
        full, started = self._key(key), time.perf_counter()
        self._call(
            "write objects",
            lambda: self.client.put_object(Bucket=self.target.bucket, Key=full, Body=data),
            key,
        )
        return Transfer(_relative(key), len(data), time.perf_counter() - started)

    def get_bytes(self, key: str, limit: int = 64 * MB) -> bytes:
        """Read a small object whole (refused above `limit` bytes)."""
        info = self.head(key)
        if info.size > limit:
            raise UserInputError(f"{key} is {info.size:,} bytes: download it to a file instead.")
        full = self._key(key)
        return self._call(
            "read objects",
            lambda: self.client.get_object(Bucket=self.target.bucket, Key=full)["Body"].read(),
            key,
        )

    def put_file(self, path: Path, key: str, progress: Progress | None = None) -> Transfer:
        """Upload a file, in parts when it is large, reporting progress."""
        path = Path(path)
        if not path.is_file():
            raise UserInputError(f"There is no file at {path.name}.")
        full, size, started = self._key(key), path.stat().st_size, time.perf_counter()
        counter = _Counter(size, progress)
        self._call(
            "write objects",
            lambda: self.client.upload_file(
                str(path), self.target.bucket, full, Config=self.transfer_config, Callback=counter
            ),
            key,
        )
        return Transfer(_relative(key), size, time.perf_counter() - started)

    def put_stream(
        self, stream: BinaryIO, key: str, size: int, progress: Progress | None = None
    ) -> Transfer:
        """Upload from an open binary stream (e.g. an uploaded file), in parts when large."""
        full, started = self._key(key), time.perf_counter()
        counter = _Counter(size, progress)
        self._call(
            "write objects",
            lambda: self.client.upload_fileobj(
                stream, self.target.bucket, full, Config=self.transfer_config, Callback=counter
            ),
            key,
        )
        return Transfer(_relative(key), size, time.perf_counter() - started)

    def get_file(self, key: str, path: Path, progress: Progress | None = None) -> Transfer:
        """Download an object to `path` (ranged parts when large); nothing is left on failure."""
        info = self.head(key)
        full, started = self._key(key), time.perf_counter()
        counter = _Counter(info.size, progress)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._call(
                "read objects",
                lambda: self.client.download_file(
                    self.target.bucket,
                    full,
                    str(path),
                    Config=self.transfer_config,
                    Callback=counter,
                ),
                key,
            )
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return Transfer(info.key, info.size, time.perf_counter() - started)

    def delete(self, key: str) -> None:
        """Remove one object."""
        full = self._key(key)
        self._call(
            "delete objects",
            lambda: self.client.delete_object(Bucket=self.target.bucket, Key=full),
            key,
        )

    def presigned_url(self, key: str, seconds: int = 3600) -> str:
        """A link anyone may use to download the object for `seconds` (signed locally)."""
        if not 1 <= seconds <= 7 * 24 * 3600:
            raise UserInputError("A link may last from 1 second to 7 days.")
        full = self._key(key)
        try:
            return self.client.generate_presigned_url(
                "get_object", Params={"Bucket": self.target.bucket, "Key": full}, ExpiresIn=seconds
            )
        except Exception as exc:
            raise self._failure(exc, "sign links", key).error() from exc

    def check(self) -> ConnectionCheck:
        """Can Beacon list the bucket, and write (then remove) a probe object under the prefix?"""
        started = time.perf_counter()

        def result(ok: bool, read: bool, write: bool, kind: str, message: str) -> ConnectionCheck:
            return ConnectionCheck(ok, read, write, kind, message, time.perf_counter() - started)

        try:
            self.breaker.call(
                lambda: self.client.list_objects_v2(
                    Bucket=self.target.bucket, Prefix=self.target.prefix, MaxKeys=1
                ),
                is_outage,
            )
        except IntegrationError as exc:  # the breaker is open
            return result(False, False, False, "circuit_open", str(exc))
        except Exception as exc:
            failure = self._failure(exc, "list objects")
            return result(False, False, False, failure.kind, failure.message)
        probe = self.target.prefix + PROBE_KEY
        try:
            self.breaker.call(
                lambda: self.client.put_object(
                    Bucket=self.target.bucket, Key=probe, Body=b"Beacon connection test\n"
                ),
                is_outage,
            )
            self.breaker.call(
                lambda: self.client.delete_object(Bucket=self.target.bucket, Key=probe),
                is_outage,
            )
        except IntegrationError as exc:
            return result(False, True, False, "circuit_open", str(exc))
        except Exception as exc:
            failure = self._failure(exc, f"write under {self.target.location}")
            return result(False, True, False, failure.kind, f"Read works; {failure.message}")
        seconds = time.perf_counter() - started
        return ConnectionCheck(
            True,
            True,
            True,
            "ok",
            f"Connected to {self.target.location}: listing and writing work ({seconds:.2f} s).",
            seconds,
        )
