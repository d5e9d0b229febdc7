"""The Fleet page's cloud targets: list, add and edit, test, browse, transfer, import, export."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import pandas as pd
import streamlit as st

from components import dataset_picker, downloads, errors
from core.auth.roles import User
from core.data.catalog import Dataset
from core.fleet import targets
from core.fleet.cloud import EXPORT_FORMATS, Cloud
from core.fleet.providers import PROVIDERS
from core.fleet.storage import Listing, Progress

T = TypeVar("T")
IMPORTABLE = (".csv", ".tsv", ".txt", ".xlsx", ".parquet", ".jsonl", ".ndjson")
SECTIONS = ["Browse", "Upload and download", "Import as dataset", "Export a dataset", "Edit"]


def _size(size: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:,.0f} {unit}" if unit == "bytes" else f"{size:,.1f} {unit}"
        size /= 1024
    return str(size)


def with_progress(label: str, work: Callable[[Progress], T]) -> T:
    """Run a transfer on a worker thread while a progress bar follows its bytes."""
    bar = st.progress(0.0, text=label)
    seen = {"done": 0, "total": 0}

    def progress(done: int, total: int) -> None:  # called from boto3's threads
        seen["done"], seen["total"] = done, total

    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(work, progress)
        while not future.done():
            time.sleep(0.2)
            if seen["total"]:
                share = min(1.0, seen["done"] / seen["total"])
                bar.progress(share, text=f"{label} {_size(seen['done'])} of {_size(seen['total'])}")
    bar.empty()
    return future.result()


def targets_table(cloud: Cloud, found: list[targets.CloudTarget]) -> pd.DataFrame:
    """One row per target with its last test and its circuit breaker."""
    rows = []
    for t in found:
        breaker = cloud.breaker(t)
        rows.append(
            {
                "name": t.name,
                "provider": PROVIDERS[t.provider].label if t.provider in PROVIDERS else t.provider,
                "location": t.location,
                "endpoint": t.endpoint_url or "(AWS)",
                "credentials": t.credentials + (f" ({t.key_hint})" if t.key_hint else ""),
                "last test": (
                    "never" if t.last_test_ok is None else "passed" if t.last_test_ok else "failed"
                ),
                "tested at": t.last_test_at,
                "circuit": breaker.state,
                "failures in a row": breaker.failures,
            }
        )
    return pd.DataFrame(rows)


def target_form(user: User, cloud: Cloud, current: targets.CloudTarget | None, key: str) -> None:
    """Add a target, or edit `current` (leaving the keys empty keeps the stored ones)."""
    providers = list(PROVIDERS)
    modes = list(targets.CREDENTIAL_MODES)
    with st.form(f"{key}_form", clear_on_submit=current is None):
        left, right = st.columns(2)
        name = left.text_input("Name", value=current.name if current else "", key=f"{key}_name")
        provider = right.selectbox(
            "Provider",
            providers,
            index=providers.index(current.provider) if current else 0,
            format_func=lambda k: PROVIDERS[k].label,
            key=f"{key}_provider",
        )
        bucket = left.text_input("Bucket", value=current.bucket if current else "")
        prefix = right.text_input(
            "Prefix", value=current.prefix if current else "", placeholder="beacon/"
        )
        endpoint = left.text_input(
            "Endpoint URL",
            value=current.endpoint_url if current else "",
            placeholder="empty for AWS; https://… for the others",
        )
        region = right.text_input(
            "Region", value=current.region if current else "", placeholder="us-east-1"
        )
        addressing = left.selectbox(
            "Addressing style",
            list(targets.ADDRESSING),
            index=list(targets.ADDRESSING).index(current.addressing) if current else 0,
            help="auto picks what the provider expects (path style for MinIO, R2 and GCS)",
        )
        mode = right.selectbox(
            "Credentials",
            modes,
            index=modes.index(current.credentials) if current else 0,
            format_func=targets.CREDENTIAL_MODES.get,
        )
        profile = left.text_input(
            "AWS profile", value=current.profile if current else "", help="For 'named profile'"
        )
        access_key = right.text_input(
            "Access key id",
            placeholder=current.key_hint if current and current.key_hint else "",
            help="For 'access keys'; leave empty to keep the stored keys",
        )
        secret = right.text_input("Secret access key", type="password")
        if not cloud.box.available:
            st.caption(
                "Entering access keys needs BEACON_SECRET_KEY (see the README); the default "
                "chain and named profiles work without it."
            )
        submitted = st.form_submit_button(
            "Save changes" if current else "Add target", type="primary"
        )
    if submitted:
        spec = targets.TargetSpec(
            name=name,
            provider=provider,
            bucket=bucket,
            endpoint_url=endpoint,
            region=region,
            prefix=prefix,
            addressing=addressing,
            credentials=mode,
            profile=profile,
            access_key_id=access_key,
            secret_access_key=secret,
        )
        with errors.shown():
            saved = targets.save_target(
                cloud.store, cloud.box, user, spec, replaces=current.name if current else None
            )
            st.session_state[f"{key}_selected"] = saved.name
            st.toast(f"Saved {saved.name}. Test its connection next.")
            st.rerun()


def _listing(user: User, cloud: Cloud, name: str, path: str) -> Listing | None:
    with errors.shown():
        return cloud.open(user, name).browse(path)
    return None


def _browse(listing: Listing, name: str, key: str) -> None:
    st.caption(
        f"{len(listing.prefixes)} folder(s), {len(listing.objects)} object(s) in /{listing.path}"
    )
    if listing.prefixes:
        st.dataframe(
            pd.DataFrame({"folder": list(listing.prefixes)}),
            hide_index=True,
            alt=f"Folders of {name}",
        )
    frame = pd.DataFrame(
        {
            "key": [o.key for o in listing.objects],
            "size (bytes)": [o.size for o in listing.objects],
            "modified": [o.modified for o in listing.objects],
        }
    )
    if frame.empty:
        st.info("No objects here.")
        return
    st.dataframe(frame, hide_index=True, alt=f"Objects of {name}")
    downloads.table_csv(frame, f"{name}_objects.csv", key=f"{key}_objects_csv")
    if listing.truncated:
        st.caption("The listing stops at 5,000 entries: narrow the path.")


def _transfers(user: User, cloud: Cloud, name: str, listing: Listing, key: str) -> None:
    upload = st.file_uploader("File to upload", key=f"{key}_upload")
    if upload is not None and st.button("Upload", key=f"{key}_upload_go", type="primary"):
        object_key = f"{listing.path}{upload.name}"
        with errors.shown():
            done = with_progress(
                f"Uploading {upload.name}…",
                lambda p: cloud.upload_stream(user, name, upload, object_key, upload.size, p),
            )
            st.success(f"Uploaded {done.key} ({_size(done.bytes)} in {done.seconds:.1f} s).")
    keys = [o.key for o in listing.objects]
    if not keys:
        return
    chosen = st.selectbox("Object", keys, key=f"{key}_object")
    size = next(o.size for o in listing.objects if o.key == chosen)
    with st.container(horizontal=True):
        st.download_button(
            "Download",
            data=lambda: cloud.open(user, name).get_bytes(chosen),
            file_name=chosen.rsplit("/", 1)[-1],
            key=f"{key}_download",
            icon=":material/download:",
            disabled=size > 64 * 1024 * 1024,
            help="Objects up to 64 MB; larger ones with `python -m core fleet targets download`",
        )
        if st.button("Create a download link (1 hour)", key=f"{key}_link"):
            with errors.shown():
                st.code(cloud.open(user, name).presigned_url(chosen, 3600), language=None)


def _import(user: User, cloud: Cloud, name: str, listing: Listing, key: str) -> None:
    files = [o.key for o in listing.objects if o.key.lower().endswith(IMPORTABLE)]
    if not files:
        st.info("No CSV, Excel, Parquet or JSON-lines objects here: browse to another folder.")
        return
    chosen = st.selectbox("Object to import", files, key=f"{key}_import_key")
    dataset_name = st.text_input(
        "Dataset name",
        key=f"{key}_import_name",
        placeholder="from the object's name",
        help="An existing name adds a new version to that dataset.",
    )
    if st.button("Import as dataset", key=f"{key}_import_go", type="primary"):
        with errors.shown():
            dataset = with_progress(
                f"Downloading {chosen}…",
                lambda p: cloud.import_object(
                    user, name, chosen, dataset=dataset_name.strip() or None, progress=p
                ),
            )
            dataset_picker.select_next(dataset.name)
            st.success(
                f"Imported {chosen} as {dataset.name} v{dataset.version}: {dataset.rows:,} rows."
            )
            st.page_link(
                "views/data.py", label="Open it on the Data page", icon=":material/database:"
            )


def _export(user: User, cloud: Cloud, name: str, dataset: Dataset | None, key: str) -> None:
    if dataset is None:
        st.info("Choose a dataset in the sidebar to export it.")
        return
    fmt = (
        st.segmented_control(
            "Format", list(EXPORT_FORMATS), default="parquet", key=f"{key}_export_format"
        )
        or "parquet"
    )
    object_key = st.text_input(
        "Object key",
        value=f"exports/{dataset.name}_v{dataset.version}.{fmt}",
        key=f"{key}_export_key_{dataset.name}_{fmt}",
    )
    st.caption(
        f"{dataset.name} v{dataset.version}: {dataset.rows:,} rows, written under the prefix."
    )
    if st.button("Export", key=f"{key}_export_go", type="primary"):
        with errors.shown():
            done = with_progress(
                f"Exporting {dataset.name}…",
                lambda p: cloud.export_dataset(
                    user, name, dataset, fmt, key=object_key, progress=p
                ),
            )
            st.success(f"Wrote {done.key} ({_size(done.bytes)} in {done.seconds:.1f} s).")


def show(user: User, cloud: Cloud, dataset: Dataset | None, *, key: str = "fleet_targets") -> None:
    """The cloud targets tab."""
    found = targets.list_targets(cloud.store, user)
    if not found:
        st.info(
            "No cloud targets yet. Add an S3-compatible bucket (AWS S3, MinIO, Cloudflare R2, "
            "Google Cloud Storage) to import objects as datasets and export datasets to it."
        )
        target_form(user, cloud, None, f"{key}_new")
        return
    table = targets_table(cloud, found)
    st.dataframe(table, hide_index=True, alt="Cloud targets")
    downloads.table_csv(table, "beacon_cloud_targets.csv", key=f"{key}_csv")
    with st.expander("Add a target"):
        target_form(user, cloud, None, f"{key}_new")

    names = [t.name for t in found]
    if st.session_state.get(f"{key}_selected") not in names:
        st.session_state[f"{key}_selected"] = names[0]
    name = st.selectbox("Target", names, key=f"{key}_selected")
    target = next(t for t in found if t.name == name)
    breaker = cloud.breaker(target)
    with st.container(horizontal=True, vertical_alignment="bottom"):
        st.metric(
            "Circuit",
            breaker.state,
            border=True,
            help=f"Opens after {breaker.threshold} failed calls in a row; last error: "
            f"{breaker.last_error or 'none'}",
        )
        st.metric(
            "Last test",
            "never"
            if target.last_test_ok is None
            else "passed"
            if target.last_test_ok
            else "failed",
            border=True,
            help=target.last_test_message or "Not tested yet",
        )
        test = st.button("Test connection", key=f"{key}_test", icon=":material/network_check:")
    if breaker.state != "closed" and breaker.retry_at is not None:
        st.warning(
            f"Calls to {name} are paused after {breaker.failures} failures in a row "
            f"({breaker.last_error}); the next try is allowed after "
            f"{breaker.retry_at:%H:%M:%S} UTC."
        )
    if test:
        with st.spinner(f"Testing {name}…"):
            check = cloud.test(user, name)
        st.session_state[f"{key}_check"] = (name, check.ok, check.message)
        st.rerun()  # the cards above show the new outcome
    checked = st.session_state.pop(f"{key}_check", None)
    if checked and checked[0] == name:
        (st.success if checked[1] else st.error)(checked[2])

    section = st.segmented_control("Action", SECTIONS, default="Browse", key=f"{key}_section")
    if section == "Edit":
        target_form(user, cloud, target, f"{key}_edit_{name}")
        with st.expander("Remove this target"):
            st.caption("Objects in the bucket stay; Beacon forgets the target and its keys.")
            if st.button("Remove target", key=f"{key}_remove"):
                with errors.shown():
                    targets.delete_target(cloud.store, user, name)
                    st.rerun()
        return
    if section == "Export a dataset":
        _export(user, cloud, name, dataset, key)
        return
    path = st.text_input("Path", key=f"{key}_path_{name}", placeholder="folder/ under the prefix")
    listing = _listing(user, cloud, name, path)
    if listing is None:
        return
    if section == "Browse":
        _browse(listing, name, key)
    elif section == "Upload and download":
        _transfers(user, cloud, name, listing, key)
    elif section == "Import as dataset":
        _import(user, cloud, name, listing, key)
