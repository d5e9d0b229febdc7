"""First run, sign-in, lock-out, temporary passwords and role-based navigation."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from components.navigation import PAGES
from components.session import USER_KEY
from core.auth import users
from core.auth.roles import Role, User
from core.config import load_settings
from core.services import open_services
from tests.app.conftest import APP, TIMEOUT, click, run_app, texts
from tests.conftest import PASSWORD

LANDING = next(spec.title for spec in PAGES if spec.default)


def fill(at: AppTest, **values: str) -> None:
    for widget in at.text_input:
        if widget.label in values:
            widget.input(values[widget.label])


def test_first_run_creates_the_admin_then_shows_data():
    at = run_app()
    assert texts(at.title) == ["Welcome to Beacon"]
    fill(at, **{"Your name": "Ada", "Email": "ada@example.com",
                "Password (10+ characters)": PASSWORD, "Repeat password": PASSWORD})  # fmt: skip
    at.checkbox[0].uncheck()  # no sample data: keep the test fast
    click(at, "Create admin account")
    assert not at.exception
    assert texts(at.title) == [LANDING]
    services = open_services(load_settings())
    account = users.list_accounts(services.store, User.system())[0]
    assert (account.user.email, account.user.role) == ("ada@example.com", Role.ADMIN)


def test_first_run_refuses_mismatched_passwords():
    at = run_app()
    fill(at, **{"Email": "ada@example.com", "Password (10+ characters)": PASSWORD,
                "Repeat password": PASSWORD + "x"})  # fmt: skip
    click(at, "Create admin account")
    assert texts(at.error) == ["The two passwords differ."]
    assert users.needs_first_admin(open_services(load_settings()).store)


def test_sign_in_and_lock_out(make_user, monkeypatch):
    monkeypatch.setenv("BEACON_LOCKOUT_ATTEMPTS", "2")
    make_user(Role.VIEWER, "vic@example.com")
    at = run_app()
    assert texts(at.title) == ["Sign in to Beacon"]
    fill(at, Email="vic@example.com", Password="wrong password")
    click(at, "Sign in")
    assert texts(at.error) == ["Wrong email or password."]
    fill(at, Email="vic@example.com", Password="wrong again!")
    click(at, "Sign in")
    fill(at, Email="vic@example.com", Password=PASSWORD)  # right, but now locked
    click(at, "Sign in")
    assert "locked" in texts(at.error)[0]
    assert texts(at.title) == ["Sign in to Beacon"]


def test_sign_in_then_sign_out(make_user):
    make_user(Role.ANALYST, "ana@example.com")
    at = run_app()
    fill(at, Email="ANA@example.com ", Password=PASSWORD)
    click(at, "Sign in")
    assert texts(at.title) == [LANDING]
    at.switch_page("views/account.py").run()
    assert texts(at.title) == ["Account"]
    click(at, "Sign out")
    # AppTest keeps the switched-to page across reruns, so the page's own check is what
    # shows here; the browser suite sees the sign-in form.
    assert USER_KEY not in at.session_state
    assert "Account" not in texts(at.title)


def test_temporary_password_must_be_replaced(services, make_user):
    make_user(Role.ADMIN)  # creates the first admin
    user, temporary = users.create_user(services.store, User.system(), "tom@example.com",
                                        Role.VIEWER)  # fmt: skip
    at = run_app()
    fill(at, Email="tom@example.com", Password=temporary)
    click(at, "Sign in")
    assert texts(at.title) == ["Choose a new password"]
    fill(at, **{"Current password": temporary, "New password (10+ characters)": PASSWORD,
                "Repeat new password": PASSWORD})  # fmt: skip
    click(at, "Change password")
    assert texts(at.title) == [LANDING]
    assert not users.must_change_password(services.store, user.id)


@pytest.mark.parametrize("role", list(Role))
def test_navigation_registers_only_the_pages_a_role_may_use(app_as, role):
    at = app_as(role)
    assert not at.exception
    found = set()
    for spec in PAGES:
        try:
            at.switch_page(spec.path)
        except ValueError:
            continue  # not registered for this role
        found.add(spec.path)
    assert found == {spec.path for spec in PAGES if role >= spec.role}
    assert ("views/admin.py" in found) == (role == Role.ADMIN)
    assert "views/data.py" in found and "views/account.py" in found


def test_viewer_cannot_reach_the_admin_page(app_as):
    at = app_as(Role.VIEWER)
    with pytest.raises(ValueError):  # not registered at all, so not reachable
        at.switch_page("views/admin.py")


def test_disabled_user_is_signed_out_on_the_next_run(services, app_as):
    at = app_as(Role.ANALYST)
    assert texts(at.title) == [LANDING]
    analyst = next(
        a.user for a in users.list_accounts(services.store, User.system())
        if a.user.role == Role.ANALYST
    )  # fmt: skip
    users.set_active(services.store, User.system(), analyst.id, False)
    at.run()
    assert LANDING not in texts(at.title)
    assert USER_KEY not in at.session_state


def test_oidc_claims_map_to_roles(monkeypatch, tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(
        '[beacon]\nauth_mode = "oidc"\n[beacon.oidc]\ndefault_role = "none"\n'
        '[beacon.oidc.domain_roles]\n"example.com" = "analyst"\n'
    )
    monkeypatch.setenv("BEACON_SECRETS_FILE", str(secrets))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.user = {"is_logged_in": True, "email": "eve@example.com", "name": "Eve"}
    at.run()
    assert not at.exception
    assert texts(at.title) == [LANDING]
    outsider = AppTest.from_file(APP, default_timeout=TIMEOUT)
    outsider.user = {"is_logged_in": True, "email": "mallory@elsewhere.org"}
    outsider.run()
    assert "has no Beacon role" in texts(outsider.error)[0]
