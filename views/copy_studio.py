"""Copy studio: product copy in the brand's voice for every channel, scored, saved, A/B tested."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components import (
    copy_charts,
    copy_experiments,
    copy_generate,
    copy_library,
    copy_text,
    copy_voices,
    dataset_picker,
    downloads,
    errors,
    session,
)
from components.resources import services
from core.auth.roles import Role
from core.copy import experiment_store, grounding, library, scoring
from core.copy.content_types import CONTENT_TYPES
from core.copy.studio import CopyStudio

DATASET_KEY = "copy_dataset"
NO_TYPE = "(any text)"

user = session.require_role(Role.VIEWER, "Viewing the copy studio")
svc = services()
studio = CopyStudio(svc.store, svc.settings.llm)

st.title("Copy studio")
st.caption(
    "Write product copy for every channel in your brand's voice, check each text, "
    "and A/B test what you publish."
)

# --- sidebar: where products come from, then what to write ---------------------------
if DATASET_KEY not in st.session_state:
    # Start on the best product table (name, price), not the first dataset alphabetically.
    best = grounding.best_product_dataset(svc.catalog.datasets(user))
    if best is not None:
        dataset_picker.select_next(best.name, key=DATASET_KEY)
dataset = dataset_picker.show(user, key=DATASET_KEY, with_versions=False)
with st.sidebar:
    product = None
    if dataset is not None and grounding.has_products(dataset) and user.can(Role.ANALYST):
        with errors.shown():
            product = copy_generate.pick_product(dataset, key="copy_product")
    labels = {key: ct.label for key, ct in CONTENT_TYPES.items()}
    type_key = st.selectbox("Content type", list(labels), format_func=labels.get, key="copy_type")
    content_type = CONTENT_TYPES[type_key]
    voice = copy_voices.pick(user, svc.store)

# --- summary cards ---------------------------------------------------------------------
default_provider = studio.default_provider()
choice = next(c for c in studio.providers() if c.name == default_provider)
usage = studio.usage(user, days=30)
counts = library.counts(svc.store, user, days=30)
experiments = experiment_store.list_experiments(svc.store, user)
with st.grid(5, min_column_width=200, gap="small"):
    st.metric(
        "Library items",
        f"{counts.items:,}",
        counts.added_recently - counts.added_before,
        delta_description="added in the last 30 days vs the 30 before",
        border=True,
        height="stretch",
    )
    st.metric(
        "Generations, 30 days",
        f"{usage.generations:,}",
        usage.generations - usage.previous_generations,
        delta_description="vs the 30 days before",
        chart_data=usage.daily["generations"].tolist(),
        chart_type="bar",
        border=True,
        height="stretch",
    )
    st.metric(
        "Estimated spend, 30 days",
        "not priced" if usage.cost_usd is None else f"${usage.cost_usd:,.2f}",
        border=True,
        height="stretch",
        help="From BEACON_LLM_PRICES; template copy costs nothing.",
    )
    st.metric(
        "Experiments with a winner",
        f"{sum(1 for e in experiments if e.winner_item_id)} of {len(experiments)}",
        border=True,
        height="stretch",
    )
    st.metric(
        "Default writer",
        choice.model or choice.label,
        border=True,
        height="stretch",
        help="Chosen by an admin under Settings; analysts may pick another per generation.",
    )
if choice.offline:
    st.info(
        "No language model is configured, so new copy comes from Beacon's offline templates. "
        "An admin can connect OpenAI or any OpenAI-compatible server (Ollama, vLLM, LM Studio) "
        "with BEACON_LLM_MODEL and OPENAI_API_KEY or BEACON_LLM_BASE_URL.",
        icon=":material/info:",
    )

# --- details ---------------------------------------------------------------------------
names = (["Generate"] if user.can(Role.ANALYST) else []) + [
    "Library",
    "Experiments",
    "Brand voices",
    "Score a text",
    "Usage and settings",
]
tabs = dict(zip(names, st.tabs(names), strict=True))

if "Generate" in tabs:
    with tabs["Generate"]:
        if dataset is None:
            st.info("Load the sample company or add a product dataset to write copy from.")
        else:
            with errors.shown():
                copy_generate.show(user, studio, dataset, product, content_type, voice)

with tabs["Library"], errors.shown():
    copy_library.show(user, svc.store)

with tabs["Experiments"], errors.shown():
    copy_experiments.show(user, svc.store)

with tabs["Brand voices"], errors.shown():
    copy_voices.show(user, svc.store)

with tabs["Score a text"]:
    st.caption("Readability, sentiment and checks of any text, offline. Nothing is saved.")
    text = st.text_area("Text to score", key="copy_score_text", height=150)
    left, right = st.columns(2)
    kinds = {NO_TYPE: NO_TYPE} | labels
    kind = left.selectbox("Check as", list(kinds), format_func=kinds.get, key="copy_score_type")
    keyword = right.text_input("Keyword", key="copy_score_keyword")
    if text.strip():
        score = scoring.score_text(
            text, CONTENT_TYPES.get(kind), voice if voice.name != "Neutral" else None, keyword
        )
        copy_text.show_scores(score, key="copy_score")
        downloads.table_csv(
            copy_text.checks_frame(score),
            "copy_checks.csv",
            key="copy_score_csv",
            label="Checks CSV",
        )

with tabs["Usage and settings"]:
    left, right = st.columns([3, 2])
    left.plotly_chart(copy_charts.daily_generations(usage.daily), key="copy_usage_chart")
    with right:
        st.dataframe(usage.daily, hide_index=True, key="copy_usage_table", alt="Daily usage")
        downloads.table_csv(usage.daily, "copy_usage.csv", key="copy_usage_csv")
    providers = studio.providers()
    st.dataframe(
        pd.DataFrame(
            {
                "writer": [p.label for p in providers],
                "name": [p.name for p in providers],
                "model": [p.model for p in providers],
                "ready": [p.available for p in providers],
                "why not": [p.unavailable or "" for p in providers],
            }
        ),
        hide_index=True,
        key="copy_providers",
        alt="Copy writers",
    )
    if user.can(Role.ANALYST) and st.button("Check the model server", key="copy_check"):
        with errors.shown(), st.spinner("Asking the model server for a one-word reply…"):
            check = studio.check_connection(user)
            st.success(
                copy_text.literal(
                    f"{check.server} answered with model {check.model} in "
                    f"{check.seconds:.2f} s: {check.reply!r}"
                )
            )
    if user.can(Role.ADMIN):
        with st.form("copy_defaults"):
            options = ["auto", *[p.name for p in providers]]
            stored = studio.configured_provider()
            default = st.selectbox(
                "Default writer",
                options,
                index=options.index(stored) if stored in options else 0,
                help="auto: the model when one is configured, else the offline templates",
            )
            model = st.text_input("Model", value=studio.model(), help="Empty: BEACON_LLM_MODEL")
            if st.form_submit_button("Save defaults", type="primary"):
                with errors.shown():
                    studio.set_defaults(user, default, model)
                    st.toast("Saved the copy defaults.")
                    st.rerun()
    st.caption(
        "API keys come from OPENAI_API_KEY or BEACON_LLM_API_KEY (environment or secrets.toml); "
        "Beacon keeps them in memory only and never stores or logs them."
    )
