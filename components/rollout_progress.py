"""The Rollouts page's list and detail: state, per-wave and per-device progress, actions."""

from __future__ import annotations

import streamlit as st

from components import downloads, errors, rollout_charts
from components.resources import services
from core.auth.roles import User
from core.fleet import rollout_overview, rollouts
from core.fleet.rollouts import Rollout
from core.store.models import utcnow

STATE_BADGES = {
    "draft": ("gray", ":material/edit:"),
    "running": ("blue", ":material/autorenew:"),
    "paused": ("orange", ":material/pause:"),
    "succeeded": ("green", ":material/check_circle:"),
    "failed": ("red", ":material/error:"),
    "rolled_back": ("orange", ":material/undo:"),
    "aborted": ("gray", ":material/block:"),
}


def table(found: list[Rollout], *, key: str = "rollouts") -> None:
    """Every rollout in a table, with a CSV download."""
    frame = rollout_overview.rollout_table(found)
    st.dataframe(frame, hide_index=True, alt="Rollouts")
    downloads.table_csv(frame, "beacon_rollouts.csv", key=f"{key}_csv")


def _act(user: User, rollout: Rollout, action: str) -> None:
    store, now = services().store, utcnow()
    with errors.shown():
        if action == "abort":
            rollouts.abort(store, user, rollout.id, now)
        elif action == "roll back":
            rollouts.abort(store, user, rollout.id, now, rollback=True)
        else:
            {"pause": rollouts.pause, "resume": rollouts.resume}[action](
                store, user, rollout.id, now
            )
        st.toast(f"Rollout #{rollout.id}: {action} done.")
        st.rerun()


def detail(user: User, rollout: Rollout, *, key: str = "rollout_detail") -> None:
    """One rollout: badge, gate verdict, actions, progress chart and device table."""
    color, icon = STATE_BADGES[rollout.state]
    with st.container(horizontal=True, vertical_alignment="center"):
        st.badge(rollout.state.replace("_", " "), color=color, icon=icon)
        st.markdown(
            f"**{rollout.model_name} v{rollout.model_version}** · {rollout.plan.strategy} · "
            f"wave {rollout.wave + 1} of {rollout.waves}"
        )
    if rollout.message:
        st.caption(rollout.message)
    gate = rollout.gate
    if gate:
        rate = "–" if gate.get("error_rate") is None else f"{gate['error_rate']:.1%}"
        p95 = "–" if gate.get("p95_ms") is None else f"{gate['p95_ms']:.0f} ms"
        heard = "–" if gate.get("heartbeat_ratio") is None else f"{gate['heartbeat_ratio']:.0%}"
        st.caption(
            f"Gate on wave {gate.get('wave', 0) + 1}: {gate.get('decision')} · error rate {rate} · "
            f"p95 {p95} · heard from {heard} · active {gate.get('active')} · "
            f"failed {gate.get('failed')} · installing {gate.get('waiting')}"
        )
    actions = {
        "running": ["pause", "abort", "roll back"],
        "paused": ["resume", "abort", "roll back"],
        "draft": ["abort"],
    }.get(rollout.state, [])
    if actions:
        with st.container(horizontal=True):
            for action in actions:
                if st.button(action.capitalize(), key=f"{key}_{action}_{rollout.id}"):
                    _act(user, rollout, action)
    st.plotly_chart(
        rollout_charts.wave_progress(rollout_overview.wave_progress(rollout)),
        key=f"{key}_chart_{rollout.id}",
    )
    devices = rollout_overview.device_table(rollout)
    st.dataframe(devices, hide_index=True, alt="Devices of the rollout")
    downloads.table_csv(devices, f"beacon_rollout_{rollout.id}.csv", key=f"{key}_csv")
