"""Beacon: sign-in gate, then navigation over the pages the user's role may use."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import streamlit as st

from components import errors, session
from components.resources import services
from core.auth.roles import Role
from core.errors import BeaconError


@dataclass(frozen=True)
class PageSpec:
    """A page of the app, its navigation section and the least role that may open it."""

    path: str
    title: str
    icon: str
    section: str
    role: Role
    default: bool = False


# Sections in the order the sidebar shows them. A page a role may not use is never
# registered (so its URL cannot be reached either); each page re-checks through core.
PAGES = (
    PageSpec("pages/data.py", "Data", ":material/database:", "Data", Role.VIEWER, default=True),
    PageSpec("pages/admin.py", "Admin", ":material/admin_panel_settings:", "Operate", Role.ADMIN),
    PageSpec("pages/account.py", "Account", ":material/person:", "Account", Role.VIEWER),
)
SECTIONS = ("Analyze", "Create", "Operate", "Data", "Account")

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

with st.sidebar, st.container(horizontal=True, vertical_alignment="center"):
    st.caption(f"**{user.name or user.email}** · {user.role.label}")
    st.button("Sign out", key="sign_out", icon=":material/logout:", on_click=session.sign_out)

st.navigation(ordered, position="sidebar").run()
