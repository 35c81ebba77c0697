"""The Upload Certificate panel in real Chromium: the fields fill from the server's parser as soon as a file is
chosen, before Save."""

import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from certificates.models import Certificate
from tests.browser.conftest import sign_in
from tests.conftest import World

pytestmark = pytest.mark.browser

SEED_SUBJ = "/CN=Genesys Recording/C=US/ST=California/O=Genesys"


@pytest.fixture
def seed_files(tmp_path: Path) -> Path:
    """tenant.key and tenant.pem made with the seed's commands, plus a CSR to choose by mistake."""

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=tmp_path, check=True, capture_output=True)

    openssl("genrsa", "-out", "tenant.key", "2048")
    openssl("req", "-new", "-x509", "-key", "tenant.key", "-out", "tenant.pem", "-days", "3650", "-subj", SEED_SUBJ)
    openssl("req", "-new", "-key", "tenant.key", "-out", "tenant.csr", "-subj", SEED_SUBJ)
    return tmp_path


def serial_of(folder: Path) -> int:
    printed = subprocess.run(
        ["openssl", "x509", "-in", "tenant.pem", "-noout", "-serial"],
        cwd=folder,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return int(printed.strip().split("=", 1)[1], 16)


def open_upload(page: Page, base_url: str) -> None:
    sign_in(page, base_url, "alice")
    page.goto(f"{base_url}/t/acme/certificates/")
    page.get_by_role("link", name="Upload").click()
    expect(page.get_by_role("heading", name="Upload Certificate")).to_be_visible()
    # A click waits only for the new page to start; its deferred script listens from "load" on.
    page.wait_for_load_state("load")


def test_choose_files_see_fields_fill_save_and_find_it_in_the_list(page: Page, live_server, world: World, seed_files):
    open_upload(page, live_server.url)
    # The no-JavaScript button is hidden when scripts run.
    expect(page.get_by_role("button", name="Read file")).to_be_hidden()

    page.get_by_label("Certificate File").set_input_files(str(seed_files / "tenant.pem"))
    expect(page.get_by_label("Subject Name")).to_have_value("Genesys Recording")
    expect(page.get_by_label("Serial Number")).to_have_value(str(serial_of(seed_files)))
    expect(page.get_by_label("Subject DN")).to_have_value("CN=Genesys Recording,C=US,ST=California,O=Genesys")
    expect(page.get_by_label("Issuer DN")).to_have_value("CN=Genesys Recording,C=US,ST=California,O=Genesys")
    expect(page.get_by_label("Alias")).to_have_value("genesys-recording")
    expect(page.locator("#certificate-check")).to_contain_text("Self-signed certificate; signature verified.")
    assert not Certificate.objects.exists()  # nothing is saved before Save

    page.get_by_label("Key File").set_input_files(str(seed_files / "tenant.key"))
    expect(page.get_by_label("Key Details")).to_have_value("PKCS#8 private key, RSA 2048 bits")

    page.get_by_label("Alias").fill("voice-2025")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Recording Certificates")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Certificate 'voice-2025' (Genesys Recording)")
    row = page.get_by_role("row").filter(has_text="voice-2025")
    expect(row).to_contain_text("Genesys Recording")
    expect(row).to_contain_text(str(serial_of(seed_files)))
    expect(row).to_contain_text("Valid")
    assert Certificate.objects.get().alias == "voice-2025"


def test_a_bad_file_shows_its_message(page: Page, live_server, world: World, seed_files):
    open_upload(page, live_server.url)
    page.get_by_label("Certificate File").set_input_files(str(seed_files / "tenant.csr"))
    expect(page.locator("#certificate_file-errors")).to_contain_text(
        "This is a certificate signing request (CSR), not a certificate."
    )
    expect(page.get_by_label("Subject Name")).to_have_value("")
    # A key chosen as the certificate is named for what it is.
    page.get_by_label("Certificate File").set_input_files(str(seed_files / "tenant.key"))
    expect(page.locator("#certificate_file-errors")).to_contain_text("This is a private key, not a certificate.")
    # And a certificate chosen as the key.
    page.get_by_label("Key File").set_input_files(str(seed_files / "tenant.pem"))
    expect(page.locator("#key_file-errors")).to_contain_text("This is a certificate, not a private key.")
    # Saving anyway keeps the messages on the page and saves nothing.
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#certificate_file-errors")).to_contain_text("This is a private key, not a certificate.")
    assert not Certificate.objects.exists()


def test_without_javascript_read_file_fills_the_fields(browser, live_server, world: World, seed_files):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        open_upload(page, live_server.url)
        page.get_by_label("Certificate File").set_input_files(str(seed_files / "tenant.pem"))
        page.get_by_role("button", name="Read file").click()
        expect(page.get_by_label("Subject Name")).to_have_value("Genesys Recording")
        expect(page.get_by_label("Issuer DN")).to_have_value("CN=Genesys Recording,C=US,ST=California,O=Genesys")
        # The certificate is carried; only the key is chosen again.
        page.get_by_label("Key File").set_input_files(str(seed_files / "tenant.key"))
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_role("row").filter(has_text="genesys-recording")).to_be_visible()
    finally:
        context.close()


def test_alias_follows_the_certificate_until_typed(page: Page, live_server, world: World, tmp_path: Path):
    from tests.certificates import pki

    for name, cn, index in (("voice.pem", "Voice Recording", 0), ("screen.pem", "Screen Recording", 3)):
        (tmp_path / name).write_bytes(pki.pem(pki.make_self_signed(pki.make_key(2048, index), cn)[0]))
    open_upload(page, live_server.url)
    alias = page.get_by_label("Alias")
    page.get_by_label("Certificate File").set_input_files(str(tmp_path / "voice.pem"))
    expect(alias).to_have_value("voice-recording")
    page.get_by_label("Certificate File").set_input_files(str(tmp_path / "screen.pem"))
    expect(alias).to_have_value("screen-recording")
    alias.fill("my-own")
    page.get_by_label("Certificate File").set_input_files(str(tmp_path / "voice.pem"))
    expect(page.get_by_label("Subject Name")).to_have_value("Voice Recording")
    expect(alias).to_have_value("my-own")
