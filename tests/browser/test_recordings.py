"""A tenant administrator decrypts a recording in real Chromium and gets back the very bytes that were encrypted."""

import os

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in
from tests.factories import make_certificate
from tests.recordings.envelopes import recording

pytestmark = pytest.mark.browser


def test_decrypt_a_recording_on_the_page(page: Page, live_server, world, tmp_path):
    certificate = make_certificate(world.acme, "recording-2026")
    content = os.urandom(300_000)
    encrypted = tmp_path / "call-2026-11-28.bin"
    encrypted.write_bytes(recording(content, certificate, tmp_path / "work"))

    sign_in(page, live_server.url, "alice")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Decrypt Recordings").click()
    expect(page.get_by_role("heading", name="Decrypt Recordings", level=1)).to_be_visible()
    page.get_by_label("Recordings").set_input_files(str(encrypted))
    page.get_by_role("button", name="Decrypt").click()

    row = page.get_by_role("row").filter(has_text="call-2026-11-28.bin")
    expect(row).to_contain_text("recording-2026")
    expect(row).to_contain_text("decrypted")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download decrypted recording").click()
    download = download_info.value
    assert download.suggested_filename == "call-2026-11-28"
    saved = tmp_path / "downloaded"
    download.save_as(saved)
    assert saved.read_bytes() == content
