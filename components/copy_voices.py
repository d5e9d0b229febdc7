"""Brand voices: pick one in the sidebar; view, create and edit them in a tab."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components import errors
from core.auth.roles import Role, User
from core.copy.voices import (
    TONES,
    BrandVoice,
    delete_voice,
    list_voices,
    neutral_voice,
    sample_voice,
    save_voice,
)
from core.store import Store

NEUTRAL = "Neutral (no saved voice)"
NEW = "New voice"
SAMPLE_BREAK = "---"


def pick(user: User, store: Store, *, key: str = "copy_voice") -> BrandVoice:
    """A brand voice selectbox; the neutral voice when none is saved or chosen."""
    voices = {v.name: v for v in list_voices(store, user)}
    name = st.selectbox("Brand voice", [NEUTRAL, *voices], key=key)
    return voices.get(name, neutral_voice())


def _form(user: User, store: Store, voice: BrandVoice | None, *, key: str) -> None:
    editable = user.can(Role.ANALYST)
    base = voice or neutral_voice(brand="")
    with st.form(f"{key}_form_{base.name}"):
        left, right = st.columns(2)
        name = left.text_input("Name", value=voice.name if voice else "", disabled=bool(voice))
        brand = right.text_input("Brand", value=base.brand)
        description = st.text_input("Personality", value=base.description)
        audience = st.text_input("Usual audience", value=base.audience)
        tone = {}
        columns = st.columns(len(TONES))
        for column, (tone_key, spec) in zip(columns, TONES.items(), strict=True):
            tone[tone_key] = column.slider(
                f"{spec.left} → {spec.right}", 0, 100, base.level(tone_key), help=spec.help
            )
        left, right = st.columns(2)
        preferred = left.text_area(
            "Preferred words",
            value=", ".join(base.preferred),
            help="Comma-separated words and phrases",
        )
        banned = right.text_area(
            "Banned words",
            value=", ".join(base.banned),
            help="Comma-separated; a text using one fails the voice check",
        )
        grade = st.number_input(
            "Reading level target (grade; 0 = none)", 0.0, 18.0, base.reading_grade or 0.0, 0.5
        )
        samples = st.text_area(
            "Reference samples (3-5, separated by a line with ---)",
            value=f"\n{SAMPLE_BREAK}\n".join(base.samples),
            height=160,
        )
        submitted = st.form_submit_button("Save voice", type="primary", disabled=not editable)
    if submitted:
        with errors.shown():
            saved = save_voice(
                store,
                user,
                BrandVoice(
                    name=name,
                    brand=brand,
                    description=description,
                    tone=tone,
                    audience=audience,
                    preferred=preferred,
                    banned=banned,
                    reading_grade=grade or None,
                    samples=tuple(s for s in samples.split(SAMPLE_BREAK)),
                ),
            )
            st.toast(f"Saved the voice {saved.name}.")
            st.rerun()


def show(user: User, store: Store, *, key: str = "copy_voices") -> None:
    """The saved voices as a table; a form to edit one or add one."""
    voices = list_voices(store, user)
    if voices:
        st.dataframe(
            pd.DataFrame(
                {
                    "voice": [v.name for v in voices],
                    "brand": [v.brand for v in voices],
                    "tone": [v.describe_tone() for v in voices],
                    "reading grade": [v.reading_grade for v in voices],
                    "banned": [", ".join(v.banned) for v in voices],
                    "samples": [len(v.samples) for v in voices],
                    "updated by": [v.updated_by for v in voices],
                }
            ),
            hide_index=True,
            key=f"{key}_table",
            alt="Brand voices",
        )
    elif user.can(Role.ANALYST):
        st.info("No brand voices yet: add one, or start from the sample company's voice.")
        if st.button("Add the sample company's voice", key=f"{key}_sample"):
            with errors.shown():
                save_voice(store, user, sample_voice())
                st.rerun()
    else:
        st.info("No brand voices yet.")
    names = [v.name for v in voices]
    options = ([NEW] if user.can(Role.ANALYST) else []) + names
    if not options:
        return
    chosen = st.selectbox(
        "Edit voice" if user.can(Role.ANALYST) else "Voice", options, key=f"{key}_edit"
    )
    voice = next((v for v in voices if v.name == chosen), None)
    _form(user, store, voice, key=key)
    if voice is not None and user.can(Role.ANALYST):
        with st.expander("Delete this voice"):
            if st.button("Delete voice", key=f"{key}_delete"):
                with errors.shown():
                    delete_voice(store, user, voice.name)
                    st.rerun()
