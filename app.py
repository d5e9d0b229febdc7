"""Beacon: sign-in gate, then navigation over the pages the user's role may use."""

from __future__ import annotations

import logging

import streamlit as st

from components import errors, session
from components.navigation import PAGES, SECTIONS
from components.resources import services
from core.errors import BeaconError

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
st.set_page_config(page_title="Beacon", page_icon=":material/insights:", layout="wide")

try:
    services()
    user = session.gate()
except BeaconError as exc:
    errors.show(exc)
    st.stop()
if user is None:
    st.stop()

navigation: dict[str, list] = {}
for spec in PAGES:
    if user.can(spec.role):
        page = st.Page(spec.path, title=spec.title, icon=spec.icon, default=spec.default)
        navigation.setdefault(spec.section, []).append(page)
ordered = {section: navigation[section] for section in SECTIONS if section in navigation}

with st.sidebar:
    st.text(f"{user.email} · {user.role.label}")  # text, not markdown: no mailto link

st.navigation(ordered, position="sidebar").run()
