"""Account: who you are in Beacon, and your password."""

from __future__ import annotations

import streamlit as st

from components import session
from components.resources import services
from core.auth.roles import Role

user = session.require_role(Role.VIEWER, "Viewing your account")

st.title("Account")
st.caption("Your sign-in details and role.")
with st.container(horizontal=True):
    st.metric("Role", user.role.label.title(), border=True)
    st.metric("Name", user.name or "—", border=True)
st.text(f"Email: {user.email}")  # plain text: markdown would turn it into a mailto link
st.write(
    {
        "viewer": "You can read dashboards and datasets.",
        "analyst": "You can read, upload and edit datasets and run analyses.",
        "admin": "You can do everything, including managing users and settings.",
    }[user.role.label]
)
if st.button("Sign out", key="sign_out", icon=":material/logout:"):
    session.sign_out()
    st.rerun()
if services().settings.auth_mode == "local":
    st.subheader("Change password")
    session.change_password_form(user, required=False)
else:
    st.caption("You sign in through single sign-on; your password is managed there.")
