"""Who is signed in: the first-run, sign-in and password forms, and the page role check."""

from __future__ import annotations

import streamlit as st

from components import errors
from components.resources import services
from core.auth import users
from core.auth.oidc import role_for_claims
from core.auth.roles import Role, User, require
from core.data.samples import load_sample
from core.errors import BeaconError, PermissionDenied, UserInputError
from core.services import Services

USER_KEY = "beacon_user_id"


def _local_user(svc: Services) -> User | None:
    user_id = st.session_state.get(USER_KEY)
    if user_id is None:
        return None
    try:
        user = users.get_user(svc.store, user_id)  # fresh each run: roles may have changed
    except BeaconError:
        user = None
    if user is None or not user.active:
        st.session_state.pop(USER_KEY, None)
        return None
    return user


def _oidc_user(svc: Services) -> User | None:
    if not st.user.is_logged_in:
        return None
    claims = st.user.to_dict()
    role = role_for_claims(claims, svc.settings.oidc)
    return users.sign_in_external(svc.store, claims.get("email", ""), claims.get("name", ""), role)


def current_user() -> User | None:
    """The signed-in user, or None."""
    svc = services()
    if svc.settings.auth_mode == "oidc":
        return _oidc_user(svc)
    return _local_user(svc)


def require_role(role: Role, action: str) -> User:
    """Stop the page unless the signed-in user holds `role` (checked by core, not hidden UI)."""
    user = current_user()
    try:
        if user is None:
            raise PermissionDenied("Sign in to use Beacon.")
        require(user, role, action)
    except PermissionDenied as exc:
        errors.show(exc)
        st.stop()
    return user


def _first_admin_form(svc: Services) -> None:
    st.title("Welcome to Beacon")
    st.write("Create the admin account. You can invite analysts and viewers afterwards.")
    with st.form("first_admin"):
        name = st.text_input("Your name")
        email = st.text_input("Email")
        password = st.text_input("Password (10+ characters)", type="password")
        repeat = st.text_input("Repeat password", type="password")
        sample = st.checkbox("Load the sample company so every page has data", value=True)
        submitted = st.form_submit_button("Create admin account", type="primary")
    if not submitted:
        return
    with errors.shown():
        if password != repeat:
            raise UserInputError("The two passwords differ.")
        user = users.create_first_admin(svc.store, email, password, name)
        st.session_state[USER_KEY] = user.id
        if sample:
            with st.status("Loading the sample company…", expanded=False) as status:
                loaded = load_sample(svc.catalog, user)
                status.update(label=f"Loaded {len(loaded)} sample datasets", state="complete")
        st.rerun()


def _sign_in_form(svc: Services) -> None:
    st.title("Sign in to Beacon")
    with st.form("sign_in"):
        email = st.text_input("Email")
        password = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        with errors.shown():
            user = users.authenticate(svc.store, email, password, svc.lockout)
            st.session_state[USER_KEY] = user.id
            st.rerun()


def _sso_form(svc: Services) -> None:
    st.title("Sign in to Beacon")
    if st.user.is_logged_in:
        st.error(
            f"{st.user.get('email', 'This account')} has no Beacon role: ask an admin for access."
        )
        st.button("Sign out", on_click=st.logout)
        return
    provider = svc.settings.oidc_provider
    if st.button("Sign in with single sign-on", type="primary"):
        if provider:
            st.login(provider)
        else:
            st.login()


def change_password_form(user: User, *, required: bool) -> None:
    """Let the user replace their password; `required` after a temporary password."""
    svc = services()
    if required:
        st.title("Choose a new password")
        st.info("Your password was set by an admin. Choose your own to continue.")
    with st.form("change_password", clear_on_submit=True):
        current = st.text_input("Current password", type="password")
        new = st.text_input("New password (10+ characters)", type="password")
        repeat = st.text_input("Repeat new password", type="password")
        submitted = st.form_submit_button("Change password", type="primary")
    if submitted:
        with errors.shown():
            if new != repeat:
                raise UserInputError("The two new passwords differ.")
            users.change_password(svc.store, user, current, new)
            st.success("Password changed.")
            if required:
                st.rerun()


def gate() -> User | None:
    """Show whichever form the visitor needs; returns the user once fully signed in."""
    svc = services()
    if svc.settings.auth_mode == "oidc":
        user = current_user()
        if user is None:
            _sso_form(svc)
        return user
    if users.needs_first_admin(svc.store):
        _first_admin_form(svc)
        return None
    user = _local_user(svc)
    if user is None:
        _sign_in_form(svc)
        return None
    if users.must_change_password(svc.store, user.id):
        change_password_form(user, required=True)
        return None
    return user


def sign_out() -> None:
    """Forget the signed-in user."""
    if services().settings.auth_mode == "oidc":
        st.logout()
    st.session_state.pop(USER_KEY, None)
