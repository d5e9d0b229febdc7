"""Data: upload files, map column roles, profile, preview and export datasets."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components import charts, column_mapper, dataset_picker, downloads, errors, session
from components.resources import duckdb_cursor, services
from core.auth.roles import Role
from core.data import export, profile
from core.data.catalog import Dataset, suggest_name
from core.data.ingest import ReadOptions
from core.data.roles import NUMERIC, TEMPORAL, kind_of
from core.data.samples import load_sample

PAGE_SIZE = 50
DELIMITER_CHOICES = {"Detect": None, "Comma": ",", "Semicolon": ";", "Tab": "\t", "Pipe": "|"}
ENCODING_CHOICES = {"Detect": "auto", "UTF-8": "utf-8", "Latin-1": "latin-1", "UTF-16": "utf-16"}

user = session.require_role(Role.VIEWER, "Viewing data")
svc = services()


@st.cache_data(max_entries=32, show_spinner="Profiling…")
def cached_profile(path: str, roles: tuple, _dataset: Dataset) -> profile.DatasetProfile:
    # Keyed on the immutable version file (and roles, which profiles show).
    return profile.profile(duckdb_cursor(), _dataset)


@st.cache_data(max_entries=128, show_spinner=False)
def cached_detail(path: str, column: str, _dataset: Dataset) -> profile.ColumnDetail:
    return profile.column_detail(duckdb_cursor(), _dataset, column)


@st.cache_data(max_entries=64, show_spinner=False)
def cached_page(path: str, sort_by, descending: bool, offset: int, _dataset: Dataset):
    return profile.preview(
        duckdb_cursor(),
        _dataset,
        sort_by=sort_by,
        descending=descending,
        offset=offset,
        limit=PAGE_SIZE,
    )


def add_data_form() -> None:
    """Upload a file (or import one from the server folder) as a dataset or a new version."""
    existing = [d.name for d in svc.catalog.datasets(user)]
    source = st.segmented_control(
        "Source",
        ["Upload a file", "Server folder", "Sample company"],
        default="Upload a file",
        key="add_source",
    )
    if source == "Sample company":
        st.write(
            "Six related tables of a fictional retailer: orders, customers, products, "
            "suppliers, inventory and shipments, over three years."
        )
        if st.button("Load sample data", key="load_sample", type="primary"):
            with errors.shown(), st.status("Generating the sample company…") as status:
                loaded = load_sample(svc.catalog, user)
                status.update(label=f"Loaded {len(loaded)} sample datasets", state="complete")
                dataset_picker.select_next(loaded[0].name)
                st.rerun()
        return
    server_files = svc.catalog.server_files(user) if source == "Server folder" else []
    if source == "Server folder" and not server_files:
        st.info("No server folder is configured, or it is empty (admins set BEACON_IMPORT_DIR).")
        return
    with st.form("ingest", clear_on_submit=False):
        if source == "Upload a file":
            upload = st.file_uploader(
                "File",
                type=["csv", "tsv", "txt", "xlsx", "parquet", "jsonl", "ndjson"],
                key="upload",
                help="CSV/TSV, Excel (.xlsx), Parquet or JSON lines",
            )
        else:
            chosen_file = st.selectbox("File in the server folder", server_files, key="server_file")
        name = st.text_input(
            "Dataset name",
            key="ingest_name",
            help="A new name creates a dataset; an existing name adds a new version to it.",
            placeholder="from the file name",
        )
        with st.expander("Reading options"):
            left, right = st.columns(2)
            delimiter = left.selectbox("Delimiter", list(DELIMITER_CHOICES), key="delimiter")
            encoding = right.selectbox("Encoding", list(ENCODING_CHOICES), key="encoding")
            decimal = left.selectbox("Decimal separator", [".", ","], key="decimal")
            sheet = right.text_input("Excel sheet", key="sheet", placeholder="first sheet")
            header = left.checkbox("First row holds column names", value=True, key="header")
            fill = right.checkbox("Fill short rows with empty values", key="fill_short")
        submitted = st.form_submit_button(
            "Add to catalog", type="primary", icon=":material/upload:"
        )
    if not submitted:
        return
    options = ReadOptions(
        delimiter=DELIMITER_CHOICES[delimiter],
        header=header,
        encoding=ENCODING_CHOICES[encoding],
        decimal=decimal,
        fill_short_rows=fill,
        sheet=sheet.strip() or None,
    )
    with errors.shown():
        if source == "Upload a file":
            if upload is None:
                st.warning("Choose a file first.")
                return
            target = name.strip() or suggest_name(upload.name)
            with st.spinner(f"Reading {upload.name}…"):
                dataset = svc.catalog.ingest_upload(
                    user, upload, upload.name, name=target, options=options
                )
        else:
            target = name.strip() or suggest_name(chosen_file)
            with st.spinner(f"Reading {chosen_file}…"):
                dataset = svc.catalog.ingest_server_file(
                    user, chosen_file, name=target, options=options
                )
        verb = "Created" if dataset.version == 1 else f"Added version {dataset.version} to"
        dataset_picker.select_next(dataset.name)
        st.session_state["ingest_message"] = (
            f"{verb} {dataset.name}: {dataset.rows:,} rows, {len(dataset.columns)} columns. "
            f"{'It replaces' if dataset.version > 1 else 'Check'} the column roles below."
            if dataset.name not in existing or dataset.version > 1
            else ""
        )
        st.rerun()


st.title("Data")
st.caption("Bring files into Beacon, tell it what the columns mean, and check what is in them.")
if message := st.session_state.pop("ingest_message", None):
    st.success(message, icon=":material/check_circle:")

dataset = dataset_picker.show(user)
if dataset is None:
    if user.can(Role.ANALYST):
        with st.container(border=True):
            st.subheader("Add data")
            add_data_form()
    st.stop()

current = svc.catalog.get(user, dataset.name)
is_current = dataset.version == current.version
prof = cached_profile(str(dataset.path), tuple(dataset.roles.items()), dataset)

with st.container(horizontal=True):
    st.metric("Rows", f"{dataset.rows:,}", border=True)
    st.metric("Columns", len(dataset.columns), border=True)
    st.metric(
        "Duplicate rows",
        f"{prof.duplicate_rows:,}",
        border=True,
        help="Rows identical to an earlier row in every column",
    )
    if prof.date_min is not None:
        span = f"{prof.date_min:%Y-%m-%d} → {prof.date_max:%Y-%m-%d}"
        st.metric("Date range", span, border=True, help=f"From column {prof.date_column}")
    st.metric(
        "Version",
        f"v{dataset.version}" + ("" if is_current else f" of {current.version}"),
        border=True,
        help=f"{current.version_count} version(s); source: {dataset.current.source_name}",
    )

tab_names = ["Preview", "Profile", "Column roles", "Versions"]
if user.can(Role.ANALYST):
    tab_names.append("Add data")
tabs = dict(zip(tab_names, st.tabs(tab_names), strict=True))

with tabs["Preview"]:
    columns = [c.name for c in dataset.columns]
    with st.container(horizontal=True, vertical_alignment="bottom"):
        sort_by = st.selectbox("Sort by", ["(file order)", *columns], key="sort_by")
        descending = st.toggle("Descending", key="descending")
        pages = max(1, -(-dataset.rows // PAGE_SIZE))
        page_no = st.number_input("Page", min_value=1, max_value=pages, value=1, key="page_no")
    rows = cached_page(
        str(dataset.path),
        None if sort_by == "(file order)" else sort_by,
        descending,
        (int(page_no) - 1) * PAGE_SIZE,
        dataset,
    )
    st.dataframe(
        rows,
        hide_index=True,
        alt=f"Rows of {dataset.name}",
        column_config={  # DATE columns arrive as timestamps: show them as dates
            c.name: st.column_config.DateColumn(c.name, format="YYYY-MM-DD")
            for c in dataset.columns
            if c.type == "DATE"
        },
    )
    st.caption(f"Page {int(page_no)} of {pages:,} · {PAGE_SIZE} rows per page")
    cap = svc.settings.export_row_cap
    with st.container(horizontal=True):
        for fmt, label in (("csv", "CSV"), ("xlsx", "Excel"), ("parquet", "Parquet")):
            st.download_button(
                f"Export {label}",
                data=lambda fmt=fmt: export.export_dataset(duckdb_cursor(), dataset, fmt, cap),
                file_name=f"{dataset.name}_v{dataset.version}.{fmt}",
                mime=export.FORMATS[fmt],
                key=f"export_{fmt}",
                icon=":material/download:",
            )
    if dataset.rows > cap:
        st.caption(f"Exports hold the first {cap:,} rows (BEACON_EXPORT_ROW_CAP).")

with tabs["Profile"]:
    st.dataframe(
        prof.columns,
        hide_index=True,
        alt=f"Column profile of {dataset.name}",
        column_config={
            "null_pct": st.column_config.ProgressColumn(
                "Nulls %", min_value=0, max_value=100, format="%.1f%%"
            ),
            "distinct": st.column_config.NumberColumn("Distinct (approx.)"),
            "mean": st.column_config.NumberColumn("Mean", format="%.2f"),
            "std": st.column_config.NumberColumn("Std. dev.", format="%.2f"),
        },
    )
    downloads.table_csv(prof.columns, f"{dataset.name}_profile.csv", key="profile_csv")
    # Start with the column people ask about first: the amount, then any number or date.
    measurable = [dataset.column_for(r) for r in ("amount", "quantity") if dataset.column_for(r)]
    measurable += [c.name for c in dataset.columns if kind_of(c.type) in (NUMERIC, TEMPORAL)]
    column = st.selectbox(
        "Look closer at a column",
        columns,
        index=columns.index(measurable[0]) if measurable else 0,
        key=f"profile_column_{dataset.name}",
    )
    detail = cached_detail(str(dataset.path), column, dataset)
    if detail.histogram.empty:  # text: only the most frequent values
        st.plotly_chart(charts.top_values(detail), key="top_values")
    else:
        left, right = st.columns(2)
        left.plotly_chart(charts.histogram(detail), key="histogram")
        right.plotly_chart(charts.top_values(detail), key="top_values")
    with st.expander("Table view"):
        st.dataframe(detail.top_values, hide_index=True, alt=f"Top values of {column}")
        if not detail.histogram.empty:
            st.dataframe(detail.histogram, hide_index=True, alt=f"Histogram of {column}")

with tabs["Column roles"]:
    column_mapper.show(user, dataset, is_current=is_current)

with tabs["Versions"]:
    versions = svc.catalog.versions(user, dataset.name)
    table = pd.DataFrame(
        {
            "version": [v.version for v in versions],
            "current": [v.version == current.version for v in versions],
            "rows": [v.rows for v in versions],
            "columns": [len(v.columns) for v in versions],
            "source": [v.source_name for v in versions],
            "added by": [v.created_by for v in versions],
            "added at": [v.created_at for v in versions],
        }
    )
    st.dataframe(table, hide_index=True, alt=f"Versions of {dataset.name}")
    if user.can(Role.ANALYST):
        with st.container(horizontal=True, vertical_alignment="bottom"):
            older = [v.version for v in versions if v.version != current.version]
            restore_to = st.selectbox(
                "Restore version", older, key="restore_to", disabled=not older
            )
            if st.button("Make current", key="restore", disabled=not older):
                with errors.shown():
                    svc.catalog.restore(user, dataset.name, int(restore_to))
                    st.toast(f"{dataset.name} now uses version {restore_to}.")
                    st.rerun()
        with st.expander("Delete this dataset"):
            st.warning(f"Deleting removes all {len(versions)} version(s) of {dataset.name}.")
            confirm = st.text_input("Type the dataset name to confirm", key="delete_confirm")
            if st.button("Delete dataset", key="delete", disabled=confirm != dataset.name):
                with errors.shown():
                    svc.catalog.delete(user, dataset.name)
                    dataset_picker.select_next(None)
                    st.rerun()

if "Add data" in tabs:
    with tabs["Add data"]:
        add_data_form()
