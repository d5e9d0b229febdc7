"""Showing copy as text, never as HTML or Markdown, and showing its scores with reasons."""

from __future__ import annotations

import string
from collections.abc import Iterable, Iterator

import pandas as pd
import streamlit as st

from core.copy.scoring import FAIL, PASS, WARN, TextScore

# Every ASCII punctuation mark may be backslash-escaped in Markdown (CommonMark §2.4),
# which makes it literal: no links, images, emphasis, LaTeX or Streamlit directives.
_ESCAPES = str.maketrans({ch: "\\" + ch for ch in string.punctuation})
STATUS_LABELS = {PASS: "pass", WARN: "warn", FAIL: "fail"}


def literal(text: str) -> str:
    """`text` escaped so that st.markdown shows exactly these characters."""
    return text.translate(_ESCAPES).replace("\n", "  \n")


def literal_stream(chunks: Iterable[str]) -> Iterator[str]:
    """A model's chunks escaped one by one, for st.write_stream (escapes are per character,
    so a chunk boundary cannot split one)."""
    for chunk in chunks:
        yield literal(chunk)


def checks_frame(score: TextScore) -> pd.DataFrame:
    """The checks of a score as a table: status, group, check, why."""
    return pd.DataFrame(
        {
            "status": [STATUS_LABELS[c.status] for c in score.checks],
            "group": [c.group for c in score.checks],
            "check": [c.label for c in score.checks],
            "why": [c.why for c in score.checks],
        }
    )


def show_scores(score: TextScore, *, key: str) -> None:
    """Metric cards of a text's scores, then every check and its reason as a table."""
    r, s = score.readability, score.sentiment
    with st.container(horizontal=True, key=f"{key}_scores"):
        st.metric(
            "Reading ease",
            "–" if r.reading_ease is None else f"{r.reading_ease:.0f}",
            border=True,
            help=f"Flesch reading ease, 0-100+, higher is easier: {r.ease_band()}. "
            f"{r.words} words, {r.sentences} sentences, {r.syllables} syllables.",
        )
        st.metric(
            "Grade",
            "–" if r.grade is None else f"{r.grade:.1f}",
            border=True,
            help="Flesch-Kincaid grade: the school year that reads it comfortably.",
        )
        st.metric("Sentiment", s.label, border=True, help=s.why())
        st.metric(
            "Checks passed",
            f"{score.count(PASS)} of {len(score.checks)}",
            border=True,
            help=f"{score.count(WARN)} warning(s), {score.count(FAIL)} failure(s)",
        )
    if score.checks:
        st.dataframe(
            checks_frame(score),
            hide_index=True,
            key=f"{key}_checks",
            alt="Checks and their reasons",
            column_config={"why": st.column_config.TextColumn("Why", width="large")},
        )
    st.caption(f"Sentiment: {s.why()}")
