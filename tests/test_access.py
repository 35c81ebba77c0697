import pytest
from django.http import Http404
from django.urls import reverse

from portal.accounts.access import ROLE_CAPABILITIES, Cap, can, tenant_for, tenants_for
from portal.accounts.models import Role
from tests.conftest import PASSWORD, World


def test_tenants_each_role_reaches(world: World) -> None:
    assert list(tenants_for(world.alice)) == [world.acme]
    assert list(tenants_for(world.bob)) == [world.globex]
    assert list(tenants_for(world.pat)) == [world.acme]
    assert set(tenants_for(world.sam)) == {world.acme, world.globex}
    assert list(tenants_for(world.charlie)) == []


def test_each_user_reaches_by_name_exactly_the_tenants_listed_for_them(world: World) -> None:
    world.pat.is_active = False  # signed in, then deactivated
    for user in (world.alice, world.bob, world.pat, world.sam, world.charlie):
        listed = set(tenants_for(user))
        for slug in ("acme", "globex", "no-such-tenant"):
            try:
                reached = tenant_for(user, slug)
            except Http404:
                assert slug not in {tenant.slug for tenant in listed}, (user, slug)
            else:
                assert reached in listed and reached.slug == slug, (user, slug)
                assert (reached.pk, reached.name, reached.created) == (lambda t: (t.pk, t.name, t.created))(
                    next(t for t in listed if t.slug == slug)
                )


def test_inactive_users_reach_nothing(world: World) -> None:
    world.sam.is_active = False
    assert list(tenants_for(world.sam)) == []
    assert not can(world.sam, Cap.VIEW_CERTIFICATES)


def test_superuser_flag_grants_nothing_extra(world: World) -> None:
    world.charlie.is_superuser = True
    world.charlie.save()
    assert list(tenants_for(world.charlie)) == []
    assert not can(world.charlie, Cap.MANAGE_KEYS)


def test_only_tenant_admins_touch_keys_and_professionals_assign() -> None:
    holders = {cap: {role for role, caps in ROLE_CAPABILITIES.items() if cap in caps} for cap in Cap}
    assert holders[Cap.MANAGE_KEYS] == {Role.TENANT_ADMIN}
    assert holders[Cap.VIEW_KEY_DETAILS] == {Role.TENANT_ADMIN, Role.SUPPORT}
    assert holders[Cap.ASSIGN_IVR] == {Role.PROFESSIONAL}
    assert not any(cap.name.startswith(("MANAGE", "ASSIGN", "REQUEST")) for cap in ROLE_CAPABILITIES[Role.SUPPORT])


def test_tenant_home_checks_ownership(world: World, client_for) -> None:
    assert client_for(world.alice).get(reverse("tenant-home", args=["acme"])).status_code == 200
    assert client_for(world.alice).get(reverse("tenant-home", args=["globex"])).status_code == 404
    assert client_for(world.alice).get(reverse("tenant-home", args=["no-such-tenant"])).status_code == 404
    assert client_for(world.sam).get(reverse("tenant-home", args=["globex"])).status_code == 200


@pytest.mark.parametrize("who,lands_on", [("alice", "/t/acme/"), ("pat", "/t/acme/")])
def test_home_sends_single_tenant_users_to_their_tenant(world: World, client_for, who, lands_on) -> None:
    response = client_for(getattr(world, who)).get("/")
    assert response.status_code == 302 and response["Location"] == lands_on


def test_home_lists_tenants_for_support(world: World, client_for) -> None:
    page = client_for(world.sam).get("/").content.decode()
    assert "Acme Contact Center" in page and "Globex Corporation" in page


def test_switcher_refuses_tenants_out_of_reach(world: World, client_for) -> None:
    client = client_for(world.pat)
    response = client.get(reverse("switch-tenant"), {"tenant": "globex"})
    assert response["Location"] == reverse("home") + "?q=globex"  # looked for, as any text that is not a tenant
    page = client.get(response["Location"]).content.decode()
    assert "No tenant you may reach" in page and "Globex" not in page


def test_logout_rejects_get(world: World, client_for) -> None:
    assert client_for(world.alice).get(reverse("logout")).status_code == 405


def test_an_idle_session_expires(world: World, client) -> None:
    from datetime import timedelta

    import time_machine
    from django.conf import settings
    from django.utils import timezone

    client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    page = reverse("tenant-home", args=["acme"])
    almost = timedelta(seconds=settings.SESSION_COOKIE_AGE - 60)
    first = timezone.now() + almost
    # Each request renews the session: the second visit is past the first sign-in's expiry, but not the renewal's.
    with time_machine.travel(first, tick=False):
        assert client.get(page).status_code == 200
    with time_machine.travel(first + almost, tick=False):
        assert client.get(page).status_code == 200
    # A longer silence ends it.
    with time_machine.travel(first + almost + timedelta(seconds=settings.SESSION_COOKIE_AGE + 60), tick=False):
        response = client.get(page)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
