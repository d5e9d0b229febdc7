"""The saved runs tab: segmentation runs kept in the store, opened and deleted."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components import errors
from components.resources import services
from core.auth.roles import Role, User
from core.segmentation import runs


def show(user: User, dataset_name: str, *, key: str = "segment_runs") -> None:
    """List the dataset's saved runs; analysts may delete them."""
    can_edit = user.can(Role.ANALYST)
    svc = services()
    saved_runs = runs.list_runs(svc.store, user, dataset_name)
    if not saved_runs:
        st.info("No saved runs yet." + (" Save one from the Clusters tab." if can_edit else ""))
    else:
        st.dataframe(runs.runs_frame(saved_runs), hide_index=True, alt="Saved segmentation runs")
        chosen_run = st.selectbox(
            "Open run", saved_runs, format_func=lambda r: f"{r.id}: {r.name}", key=f"{key}_open"
        )
        st.dataframe(
            pd.DataFrame(chosen_run.summary.get("clusters", [])),
            hide_index=True,
            alt="Clusters of the saved run",
        )
        if can_edit and st.button("Delete run", key=f"{key}_delete"):
            with errors.shown():
                runs.delete_run(svc.store, user, chosen_run.id)
                st.rerun()
