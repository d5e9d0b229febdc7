"""The Rollouts page's "New rollout" form: model version, strategy, devices, gate."""

from __future__ import annotations

import streamlit as st

from components import errors
from components.resources import services
from core.auth.roles import User
from core.fleet import model_registry, rollouts
from core.fleet.rollout_catalog import RegistryCatalog
from core.fleet.rollout_plans import STRATEGY_LABELS, Gate, Plan, parse_sizes
from core.store.models import utcnow

CREATED = "rollouts_created"


def show(
    user: User, device_names: list[str], tags: list[str], *, key: str = "rollout_plan"
) -> None:
    """Plan and start a rollout; the new rollout's id goes to session state CREATED."""
    svc = services()
    versions = model_registry.list_versions(svc.store, user)
    if not versions:
        st.info("No published model yet: package and publish one on the Edge models page first.")
        return
    if not device_names:
        st.info("No enrolled device yet: add devices on the Fleet page (or run the simulator).")
        return
    labels = {f"{v.name} v{v.version}": v for v in versions}
    with st.form(key):
        chosen = labels[st.selectbox("Model version", list(labels), key=f"{key}_version")]
        left, right = st.columns(2)
        with left:
            strategy = st.radio(
                "Strategy",
                list(STRATEGY_LABELS),
                index=list(STRATEGY_LABELS).index("canary"),
                format_func=STRATEGY_LABELS.get,
                horizontal=True,
                key=f"{key}_strategy",
            )
            wanted_tags = st.multiselect(
                "Only devices with all these tags", tags, key=f"{key}_tags"
            )
            percent = st.number_input(
                "Canary percentage", 1.0, 100.0, 10.0, step=5.0, key=f"{key}_percent"
            )
            named = st.multiselect("Or named canary devices", device_names, key=f"{key}_named")
            sizing = st.radio(
                "Wave sizes",
                ["exponential", "fixed"],
                horizontal=True,
                key=f"{key}_sizing",
                format_func={"exponential": "1, 2, 4, …", "fixed": "fixed sizes"}.get,
            )
            sizes = st.text_input("Fixed sizes (comma separated)", "2, 5", key=f"{key}_sizes")
        with right:
            gate = Gate()
            error_rate = st.number_input(
                "Max error rate (%)", 0.0, 100.0, gate.max_error_rate * 100, key=f"{key}_err"
            )
            p95 = st.number_input(
                "Max p95 latency (ms)", 1.0, 60_000.0, gate.max_p95_ms, key=f"{key}_p95"
            )
            heard = st.number_input(
                "Min share heard from (%)",
                0.0,
                100.0,
                gate.min_heartbeat_ratio * 100,
                key=f"{key}_heard",
            )
            window = st.number_input(
                "Heartbeat window (s)", 1, 86_400, gate.window_seconds, key=f"{key}_window"
            )
            bake = st.number_input(
                "Bake time per wave (s)", 0, 86_400, gate.bake_seconds, key=f"{key}_bake"
            )
            timeout = st.number_input(
                "Install timeout (s)", 1, 86_400, gate.install_timeout_seconds, key=f"{key}_timeout"
            )
            max_failed = st.number_input(
                "Failed devices allowed per wave", 0, 1000, gate.max_failed, key=f"{key}_failed"
            )
            on_failure = st.radio(
                "When the gate fails",
                ["rollback", "stop"],
                horizontal=True,
                format_func={"rollback": "roll back", "stop": "stop"}.get,
                key=f"{key}_on_failure",
            )
        if st.form_submit_button("Start rollout", type="primary"):
            with errors.shown():
                plan = Plan(
                    strategy=strategy,
                    tags=tuple(wanted_tags),
                    canary_percent=float(percent),
                    canary_devices=tuple(named),
                    sizing=sizing,
                    wave_sizes=parse_sizes(sizes) if sizing == "fixed" else (1,),
                    on_failure=on_failure,
                    gate=Gate(
                        max_error_rate=error_rate / 100,
                        max_p95_ms=float(p95),
                        min_heartbeat_ratio=heard / 100,
                        window_seconds=int(window),
                        bake_seconds=int(bake),
                        install_timeout_seconds=int(timeout),
                        max_failed=int(max_failed),
                    ),
                )
                created = rollouts.create_rollout(
                    svc.store,
                    RegistryCatalog(svc),
                    user,
                    chosen.name,
                    chosen.version,
                    plan,
                    utcnow(),
                )
                st.session_state[CREATED] = created.id
                st.rerun()
