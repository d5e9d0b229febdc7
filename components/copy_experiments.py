"""The copy studio's Experiments tab: A/B tests between saved variants, and sample sizes."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components import copy_charts, copy_text, downloads, errors
from core.auth.roles import Role, User
from core.copy import experiment_store, library
from core.copy.experiments import METRICS, analyse, sample_size
from core.copy.experiments import ArmCounts as Counts
from core.store import Store


def _create(user: User, store: Store, *, key: str) -> None:
    items = library.search(store, user, limit=500)
    if len(items) < 2:
        st.info("Save at least two variants to the library to compare them.")
        return
    labels = {i.id: f"#{i.id} {i.title}" for i in items}
    with st.form(f"{key}_new", clear_on_submit=True):
        name = st.text_input("Experiment name", placeholder="e.g. Spring email subject")
        chosen = st.multiselect("Variants", list(labels), format_func=labels.get)
        left, right = st.columns(2)
        metric = left.selectbox("Compare", list(METRICS), format_func=lambda m: METRICS[m].label)
        alpha = right.selectbox("Significance level", [0.05, 0.01, 0.10])
        submitted = st.form_submit_button("Start experiment", type="primary")
    if submitted:
        with errors.shown():
            experiment_store.create_experiment(
                store, user, name, chosen, metric=metric, alpha=alpha
            )
            st.session_state[f"{key}_open"] = " ".join(name.split())
            st.rerun()


def _record(user: User, store: Store, experiment: experiment_store.Experiment, *, key: str) -> None:
    frame = pd.DataFrame(
        {
            "item_id": [a.item_id for a in experiment.arms],
            "variant": [a.label for a in experiment.arms],
            "impressions": [a.impressions for a in experiment.arms],
            "clicks": [a.clicks for a in experiment.arms],
            "conversions": [a.conversions for a in experiment.arms],
        }
    )
    edited = st.data_editor(
        frame,
        hide_index=True,
        disabled=["item_id", "variant"],
        key=f"{key}_counts_{experiment.id}_{experiment.updated_at.timestamp():.0f}",
        column_config={
            c: st.column_config.NumberColumn(c.capitalize(), min_value=0, step=1, format="%d")
            for c in ("impressions", "clicks", "conversions")
        },
    )
    upload = st.file_uploader(
        "Or upload counts (CSV with item_id, impressions, clicks, conversions)",
        type=["csv"],
        key=f"{key}_upload_{experiment.id}",
    )
    if st.button("Save counts", type="primary", key=f"{key}_save_{experiment.id}"):
        with errors.shown():
            if upload is not None:
                counts = experiment_store.parse_counts_csv(upload.getvalue(), experiment)
            else:
                counts = {
                    int(r.item_id): {
                        "impressions": int(r.impressions),
                        "clicks": int(r.clicks),
                        "conversions": int(r.conversions),
                    }
                    for r in edited.itertuples()
                }
            experiment_store.record_counts(store, user, experiment.name, counts)
            st.toast("Counts saved; the result is updated.")
            st.rerun()


def _result(experiment: experiment_store.Experiment, *, key: str) -> None:
    counts = [Counts(a.label, a.impressions, a.clicks, a.conversions) for a in experiment.arms]
    result = analyse(counts, experiment.metric, experiment.alpha)
    if result.winner:
        st.success(copy_text.literal(result.verdict), icon=":material/emoji_events:")
    else:
        st.info(copy_text.literal(result.verdict), icon=":material/hourglass_top:")
    table = pd.DataFrame(
        {
            "variant": [a.label for a in result.arms],
            "successes": [a.successes for a in result.arms],
            "trials": [a.trials for a in result.arms],
            "rate_pct": [None if a.rate is None else 100 * a.rate for a in result.arms],
            "ci_low_pct": [None if a.ci_low is None else 100 * a.ci_low for a in result.arms],
            "ci_high_pct": [None if a.ci_high is None else 100 * a.ci_high for a in result.arms],
            "p_vs_leader": [a.p_value for a in result.arms],
            "probability_best": [a.probability_best for a in result.arms],
        }
    )
    left, right = st.columns([3, 2])
    if table["trials"].sum():
        left.plotly_chart(copy_charts.experiment_rates(result), key=f"{key}_chart_{experiment.id}")
    else:
        left.info("Record counts to see the rates.")
    with right:
        st.dataframe(
            table,
            hide_index=True,
            key=f"{key}_table_{experiment.id}",
            alt=f"Results of {experiment.name}",
            column_config={
                "rate_pct": st.column_config.NumberColumn("Rate %", format="%.2f"),
                "ci_low_pct": st.column_config.NumberColumn("95% low", format="%.2f"),
                "ci_high_pct": st.column_config.NumberColumn("95% high", format="%.2f"),
                "p_vs_leader": st.column_config.NumberColumn("p vs leader", format="%.4f"),
                "probability_best": st.column_config.ProgressColumn(
                    "P(best)", min_value=0.0, max_value=1.0, format="percent"
                ),
            },
        )
        downloads.table_csv(
            table, f"experiment_{experiment.id}.csv", key=f"{key}_csv_{experiment.id}"
        )
    st.caption(
        "Each variant is tested against the leader with a two-proportion z-test "
        "(Holm-adjusted); P(best) is the Bayesian chance of being best under uniform priors."
    )


def _calculator(*, key: str) -> None:
    st.markdown("**Sample size for a target uplift**")
    with st.container(horizontal=True, vertical_alignment="bottom"):
        base = st.number_input("Baseline rate %", 0.01, 99.0, 3.0, 0.5, key=f"{key}_base")
        uplift = st.number_input("Relative uplift %", 1.0, 500.0, 20.0, 5.0, key=f"{key}_up")
        power = st.selectbox("Power", [0.8, 0.9], key=f"{key}_power")
        alpha = st.selectbox("Significance level", [0.05, 0.01, 0.10], key=f"{key}_alpha")
    with errors.shown():
        size = sample_size(base / 100, uplift / 100, alpha=alpha, power=power)
        st.metric(
            "Trials per variant",
            f"{size.per_variant:,}",
            border=True,
            help=f"To tell {100 * size.baseline:.2f}% from {100 * size.target:.2f}% "
            f"(two-sided z-test, alpha {alpha}, power {power}); {size.total:,} for two variants.",
        )


def show(user: User, store: Store, *, key: str = "copy_exp") -> None:
    """Pick or start an experiment, record counts, read the verdict; size the next one."""
    experiments = experiment_store.list_experiments(store, user)
    names = [e.name for e in experiments]
    if user.can(Role.ANALYST):
        with st.expander("Start an experiment", expanded=not experiments):
            _create(user, store, key=key)
    if experiments:
        if st.session_state.get(f"{key}_open") not in names:
            st.session_state[f"{key}_open"] = names[0]
        name = st.selectbox("Experiment", names, key=f"{key}_open")
        experiment = next(e for e in experiments if e.name == name)
        _result(experiment, key=key)
        if user.can(Role.ANALYST):
            with st.expander("Record impressions, clicks and conversions"):
                _record(user, store, experiment, key=key)
    elif not user.can(Role.ANALYST):
        st.info("No experiments yet.")
    with st.container(border=True):
        _calculator(key=key)
