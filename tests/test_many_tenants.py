"""Beyond PORTAL_TENANT_LIST_MAX tenants, pages stop listing every tenant: the switcher and the cross-tenant filters
take a typed identifier instead, and the tenant list pages and finds."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.http import QueryDict
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal.accounts.access import tenant_choices
from portal.accounts.models import Role, Tenant
from portal.audit.log import Actor, record
from tests.conftest import World, make_user
from tests.factories import make_certificate


@pytest.fixture
def few_listed(settings):
    """The two tenants of the world are already too many to list."""
    settings.PORTAL_TENANT_LIST_MAX = 1


def options(html: str) -> list[str]:
    return re.findall(r'<option value="([^"]*)"', html)


def slugs_for(user) -> list[str] | None:
    """The tenants the user's pages list, or None when they ask for an identifier instead."""
    request = RequestFactory().get("/")
    request.user = user
    choices = tenant_choices(request)
    return None if choices is None else [choice.slug for choice in choices]


def test_tenants_are_listed_up_to_the_limit_and_not_beyond(world: World, settings) -> None:
    settings.PORTAL_TENANT_LIST_MAX = 2
    assert slugs_for(world.sam) == ["acme", "globex"]
    Tenant.objects.create(slug="initech", name="Initech")
    assert slugs_for(world.sam) is None
    settings.PORTAL_TENANT_LIST_MAX = 3
    assert slugs_for(world.sam) == ["acme", "globex", "initech"]  # read again, not kept stale


def test_a_member_of_many_tenants_is_past_the_limit_too(world: World, settings) -> None:
    settings.PORTAL_TENANT_LIST_MAX = 1
    many = make_user("multi", Role.PROFESSIONAL, world.acme, world.globex)
    assert slugs_for(many) is None
    settings.PORTAL_TENANT_LIST_MAX = 2
    assert slugs_for(many) == ["acme", "globex"]


def test_the_switcher_takes_an_identifier_and_lists_no_tenant(world: World, client_for, few_listed) -> None:
    client = client_for(world.sam)
    page = client.get(reverse("tenant-home", args=["acme"])).content.decode()
    assert 'id="tenant-switch" name="tenant" value="acme"' in page
    assert options(page) == []
    assert client.get(reverse("switch-tenant"), {"tenant": "globex"})["Location"] == "/t/globex/"


def test_other_text_in_the_switcher_finds_tenants_by_identifier_or_name(world: World, client_for, few_listed) -> None:
    client = client_for(world.sam)
    response = client.get(reverse("switch-tenant"), {"tenant": "Corporation"})
    assert response["Location"] == "/?q=Corporation"
    found = client.get(response["Location"]).content.decode()
    assert "Globex Corporation" in found and "Acme Contact Center" not in found
    assert "1 tenant matching “Corporation”" in found


def test_a_foreign_identifier_is_neither_opened_nor_found(world: World, client_for, few_listed) -> None:
    client = client_for(world.bob)
    response = client.get(reverse("switch-tenant"), {"tenant": "acme"})
    assert response["Location"] == "/?q=acme"
    assert "Acme" not in client.get(response["Location"]).content.decode()


def test_the_tenant_list_is_paged(world: World, client_for) -> None:
    Tenant.objects.bulk_create(Tenant(slug=f"t-{i:03d}", name=f"Center {i:03d}") for i in range(60))
    client = client_for(world.sam)
    first = client.get(reverse("home")).content.decode()
    assert "62 tenants" in first and "Page 1 of 2" in first and "Center 047" in first and "Center 048" not in first
    second = client.get(reverse("home"), {"page": "2"}).content.decode()
    assert "Center 048" in second and "Globex Corporation" not in second


def test_the_expiry_filter_takes_a_typed_identifier(world: World, client_for, few_listed) -> None:
    start = datetime.now(UTC) - timedelta(days=10)
    make_certificate(world.acme, "acme-soon", not_before=start, not_after=start + timedelta(days=15))
    make_certificate(world.globex, "globex-soon", not_before=start, not_after=start + timedelta(days=16))
    client = client_for(world.sam)
    page = client.get(reverse("expiry-dashboard"), {"tenant": "globex"})
    html = page.content.decode()
    assert options(html)[:1] == [""]  # the status filter's list; no tenant in any list
    assert "acme" not in options(html) and 'name="tenant" id="id_tenant" value="globex"' in html
    assert [row["alias"] for row in page.context["rows"]] == ["globex-soon"]
    unknown = client.get(reverse("expiry-dashboard"), {"tenant": "initech"})
    assert unknown.status_code == 200
    assert "No tenant you may see has the identifier “initech”." in unknown.content.decode()
    assert {row["alias"] for row in unknown.context["rows"]} == {"acme-soon", "globex-soon"}  # unfiltered


def test_the_audit_filter_takes_a_typed_identifier(world: World, client_for, few_listed) -> None:
    record("certificate-uploaded", by=Actor(world.alice), tenant=world.acme)
    record("certificate-uploaded", by=Actor(world.bob), tenant=world.globex)
    record("sign-in", by=Actor(world.sam))
    client = client_for(world.sam)

    def slugs(query: dict) -> list[str]:
        return [entry["tenant_slug"] for entry in client.get(reverse("audit-log"), query).context["page"]]

    assert set(slugs({"tenant": "acme"})) == {"acme"}
    assert set(slugs({"tenant": "-"})) == {""}
    refused = client.get(reverse("audit-log"), {"tenant": "../globex"})
    assert "No tenant you may see has the identifier" in refused.content.decode()


def test_a_typed_identifier_costs_the_same_queries_however_many_tenants(world: World, client_for, few_listed) -> None:
    client = client_for(world.sam)
    client.get(reverse("audit-log"), {"tenant": "acme"})

    def counted() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("audit-log"), {"tenant": "acme"}).status_code == 200
        return len(queries)

    before = counted()
    Tenant.objects.bulk_create(Tenant(slug=f"t-{i:03d}", name=f"Center {i:03d}") for i in range(40))
    assert counted() == before


def test_the_audit_box_says_what_it_takes_and_its_forms_are_shared(world: World, client_for, few_listed) -> None:
    from portal.accounts.filters import TenantFilter
    from portal.audit.forms import filter_form

    html = client_for(world.sam).get(reverse("audit-log")).content.decode()
    assert 'placeholder="Identifier, or - for sign-ins and accounts"' in html
    nobody_typed = QueryDict("user=alice")
    first = filter_form(nobody_typed, tenants=TenantFilter(world.sam, None), actions=[])
    assert filter_form(nobody_typed, tenants=TenantFilter(world.bob, None), actions=[]) is first
    typed = QueryDict("tenant=acme")  # checked against the user's reach: never shared
    assert filter_form(typed, tenants=TenantFilter(world.sam, None), actions=[]).is_valid()
    assert not filter_form(typed, tenants=TenantFilter(world.bob, None), actions=[]).is_valid()
