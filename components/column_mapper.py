"""The column mapper: confirm or change what each column means."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components import errors
from components.resources import services
from core.auth.roles import Role, User
from core.data.catalog import Dataset
from core.data.roles import ROLES

NO_ROLE = ""


def show(user: User, dataset: Dataset, *, is_current: bool, key: str = "column_mapper") -> None:
    """An editable table of columns and roles, saved through the catalog."""
    st.caption(
        "Roles tell Beacon's pages what each column means (which one is the date, the amount, "
        "the customer). Beacon guessed them on upload; correct any that are wrong."
    )
    frame = pd.DataFrame(
        {
            "column": [c.name for c in dataset.columns],
            "type": [c.type for c in dataset.columns],
            "role": [c.role or NO_ROLE for c in dataset.columns],
        }
    )
    editable = user.can(Role.ANALYST) and is_current
    if user.can(Role.ANALYST) and not is_current:
        st.info("This is an earlier version: roles are edited on the current version.")
    edited = st.data_editor(
        frame,
        key=f"{key}_{dataset.name}_{dataset.version}",
        hide_index=True,
        disabled=["column", "type"] if editable else True,
        column_config={
            "column": st.column_config.TextColumn("Column"),
            "type": st.column_config.TextColumn("Type"),
            "role": st.column_config.SelectboxColumn(
                "Role",
                options=[NO_ROLE, *ROLES],
                help="What the column means to Beacon",
            ),
        },
        alt=f"Columns and roles of {dataset.name}",
    )
    with st.expander("What each role means"):
        st.dataframe(
            pd.DataFrame(
                {
                    "role": list(ROLES),
                    "meaning": [r.help for r in ROLES.values()],
                    "column types": [", ".join(r.kinds) for r in ROLES.values()],
                }
            ),
            hide_index=True,
            alt="Role meanings",
        )
    if not editable:
        return
    changed = {
        row.column: (row.role or None)
        for row in edited.itertuples()
        if (row.role or None) != dataset.roles.get(row.column)
    }
    if st.button("Save roles", key=f"{key}_save", type="primary", disabled=not changed):
        with errors.shown():
            services().catalog.set_roles(user, dataset.name, changed)
            st.toast(f"Saved {len(changed)} role change(s) for {dataset.name}.")
            st.rerun()
