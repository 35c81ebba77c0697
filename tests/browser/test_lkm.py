"""A tenant administrator connects Genesys Cloud to the Local Key Manager in real Chromium: a credential whose key is
shown once, a keypair made on the page, and a weekly rotation schedule."""

import json
import re

import pytest
from playwright.sync_api import Page, expect

from lkm.models import Credential, Keypair, Period, RotationSchedule
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def test_issue_a_credential_create_a_keypair_and_schedule_rotation(page: Page, live_server, world) -> None:
    sign_in(page, live_server.url, "alice")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Local Key Manager").click()
    expect(page.get_by_role("heading", name="Local Key Manager", level=1)).to_be_visible()
    expect(page.get_by_text(f"{live_server.url}/key-management/v1/decrypt", exact=True)).to_be_visible()

    # The credential: its key is on this answer only.
    page.get_by_label("Label").fill("Genesys Cloud production")
    page.get_by_role("button", name="Issue credential").click()
    issued = page.get_by_role("status").filter(has_text="Copy the auth key now")
    expect(issued).to_be_visible()
    shown = json.loads(issued.locator("code").first.inner_text())
    assert set(shown) == {"id", "authKey", "algorithm"} and shown["algorithm"] == "sha256"
    configuration = json.loads(issued.locator("code").nth(1).inner_text().split("\n", 1)[1])
    assert configuration["apiId"] == shown["id"] and configuration["apiKey"] == shown["authKey"]
    assert Credential.objects.get(pk=shown["id"]).tenant == world.acme

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Local Key Manager").click()
    expect(page.get_by_role("cell", name=shown["id"], exact=True)).to_be_visible()
    expect(page.get_by_role("button", name=f"Revoke credential {shown['id']}")).to_be_visible()
    expect(page.get_by_text("Copy the auth key now")).to_have_count(0)
    assert shown["authKey"] not in page.content()

    # A keypair, made now.
    page.get_by_role("button", name="Create keypair now").click()
    expect(page.get_by_role("status")).to_contain_text("was created.")
    keypair = Keypair.objects.get(tenant=world.acme)
    expect(page.get_by_role("status")).to_contain_text(f"Keypair {keypair.id} was created.")
    row = page.get_by_role("row").filter(has_text=str(keypair.id))
    expect(row).to_contain_text("RSA 3072")
    expect(row).to_contain_text("alice")
    expect(row).to_contain_text("never")
    row.get_by_text("For Genesys Cloud").click()
    local_key = json.loads(row.locator("pre code").inner_text().split("\n", 1)[1])
    assert local_key["keypairId"] == str(keypair.id) and set(local_key) == {"configId", "publicKey", "keypairId"}

    # A weekly schedule: the next keypair is due a week after this one.
    page.get_by_label("Rotation").select_option(label="Weekly")
    page.get_by_role("button", name="Save schedule").click()
    expect(page.get_by_role("status")).to_contain_text("Rotation is weekly")
    schedule = RotationSchedule.objects.get(tenant=world.acme)
    assert schedule.period == Period.WEEKLY
    due = f"{schedule.next_due:%Y-%m-%d %H:%M}"
    expect(page.get_by_role("status")).to_have_text(
        re.compile(rf"Rotation is weekly; the next keypair is due {due} UTC\.")
    )
    rotation = page.locator("p").filter(has_text="Change keypairs regularly")
    expect(rotation).to_contain_text(f"The next keypair is due {due} UTC.")
    expect(page.get_by_label("Rotation")).to_have_value("WEEKLY")
