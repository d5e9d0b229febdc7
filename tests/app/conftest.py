"""AppTest helpers: open the app as a given user."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from components.session import USER_KEY
from tests.conftest import ROOT

APP = str(ROOT / "app.py")
TIMEOUT = 60


def run_app() -> AppTest:
    """The app as an anonymous visitor."""
    return AppTest.from_file(APP, default_timeout=TIMEOUT).run()


@pytest.fixture
def app_as(make_user) -> Callable[..., AppTest]:
    """The app signed in as a fresh user of `role` (optionally opened at `page`)."""

    def open_as(role, page: str | None = None) -> AppTest:
        user = make_user(role)
        at = AppTest.from_file(APP, default_timeout=TIMEOUT)
        at.session_state[USER_KEY] = user.id
        at.run()
        if page:
            at.switch_page(page).run()
        return at

    return open_as


def texts(elements) -> list[str]:
    """The values of a list of text elements (errors, successes, titles…)."""
    return [e.value for e in elements]


def metrics(at: AppTest) -> dict[str, str]:
    """Metric label -> shown value."""
    return {m.label: m.value for m in at.metric}


def click(at: AppTest, label: str) -> AppTest:
    """Click the (single) button with this label and rerun."""
    matches = [b for b in at.button if b.label == label]
    assert len(matches) == 1, f"{len(matches)} buttons labelled {label!r}"
    matches[0].click()
    return at.run()
