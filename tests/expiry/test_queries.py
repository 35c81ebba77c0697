"""The dashboards, the certificate list and the audit trail cost the same number of SQL queries with 5 rows as with
60: nothing is loaded row by row."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from certificates.models import Certificate
from expiry import cached
from expiry.overview import overview
from portal.audit.log import Actor, record
from tests.conftest import World
from tests.factories import assign_to_ivr, assign_to_screen_recording, make_certificate


def add_certificates(world: World, start: int, stop: int) -> None:
    for i in range(start, stop):
        tenant = world.acme if i % 3 else world.globex
        # Any five in a row cover every status: expired, within 30, 60 and 90 days, and further.
        cert = make_certificate(tenant, f"cert-{i:03d}", days=[-30, 10, 45, 80, 400][i % 5] + i / 10)
        if i % 4 == 0:
            assign_to_ivr(cert)
        elif i % 4 == 1:
            assign_to_screen_recording(cert)


def add_entries(world: World, start: int, stop: int) -> None:
    for i in range(start, stop):
        record(f"test-{i}", by=Actor(world.alice), tenant=world.acme if i % 2 else world.globex, details={"i": i})


def count_queries(client, url: str, query: dict | None = None) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, query or {})
        assert response.status_code == 200
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    return len(captured.captured_queries)


PAGES = [
    ("sam", "expiry-dashboard", None, {}),
    ("sam", "expiry-dashboard", None, {"tenant": "acme", "status": "within-60", "assigned": "yes"}),
    ("alice", "expiry-tenant", "acme", {}),
    ("alice", "expiry-tenant", "acme", {"status": "within-90", "sort": "-expiry"}),
    ("alice", "certificate-list", "acme", {}),
]


def cold_and_warm(client, url: str, query: dict) -> tuple[int, int]:
    """Queries for a page whose expiry overview must be computed (as after any change), then for the same page
    again, which reuses it."""
    cache.clear()
    cached.forget()
    return count_queries(client, url, query), count_queries(client, url, query)


@pytest.mark.parametrize("who,name,tenant,query", PAGES, ids=[f"{p[1]}-{i}" for i, p in enumerate(PAGES)])
def test_certificate_pages_query_count_does_not_grow_with_rows(world: World, client_for, who, name, tenant, query):
    client = client_for(getattr(world, who))
    url = reverse(name, args=[tenant] if tenant else [])
    add_certificates(world, 0, 5)
    client.get(url, query)  # the first request after sign-in renews the session (a write): count from the second
    few = cold_and_warm(client, url, query)
    add_certificates(world, 5, 60)
    many = cold_and_warm(client, url, query)
    assert many == few
    # Sign-in and session, tenant choices and the tenant switcher, the tenants' state, counts and chart (cold only:
    # two summaries, the edge days' certificates, one query per usage provider for those), rows (with their tenants'
    # versions), one query per usage provider for the rows (cold only).
    assert few[0] <= 14
    assert few[1] <= few[0]


AUDIT_PAGES = [
    ("sam", "audit-log", None, {}),
    ("sam", "audit-log", None, {"tenant": "acme", "user": "alice", "per_page": "50"}),
    ("alice", "audit-tenant", "acme", {}),
    ("alice", "audit-tenant", "acme", {"date_from": "2000-01-01", "page": "2"}),
]


@pytest.mark.parametrize("who,name,tenant,query", AUDIT_PAGES, ids=[f"{p[1]}-{i}" for i, p in enumerate(AUDIT_PAGES)])
def test_audit_pages_query_count_does_not_grow_with_rows(world: World, client_for, who, name, tenant, query) -> None:
    client = client_for(getattr(world, who))
    url = reverse(name, args=[tenant] if tenant else [])
    add_entries(world, 0, 5)
    client.get(url, query)  # the first request after sign-in renews the session (a write): count from the second
    few = count_queries(client, url, query)
    add_entries(world, 5, 60)
    many = count_queries(client, url, query)
    assert many == few
    assert few <= 10


def test_csv_exports_read_in_batches(world: World, client_for) -> None:
    """A whole export is a handful of queries, not one per row."""
    add_certificates(world, 0, 60)
    add_entries(world, 0, 60)
    sam = client_for(world.sam)
    assert count_queries(sam, reverse("expiry-dashboard-csv")) <= 9
    assert count_queries(sam, reverse("audit-log-csv")) <= 7


def test_the_rows_cover_every_status(world: World) -> None:
    """So that the counts above include expired, urgent, expiring and valid rows."""
    add_certificates(world, 0, 60)
    tally = overview(Certificate.objects.all(), timezone.now()).counts
    assert tally.expired and tally.urgent and tally.within[30] and tally.valid > tally.within[90]
