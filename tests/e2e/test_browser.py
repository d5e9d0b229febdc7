"""Beacon in a real browser: sign in, every page of the navigation, roles, data and upload.

One server per module (see conftest.py); each test gets its own browser context, hence
its own Streamlit session. Screenshots land in test-artifacts/screenshots/.
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from components.navigation import PAGES

if TYPE_CHECKING:
    from tests.e2e.conftest import BeaconServer

pytestmark = pytest.mark.browser
expect.set_options(timeout=20_000)

SIGN_IN_TITLE = "Sign in to Beacon"
DEFAULT_TITLE = next(spec.title for spec in PAGES if spec.default)
ADMIN_PAGES = {spec.title for spec in PAGES}
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
DOCS_SCREENSHOT = ROOT / "docs" / "screenshot-data.png"
MAIN = '[data-testid="stMain"]'
ERRORS = '[data-testid="stException"], [data-testid="stAlertContentError"]'

# Idle: no script run, connected, no running-status widget, spinner or skeleton left.
IDLE_JS = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app || app.dataset.testScriptState !== 'notRunning') return false;
    if (app.dataset.testConnectionState !== 'CONNECTED') return false;
    const busy = '[data-testid="stStatusWidget"], [data-testid="stSpinner"], '
        + '[data-testid="stSkeleton"]';
    return document.querySelector(busy) === null;
}"""


def wait_idle(page: Page, timeout_s: float = 30) -> None:
    """Wait until the script run is over and stays over (a rerun may start just after)."""
    deadline = time.monotonic() + timeout_s
    stable = 0
    while stable < 3:
        stable = stable + 1 if page.evaluate(IDLE_JS) else 0
        if time.monotonic() > deadline:
            raise AssertionError(f"the app was still running after {timeout_s}s at {page.url}")
        page.wait_for_timeout(150)


def wait_for_page(page: Page, title: str) -> None:
    """Wait for a page's h1 title, then for its script run to finish."""
    expect(page.locator(f"{MAIN} h1").first).to_have_text(title)
    wait_idle(page)
    expect(page.locator(f"{MAIN} h1").first).to_have_text(title)


def assert_healthy(page: Page, where: str) -> None:
    """No exception or error alert on the page (hidden tabs included), no frontend error."""
    shown = [text.strip() for text in page.locator(ERRORS).all_inner_texts()]
    assert not shown, f"{where}: the page shows errors: {shown}"
    assert not page.js_errors, f"{where}: the frontend raised: {page.js_errors}"


def screenshot_full(page: Page, name: str) -> Path:
    """The whole page: Streamlit scrolls inside stMain, so grow the viewport to fit it."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    height = page.evaluate(
        "() => Math.max(document.querySelector('[data-testid=\"stMain\"]').scrollHeight,"
        " window.innerHeight)"
    )
    viewport = page.viewport_size
    page.set_viewport_size({"width": viewport["width"], "height": min(height, 8000)})
    page.wait_for_timeout(300)  # let data grids and charts redraw at the new size
    page.screenshot(path=path, full_page=True)
    page.set_viewport_size(viewport)
    return path


def open_sign_in(page: Page, server: BeaconServer, path: str = "/") -> None:
    page.goto(server.url + path)
    wait_for_page(page, SIGN_IN_TITLE)


def sign_in(page: Page, server: BeaconServer, email: str) -> None:
    """Fill and submit the sign-in form; wait for the default page."""
    page.get_by_role("textbox", name="Email", exact=True).fill(email)
    page.get_by_role("textbox", name="Password", exact=True).fill(server.password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    server.sign_ins += 1
    wait_for_page(page, DEFAULT_TITLE)


def nav_links(page: Page) -> dict[str, str]:
    """Label -> URL of every page link in the sidebar navigation."""
    more = page.locator('[data-testid="stSidebarNavViewButton"]')
    if more.count() and "more" in more.inner_text().lower():
        more.click()
    links = page.locator('[data-testid="stSidebarNav"] [data-testid="stSidebarNavLink"]')
    labels = links.locator('[data-testid="stMarkdownContainer"]')  # not the icon's name
    return {
        labels.nth(i).inner_text().strip(): links.nth(i).get_attribute("href")
        for i in range(links.count())
    }


def metric_values(page: Page) -> dict[str, str]:
    """Label -> value of the metric cards in the main area."""
    values = {}
    for metric in page.locator(f'{MAIN} [data-testid="stMetric"]').all():
        label = metric.locator('[data-testid="stMetricLabel"]').inner_text().strip()
        values[label] = metric.locator('[data-testid="stMetricValue"]').inner_text().strip()
    return values


def go_to(page: Page, label: str) -> None:
    """Open a page through its sidebar link and wait until it has run."""
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=label, exact=True).click()
    wait_for_page(page, label)


def choose_dataset(page: Page, name: str) -> None:
    picker = page.locator('[data-testid="stSidebar"]').get_by_role("combobox", name="Dataset")
    if picker.input_value() != name:
        picker.click()
        page.get_by_role("option", name=name, exact=True).click()
        expect(picker).to_have_value(name)
    wait_idle(page)


def visible_grid(page: Page):
    """The drawn canvas of the data grid in the open tab."""
    return page.locator(
        f'{MAIN} [data-testid="stTabPanel"] [data-testid="stDataFrame"] '
        '[data-testid="data-grid-canvas"]'
    ).first


def test_fresh_server_offers_only_the_sign_in_form(beacon_server: BeaconServer, page: Page):
    if beacon_server.sign_ins:
        pytest.skip("needs a server nobody has signed in to yet: run it first in the module")
    page.goto(beacon_server.url + "/admin")
    page.locator(f"{MAIN} h1, {MAIN} [data-testid='stAlert']").first.wait_for()
    wait_idle(page)
    titles = page.locator(f"{MAIN} h1").all_inner_texts()
    links = nav_links(page)
    assert (titles[:1], links) == ([SIGN_IN_TITLE], {}), (
        f"a visit to /admin before anyone signed in shows titles {titles} and pages {links}"
    )


def test_admin_opens_every_page_without_errors(beacon_server: BeaconServer, page: Page):
    open_sign_in(page, beacon_server)
    if beacon_server.sign_ins:  # after a sign-in the form page must still list no pages
        assert nav_links(page) == {}, "the sign-in page lists pages"
    sign_in(page, beacon_server, beacon_server.admin_email)

    links = nav_links(page)
    assert links.keys() >= ADMIN_PAGES, f"admin navigation: {sorted(links)}"
    for label, href in links.items():
        page.locator('[data-testid="stSidebarNav"]').get_by_role(
            "link", name=label, exact=True
        ).click()
        expect(page).to_have_url(re.compile("^" + re.escape(href) + r"(\?.*)?$"))
        wait_for_page(page, label)  # each page is titled like its navigation link
        assert_healthy(page, f"page {label}")
        screenshot_full(page, f"{label.lower().replace(' ', '-')}.png")


def test_viewer_cannot_reach_the_admin_page(beacon_server: BeaconServer, page: Page):
    open_sign_in(page, beacon_server)
    sign_in(page, beacon_server, beacon_server.viewer_email)
    links = nav_links(page)
    assert "Admin" not in links, f"viewer navigation: {sorted(links)}"
    assert links.keys() >= {"Data", "Account"}, f"viewer navigation: {sorted(links)}"
    go_to(page, "Data")
    tabs = page.locator(f'{MAIN} [data-testid="stTab"]').all_inner_texts()
    assert "Add data" not in [t.strip() for t in tabs], f"viewer tabs: {tabs}"
    assert_healthy(page, "viewer Data page")
    screenshot_full(page, "viewer-data.png")

    # Opening the admin URL directly starts a new session: sign in, land on the default page.
    open_sign_in(page, beacon_server, "/admin")
    sign_in(page, beacon_server, beacon_server.viewer_email)
    expect(page.get_by_text("Invite people, set what they may do")).to_have_count(0)
    assert "Admin" not in nav_links(page)
    assert_healthy(page, "viewer at /admin")


def test_data_page_shows_the_sample_orders(beacon_server: BeaconServer, page: Page):
    rows = beacon_server.datasets.get("sample_orders")
    assert rows is not None, f"no sample_orders dataset among {sorted(beacon_server.datasets)}"
    open_sign_in(page, beacon_server)
    sign_in(page, beacon_server, beacon_server.admin_email)
    go_to(page, "Data")
    choose_dataset(page, "sample_orders")
    expect(page).to_have_url(re.compile(r"[?&]dataset=sample_orders\b"))

    metrics = metric_values(page)
    assert {"Rows", "Columns", "Duplicate rows", "Version"} <= metrics.keys(), metrics
    assert metrics["Rows"] == f"{rows:,}", metrics
    assert metrics["Version"] == "v1", metrics
    expect(visible_grid(page)).to_be_visible()
    assert visible_grid(page).bounding_box()["height"] > 200
    expect(page.get_by_text(re.compile(r"^Page 1 of [\d,]+ · 50 rows per page$"))).to_be_visible()
    assert_healthy(page, "Data page, sample_orders")

    # The picture for the README: no focus ring on the picker, no hover effects.
    page.evaluate("() => document.fonts.ready.then(() => true)")
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.mouse.move(page.viewport_size["width"] - 5, page.viewport_size["height"] - 5)
    wait_idle(page)
    shot = SCREENSHOTS / "data-sample_orders.png"
    page.screenshot(path=shot)  # the first screen, as a reader of the README sees the app
    shutil.copyfile(shot, DOCS_SCREENSHOT)
    screenshot_full(page, "data-sample_orders-full.png")

    # The Profile tab draws the charts.
    page.get_by_role("tab", name="Profile", exact=True).click()
    wait_idle(page)
    charts = page.locator(f'{MAIN} [data-testid="stTabPanel"] [data-testid="stPlotlyChart"]')
    expect(charts.first).to_be_visible()
    for i in range(charts.count()):
        expect(charts.nth(i).locator(".main-svg").first).to_be_visible()
    assert_healthy(page, "Data page, Profile tab")
    screenshot_full(page, "data-profile.png")


def test_upload_a_csv_on_the_add_data_tab(beacon_server: BeaconServer, page: Page, tmp_path: Path):
    csv = tmp_path / "store_visits.csv"
    csv.write_text(
        "day,store,visits\n2024-05-01,Oslo,120\n2024-05-02,Bergen,87\n2024-05-03,Oslo,131\n",
        encoding="utf-8",
    )
    open_sign_in(page, beacon_server)
    sign_in(page, beacon_server, beacon_server.admin_email)
    go_to(page, "Data")
    page.get_by_role("tab", name="Add data", exact=True).click()
    wait_idle(page)

    page.locator(f'{MAIN} [data-testid="stFileUploaderDropzoneInput"]').set_input_files(csv)
    expect(page.locator(f'{MAIN} [data-testid="stFileChipName"]')).to_contain_text(csv.name)
    wait_idle(page)
    page.get_by_role("textbox", name="Dataset name").fill("uploaded_visits")
    page.get_by_role("button", name="Add to catalog").click()

    success = page.locator(f'{MAIN} [data-testid="stAlertContentSuccess"]')
    expect(success).to_contain_text("Created uploaded_visits: 3 rows, 3 columns")
    wait_idle(page)
    picker = page.locator('[data-testid="stSidebar"]').get_by_role("combobox", name="Dataset")
    expect(picker).to_have_value("uploaded_visits")
    assert metric_values(page)["Rows"] == "3"
    assert_healthy(page, "Data page after upload")
    screenshot_full(page, "data-upload.png")


def test_server_log_has_no_tracebacks(beacon_server: BeaconServer):
    log = beacon_server.log.read_text(encoding="utf-8", errors="replace")
    assert "Traceback (most recent call last)" not in log, f"see {beacon_server.log}"


def test_supply_chain_tabs_render_on_the_sample_company(beacon_server: BeaconServer, page: Page):
    """Every tab of the Supply chain page draws in the browser (tables, heat map, charts)."""
    open_sign_in(page, beacon_server)
    sign_in(page, beacon_server, beacon_server.admin_email)
    go_to(page, "Supply chain")
    drawn = {  # what each tab must show once it has run
        "Recommended orders": '[data-testid="stDataFrame"]',
        "Suppliers": '[data-testid="stDataFrame"]',
        "Risk register": '[data-testid="stPlotlyChart"]',
        "What-if": '[data-testid="stForm"]',
        "Carbon": '[data-testid="stPlotlyChart"]',
    }
    for tab, element in drawn.items():
        page.locator(MAIN).get_by_role("tab", name=tab, exact=True).click()
        wait_idle(page)
        assert_healthy(page, f"Supply chain, {tab}")
        panel = page.locator(f'{MAIN} [data-testid="stTabPanel"]:visible')
        expect(panel.locator(element).first).to_be_visible()
        screenshot_full(page, f"supply-chain-{tab.lower().replace(' ', '-')}.png")
