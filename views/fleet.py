"""Fleet: edge devices, cloud storage targets and the keys machines use to reach Beacon."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from components import (
    dataset_picker,
    downloads,
    fleet_charts,
    fleet_devices,
    fleet_keys,
    fleet_targets,
    session,
)
from components.resources import services
from core.auth.roles import Role
from core.fleet import devices, overview, targets
from core.fleet.cloud import Cloud
from core.store.models import utcnow

user = session.require_role(Role.ADMIN, "The Fleet page")
svc = services()
interval = svc.settings.fleet.heartbeat_seconds


@st.cache_data(ttl=60, show_spinner=False)
def cached_activity(minute: str, _user) -> pd.DataFrame:
    # Recomputed once a minute: the hourly counts move slowly.
    return overview.activity(svc.store, _user, utcnow())


st.title("Fleet")
st.caption(
    "Enrol edge devices and watch their health, connect cloud storage, and issue the keys "
    "machines use to reach Beacon's API."
)

# The picker chooses what "Export a dataset" sends to a target (none on an empty catalog).
dataset = dataset_picker.show(user) if svc.catalog.datasets(user) else None
now = utcnow()
found = devices.list_devices(svc.store, user)
table = overview.device_table(found, now, interval)
wanted = fleet_devices.filters(table)
summary = overview.summarise(found, now, interval)
hourly = cached_activity(f"{now:%Y-%m-%d %H:%M}", user).iloc[:-1]  # complete hours only
hour_ago = overview.online_at(svc.store, user, now - timedelta(hours=1), interval)
cloud = Cloud(svc.store, svc.settings, svc.catalog)
cloud_targets = targets.list_targets(svc.store, user)
failing = sum(t.last_test_ok is False or cloud.breaker(t).state != "closed" for t in cloud_targets)

with st.grid(5, min_column_width=180, gap="small"):
    st.metric(
        "Online",
        f"{summary.online} of {summary.active}",
        # An empty fleet has no trend to show: no "0 vs an hour ago", no flat line.
        delta=summary.online - hour_ago if summary.devices else None,
        delta_description="vs an hour ago",
        chart_data=hourly["devices"].tolist() if summary.devices else None,
        border=True,
        height="stretch",
        help=f"Heard from in the last {3 * interval} s (3 heartbeat intervals); the line "
        "shows devices reporting per hour over the last day",
    )
    st.metric(
        "Unhealthy",
        summary.unhealthy,
        chart_data=hourly["unhealthy_devices"].tolist() if summary.devices else None,
        chart_type="bar",
        border=True,
        height="stretch",
        help=f"Active devices whose latest heartbeat reports trouble ({summary.degraded} more "
        "are degraded); the bars show unhealthy devices per hour over the last day",
    )
    st.metric(
        "Stale or offline",
        summary.stale + summary.offline,
        border=True,
        height="stretch",
        help=f"Stale after {3 * interval} s without a heartbeat, offline after "
        f"{20 * interval} s; {summary.never_seen} enrolled device(s) never reported",
    )
    st.metric(
        "Awaiting enrolment",
        summary.devices - summary.active,
        border=True,
        height="stretch",
        help="Devices added (or revoked) that have no working credential yet",
    )
    st.metric(
        "Cloud targets",
        len(cloud_targets),
        border=True,
        height="stretch",
        help=f"{failing} failing (last connection test failed or circuit open)",
    )

show_devices = overview.filter_table(table, **wanted)
fleet_devices.show_new_token()  # above the tabs: whichever tab the action came from
tab_names = ["Devices", "Device detail", "Add device", "Cloud targets", "API keys"]
tabs = dict(zip(tab_names, st.tabs(tab_names), strict=True))

with tabs["Devices"]:
    if table.empty:
        st.info("No devices yet: add one in the Add device tab, then enrol it with its token.")
    else:
        left, right = st.columns([3, 2])
        with left:
            st.plotly_chart(fleet_charts.device_map(show_devices), key="device_map")
            if show_devices[["lat", "lon"]].isna().any(axis=1).any():
                st.caption("Devices without a latitude and longitude are not on the map.")
        with right:
            st.plotly_chart(fleet_charts.activity(hourly), key="activity")
            with st.expander("Hourly counts as a table"):
                st.dataframe(hourly, hide_index=True, alt="Devices reporting per hour")
                downloads.table_csv(hourly, "beacon_fleet_hourly.csv", key="hourly_csv")
        st.caption(f"{len(show_devices)} of {len(table)} devices match the filters.")
        fleet_devices.table(show_devices)

with tabs["Device detail"]:
    if not found:
        st.info("No devices yet.")
    else:
        fleet_devices.detail(user, found)

with tabs["Add device"]:
    fleet_devices.add_form(user)

with tabs["Cloud targets"]:
    fleet_targets.show(user, cloud, dataset)

with tabs["API keys"]:
    fleet_keys.show(user)
