"""Task types against real things: DuckDB over catalog files, the artifact folder, a loopback
HTTP server and a loopback SMTP server started here."""

from __future__ import annotations

import base64
import email
import io
import json
import socket
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import replace
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from openpyxl import load_workbook

from core.auth.roles import User
from core.config import Secret
from core.errors import IntegrationError, UserInputError
from core.workflows.tasks.base import StepContext, task_type

SYSTEM = User.system()
ORDERS = (
    "order_id,order_date,amount,region\n"
    '1,2024-01-01,10.5,North\n2,2024-01-02,20,South\n3,2024-01-02,5,=HYPERLINK("x")\n'
)


def context(services, **workflow_settings) -> StepContext:
    settings = services.settings
    if workflow_settings:
        settings = replace(settings, workflows=replace(settings.workflows, **workflow_settings))
    return StepContext(replace(services, settings=settings), SYSTEM, "demo", 7, "step", 1)


def run(ctx: StepContext, kind: str, **params):
    task = task_type(kind)
    return task.run(ctx, task.params.model_validate(params))


@pytest.fixture
def orders(services, write_file):
    return services.catalog.ingest_file(SYSTEM, write_file("orders.csv", ORDERS))


# --- query and KPI check -------------------------------------------------------------------


def test_query_reads_datasets_by_name_and_returns_json_rows(services, orders):
    out = run(
        context(services),
        "query",
        sql="select order_date, sum(amount) as revenue from orders group by 1 order by 1",
    )
    assert out == {
        "columns": ["order_date", "revenue"],
        "rows": [
            {"order_date": "2024-01-01", "revenue": 10.5},
            {"order_date": "2024-01-02", "revenue": 25.0},
        ],
        "row_count": 2,
        "truncated": False,
    }


def test_query_caps_rows(services, orders):
    out = run(context(services), "query", sql="select * from orders order by order_id", max_rows=2)
    assert (out["row_count"], out["truncated"]) == (2, True)
    assert [r["order_id"] for r in out["rows"]] == [1, 2]


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("delete from orders", "exactly one SELECT"),
        ("select 1; select 2", "found SELECT, SELECT"),
        ("copy orders to 'out.csv'", "found COPY"),
        ("attach 'other.db'", "found ATTACH"),
        ("create table t as select 1", "found CREATE"),
        ("set enable_external_access = true", "found SET"),
        ("select * from read_csv('/etc/passwd')", "The query failed: Cannot access file"),
        ("select * from read_text('/etc/hostname')", "The query failed"),
        ("selec 1", "The SQL does not parse"),
        ("select * from no_such_dataset", "The query failed"),
    ],
)
def test_query_refuses_anything_but_one_read_only_select(services, orders, sql, message):
    with pytest.raises(UserInputError, match=message):
        run(context(services), "query", sql=sql)


def test_query_cannot_read_another_datasets_file_by_path(services, orders, write_file):
    other = services.catalog.ingest_file(SYSTEM, write_file("secret.csv", "x\n42\n"))
    with pytest.raises(UserInputError, match="Cannot access file"):
        sql = "select * from read_parquet('" + str(other.path) + "')"  # noqa: S608 - the attack
        run(context(services), "query", sql=sql)


def test_kpi_check_compares_one_value_with_the_threshold(services, orders):
    ctx = context(services)
    passed = run(
        ctx, "kpi_check", sql="select sum(amount) from orders", operator=">=", threshold=35.5
    )
    assert passed == {
        "metric": "sum(amount)",
        "value": 35.5,
        "operator": ">=",
        "threshold": 35.5,
        "passed": True,
    }
    assert not run(ctx, "kpi_check", sql="select count(*) from orders", operator="<", threshold=3)[
        "passed"
    ]
    with pytest.raises(UserInputError, match="must return a number"):
        run(ctx, "kpi_check", sql="select region from orders", operator="<", threshold=1)


def test_condition_and_wait(services):
    ctx = context(services)
    assert run(ctx, "condition", expr="True") is True
    assert run(ctx, "condition", expr="false") is False
    assert run(ctx, "wait", seconds=0.01) == {"waited_seconds": 0.01}


# --- export and refresh ------------------------------------------------------------------


def test_export_report_writes_safe_csv_excel_and_html_to_the_artifacts(services, orders):
    ctx = context(services)
    sql = "select order_id, region, amount from orders order by order_id"
    csv = run(ctx, "export_report", sql=sql, format="csv", filename="../../escape attempt")
    assert csv["path"] == "workflows/demo/run-7/escape_attempt.csv"
    root = services.settings.home / "artifacts"
    text = (root / csv["path"]).read_text(encoding="utf-8-sig")
    assert text.splitlines() == [
        "order_id,region,amount",
        "1,North,10.5",
        "2,South,20.0",
        '3,"\'=HYPERLINK(""x"")",5.0',
    ]
    xlsx = run(ctx, "export_report", sql=sql, format="xlsx", filename="report")
    sheet = load_workbook(io.BytesIO((root / xlsx["path"]).read_bytes())).active
    assert [c.value for c in sheet[4]] == [3, '\'=HYPERLINK("x")', 5]
    html = run(ctx, "export_report", sql=sql, format="html", filename="report", title="<b>Q1</b>")
    page = (root / html["path"]).read_text(encoding="utf-8")
    assert "<h1>&lt;b&gt;Q1&lt;/b&gt;</h1>" in page and "3 rows" in page
    assert (html["rows"], html["format"], html["bytes"]) == (3, "html", len(page.encode()))


def test_refresh_dataset_reingests_from_the_import_folder(services, orders, tmp_path):
    imports = tmp_path / "imports"
    imports.mkdir()
    (imports / "latest.csv").write_text(ORDERS + "4,2024-01-03,7,North\n")
    ctx = context(services)
    ctx = replace(
        ctx,
        services=replace(
            ctx.services, settings=replace(ctx.settings, import_dir=imports.resolve())
        ),
    )
    ctx.services.catalog.settings = ctx.settings  # the catalog reads the import folder too
    out = run(ctx, "refresh_dataset", dataset="orders", path="latest.csv")
    assert out == {"dataset": "orders", "version": 2, "rows": 4, "columns": 4}
    with pytest.raises(UserInputError, match="not a file in the import folder"):
        run(ctx, "refresh_dataset", dataset="orders", path="../../etc/passwd")


# --- HTTP ----------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[str, str, bytes]]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        self.received.append((self.command, self.path, body))
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("location", "/ok")
            self.end_headers()
            return
        status = 500 if self.path.startswith("/fail") else 200
        payload = json.dumps({"echo": body.decode() or None}).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _answer

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def http_server() -> Iterator[str]:
    _Handler.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_http_calls_allowed_hosts_and_checks_the_status(services, http_server):
    ctx = context(services, http_allowed_hosts=(http_server,))
    out = run(ctx, "http", method="POST", url=f"http://{http_server}/ok", body={"a": 1})
    assert (out["status"], out["json"]) == (200, {"echo": '{"a":1}'})
    with pytest.raises(IntegrationError, match="answered 500; expected 2xx"):
        run(ctx, "http", url=f"http://{http_server}/fail")
    assert (
        run(ctx, "http", url=f"http://{http_server}/fail", expected_status=[500])["status"] == 500
    )
    with pytest.raises(IntegrationError, match="answered 302"):
        run(ctx, "http", url=f"http://{http_server}/redirect")  # not followed
    assert [p for _, p, _ in _Handler.received] == ["/ok", "/fail", "/fail", "/redirect"]


@pytest.mark.parametrize(
    ("allowed", "url", "message"),
    [
        ((), "http://127.0.0.1/x", "may not call any host yet"),
        (("example.com",), "http://127.0.0.1/x", "127.0.0.1 is not in BEACON_WORKFLOW_HTTP"),
        (("example.com",), "http://api.example.com/x", "api.example.com is not in"),
        (("*.example.com",), "http://example.com/x", "example.com is not in"),
        (("example.com:8443",), "https://example.com/x", "example.com is not in"),
        (("example.com",), "file:///etc/passwd", "is not an http(s) URL"),
    ],
)
def test_http_refuses_hosts_off_the_allow_list(services, allowed, url, message):
    with pytest.raises(UserInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        run(context(services, http_allowed_hosts=allowed), "http", url=url)


def test_allow_list_matching():
    import httpx

    from core.workflows.tasks.http import host_allowed

    assert host_allowed(httpx.URL("https://a.example.com/x"), ["*.example.com"])
    assert host_allowed(httpx.URL("https://EXAMPLE.com/x"), ["example.com"])
    assert host_allowed(httpx.URL("http://h:8080/x"), ["h:8080"])
    assert not host_allowed(httpx.URL("http://h:8081/x"), ["h:8080"])
    assert not host_allowed(httpx.URL("https://evilexample.com/x"), ["*.example.com"])


# --- notify -------------------------------------------------------------------------------


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP (EHLO, AUTH PLAIN, MAIL, RCPT, DATA) to receive a message."""

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        server = self.server
        self.reply("220 loopback ESMTP")
        sender, recipients = None, []
        while line := self.rfile.readline():
            command = line.decode().strip()
            verb = command.split(" ", 1)[0].upper()
            if verb == "EHLO":
                self.reply("250-loopback")
                self.reply("250 AUTH PLAIN")
            elif verb == "AUTH":
                credentials = base64.b64decode(command.split()[-1]).split(b"\0")
                server.logins.append((credentials[1].decode(), credentials[2].decode()))
                self.reply("235 ok")
            elif verb == "MAIL":
                sender = command.split(":", 1)[1].strip(" <>")
                self.reply("250 ok")
            elif verb == "RCPT":
                recipients.append(command.split(":", 1)[1].strip(" <>"))
                self.reply("250 ok")
            elif verb == "DATA":
                self.reply("354 go on")
                data = b""
                while (chunk := self.rfile.readline()) != b".\r\n":
                    data += chunk
                server.messages.append((sender, recipients, data))
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 ok")


@pytest.fixture
def smtp_server() -> Iterator[socketserver.ThreadingTCPServer]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SmtpHandler)
    server.messages, server.logins = [], []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_email_goes_through_the_smtp_server_with_login_and_attachment(
    services, orders, smtp_server
):
    ctx = context(
        services,
        smtp_host="127.0.0.1",
        smtp_port=smtp_server.server_address[1],
        smtp_security="none",
        smtp_user="beacon",
        smtp_password=Secret("s3cret"),
        smtp_from="reports@example.com",
    )
    report = run(ctx, "export_report", sql="select * from orders", format="csv", filename="orders")
    out = run(
        ctx,
        "notify",
        channel="email",
        to="ops@example.com, cfo@example.com",
        subject="Weekly\nrevenue",
        body="35.5 this week",
        attach=report["path"],
    )
    assert out == {
        "channel": "email",
        "to": ["ops@example.com", "cfo@example.com"],
        "subject": "Weekly revenue",
    }
    assert smtp_server.logins == [("beacon", "s3cret")]
    ((sender, recipients, data),) = smtp_server.messages
    assert (sender, recipients) == ("reports@example.com", ["ops@example.com", "cfo@example.com"])
    message = email.message_from_bytes(data, policy=policy.default)
    assert message["subject"] == "Weekly revenue"
    assert message.get_body().get_content().strip() == "35.5 this week"
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == "orders.csv"
    content = attachment.get_content()
    text = content.decode("utf-8-sig") if isinstance(content, bytes) else content.lstrip("\ufeff")
    assert text.startswith("order_id,order_date,amount")


def test_email_refuses_bad_recipients_files_outside_artifacts_and_a_missing_server(services):
    ctx = context(services, smtp_host="127.0.0.1", smtp_port=1, smtp_security="none")
    with pytest.raises(UserInputError, match="not an address: nobody"):
        run(ctx, "notify", to="ops@example.com, nobody", subject="x")
    with pytest.raises(UserInputError, match="not a file in the artifact store"):
        run(ctx, "notify", to="ops@example.com", attach="../beacon.db")
    with pytest.raises(IntegrationError, match=r"SMTP server 127\.0\.0\.1:1 failed"):
        run(ctx, "notify", to="ops@example.com", subject="x")
    with pytest.raises(UserInputError, match="Email is off"):
        run(context(services), "notify", to="ops@example.com")


def test_webhook_notifications_post_slack_compatible_json(services, http_server):
    ctx = context(services, http_allowed_hosts=(http_server,))
    out = run(
        ctx,
        "notify",
        channel="webhook",
        url=f"http://{http_server}/hook",
        subject="Low stock",
        body="3 SKUs",
    )
    assert out == {"channel": "webhook", "status": 200, "text": "Low stock\n\n3 SKUs"}
    ((method, path, body),) = _Handler.received
    assert (method, path, json.loads(body)) == ("POST", "/hook", {"text": "Low stock\n\n3 SKUs"})


def test_unused_port_is_really_closed():
    # The SMTP failure case above relies on nothing listening on port 1.
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", 1)) != 0


def test_kpi_check_uses_the_kpi_library_metric_over_a_preset(services, write_file):
    # Last date 2024-01-10; last_7 = 4-10 Jan: orders 3 (12.5) + 4 (7.5) + 5 (30) = 50.
    services.catalog.ingest_file(
        SYSTEM,
        write_file(
            "sales.csv",
            "order_id,order_date,customer_id,amount\n"
            "1,2024-01-01,C1,100\n2,2024-01-03,C2,40\n3,2024-01-04,C1,12.5\n"
            "4,2024-01-08,C3,7.5\n5,2024-01-10,C2,30\n",
        ),
    )
    ctx = context(services)
    out = run(
        ctx,
        "kpi_check",
        dataset="sales",
        metric="revenue",
        period="last_7",
        operator="<",
        threshold=60,
    )
    assert (out["value"], out["passed"], out["threshold"]) == (50.0, True, 60.0)
    assert out["window"].startswith("4 Jan 2024 – 10 Jan 2024")
    orders = run(
        ctx,
        "kpi_check",
        dataset="sales",
        metric="orders",
        period="last_7",
        operator=">=",
        threshold=4,
    )
    assert (orders["value"], orders["passed"]) == (3, False)
    with pytest.raises(UserInputError, match="has no KPI 'nope'; choose one of: "):
        run(ctx, "kpi_check", dataset="sales", metric="nope", threshold=1)
    with pytest.raises(UserInputError, match="Give a dataset and a KPI, or a metric SQL"):
        run(ctx, "kpi_check", threshold=1)
