"""Screen Recording Certificates in real Chromium: staged Add and Remove, Cancel, Save, the last-certificate warning,
the same page without JavaScript, and two sessions saving the same list."""

import pytest
from playwright.sync_api import Browser, Page, expect

from portal.accounts.models import Role
from screenrecording.models import ScreenRecordingCertificate
from tests.browser.conftest import sign_in
from tests.conftest import World, make_user
from tests.factories import make_certificate

pytestmark = pytest.mark.browser

FUTURE_ONLY = "Changes affect only future recordings; recordings already made keep their encryption."


def saved(world: World) -> set[str]:
    return {a.certificate.alias for a in ScreenRecordingCertificate.objects.filter(tenant=world.acme)}


def open_page(page: Page, base_url: str, who: str = "alice") -> None:
    sign_in(page, base_url, who)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Screen Recording Certificates").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Screen Recording Certificates")
    expect(page.locator("#future-only")).to_have_text(FUTURE_ONLY)
    page.wait_for_load_state("load")


def row(page: Page, alias: str):
    return page.locator("table.screenrecording tbody tr", has_text=alias)


def add(page: Page, *aliases: str) -> None:
    page.get_by_role("button", name="Add", exact=True).first.click()
    dialog = page.get_by_role("dialog", name="Select Certificate")
    expect(dialog).to_be_visible()
    for alias in aliases:
        dialog.get_by_label(f"Select {alias}").check()
    dialog.get_by_role("button", name="Add", exact=True).click()


def test_admin_stages_add_and_remove_cancels_then_saves_and_is_warned_before_removing_the_last(
    page: Page, live_server, world: World
) -> None:
    listed = make_certificate(world.acme, "screen-a")
    ScreenRecordingCertificate.objects.create(tenant=world.acme, certificate=listed)
    make_certificate(world.acme, "screen-b")
    open_page(page, live_server.url)
    expect(row(page, "screen-a")).to_contain_text("Saved")

    # Select Certificate opens as a dialog in place; its Cancel changes nothing.
    page.get_by_role("button", name="Add", exact=True).click()
    dialog = page.get_by_role("dialog", name="Select Certificate")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Select screen-a")).to_have_count(0)  # already on the list
    dialog.get_by_label("Select screen-b").check()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(row(page, "screen-b")).to_have_count(0)

    add(page, "screen-b")
    expect(row(page, "screen-b")).to_contain_text("Pending add")
    row(page, "screen-a").get_by_label("Select screen-a").check()
    page.get_by_role("button", name="Remove").click()
    expect(row(page, "screen-a")).to_contain_text("Pending removal")
    expect(page.get_by_text("Pending changes: they take effect only when you click Save.")).to_be_visible()
    assert saved(world) == {"screen-a"}  # staged, not saved

    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("status")).to_contain_text("Changes discarded; nothing was saved.")
    expect(row(page, "screen-a")).to_contain_text("Saved")
    expect(row(page, "screen-b")).to_have_count(0)
    assert saved(world) == {"screen-a"}

    add(page, "screen-b")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Saved: added 'screen-b'.")
    assert saved(world) == {"screen-a", "screen-b"}

    for alias in ("screen-a", "screen-b"):
        row(page, alias).get_by_label(f"Select {alias}").check()
    page.get_by_role("button", name="Remove").click()
    warning = page.locator("#unencrypted-warning")
    expect(warning).to_contain_text("If you remove all certificates, screen recordings will no longer be encrypted.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert").first).to_contain_text("Check the confirmation to save anyway")
    assert saved(world) == {"screen-a", "screen-b"}
    page.get_by_label("I understand: screen recordings made after Save will not be encrypted.").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Screen recordings made from now on are not encrypted.")
    expect(page.locator("#no-certificates")).to_be_visible()
    assert saved(world) == set()


def test_staging_works_without_javascript(browser: Browser, live_server, world: World) -> None:
    make_certificate(world.acme, "screen-a")
    page = browser.new_context(java_script_enabled=False).new_page()
    open_page(page, live_server.url)
    page.get_by_role("button", name="Add", exact=True).click()  # a round trip: the server shows the window
    dialog = page.locator("#select-certificate")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Select screen-a").check()
    dialog.get_by_role("button", name="Add", exact=True).click()
    expect(row(page, "screen-a")).to_contain_text("Pending add")
    assert saved(world) == set()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Saved: added 'screen-a'.")
    assert saved(world) == {"screen-a"}


def test_two_sessions_saving_the_same_list(browser: Browser, live_server, world: World) -> None:
    for alias in ("screen-a", "screen-b"):
        make_certificate(world.acme, alias)
    make_user("carol", Role.TENANT_ADMIN, world.acme)
    first = browser.new_context().new_page()
    second = browser.new_context().new_page()
    open_page(first, live_server.url, "alice")
    open_page(second, live_server.url, "carol")

    add(first, "screen-a")
    add(second, "screen-b")
    first.get_by_role("button", name="Save").click()
    expect(first.get_by_role("status")).to_contain_text("Saved: added 'screen-a'.")

    second.get_by_role("button", name="Save").click()
    expect(second.get_by_role("alert")).to_contain_text("The list was changed by alice at ")
    expect(second.get_by_role("alert")).to_contain_text(
        "while you were editing. Nothing was saved; this is the current list."
    )
    expect(row(second, "screen-a")).to_contain_text("Saved")
    expect(row(second, "screen-b")).to_have_count(0)
    assert saved(world) == {"screen-a"}

    # Starting again from the current list works.
    add(second, "screen-b")
    second.get_by_role("button", name="Save").click()
    expect(second.get_by_role("status")).to_contain_text("Saved: added 'screen-b'.")
    assert saved(world) == {"screen-a", "screen-b"}
