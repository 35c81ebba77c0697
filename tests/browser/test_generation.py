"""Generate and Renew in real Chromium: a key and certificate made from the Recording Certificates list, then a
certificate near its end renewed from the expiry dashboard, its successor linked to it."""

import re

import pytest
from playwright.sync_api import Page, expect

from certificates.models import Certificate
from tests.browser.conftest import sign_in
from tests.conftest import World
from tests.factories import make_certificate

pytestmark = pytest.mark.browser


def test_generate_from_the_list_and_land_on_the_new_certificate(page: Page, live_server, world: World) -> None:
    sign_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/t/acme/certificates/")
    page.get_by_role("link", name="Generate", exact=True).click()
    expect(page.get_by_role("heading", name="Generate Key and Certificate")).to_be_visible()
    expect(page.get_by_text("Generating the key can take a few seconds (RSA-4096 longer).")).to_be_visible()
    expect(page.get_by_label("Validity (days)")).to_have_value("3650")
    expect(page.get_by_label("Key size")).to_have_value("3072")

    page.get_by_label("Common Name (CN)").fill("Acme Voice")
    page.get_by_label("Country (C)").fill("US")
    page.get_by_label("Organization (O)").fill("Acme")
    page.get_by_label("Key size").select_option("2048")
    page.get_by_label("Alias").fill("acme-voice")
    page.get_by_role("button", name="Generate").click()

    expect(page.get_by_role("heading", name="acme-voice")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Key and self-signed certificate 'acme-voice' (Acme Voice)")
    expect(page.locator("dl.details").first).to_contain_text("CN=Acme Voice,C=US,O=Acme")
    expect(page.get_by_role("link", name="Download certificate")).to_be_visible()
    saved = Certificate.objects.get()
    assert saved.alias == "acme-voice" and saved.key_size == 2048
    expect(page).to_have_url(re.compile(rf"/t/acme/certificates/{saved.pk}/$"))


def test_the_button_waits_while_the_key_is_made_and_a_bad_field_is_shown_on_it(
    page: Page, live_server, world: World
) -> None:
    sign_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/t/acme/certificates/generate/")
    page.get_by_label("Common Name (CN)").fill("Acme Voice")
    page.get_by_label("Country (C)").fill("USA")
    page.get_by_label("Key size").select_option("2048")
    # Sent to another tab, so that this page can be read once the form has gone, as during a slow generation.
    page.locator("form.new-key").evaluate("form => { form.target = '_blank'; }")
    with page.context.expect_page() as sent:
        page.get_by_role("button", name="Generate").click()
    expect(page.get_by_role("button", name="Generate")).to_be_disabled()
    expect(page.locator("form.new-key .generating")).to_have_text(
        "Generating the key… this can take a few seconds (RSA-4096 longer)."
    )
    page = sent.value
    expect(page.locator("#country-errors")).to_have_text("Country (C) is a two-letter country code, such as US.")
    expect(page.get_by_label("Common Name (CN)")).to_have_value("Acme Voice")
    expect(page.get_by_role("button", name="Generate")).to_be_enabled()
    assert not Certificate.objects.exists()


def test_renew_from_the_expiry_dashboard(page: Page, live_server, world: World) -> None:
    soon = make_certificate(world.acme, "acme-soon", cn="Acme Recording", days=20)
    make_certificate(world.acme, "acme-later", days=400)
    sign_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/t/acme/expiry/")
    expect(page.get_by_role("row").filter(has_text="acme-later").get_by_role("link", name="Renew")).to_have_count(0)
    page.get_by_role("row").filter(has_text="acme-soon").get_by_role("link", name="Renew acme-soon").click()

    expect(page.get_by_role("heading", name="Renew acme-soon")).to_be_visible()
    expect(page.get_by_label("Common Name (CN)")).to_have_value("Acme Recording")
    page.get_by_label("Key size").select_option("2048")
    page.get_by_label("Alias").fill("acme-next")
    page.get_by_role("button", name="Renew").click()

    expect(page.get_by_role("heading", name="acme-next")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Certificate 'acme-soon' was renewed")
    renews = page.locator("dl.details dt", has_text="Renews").locator("xpath=following-sibling::dd[1]")
    expect(renews.get_by_role("link", name="acme-soon")).to_be_visible()

    renews.get_by_role("link", name="acme-soon").click()
    expect(page.get_by_role("heading", name="acme-soon")).to_be_visible()
    renewed_by = page.locator("dl.details dt", has_text="Renewed by").locator("xpath=following-sibling::dd[1]")
    expect(renewed_by.get_by_role("link", name="acme-next")).to_be_visible()

    # The predecessor stays active, beside its successor.
    page.get_by_role("link", name="Recording Certificates").first.click()
    rows = page.locator("table.certificates tbody tr")
    expect(rows.filter(has_text="acme-soon")).to_contain_text("Expiring soon")
    expect(rows.filter(has_text="acme-next")).to_contain_text("Valid")
    successor = Certificate.objects.get(renews=soon)
    assert successor.alias == "acme-next"
    soon.refresh_from_db()
    assert soon.archived_at is None
