"""Writes at the same moment, in one tenant and in several, on PostgreSQL (row locks, READ COMMITTED): each keeps
its own count in the summaries, and the all-tenant rows add them all up."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

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
