"""The Fleet page's devices: filters, detail with heartbeat charts, actions, enrolment."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st

from components import downloads, errors, fleet_charts
from components.resources import services
from core.auth.roles import User
from core.fleet import devices, heartbeats
from core.fleet.devices import KINDS, Device, DeviceSpec
from core.fleet.health import HEALTH, LIVENESS
from core.fleet.tokens import TokenHasher

TOKEN_KEY = "fleet_new_token"  # noqa: S105 (a session-state key, not a secret)


@st.cache_resource
def token_hasher(database_url: str) -> TokenHasher:
    """This installation's token hasher (its key is read from the store once)."""
    return TokenHasher.for_store(services().store)


def hasher() -> TokenHasher:
    return token_hasher(services().settings.database_url)


@st.cache_data(max_entries=64, show_spinner=False)
def cached_history(name: str, last_seen: str, _user: User) -> pd.DataFrame:
    # Keyed on the device's last heartbeat: a new heartbeat means new history.
    return heartbeats.history(services().store, _user, name, limit=2880)


def filters(frame: pd.DataFrame, *, key: str = "fleet_filter") -> dict:
    """Sidebar filters of the device table; returns keyword arguments for filter_table."""
    with st.sidebar:
        st.subheader("Devices")
        kinds = st.multiselect(
            "Kind", list(KINDS), format_func=KINDS.get, key=f"{key}_kind", placeholder="all kinds"
        )
        states = sorted(set(frame["liveness"]) | set(LIVENESS))
        liveness_in = st.multiselect("Liveness", states, key=f"{key}_live", placeholder="any")
        health_in = st.multiselect("Health", list(HEALTH), key=f"{key}_health", placeholder="any")
        tag = st.text_input("Tag", key=f"{key}_tag", placeholder="e.g. store-12")
        text = st.text_input("Name or site contains", key=f"{key}_text")
    return dict(kinds=kinds, liveness_in=liveness_in, health_in=health_in, tag=tag, text=text)


TABLE_CONFIG = {
    "last_seen_at": st.column_config.DatetimeColumn("Last seen (UTC)", format="YYYY-MM-DD HH:mm"),
    "last_seen_min": st.column_config.NumberColumn("Minutes ago", format="%.1f"),
    "cpu_pct": st.column_config.NumberColumn("CPU %", format="%.0f"),
    "mem_pct": st.column_config.NumberColumn("Memory %", format="%.0f"),
    "disk_pct": st.column_config.NumberColumn("Disk %", format="%.0f"),
    "temp_c": st.column_config.NumberColumn("Temp °C", format="%.1f"),
    "latency_p99_ms": st.column_config.NumberColumn("p99 ms", format="%.1f"),
}


def table(frame: pd.DataFrame, *, key: str = "fleet_devices") -> None:
    """The device table with its download."""
    st.dataframe(frame, hide_index=True, alt="Devices", column_config=TABLE_CONFIG)
    downloads.table_csv(frame, "beacon_devices.csv", key=f"{key}_csv")


def _enrolment_note(token: str, device: str, expires: datetime) -> None:
    fleet = services().settings.fleet
    st.success(
        f"One-time enrolment token for {device}, valid until {expires:%Y-%m-%d %H:%M} UTC. "
        "It is shown only now: put it on the device."
    )
    st.code(token, language=None)
    st.caption("The device exchanges it for its own credential:")
    st.code(
        f"curl -X POST http://{fleet.api_host}:{fleet.api_port}/v1/devices/enrol "
        f"-H 'Content-Type: application/json' -d '{{\"token\": \"{token}\"}}'",
        language="bash",
    )


def show_new_token() -> None:
    """The token of the device just added or re-enrolled, once."""
    if TOKEN_KEY in st.session_state:
        token, device, expires = st.session_state.pop(TOKEN_KEY)
        _enrolment_note(token, device, expires)


def add_form(user: User, *, key: str = "fleet_add") -> None:
    """Register a device and show its one-time enrolment token."""
    with st.form(key, clear_on_submit=True):
        left, right = st.columns(2)
        name = left.text_input("Name", placeholder="pi-store-12")
        kind = right.selectbox("Kind", list(KINDS), format_func=KINDS.get)
        arch = left.text_input("Architecture", placeholder="arm64")
        os_name = right.text_input("Operating system", placeholder="Raspberry Pi OS 12")
        tags = left.text_input("Tags", placeholder="store-12, line:a (comma-separated)")
        site = right.text_input("Site", placeholder="Lyon, store 12")
        lat = left.number_input("Latitude", min_value=-90.0, max_value=90.0, value=None)
        lon = right.number_input("Longitude", min_value=-180.0, max_value=180.0, value=None)
        notes = st.text_area("Notes", height=80)
        submitted = st.form_submit_button("Add device", type="primary")
    if submitted:
        spec = DeviceSpec(
            name=name,
            kind=kind,
            arch=arch,
            os=os_name,
            tags=tuple(t for t in tags.split(",") if t.strip()),
            site=site,
            lat=lat,
            lon=lon,
            notes=notes,
        )
        with errors.shown():
            enrolment = devices.add_device(services().store, hasher(), user, spec)
            st.session_state[TOKEN_KEY] = (
                enrolment.token,
                enrolment.device.name,
                enrolment.expires_at,
            )
            st.rerun()


def _facts(device: Device) -> pd.DataFrame:
    caps = device.capabilities
    rows = {
        "kind": KINDS.get(device.kind, device.kind),
        "status": device.status,
        "health": device.health,
        "why": "; ".join(device.last_status.get("reasons", [])) or "—",
        "architecture": device.arch or "—",
        "operating system": device.os or "—",
        "site": device.site or "—",
        "location": f"{device.lat:.4f}, {device.lon:.4f}" if device.lat is not None else "—",
        "tags": ", ".join(device.tags) or "—",
        "execution providers": ", ".join(caps.get("execution_providers", [])) or "—",
        "memory (MB)": str(caps.get("memory_mb") or "—"),
        "models": ", ".join(
            f"{m['name']} {m['version']}" for m in device.last_status.get("models", [])
        )
        or "—",
        "enrolled": f"{device.enrolled_at:%Y-%m-%d %H:%M} UTC" if device.enrolled_at else "not yet",
        "heartbeats": f"{device.heartbeat_count:,}",
        "notes": device.notes or "—",
    }
    return pd.DataFrame({"": list(rows), "value": list(rows.values())})


def detail(user: User, found: list[Device], *, key: str = "fleet_detail") -> None:
    """One device: facts, heartbeat charts and the admin actions."""
    names = [d.name for d in found]
    name = st.selectbox("Device", names, key=f"{key}_name")
    device = next(d for d in found if d.name == name)
    left, right = st.columns([1, 2])
    with left:
        st.dataframe(_facts(device), hide_index=True, alt=f"Facts about {name}")
    with right:
        seen = device.last_seen_at.isoformat() if device.last_seen_at else ""
        history = cached_history(name, seen, user) if seen else pd.DataFrame()
        if history.empty:
            st.info(f"{name} has not sent a heartbeat yet.")
        else:
            st.plotly_chart(fleet_charts.readings(history, name), key=f"{key}_readings")
            if history["temp_c"].notna().any():
                st.plotly_chart(fleet_charts.temperature(history, name), key=f"{key}_temp")
            if history["latency_p99_ms"].notna().any():
                st.plotly_chart(fleet_charts.latency(history, name), key=f"{key}_latency")
            with st.expander("Heartbeats as a table"):
                st.dataframe(history, hide_index=True, alt=f"Heartbeats of {name}")
                downloads.table_csv(history, f"{name}_heartbeats.csv", key=f"{key}_hb_csv")
    actions(user, device, key=key)


def actions(user: User, device: Device, *, key: str) -> None:
    """Tag, re-enrol, revoke and retire."""
    store = services().store
    with st.container(border=True):
        st.markdown("**Actions**")
        with st.container(horizontal=True, vertical_alignment="bottom"):
            tags = st.text_input(
                "Tags", value=", ".join(device.tags), key=f"{key}_tags_{device.name}"
            )
            if st.button("Save tags", key=f"{key}_save_tags"):
                with errors.shown():
                    devices.set_tags(store, user, device.name, tags.split(","))
                    st.toast(f"Saved the tags of {device.name}.")
                    st.rerun()
        retired = device.status == devices.RETIRED
        with st.container(horizontal=True):
            if st.button(
                "New enrolment token",
                key=f"{key}_reenrol",
                disabled=retired,
                help="The current credential stops working; the device enrols again",
            ):
                with errors.shown():
                    enrolment = devices.reissue_enrolment(store, hasher(), user, device.name)
                    st.session_state[TOKEN_KEY] = (
                        enrolment.token,
                        device.name,
                        enrolment.expires_at,
                    )
                    st.rerun()
            if st.button(
                "Revoke credential",
                key=f"{key}_revoke",
                disabled=device.status in (devices.REVOKED, devices.RETIRED),
                help="The device is refused at once until it is given a new enrolment token",
            ):
                with errors.shown():
                    devices.revoke(store, user, device.name)
                    st.toast(f"Revoked {device.name}'s credential.")
                    st.rerun()
            if st.button("Retire device", key=f"{key}_retire", disabled=retired):
                with errors.shown():
                    devices.retire(store, user, device.name)
                    st.toast(f"Retired {device.name}; its history stays.")
                    st.rerun()
