"""Fleet chart builders: what each figure holds, its title and its axes (with units)."""

from __future__ import annotations

import pandas as pd

from components import fleet_charts


def devices_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "name": ["a", "b", "c", "d"],
            "site": ["Lyon", "Paris", "", "Oslo"],
            "health": ["healthy", "unhealthy", "", "healthy"],
            "kind": ["iot", "jetson", "mobile", "iot"],
            "liveness": ["online", "online", "stale", "offline"],
            "lat": [45.76, 48.85, None, 59.91],
            "lon": [4.84, 2.35, None, 10.75],
        }
    )


def test_device_map_is_a_plain_scatter_by_liveness_framing_the_devices():
    fig = fleet_charts.device_map(devices_frame())
    assert [t.name for t in fig.data] == ["online", "offline"]  # c has no location
    assert all(t.type == "scatter" for t in fig.data)  # no tile server, no geo download
    online = fig.data[0]
    assert list(online.x) == [4.84, 2.35] and list(online.y) == [45.76, 48.85]
    assert online.marker.color == fleet_charts.LIVENESS_COLORS["online"]
    assert fig.layout.title.text == "Devices by location"
    assert fig.layout.xaxis.title.text == "Longitude (°)"
    assert fig.layout.yaxis.title.text == "Latitude (°)"
    x0, x1 = fig.layout.xaxis.range
    y0, y1 = fig.layout.yaxis.range
    assert x0 < 2.35 and x1 > 10.75 and y0 < 45.76 and y1 > 59.91
    assert x0 >= -180 and x1 <= 180 and y0 >= -90 and y1 <= 90
    assert fig.layout.yaxis.scaleanchor == "x"  # degrees drawn to the same scale


def test_an_empty_map_shows_the_whole_globe():
    fig = fleet_charts.device_map(devices_frame().iloc[0:0])
    assert fig.data == () and list(fig.layout.xaxis.range) == [-180, 180]


def history() -> pd.DataFrame:
    times = pd.date_range("2026-11-27 10:00", periods=3, freq="30s", tz="UTC")
    return pd.DataFrame(
        {
            "received_at": times,
            "cpu_pct": [10.0, 20.0, 30.0],
            "mem_pct": [40.0, 41.0, 42.0],
            "disk_pct": [50.0, 50.0, 51.0],
            "temp_c": [55.0, 56.5, 58.0],
            "latency_p50_ms": [3.0, 3.1, 3.2],
            "latency_p95_ms": [8.0, 8.5, 9.0],
            "latency_p99_ms": [12.0, 13.0, 20.0],
        }
    )


def test_heartbeat_charts_hold_the_readings_with_units():
    frame = history()
    readings = fleet_charts.readings(frame, "pi-1")
    assert [t.name for t in readings.data] == ["CPU", "Memory", "Disk"]
    assert list(readings.data[0].y) == [10.0, 20.0, 30.0]
    assert (readings.layout.title.text, readings.layout.yaxis.title.text) == (
        "Resource use of pi-1",
        "Use (%)",
    )
    assert list(readings.layout.yaxis.range) == [0, 100]
    temp = fleet_charts.temperature(frame, "pi-1")
    assert list(temp.data[0].y) == [55.0, 56.5, 58.0]
    assert temp.layout.yaxis.title.text == "Temperature (°C)"
    latency = fleet_charts.latency(frame, "pi-1")
    assert [t.name for t in latency.data] == ["p50", "p95", "p99"]
    assert list(latency.data[2].y) == [12.0, 13.0, 20.0]
    assert latency.layout.yaxis.title.text == "Latency (ms)"
    assert latency.layout.xaxis.title.text == "Time (UTC)"


def test_activity_chart_overlays_unhealthy_on_reporting():
    frame = pd.DataFrame(
        {
            "hour": pd.date_range("2026-11-27", periods=2, freq="h", tz="UTC"),
            "devices": [5, 4],
            "heartbeats": [600, 480],
            "unhealthy_devices": [1, 0],
        }
    )
    fig = fleet_charts.activity(frame)
    assert [list(t.y) for t in fig.data] == [[5, 4], [1, 0]]
    assert fig.layout.yaxis.title.text == "Devices" and fig.layout.barmode == "overlay"
