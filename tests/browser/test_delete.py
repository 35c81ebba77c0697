"""The guarded delete in real Chromium: refused while assigned, then archived, restored, and finally purged."""

import pytest
from playwright.sync_api import Browser, Page, expect

from certificates.models import Certificate
from keystore.models import KeystoreEntry
from tests.browser.conftest import sign_in
from tests.conftest import World
from tests.factories import assigned_to_record

pytestmark = pytest.mark.browser


def open_certificate(page: Page, base_url: str, alias: str) -> None:
    page.goto(f"{base_url}/t/acme/certificates/")
    page.get_by_role("link", name=alias, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(alias)


def test_delete_from_refusal_to_archive_to_restore(browser: Browser, live_server, world: World) -> None:
    cert = assigned_to_record(world.acme, "acme-2024").certificate
    admin = browser.new_context().new_page()
    sign_in(admin, live_server.url, "alice")
    open_certificate(admin, live_server.url, "acme-2024")
    admin.get_by_role("link", name="Delete").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Delete certificate acme-2024")
    impact = admin.locator("ul.impact")
    expect(impact).to_contain_text("IVR profile 'record' (DBID 1)")
    expect(impact).to_contain_text("cannot be played back without its private key")
    expect(impact).to_contain_text("Expired certificates are kept for playback")
    expect(admin.locator("#in-use")).to_contain_text("cannot be deleted: it is assigned to IVR profile 'record'")

    # Refused while assigned, even with the alias typed in.
    admin.get_by_label("Type the certificate's alias to confirm").fill("acme-2024")
    admin.get_by_role("button", name="Delete").click()
    expect(admin.get_by_role("alert").first).to_contain_text("'acme-2024' cannot be deleted: it is assigned to")
    assert Certificate.objects.get(pk=cert.pk).archived_at is None

    # The professional unassigns it.
    professional = browser.new_context().new_page()
    sign_in(professional, live_server.url, "pat")
    professional.goto(f"{live_server.url}/t/acme/ivr-profiles/")
    professional.get_by_role("link", name="record", exact=True).click()
    professional.get_by_role("button", name="Unassign acme-2024").click()
    expect(professional.get_by_role("status")).to_contain_text("unassigned")

    admin.goto(f"{live_server.url}/t/acme/certificates/{cert.pk}/delete/")
    expect(admin.locator("#in-use")).to_have_count(0)
    expect(admin.locator("ul.impact")).to_contain_text("no IVR profile and not the screen-recording list")
    admin.get_by_label("Type the certificate's alias to confirm").fill("acme-2025")
    admin.get_by_role("button", name="Delete").click()
    expect(admin.get_by_role("alert").first).to_contain_text("Type the alias 'acme-2024' exactly")
    admin.get_by_label("Type the certificate's alias to confirm").fill("acme-2024")
    admin.get_by_role("button", name="Delete").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Archive of deleted certificates")
    expect(admin.get_by_role("status")).to_contain_text("it and its private key are in the archive")
    archived_row = admin.locator("table.archive tbody tr", has_text="acme-2024")
    expect(archived_row).to_contain_text("by alice")
    admin.goto(f"{live_server.url}/t/acme/certificates/")
    expect(admin.get_by_role("link", name="acme-2024", exact=True)).to_have_count(0)

    admin.goto(f"{live_server.url}/t/acme/archive/")
    admin.get_by_role("button", name="Restore acme-2024").click()
    expect(admin.get_by_role("status")).to_contain_text("'acme-2024' was restored")
    expect(admin.get_by_role("link", name="acme-2024", exact=True)).to_be_visible()
    assert Certificate.objects.get(pk=cert.pk).archived_at is None


def test_purge_is_a_separate_confirmed_step(page: Page, live_server, world: World) -> None:
    assignment = assigned_to_record(world.acme, "acme-2023")
    cert = assignment.certificate
    assignment.delete()
    sign_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/t/acme/certificates/{cert.pk}/delete/")
    page.get_by_label("Type the certificate's alias to confirm").fill("acme-2023")
    page.get_by_role("button", name="Delete").click()
    page.get_by_role("link", name="Purge acme-2023").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Purge certificate acme-2023 for good")
    page.get_by_label("Type the certificate's alias to confirm").fill("acme-2023")
    page.get_by_role("button", name="Purge").click()
    expect(page.get_by_role("alert").first).to_contain_text("to purge")
    assert Certificate.objects.filter(pk=cert.pk).exists()
    page.get_by_label("I understand recordings encrypted for this certificate can no longer be played back").check()
    page.get_by_role("button", name="Purge").click()
    expect(page.get_by_role("status")).to_contain_text("'acme-2023' and its private key were purged for good.")
    expect(page.get_by_text("The archive is empty.")).to_be_visible()
    assert not Certificate.objects.filter(pk=cert.pk).exists()
    assert not KeystoreEntry.objects.filter(pk=cert.entry_id).exists()
