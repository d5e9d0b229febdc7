"""The copy studio's Generate tab: grounding inputs, streaming variants, edit, score, save."""

from __future__ import annotations

import uuid

import pandas as pd
import streamlit as st

from components import copy_charts, copy_text, dataset_picker, downloads, errors
from components.resources import duckdb_cursor, services
from core.auth.roles import Role, User
from core.copy import grounding, library, scoring
from core.copy.content_types import ContentType
from core.copy.providers import MAX_VARIANTS, GenerationRequest
from core.copy.studio import CopyStudio
from core.copy.voices import BrandVoice
from core.data.catalog import Dataset

AUDIENCE_CHOICES = ("Anyone", "Customer group", "Saved segment", "Describe them")


@st.cache_data(max_entries=32, show_spinner=False)
def product_options(path: str, roles: tuple, _dataset: Dataset) -> pd.DataFrame:
    # Keyed on the immutable version file (and roles, which decide the key column).
    return grounding.product_options(duckdb_cursor(), _dataset)


@st.cache_data(max_entries=256, show_spinner=False)
def product_facts(path: str, roles: tuple, key: str, _dataset: Dataset) -> grounding.ProductFacts:
    return grounding.product_facts(duckdb_cursor(), _dataset, key)


@st.cache_data(max_entries=32, show_spinner=False)
def audience_columns(path: str, roles: tuple, _dataset: Dataset) -> dict[str, list[str]]:
    return grounding.audience_columns(duckdb_cursor(), _dataset)


@st.cache_data(max_entries=128, show_spinner=False)
def group_audience(
    path: str, roles: tuple, column: str, value: str, _dataset: Dataset
) -> grounding.Audience:
    return grounding.audience_from_group(duckdb_cursor(), _dataset, column, value)


def pick_product(dataset: Dataset, *, key: str) -> grounding.ProductFacts | None:
    """A product selectbox over the dataset (in the sidebar); its facts."""
    roles = tuple(dataset.roles.items())
    options = product_options(str(dataset.path), roles, dataset)
    if options.empty:
        st.warning(f"{dataset.name} has no products.")
        return None
    labels = dict(zip(options["key"], options["label"], strict=True))
    chosen = st.selectbox(
        "Product", list(labels), format_func=labels.get, key=f"{key}_{dataset.name}"
    )
    return product_facts(str(dataset.path), roles, chosen, dataset)


def _audience(user: User, *, key: str) -> grounding.Audience:
    choice = st.segmented_control(
        "Audience", AUDIENCE_CHOICES, default=AUDIENCE_CHOICES[0], key=f"{key}_kind"
    )
    if choice == "Describe them":
        left, right = st.columns([1, 2])
        name = left.text_input("Who", key=f"{key}_name", placeholder="e.g. weekend hikers")
        about = right.text_input("About them", key=f"{key}_about", placeholder="optional")
        return grounding.audience_from_text(name, about)
    if choice == "Saved segment":
        segments = grounding.saved_segments(services().store, user)
        if not segments:
            st.info("No saved segmentation runs yet: save one on the Segments page.")
            return grounding.NO_AUDIENCE
        audience = segments[st.selectbox("Segment", list(segments), key=f"{key}_segment")]
        st.caption(copy_text.literal(" · ".join(audience.facts)))
        return audience
    if choice != "Customer group":
        return grounding.NO_AUDIENCE
    customers = [d for d in services().catalog.datasets(user) if d.column_for("customer_id")]
    if not customers:
        st.info("No dataset has a Customer ID column: describe the audience instead.")
        return grounding.NO_AUDIENCE
    by_name = {d.name: d for d in customers}
    left, middle, right = st.columns(3)
    source = by_name[left.selectbox("Customers from", list(by_name), key=f"{key}_source")]
    roles = tuple(source.roles.items())
    groups = audience_columns(str(source.path), roles, source)
    if not groups:
        st.info(f"{source.name} has no column that splits customers into a few groups.")
        return grounding.NO_AUDIENCE
    column = middle.selectbox("Grouped by", list(groups), key=f"{key}_column_{source.name}")
    value = right.selectbox("Group", groups[column], key=f"{key}_value_{source.name}_{column}")
    audience = group_audience(str(source.path), roles, column, value, source)
    st.caption(copy_text.literal(" · ".join(audience.facts)))
    return audience


def _record(stream) -> dict:
    draft = stream.draft
    return {
        "index": draft.index,
        "text": draft.text,
        "provider": draft.provider,
        "model": draft.model,
        "prompt_tokens": draft.usage.prompt_tokens,
        "completion_tokens": draft.usage.completion_tokens,
        "estimated": draft.usage.estimated,
        "cost_usd": draft.cost_usd,
        "seconds": draft.seconds,
        "first_token_seconds": draft.first_token_seconds,
    }


def show(
    user: User,
    studio: CopyStudio,
    dataset: Dataset,
    product: grounding.ProductFacts | None,
    content_type: ContentType,
    voice: BrandVoice,
    *,
    key: str = "copy_gen",
) -> None:
    """Inputs and the Generate button, then the current batch of variants."""
    if not grounding.has_products(dataset):
        dataset_picker.require_roles(dataset, ["product"], "Writing product copy")
        return
    if product is None:
        return
    st.caption(
        copy_text.literal(
            f"{content_type.label} · {content_type.channel} · {content_type.limit.describe()}"
        )
    )
    audience = _audience(user, key=f"{key}_audience")
    left, right = st.columns(2)
    keyword = left.text_input(
        "Search keyword", key=f"{key}_keyword", help="Included by the writer; checked for SEO"
    )
    notes = right.text_input(
        "Notes for the writer", key=f"{key}_notes", placeholder="e.g. mention free returns"
    )
    choices = {c.name: c for c in studio.providers()}
    default = studio.default_provider()
    left, right = st.columns(2)
    variants = left.slider("Variants", 1, MAX_VARIANTS, 3, key=f"{key}_variants")
    provider = right.selectbox(
        "Writer",
        list(choices),
        index=list(choices).index(default),
        format_func=lambda n: (
            choices[n].label
            + (f" ({choices[n].model})" if choices[n].model else "")
            + ("" if choices[n].available else " – not configured")
        ),
        key=f"{key}_provider",
    )
    with st.expander("Advanced: temperature and templates"):
        temperature = st.slider("Temperature (model only)", 0.0, 1.5, 0.8, 0.1, key=f"{key}_temp")
        template = st.text_area(
            "Copy template (offline templates only; sandboxed Jinja2)",
            value=content_type.templates[0],
            key=f"{key}_template_{content_type.key}",
            height=120,
        )
        prompt = st.text_area(
            "Model instructions (sandboxed Jinja2)",
            value=content_type.prompt,
            key=f"{key}_prompt_{content_type.key}",
            height=120,
        )
    if choices[provider].offline:
        st.info(
            "Template output: written offline from Beacon's templates and your product facts, "
            "not by a language model.",
            icon=":material/description:",
        )
    if st.button("Generate", type="primary", icon=":material/edit_note:", key=f"{key}_go"):
        with errors.shown():
            request = GenerationRequest(
                content_type=content_type,
                product=product,
                audience=audience,
                voice=voice,
                keyword=keyword,
                notes=notes,
                variants=variants,
                prompt_template=None if prompt == content_type.prompt else prompt,
                copy_template=None if template == content_type.templates[0] else template,
                temperature=temperature,
            )
            streams = studio.generate(user, request, provider)
            drafts = []
            for stream in streams:
                slot = st.empty()
                with slot.container(border=True):
                    st.caption(f"Variant {stream.index + 1} of {len(streams)}")
                    st.write_stream(copy_text.literal_stream(stream))
                drafts.append(_record(stream))
                slot.empty()
            st.session_state[f"{key}_batch"] = {
                "id": uuid.uuid4().hex,
                "type": content_type.key,
                "keyword": keyword,
                "voice": voice.name,
                "product": product.as_json(),
                "audience": audience.as_json(),
                "drafts": drafts,
            }
            st.rerun()  # the summary cards above count this generation
    batch = st.session_state.get(f"{key}_batch")
    if batch and batch["type"] == content_type.key:
        _show_batch(user, studio, batch, content_type, voice, key=key)


def _show_batch(
    user: User,
    studio: CopyStudio,
    batch: dict,
    content_type: ContentType,
    voice: BrandVoice,
    *,
    key: str,
) -> None:
    drafts = batch["drafts"]
    first = drafts[0]
    origin = (
        "offline templates (no language model)"
        if first["provider"] == "template"
        else f"model {first['model']}"
    )
    st.subheader(f"{len(drafts)} variant(s) from {origin}")
    rows = []
    for draft in drafts:
        number = draft["index"] + 1
        with st.container(border=True, key=f"{key}_card_{number}"):
            text = st.text_area(
                f"Variant {number}",
                value=draft["text"],
                key=f"{key}_text_{batch['id']}_{number}",
                height=160 if len(draft["text"]) > 200 else 90,
            )
            score = scoring.score_text(text, content_type, voice, batch["keyword"])
            copy_text.show_scores(score, key=f"{key}_score_{number}")
            cost = draft["cost_usd"]
            st.caption(
                f"{draft['provider']}{' · ' + draft['model'] if draft['model'] else ''} · "
                f"{draft['prompt_tokens'] + draft['completion_tokens']:,} tokens"
                f"{' (estimated)' if draft['estimated'] else ''} · "
                + ("cost not priced" if cost is None else f"${cost:.4f}")
                + f" · {draft['seconds']:.2f} s"
            )
            if user.can(Role.ANALYST):
                with st.container(horizontal=True, vertical_alignment="bottom"):
                    tags = st.text_input(
                        "Tags",
                        key=f"{key}_tags_{batch['id']}_{number}",
                        placeholder="comma-separated",
                    )
                    if st.button("Save to library", key=f"{key}_save_{batch['id']}_{number}"):
                        with errors.shown():
                            item = library.save_item(
                                studio.store,
                                user,
                                title=f"{batch['product']['name']}: {content_type.label} {number}",
                                content_type=content_type.key,
                                body=text,
                                provider=draft["provider"],
                                model=draft["model"],
                                voice=batch["voice"],
                                grounding={
                                    "product": batch["product"],
                                    "audience": batch["audience"],
                                    "keyword": batch["keyword"],
                                },
                                tags=tags,
                                batch=batch["id"],
                                variant=draft["index"],
                            )
                            st.toast(f"Saved as library item #{item.id}.")
        r = score.readability
        rows.append(
            {
                "variant": f"Variant {number}",
                "characters": score.characters,
                "words": r.words,
                "reading_ease": r.reading_ease,
                "grade": r.grade,
                "sentiment": score.sentiment.compound,
                "passed": score.count("pass"),
                "warnings": score.count("warn"),
                "failures": score.count("fail"),
                "text": text,
            }
        )
    table = pd.DataFrame(rows)
    left, right = st.columns([3, 2])
    left.plotly_chart(copy_charts.variant_grades(table, voice.reading_grade), key=f"{key}_grades")
    with right:
        st.dataframe(
            table.drop(columns="text"),
            hide_index=True,
            alt="Scores of the variants",
            key=f"{key}_table",
        )
        downloads.table_csv(table, "copy_variants.csv", key=f"{key}_csv", label="Variants CSV")
