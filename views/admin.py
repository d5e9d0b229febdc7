"""Admin: accounts, roles and the audit log."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components import downloads, errors, session
from components.resources import services
from core import audit
from core.auth import users
from core.auth.roles import Role
from core.store.models import utcnow

user = session.require_role(Role.ADMIN, "The Admin page")
svc = services()

st.title("Admin")
st.caption("Invite people, set what they may do, and see who changed what.")

accounts = users.list_accounts(svc.store, user)
now = utcnow()
locked = [a for a in accounts if a.locked_until and a.locked_until > now]
with st.container(horizontal=True):
    st.metric("Accounts", len(accounts), border=True)
    for role in (Role.ADMIN, Role.ANALYST, Role.VIEWER):
        count = sum(a.user.role == role and a.user.active for a in accounts)
        st.metric(f"Active {role.label}s", count, border=True)
    st.metric("Disabled", sum(not a.user.active for a in accounts), border=True)
    st.metric("Locked now", len(locked), border=True, help="After repeated failed sign-ins")


def when(moment) -> str:
    """A stored UTC time as short text, or blank."""
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else ""


users_tab, invite_tab, audit_tab = st.tabs(["Users", "Invite", "Audit log"])

with users_tab:
    table = pd.DataFrame(
        {
            "email": [a.user.email for a in accounts],
            "name": [a.user.name for a in accounts],
            "role": [a.user.role.label for a in accounts],
            "active": [a.user.active for a in accounts],
            "sign-in": [a.auth_source for a in accounts],
            "locked until": [when(a.locked_until) if a in locked else "" for a in accounts],
            "last sign-in": [when(a.last_login_at) for a in accounts],
            "created": [when(a.created_at) for a in accounts],
        }
    )
    st.dataframe(table, hide_index=True, alt="Accounts")
    downloads.table_csv(table, "beacon_users.csv", key="users_csv")

    by_email = {a.user.email: a for a in accounts}
    with st.container(border=True):
        st.subheader("Change an account")
        email = st.selectbox("Account", list(by_email), key="manage_email")
        account = by_email[email]
        with st.container(horizontal=True, vertical_alignment="bottom"):
            roles = [r.label for r in Role]
            new_role = st.selectbox(
                "Role", roles, index=roles.index(account.user.role.label), key="manage_role"
            )
            if st.button(
                "Apply role", key="apply_role", disabled=new_role == account.user.role.label
            ):
                with errors.shown():
                    users.set_role(svc.store, user, account.user.id, Role.parse(new_role))
                    st.toast(f"{email} is now {new_role}.")
                    st.rerun()
            toggle = "Enable" if not account.user.active else "Disable"
            if st.button(toggle, key="toggle_active", disabled=account.user.id == user.id):
                with errors.shown():
                    users.set_active(svc.store, user, account.user.id, not account.user.active)
                    st.toast(f"{toggle}d {email}.")
                    st.rerun()
            if account.auth_source == "local" and st.button("Reset password", key="reset"):
                with errors.shown():
                    temporary = users.reset_password(svc.store, user, account.user.id)
                    st.session_state["temporary_password"] = (email, temporary)
        if "temporary_password" in st.session_state:
            who, secret = st.session_state.pop("temporary_password")
            st.success(
                f"Temporary password for {who} (shown once; they choose their own at "
                "first sign-in):"
            )
            st.code(secret, language=None)

with invite_tab:
    with st.form("invite", clear_on_submit=True):
        invite_email = st.text_input("Email")
        invite_name = st.text_input("Name")
        invite_role = st.selectbox("Role", [r.label for r in Role], index=0, key="invite_role")
        submitted = st.form_submit_button("Create account", type="primary")
    if submitted:
        with errors.shown():
            created, temporary = users.create_user(
                svc.store, user, invite_email, Role.parse(invite_role), invite_name
            )
            st.success(
                f"Created {created.email} as {created.role.label}. Send them this "
                "temporary password (shown once); they choose their own at first sign-in:"
            )
            st.code(temporary, language=None)

with audit_tab:
    actions = ["(all)", *sorted({e.action for e in audit.list_events(svc.store, user, limit=5000)})]
    action = st.selectbox("Action", actions, key="audit_action")
    events = audit.list_events(
        svc.store, user, limit=5000, action=None if action == "(all)" else action
    )
    frame = audit.events_frame(events)
    st.dataframe(frame, hide_index=True, alt="Audit log")
    downloads.table_csv(frame, "beacon_audit_log.csv", key="audit_csv", label="Export CSV")
