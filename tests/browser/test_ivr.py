"""IVR profiles in real Chromium: a Genesys professional assigns and unassigns; the tenant administrator asks and
sees the answer."""

from datetime import UTC, datetime

import pytest
from playwright.sync_api import Browser, Page, expect

from ivr.models import AssignmentRequest, IvrAssignment
from tests.browser.conftest import sign_in
from tests.conftest import World
from tests.factories import expired_certificate, make_certificate

pytestmark = pytest.mark.browser


def option(cert) -> str:
    """The certificate as the Certificate list offers it."""
    return f"{cert.alias} — {cert.subject_name}, serial {cert.serial_number} ({cert.current_status_label})"


def open_record_profile(page: Page, base_url: str, who: str) -> None:
    sign_in(page, base_url, who)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="IVR Profiles").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("IVR Profiles")
    page.get_by_role("link", name="record", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("IVR profile record")
    page.wait_for_load_state("load")


def test_professional_assigns_and_unassigns_on_a_profile(page: Page, live_server, world: World) -> None:
    cert = make_certificate(world.acme, "acme-2026")
    old = expired_certificate(world.acme, "old-2024", ended=datetime(2025, 1, 31, 12, 0, tzinfo=UTC))
    open_record_profile(page, live_server.url, "pat")
    expect(page.locator("#no-certificates")).to_be_visible()

    # An expired certificate is refused, with its date, where the choice was made.
    page.get_by_label("Certificate").select_option(label=option(old))
    page.get_by_role("button", name="Assign").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "'old-2024' expired on 2025-01-31 12:00 UTC; it can no longer be used for recording."
    )

    page.get_by_label("Certificate").select_option(label=option(cert))
    page.get_by_role("button", name="Assign").click()
    expect(page.get_by_role("status")).to_contain_text("'acme-2026' assigned to the IVR profile 'record'.")
    row = page.locator("table.ivr-assignments tr", has_text="acme-2026")
    expect(row).to_contain_text(cert.serial_number)
    expect(row).to_contain_text(cert.sha256_fingerprint)
    # The Annex section as the Configuration Server holds it, with a copy button per certificate.
    expect(page.locator(".annex-option")).to_contain_text("Option acme-2026")
    expect(page.locator(".annex-option pre.pem")).to_contain_text("-----BEGIN CERTIFICATE-----")
    expect(page.get_by_role("button", name="Copy acme-2026")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download section as text").click()
    assert download.value.suggested_filename == "acme-record-recording-certificates.txt"
    assert "private" not in page.content().lower().replace("never its private key", "")
    assert IvrAssignment.objects.filter(certificate=cert).exists()

    page.get_by_role("button", name="Unassign acme-2026").click()
    expect(page.get_by_role("status")).to_contain_text("'acme-2026' unassigned from the IVR profile 'record'.")
    expect(page.locator("#no-certificates")).to_be_visible()
    assert not IvrAssignment.objects.exists()


def test_tenant_admin_asks_and_sees_the_professionals_answer(browser: Browser, live_server, world: World) -> None:
    cert = make_certificate(world.acme, "acme-2026")
    admin = browser.new_context().new_page()
    open_record_profile(admin, live_server.url, "alice")
    admin.get_by_label("Certificate").select_option(label=option(cert))
    admin.get_by_label("Comment for the Genesys professional").fill("Renewal for April")
    admin.get_by_role("button", name="Request assignment").click()
    expect(admin.get_by_role("status")).to_contain_text("Request sent")
    expect(admin.locator("table.requests")).to_contain_text("Open")

    professional = browser.new_context().new_page()
    sign_in(professional, live_server.url, "pat")
    professional.goto(f"{live_server.url}/t/acme/ivr-profiles/requests/")
    request_row = professional.locator("table.requests tbody tr", has_text="acme-2026")
    expect(request_row).to_contain_text("Renewal for April")
    request_row.get_by_label("Comment (optional)").fill("Assigned, effective now")
    request_row.get_by_role("button", name="Assign").click()
    expect(professional.get_by_role("status")).to_contain_text("the request is closed")

    admin.reload()
    answered = admin.locator("table.requests tbody tr", has_text="acme-2026")
    expect(answered).to_contain_text("Assigned")
    expect(answered).to_contain_text("by pat")
    expect(answered).to_contain_text("Assigned, effective now")
    expect(admin.locator("table.ivr-assignments")).to_contain_text("acme-2026")
    assert AssignmentRequest.objects.get().status == "fulfilled"
