"""Who may see the expiry dashboards, and how they are reached."""

import pytest
from django.urls import reverse

from portal.audit.models import AuditEntry
from tests.conftest import World


def test_cross_tenant_pages_require_support(world: World, client_for, fleet) -> None:
    for user in (world.alice, world.pat, world.charlie):
        client = client_for(user)
        assert client.get(reverse("expiry-dashboard")).status_code == 403
        assert client.get(reverse("expiry-dashboard-csv")).status_code == 403


@pytest.mark.parametrize(
    "who,tenant,status",
    [
        ("alice", "acme", 200),
        ("pat", "acme", 200),
        ("sam", "acme", 200),
        ("alice", "globex", 404),
        ("pat", "globex", 404),
        ("charlie", "acme", 404),
    ],
)
def test_tenant_pages_check_ownership(world: World, client_for, fleet, who, tenant, status) -> None:
    client = client_for(getattr(world, who))
    assert client.get(reverse("expiry-tenant", args=[tenant])).status_code == status
    assert client.get(reverse("expiry-tenant-csv", args=[tenant])).status_code == status


def test_pages_are_read_only(world: World, client_for) -> None:
    sam, alice = client_for(world.sam), client_for(world.alice)
    before = AuditEntry.objects.count()
    assert sam.post(reverse("expiry-dashboard")).status_code == 405
    assert sam.post(reverse("expiry-dashboard-csv")).status_code == 405
    assert alice.post(reverse("expiry-tenant", args=["acme"])).status_code == 405
    assert alice.post(reverse("expiry-tenant-csv", args=["acme"])).status_code == 405
    assert AuditEntry.objects.count() == before


def test_anonymous_is_sent_to_sign_in(world: World, client) -> None:
    response = client.get(reverse("expiry-dashboard"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_navigation_links_the_pages(world: World, client_for) -> None:
    html = client_for(world.sam).get(reverse("expiry-tenant", args=["acme"])).content.decode()
    assert f'href="{reverse("expiry-dashboard")}"' in html
    assert f'href="{reverse("expiry-tenant", args=["acme"])}"' in html
