"""The Admin page: invite, change role, disable, reset password, audit log; Account page."""

from __future__ import annotations

from core.auth import users
from core.auth.roles import Role, User
from core.config import load_settings
from core.services import open_services
from tests.app.conftest import click, metrics, texts
from tests.conftest import PASSWORD

ADMIN = "views/admin.py"


def accounts():
    services = open_services(load_settings())
    return {a.user.email: a for a in users.list_accounts(services.store, User.system())}


def test_invite_shows_a_one_time_password_that_works(app_as):
    at = app_as(Role.ADMIN, ADMIN)
    assert metrics(at)["Accounts"] == "2"  # the first admin and this one
    form = {w.label: w for w in at.text_input}
    form["Email"].input("new.analyst@example.com")
    form["Name"].input("Nia")
    at.selectbox(key="invite_role").select("analyst")
    click(at, "Create account")
    assert not at.error
    assert "Created new.analyst@example.com as analyst" in texts(at.success)[0]
    temporary = at.code[0].value
    services = open_services(load_settings())
    signed_in = users.authenticate(
        services.store, "new.analyst@example.com", temporary, services.lockout
    )
    assert signed_in.role == Role.ANALYST
    assert accounts()["new.analyst@example.com"].must_change_password


def test_invite_with_a_bad_email_is_one_error(app_as):
    at = app_as(Role.ADMIN, ADMIN)
    next(w for w in at.text_input if w.label == "Email").input("not-an-email")
    click(at, "Create account")
    assert texts(at.error) == ["'not-an-email' is not an email address."]


def test_change_role_disable_and_audit(app_as, make_user):
    make_user(Role.VIEWER, "vic@example.com")
    at = app_as(Role.ADMIN, ADMIN)
    at.selectbox(key="manage_email").select("vic@example.com").run()
    at.selectbox(key="manage_role").select("analyst").run()
    click(at, "Apply role")
    assert accounts()["vic@example.com"].user.role == Role.ANALYST
    click(at, "Disable")
    assert not accounts()["vic@example.com"].user.active
    assert metrics(at)["Disabled"] == "1"

    at.selectbox(key="audit_action").select("user.set_role").run()
    log = at.dataframe[-1].value
    assert log["target"].tolist() == ["vic@example.com"]
    assert log["detail"].tolist() == ["after=analyst, before=viewer"]
    assert "Export CSV" in [b.label for b in at.get("download_button")]


def test_the_last_admin_cannot_demote_themselves(app_as):
    at = app_as(Role.ADMIN, ADMIN)
    for account in accounts().values():  # leave exactly one active admin: this user
        if account.user.email == "root@example.com":
            services = open_services(load_settings())
            users.set_role(services.store, User.system(), account.user.id, Role.VIEWER)
    at.run()
    me = next(e for e, a in accounts().items() if a.user.role == Role.ADMIN)
    at.selectbox(key="manage_email").select(me).run()
    at.selectbox(key="manage_role").select("viewer").run()
    click(at, "Apply role")
    assert texts(at.error) == ["Beacon needs at least one active admin: promote another first."]


def test_reset_password_shows_it_once(app_as, make_user):
    make_user(Role.VIEWER, "vic@example.com")
    at = app_as(Role.ADMIN, ADMIN)
    at.selectbox(key="manage_email").select("vic@example.com").run()
    click(at, "Reset password")
    secret = at.code[0].value
    assert len(secret) >= 12
    at.run()
    assert not at.code  # gone on the next run


def test_account_page_changes_the_password(app_as):
    at = app_as(Role.VIEWER, "views/account.py")
    assert metrics(at)["Role"] == "Viewer"
    fields = {w.label: w for w in at.text_input}
    fields["Current password"].input(PASSWORD)
    fields["New password (10+ characters)"].input("an even longer secret")
    fields["Repeat new password"].input("an even longer secret")
    click(at, "Change password")
    assert texts(at.success) == ["Password changed."]
    services = open_services(load_settings())
    email = next(e for e, a in accounts().items() if a.user.role == Role.VIEWER)
    users.authenticate(services.store, email, "an even longer secret", services.lockout)
