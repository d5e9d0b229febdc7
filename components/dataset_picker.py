"""The dataset picker at the top of the sidebar, and the empty states around it."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from components import errors
from components.resources import services
from core.auth.roles import Role, User
from core.data.catalog import Dataset
from core.data.roles import ROLES, missing_roles
from core.data.samples import load_sample

KEY = "dataset"


def select_next(name: str | None, *, key: str = KEY) -> None:
    """Choose the dataset the picker shows on the next run (widget keys can't be set later)."""
    st.session_state[f"{key}_next"] = name


def _load_sample_button(user: User, picker_key: str) -> None:
    if not user.can(Role.ANALYST):
        st.info("Ask an analyst or admin to add data or load the sample company.")
        return
    if st.button(
        "Load sample data", key=f"{picker_key}_sample", icon=":material/download:", type="primary"
    ):
        with errors.shown(), st.status("Generating the sample company…") as status:
            loaded = load_sample(services().catalog, user)
            status.update(label=f"Loaded {len(loaded)} sample datasets", state="complete")
            select_next(loaded[0].name, key=picker_key)
            st.rerun()


def show(user: User, *, key: str = KEY, with_versions: bool = True) -> Dataset | None:
    """Pick a dataset (and optionally one of its versions) in the sidebar."""
    catalog = services().catalog
    datasets = {d.name: d for d in catalog.datasets(user)}
    if not datasets:
        st.info("There is no data yet. Upload a file on the Data page or load the sample company.")
        _load_sample_button(user, key)
        return None
    names = list(datasets)
    # Widget state is dropped when the user switches page; the choice is kept under a
    # plain key so every page opens on the dataset the user last picked.
    remembered = f"{key}_remembered"
    if f"{key}_next" in st.session_state:
        st.session_state[remembered] = st.session_state[key] = st.session_state.pop(f"{key}_next")
    if st.session_state.get(key) not in datasets:
        chosen = st.session_state.get(remembered)
        st.session_state[key] = chosen if chosen in datasets else names[0]
    with st.sidebar:
        name = st.selectbox("Dataset", names, key=key, bind="query-params")
        st.session_state[remembered] = name
        dataset = datasets[name]
        if not with_versions or dataset.version_count == 1:
            st.caption(f"Version {dataset.version} · {dataset.rows:,} rows")
            return dataset
        versions = catalog.versions(user, name)
        labels = {
            v.version: f"v{v.version}" + (" (current)" if v.version == dataset.version else "")
            for v in versions
        }
        chosen = st.selectbox(
            "Version",
            list(labels),
            format_func=labels.get,
            key=f"{key}_version_{name}_{dataset.version}",  # resets when current moves
            index=list(labels).index(dataset.version),
        )
    if chosen == dataset.version:
        return dataset
    return replace(dataset, current=next(v for v in versions if v.version == chosen))


def require_roles(dataset: Dataset, needed: list[str], purpose: str) -> bool:
    """Explain which column roles are missing for `purpose`; True when all are present."""
    missing = missing_roles(dataset.roles, needed)
    if not missing:
        return True
    labels = ", ".join(ROLES[r].label for r in missing)
    st.warning(f"{purpose} needs columns with these roles in {dataset.name}: {labels}.")
    st.page_link("views/data.py", label="Set column roles on the Data page", icon=":material/tune:")
    return False
