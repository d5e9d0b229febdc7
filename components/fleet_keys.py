"""The Fleet page's API keys: service accounts for automation, their scopes, revocation."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components import downloads, errors
from components.fleet_devices import hasher
from components.resources import services
from core.auth.roles import User
from core.fleet import service_accounts
from core.fleet.service_accounts import SCOPES

KEY_SHOWN = "fleet_new_api_key"


def show(user: User, *, key: str = "fleet_keys") -> None:
    """List, create and revoke API keys."""
    store = services().store
    fleet = services().settings.fleet
    st.caption(
        f"Automation calls the machine API at http://{fleet.api_host}:{fleet.api_port}/v1 "
        "with 'Authorization: Bearer <key>', or exchanges the key for a 15-minute JWT at "
        "/v1/auth/token. OpenAPI docs: /v1/docs."
    )
    if KEY_SHOWN in st.session_state:
        name, secret = st.session_state.pop(KEY_SHOWN)
        st.success(f"API key for {name}. It is shown only now: store it in your secrets manager.")
        st.code(secret, language=None)
    found = service_accounts.list_keys(store, user)
    if found:
        frame = pd.DataFrame(
            {
                "name": [k.name for k in found],
                "key": [k.key_hint for k in found],
                "scopes": [", ".join(k.scopes) for k in found],
                "active": [k.active for k in found],
                "created by": [k.created_by for k in found],
                "created": [k.created_at for k in found],
                "last used": [k.last_used_at for k in found],
            }
        )
        st.dataframe(frame, hide_index=True, alt="API keys")
        downloads.table_csv(frame, "beacon_api_keys.csv", key=f"{key}_csv")
        active = [k.name for k in found if k.active]
        if active:
            with st.container(horizontal=True, vertical_alignment="bottom"):
                chosen = st.selectbox("Key", active, key=f"{key}_revoke_name")
                if st.button("Revoke key", key=f"{key}_revoke"):
                    with errors.shown():
                        service_accounts.revoke_key(store, user, chosen)
                        st.toast(f"Revoked {chosen}; its tokens stop working at once.")
                        st.rerun()
    else:
        st.info("No API keys yet.")
    with st.form(f"{key}_create", clear_on_submit=True):
        name = st.text_input("Name", placeholder="provisioning-ci")
        scopes = st.multiselect(
            "Scopes",
            list(SCOPES),
            format_func=lambda s: f"{s}: {SCOPES[s]}",
            default=["devices:read"],
        )
        if st.form_submit_button("Create key", type="primary"):
            with errors.shown():
                account, secret = service_accounts.create_key(store, hasher(), user, name, scopes)
                st.session_state[KEY_SHOWN] = (account.name, secret)
                st.rerun()
