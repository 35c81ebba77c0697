import pytest
from django.test import override_settings
from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in
from tests.conftest import World

pytestmark = pytest.mark.browser


def test_sign_in_and_out(page: Page, live_server, world: World) -> None:
    sign_in(page, live_server.url, "alice")
    # A tenant administrator lands on their own tenant.
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme Contact Center")
    expect(page.get_by_text("alice · Tenant administrator")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    # Signed out for real: a tenant page sends us back to sign-in.
    page.goto(f"{live_server.url}/t/acme/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/t/acme/")


def test_wrong_password_then_lockout(page: Page, live_server, world: World) -> None:
    with override_settings(AXES_FAILURE_LIMIT=3):
        for _ in range(2):
            sign_in(page, live_server.url, "alice", "not the password")
            expect(page.get_by_role("alert")).to_contain_text("Please enter a correct username and password")
        sign_in(page, live_server.url, "alice", "not the password")
        expect(page.locator("#lockout")).to_contain_text("Too many failed sign-in attempts")
        # Even the right password is refused while locked.
        sign_in(page, live_server.url, "alice")
        expect(page.locator("#lockout")).to_contain_text("locked for 15 minutes")
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_professional_switches_tenant(page: Page, live_server, world: World) -> None:
    world.pat.tenants.add(world.globex)
    sign_in(page, live_server.url, "pat")
    expect(page.get_by_role("heading", name="Tenants")).to_be_visible()
    page.get_by_label("Tenant", exact=True).select_option("globex")
    expect(page.get_by_role("heading", level=1)).to_have_text("Globex Corporation")
    page.get_by_label("Tenant", exact=True).select_option("acme")
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme Contact Center")


def test_beyond_the_list_limit_a_tenant_is_typed_or_found(page: Page, live_server, world: World, settings) -> None:
    settings.PORTAL_TENANT_LIST_MAX = 1
    world.pat.tenants.add(world.globex)
    sign_in(page, live_server.url, "pat")
    switcher = page.get_by_role("search", name="Switch tenant")
    page.get_by_label("Tenant", exact=True).fill("globex")
    page.get_by_label("Tenant", exact=True).press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Globex Corporation")
    page.get_by_label("Tenant", exact=True).fill("Acme")
    switcher.get_by_role("button", name="Go").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tenants")
    page.get_by_role("link", name="Acme Contact Center").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme Contact Center")
