"""Fixtures of the browser tests: one Beacon server with prepared state, and Chromium.

The server is a real `streamlit run app.py` subprocess over its own BEACON_HOME (never the
per-test one the autouse fixture sets), prepared through the CLI and core before it starts.
Its output goes to test-artifacts/streamlit-e2e.log; screenshots to test-artifacts/screenshots.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
SERVER_LOG = ARTIFACTS / "streamlit-e2e.log"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
VIEWPORT = {"width": 1400, "height": 900}

ADMIN_EMAIL = "admin@example.com"
VIEWER_EMAIL = "viewer@example.com"
PASSWORD = "correct horse battery"
STARTUP_TIMEOUT_S = 60

# Used when core/data/sample.py is missing: a small stand-in named like the sample table.
FALLBACK_ORDERS_CSV = """order_id,order_date,customer_id,product_id,quantity,revenue
O-1,2024-01-03,C-1,P-1,2,19.90
O-2,2024-01-05,C-2,P-2,1,120.00
O-3,2024-02-11,C-1,P-3,5,42.50
O-4,2024-02-20,C-3,P-1,1,9.95
O-5,2024-03-02,C-2,P-2,3,360.00
"""


@dataclass
class BeaconServer:
    """A running Beacon app and what was prepared in it."""

    url: str
    home: Path
    log: Path
    datasets: dict[str, int]  # sample dataset name -> rows
    admin_email: str = ADMIN_EMAIL
    viewer_email: str = VIEWER_EMAIL
    password: str = PASSWORD
    sign_ins: int = 0  # sign-ins so far (the first one makes the app call st.navigation)
    notes: list[str] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_env(home: Path, secrets: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEACON_")}
    env.update(
        BEACON_HOME=str(home),
        BEACON_SECRETS_FILE=str(secrets),
        PYTHONUNBUFFERED="1",
        STREAMLIT_BROWSER_GATHER_USAGE_STATS="false",
    )
    return env


def _cli(args: list[str], env: dict[str, str], log, stdin: str | None = None) -> str:
    """Run `python -m core ARGS` in the repo; returns stdout, raises with output on failure."""
    result = subprocess.run(
        [sys.executable, "-m", "core", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    log.write(f"$ python -m core {' '.join(args)}  -> {result.returncode}\n")
    log.write(result.stdout + result.stderr + "\n")
    log.flush()
    if result.returncode != 0:
        raise RuntimeError(
            f"python -m core {' '.join(args)} failed ({result.returncode}):\n"
            f"{result.stdout}{result.stderr}"
        )
    return result.stdout


def _load_data(env: dict[str, str], home: Path, log) -> tuple[dict[str, int], list[str]]:
    """Load the sample company; without core/data/sample.py, ingest a small orders CSV."""
    try:
        out = _cli(["sample", "load", "--json"], env, log)
        loaded = json.loads(out)["loaded"]
        return {d["dataset"]: d["rows"] for d in loaded}, []
    except RuntimeError:
        if (ROOT / "core" / "data" / "sample.py").exists():
            raise
    csv = home.parent / "orders.csv"
    csv.write_text(FALLBACK_ORDERS_CSV, encoding="utf-8")
    out = _cli(["ingest", str(csv), "--name", "sample_orders", "--json"], env, log)
    payload = json.loads(out)
    rows = payload.get("rows", len(FALLBACK_ORDERS_CSV.splitlines()) - 1)
    note = "core/data/sample.py is missing: used a 5-row stand-in for sample_orders"
    return {"sample_orders": rows}, [note]


def _create_viewer(home: Path, secrets: Path) -> None:
    """Create the viewer account through core, over the server's BEACON_HOME."""
    from core.auth import users
    from core.auth.roles import Role, User
    from core.config import load_settings
    from core.services import open_services

    env = {"BEACON_HOME": str(home), "BEACON_SECRETS_FILE": str(secrets)}
    services = open_services(load_settings(env=env))
    try:
        users.create_user(
            services.store, User.system(), VIEWER_EMAIL, Role.VIEWER, password=PASSWORD
        )
    finally:
        services.store.engine.dispose()


def _wait_healthy(proc: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
            raise RuntimeError(f"streamlit exited with {proc.returncode} at startup:\n{tail}")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            connection.request("GET", "/_stcore/health")
            response = connection.getresponse()
            if response.status == 200 and response.read().strip() == b"ok":
                return
        except (OSError, http.client.HTTPException):
            pass
        finally:
            connection.close()
        time.sleep(0.25)
    raise RuntimeError(f"streamlit did not report healthy within {STARTUP_TIMEOUT_S}s; see {log}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    except ProcessLookupError:
        pass


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed (make test installs it as root)")
    return CHROMIUM


@pytest.fixture(scope="module")
def beacon_server(
    chromium_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BeaconServer]:
    """Beacon served on a free port, with an admin, a viewer and the sample data."""
    base = tmp_path_factory.mktemp("beacon-e2e")
    home, secrets = base / "home", base / "no-secrets.toml"
    env = _server_env(home, secrets)
    ARTIFACTS.mkdir(exist_ok=True)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with SERVER_LOG.open("w", encoding="utf-8") as log:
        log.write(f"BEACON_HOME={home}\n")
        _cli(
            ["users", "create-admin", "--email", ADMIN_EMAIL, "--password-stdin"],
            env,
            log,
            PASSWORD + "\n",
        )
        _create_viewer(home, secrets)
        datasets, notes = _load_data(env, home, log)
        log.write(f"$ streamlit run app.py on {url}\n")
        log.flush()
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                "app.py",
                f"--server.port={port}",
                "--server.address=127.0.0.1",
                "--server.headless=true",
                # Others may edit the source while the tests run: no "File change" prompts.
                "--server.fileWatcherType=none",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, killed as a whole at teardown
        )
    for note in notes:
        warnings.warn(note, stacklevel=1)
    try:
        _wait_healthy(proc, port, SERVER_LOG)
        yield BeaconServer(url=url, home=home, log=SERVER_LOG, datasets=datasets, notes=notes)
    finally:
        _stop(proc)


@pytest.fixture(scope="module")
def browser(chromium_path: Path):
    from playwright.sync_api import sync_playwright

    for stale in SCREENSHOTS.glob("FAILED-*.png"):  # from earlier runs
        stale.unlink()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture
def page(browser, request: pytest.FixtureRequest):
    """A fresh browser context (so a fresh Streamlit session); a screenshot on failure."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.js_errors = []  # uncaught exceptions in the app's frontend
    page.on("pageerror", lambda exc: page.js_errors.append(str(exc)))
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        try:
            page.screenshot(path=SCREENSHOTS / f"FAILED-{request.node.name}.png", full_page=True)
        except Exception as exc:  # the page may be gone; the failure itself matters more
            print(f"could not save a failure screenshot: {exc}")
    context.close()
