"""A tenant administrator backs up the keystore and downloads one key in real Chromium."""

import pytest
from playwright.sync_api import Page, expect

from keystore import pfx
from tests.browser.conftest import sign_in
from tests.certificates import pki
from tests.conftest import PASSWORD
from tests.keystore.helpers import store

pytestmark = pytest.mark.browser

BACKUP_PASSWORD = "offsite backup 2026"


@pytest.fixture
def fast_pfx(monkeypatch):
    monkeypatch.setattr(pfx.contents, "ITERATIONS", 2048)


def test_backup_and_key_download(page: Page, live_server, world, fast_pfx, tmp_path):
    store(world.acme, "acme-2026", 0)
    _, key, _ = store(world.acme, "acme-2019", 1, expired=True)
    sign_in(page, live_server.url, "alice")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Keystore").click()
    expect(page.get_by_role("heading", name="Keystore", level=1)).to_be_visible()
    expect(
        page.get_by_text("Loss of the keystore and private key would result in loss of recording files.")
    ).to_be_visible()
    expect(page.get_by_text("2 entries, 1 expired.")).to_be_visible()

    # a wrong password is refused where it was typed
    page.get_by_label("Your password").fill("not my password")
    page.get_by_label("Backup password *", exact=True).fill(BACKUP_PASSWORD)
    page.get_by_label("Confirm backup password").fill(BACKUP_PASSWORD)
    page.get_by_role("button", name="Download backup").click()
    expect(page.get_by_role("alert").filter(has_text="Your password is not correct.")).to_be_visible()
    expect(page.get_by_label("Your password")).to_have_value("")  # passwords are never sent back

    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_label("Backup password *", exact=True).fill(BACKUP_PASSWORD)
    page.get_by_label("Confirm backup password").fill(BACKUP_PASSWORD)
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download backup").click()
    download = download_info.value
    assert download.suggested_filename.startswith("acme-keystore-") and download.suggested_filename.endswith(".p12")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert sorted(k.alias for k in pfx.read_pfx(saved.read_bytes(), BACKUP_PASSWORD).keys) == ["acme-2019", "acme-2026"]

    page.get_by_role("link", name="Download key of acme-2019").click()
    expect(page.get_by_role("heading", name="Download private key")).to_be_visible()
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_label("Unencrypted PKCS#8 (private.pem)").check()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download").click()
    assert download_info.value.suggested_filename == "private.pem"
    pem = tmp_path / "private.pem"
    download_info.value.save_as(pem)
    assert pki.load_rsa_key(pem.read_bytes()).private_numbers() == key.private_numbers()
