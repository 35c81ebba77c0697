import csv
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in
from tests.conftest import World
from tests.factories import assign_to_ivr, make_certificate

pytestmark = pytest.mark.browser


@pytest.fixture
def certificates(world: World) -> None:
    assign_to_ivr(make_certificate(world.acme, "acme-expired", days=-12))
    make_certificate(world.acme, "acme-valid", days=300)
    make_certificate(world.globex, "globex-expired", days=-40)
    make_certificate(world.globex, "globex-soon", days=20)


def listed(page: Page):
    return page.locator("table.expiry tbody td.alias")


def test_support_filters_the_dashboard_and_downloads_the_csv(page: Page, live_server, world, certificates) -> None:
    sign_in(page, live_server.url, "sam")
    page.goto(f"{live_server.url}/expiry/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Certificate Expiry — all tenants")
    expect(page.get_by_role("alert")).to_contain_text("1 expired certificate still assigned")
    expect(listed(page)).to_have_text(["globex-expired", "acme-expired", "globex-soon", "acme-valid"])
    expect(page.locator("table.expiry tr.urgent")).to_contain_text("acme-expired")
    expect(page.locator("figure.chart svg rect.bar")).to_have_count(2)  # globex-soon and acme-valid, months apart

    filters = page.get_by_role("group", name="Filter")
    filters.get_by_label("Status").select_option("expired")
    filters.get_by_role("button", name="Apply").click()
    expect(listed(page)).to_have_text(["globex-expired", "acme-expired"])
    expect(page).to_have_url(re.compile(r"/expiry/\?.*status=expired"))

    filters = page.get_by_role("group", name="Filter")
    filters.get_by_label("Tenant").select_option("globex")
    filters.get_by_role("button", name="Apply").click()
    expect(listed(page)).to_have_text(["globex-expired"])
    expect(page.get_by_role("group", name="Filter").get_by_label("Tenant")).to_have_value("globex")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV").click()
    download = download_info.value
    assert download.suggested_filename.startswith("expiry-all-tenants-")
    with Path(download.path()).open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["Tenant"], r["Alias"], r["Status"]) for r in rows] == [
        ("globex", "globex-expired", "Expired — playback only")
    ]


def test_a_chart_bar_lists_its_month(page: Page, live_server, world, certificates) -> None:
    sign_in(page, live_server.url, "bob")
    page.goto(f"{live_server.url}/t/globex/expiry/")
    expect(listed(page)).to_have_text(["globex-expired", "globex-soon"])
    page.locator("figure.chart svg a").first.click()
    expect(page.get_by_text("Showing certificates expiring in")).to_be_visible()
    expect(listed(page)).to_have_text(["globex-soon"])
