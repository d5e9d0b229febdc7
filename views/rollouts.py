"""Rollouts: take a published model to the devices in stages, watch the gate, route test traffic."""

from __future__ import annotations

import streamlit as st

from components import rollout_inference, rollout_plan, rollout_progress, session
from components.resources import services
from core.auth.roles import Role
from core.fleet import device_models, devices, inference, rollout_overview, rollouts
from core.store.models import utcnow

user = session.require_role(Role.ADMIN, "The Rollouts page")
svc = services()

st.title("Rollouts")
st.caption(
    "Roll a published model out to edge devices in waves, with a health gate between waves "
    "and automatic rollback, then send test traffic through the router."
)

with st.sidebar:
    if st.button(
        "Advance rollouts now",
        help="Rollouts also advance when devices report in "
        "and in the workflow worker; this runs one step here",
    ):
        changes = rollouts.tick(svc.store, utcnow()).changes
        st.toast(", ".join(f"#{i}: {c}" for i, c in changes) or "Nothing to advance yet.")

found = rollouts.list_rollouts(svc.store, user)
states = device_models.model_states(svc.store, user)
summary = rollout_overview.summarise(found, states)
enrolled = [d for d in devices.list_devices(svc.store, user) if d.status == devices.ACTIVE]

with st.grid(4, min_column_width=180, gap="small"):
    st.metric(
        "In progress",
        summary.running,
        border=True,
        height="stretch",
        help="Running or paused rollouts",
    )
    st.metric(
        "Succeeded",
        summary.succeeded,
        border=True,
        height="stretch",
        help="Rollouts whose every wave passed the gate",
    )
    st.metric(
        "Rolled back or failed",
        summary.rolled_back,
        border=True,
        height="stretch",
        help="Rollouts stopped by the health gate",
    )
    st.metric(
        "Devices serving",
        f"{summary.serving} of {len(enrolled)}",
        border=True,
        height="stretch",
        help="Enrolled devices reporting a model active",
    )

tab_names = ["Rollouts", "New rollout", "Test inference", "Device models"]
tabs = dict(zip(tab_names, st.tabs(tab_names), strict=True))

with tabs["Rollouts"]:
    if not found:
        st.info("No rollout yet: plan one in the New rollout tab.")
    else:
        rollout_progress.table(found)
        by_id = {r.id: r for r in found}
        wanted = st.session_state.pop(rollout_plan.CREATED, None)
        ids = list(by_id)
        chosen = st.selectbox(
            "Rollout",
            ids,
            index=ids.index(wanted) if wanted in by_id else 0,
            format_func=lambda i: (
                f"#{i} {by_id[i].model_name} v{by_id[i].model_version} ({by_id[i].state})"
            ),
            key="rollouts_chosen",
        )
        rollout_progress.detail(user, by_id[chosen])

with tabs["New rollout"]:
    tags = sorted({t for d in enrolled for t in d.tags})
    rollout_plan.show(user, [d.name for d in enrolled], tags)

with tabs["Test inference"]:
    rollout_inference.show(user, inference.served_models(svc.store, user))

with tabs["Device models"]:
    if not states:
        st.info("No device has reported a model yet.")
    else:
        st.dataframe(
            rollout_overview.model_state_table(states), hide_index=True, alt="What each device runs"
        )
