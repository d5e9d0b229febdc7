"""One place that turns Beacon's errors into what the user sees."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from core.errors import BeaconError, PermissionDenied

log = logging.getLogger(__name__)


def show(exc: BeaconError) -> None:
    """Render one error line (its message is written for people)."""
    icon = ":material/lock:" if isinstance(exc, PermissionDenied) else ":material/error:"
    st.error(str(exc), icon=icon)


@contextmanager
def shown() -> Iterator[None]:
    """Run a block; a BeaconError inside it becomes one `st.error` line."""
    try:
        yield
    except BeaconError as exc:
        log.info("shown to user: %s", exc)
        show(exc)
