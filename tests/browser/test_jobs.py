"""A background job followed in real Chromium: the job page's script (no inline script under the CSP) notices the job
is done and shows its download without the user reloading."""

import pytest
from playwright.sync_api import Page, expect

from keystore.pfx import read_pfx
from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD
from tests.factories import make_certificate
from tests.jobs.helpers import BACKUP_PASSWORD, run_jobs

pytestmark = pytest.mark.browser


def test_the_job_page_shows_the_backup_once_it_is_made(page: Page, live_server, world, settings, tmp_path):
    settings.PORTAL_BACKUP_JOB_MIN_KEYS = 2
    make_certificate(world.acme, "first", key_index=1)
    make_certificate(world.acme, "second", key_index=2)
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text) if "Content Security" in message.text else None)

    # The page's timers run only when the test says: the job runs while the browser sends nothing (the live server
    # of an SQLite run shares the test's database connection).
    page.clock.install()
    sign_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/t/acme/keystore/")
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_label("Backup password *", exact=True).fill(BACKUP_PASSWORD)
    page.get_by_label("Confirm backup password").fill(BACKUP_PASSWORD)
    page.get_by_role("button", name="Download backup").click()

    expect(page.get_by_role("heading", name="Keystore backup", level=1)).to_be_visible()
    expect(page.get_by_text("Queued")).to_be_visible()
    run_jobs()
    page.clock.run_for(2500)  # the script's next look at the job's progress
    download_link = page.get_by_role("link", name="Download acme-keystore-")
    expect(download_link).to_be_visible()  # the page reloaded by itself
    with page.expect_download() as download_info:
        download_link.click()
    saved = tmp_path / "backup.p12"
    download_info.value.save_as(saved)
    assert sorted(key.alias for key in read_pfx(saved.read_bytes(), BACKUP_PASSWORD).keys) == ["first", "second"]
    assert refused == []
