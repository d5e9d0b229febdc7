"""The Rollouts page's "Test inference" panel: route N requests and chart where they went."""

from __future__ import annotations

import json

import streamlit as st

from components import downloads, errors, rollout_charts
from components.resources import services
from core.auth.roles import User
from core.errors import UserInputError
from core.fleet import inference, rollout_overview
from core.fleet.routing import STRATEGIES
from core.store.models import utcnow

RESULT = "rollouts_inference_result"


def show(user: User, models: dict[str, dict], *, key: str = "rollout_infer") -> None:
    """Pick a model and a strategy, send requests to the devices serving it, chart the spread.

    `models` maps a served model's name to its input schema (for example rows).
    """
    if not models:
        st.info("No device reports a model active yet: start a rollout first.")
        return
    with st.form(key):
        model = st.selectbox("Model", sorted(models), key=f"{key}_model")
        strategy = st.radio(
            "Routing strategy",
            list(STRATEGIES),
            horizontal=True,
            format_func=lambda s: STRATEGIES[s].label,
            key=f"{key}_strategy",
        )
        count = st.number_input("Requests", 1, inference.MAX_REQUESTS, 100, key=f"{key}_count")
        rows = st.text_area(
            "Rows (JSON)",
            json.dumps(inference.sample_rows(models[model])),
            key=f"{key}_rows",
            help="One or more rows for the model's first input",
        )
        sent = st.form_submit_button("Send requests", type="primary")
    if sent:
        with errors.shown(), st.spinner(f"Sending {count} requests…"):
            try:
                parsed = json.loads(rows)
            except ValueError:
                raise UserInputError("Rows must be JSON, e.g. [[0.1, 2.0, 3.5]].") from None
            summary = inference.trial_inference(
                services().store, user, model, strategy, int(count), parsed, utcnow()
            )
            st.session_state[RESULT] = summary
    summary = st.session_state.get(RESULT)
    if summary is None:
        return
    with st.container(horizontal=True):
        st.metric("Served", summary.requests - summary.failed, border=True)
        st.metric("Failed", summary.failed, border=True)
        p50 = "–" if summary.p50_ms is None else f"{summary.p50_ms:.1f} ms"
        p99 = "–" if summary.p99_ms is None else f"{summary.p99_ms:.1f} ms"
        st.metric("p50 latency", p50, border=True)
        st.metric("p99 latency", p99, border=True)
    frame = rollout_overview.distribution_table(summary)
    st.plotly_chart(rollout_charts.distribution(frame, summary.strategy), key=f"{key}_chart")
    with st.expander("Requests per device as a table"):
        st.dataframe(frame, hide_index=True, alt="Requests per device")
        downloads.table_csv(frame, "beacon_inference_test.csv", key=f"{key}_csv")
    for error in summary.errors[:3]:
        st.caption(f"Failed: {error}")
