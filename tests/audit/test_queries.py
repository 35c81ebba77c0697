"""The audit pages cost the same number of SQL queries however many entries match, however deep the page, and
however many tenants the filter lists."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal.accounts.models import Tenant
from portal.audit.log import Actor, record
from tests.conftest import World


def count_queries(client, url: str, query: dict | None = None) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, query or {}).status_code == 200
    return len(captured.captured_queries)


def add_entries(world: World, start: int, stop: int) -> None:
    for i in range(start, stop):
        record("sign-in" if i % 2 else "certificate-uploaded", by=Actor(world.alice), tenant=world.acme)


QUERIES = [
    {"action": "sign-in"},
    {"user": "alice", "action": "sign-in"},
    {"page": "2"},
    {"page": "3", "per_page": "25"},
]


@pytest.mark.parametrize("query", QUERIES, ids=[str(i) for i in range(len(QUERIES))])
def test_filtered_and_deep_pages_query_count_does_not_grow(world: World, client_for, query) -> None:
    client = client_for(world.sam)
    url = reverse("audit-log")
    add_entries(world, 0, 80)
    client.get(url, query)  # the first request after sign-in renews the session (a write): count from the second
    few = count_queries(client, url, query)
    add_entries(world, 80, 400)
    assert count_queries(client, url, query) == few


def test_the_tenant_filter_lists_every_tenant_as_it_is_now(world: World, client_for) -> None:
    client = client_for(world.sam)
    url = reverse("audit-log")
    client.get(url)
    few = count_queries(client, url)
    Tenant.objects.bulk_create([Tenant(slug=f"tenant-{i:03d}", name=f"Center {i:03d}") for i in range(40)])
    assert count_queries(client, url) == few
    html = client.get(url).content.decode()
    assert '<option value="tenant-039">Center 039 (tenant-039)</option>' in html
    Tenant.objects.filter(slug="tenant-039").update(name="Renamed Center")
    Tenant.objects.filter(slug="tenant-000").delete()
    assert count_queries(client, url) == few
    html = client.get(url).content.decode()
    assert '<option value="tenant-039">Renamed Center (tenant-039)</option>' in html
    assert 'value="tenant-000"' not in html
    assert client.get(url, {"tenant": "tenant-039"}).status_code == 200
