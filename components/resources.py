"""The app's composition root: long-lived services cached once per process."""

from __future__ import annotations

import streamlit as st

from core.config import load_settings
from core.services import Services, open_services


@st.cache_resource(show_spinner="Opening Beacon's store…")
def _open(home: str, database_url: str) -> Services:
    # Keyed on where state lives, so a test with a fresh BEACON_HOME gets fresh services.
    return open_services(load_settings())


def services() -> Services:
    """Settings, store and catalog for this process."""
    settings = load_settings()
    return _open(str(settings.home), settings.database_url)


@st.cache_resource
def _duckdb(home: str, database_url: str):
    return services().catalog.connect()


def duckdb_cursor():
    """A cursor on this process's DuckDB connection (connections are not thread-safe)."""
    settings = load_settings()
    return _duckdb(str(settings.home), settings.database_url).cursor()
