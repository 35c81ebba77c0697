"""Writes at the same moment, in one tenant and in several, on PostgreSQL (row locks, READ COMMITTED): each keeps
its own count in the summaries, and the all-tenant rows add them all up."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from certificates.models import Certificate
from expiry import overview as expiry
from expiry import summary, tallies
from tests.conftest import World
from tests.factories import make_certificate
from tests.screenrecording.test_concurrency import run_together

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are tested on PostgreSQL (as in CI)"),
]


def test_simultaneous_uploads_are_all_counted(world: World) -> None:
    end = timezone.now() + timedelta(days=45)  # one day's all-tenant row, written by every upload at once

    def uploads(tenant, prefix: str):
        return lambda: [make_certificate(tenant, f"{prefix}-{i}", not_after=end) for i in range(3)]

    results = run_together(
        uploads(world.acme, "a"), uploads(world.acme, "b"), uploads(world.globex, "c"), uploads(world.globex, "d")
    )
    assert not [result for result in results if isinstance(result, Exception)], results
    assert tallies.rebuild() == []
    now = timezone.now()
    counts = summary.overview(None, "", now).counts
    assert counts.within[60] == 12
    assert counts == expiry.overview(summary.scope(None, ""), now).counts


def test_a_long_write_in_one_tenant_never_holds_up_another_tenant(world: World) -> None:
    """A long transaction that changes one tenant's counts for some days (here a bulk write, which the audit trail
    does not serialize) holds up no write in another tenant that counts on the same days: both are counted once
    they commit."""
    end = timezone.now() + timedelta(days=45)
    moved = make_certificate(world.acme, "moved", not_after=end + timedelta(days=400))
    holding, released, other_done = threading.Event(), threading.Event(), threading.Event()

    def long_write() -> None:
        with transaction.atomic():
            Certificate.objects.filter(pk=moved.pk).update(not_valid_after=end)
            holding.set()
            assert released.wait(30)

    def other_write() -> None:
        assert holding.wait(30)
        make_certificate(world.globex, "meanwhile", not_after=end)
        other_done.set()

    def release_when_done() -> bool:
        finished = other_done.wait(20)  # the other tenant's upload commits while the long one is still open
        released.set()
        return finished

    results = run_together(long_write, other_write, release_when_done)
    assert results == [None, None, True], results
    assert tallies.rebuild() == []
    assert summary.overview(None, "", timezone.now()).counts.within[60] == 2
