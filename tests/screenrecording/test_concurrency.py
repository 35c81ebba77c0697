"""Two Saves of the screen-recording list at the same moment, on PostgreSQL (row locks): exactly one wins and the
other is told the list changed; nothing is overwritten."""

import threading
from typing import Any

import pytest
from django.db import connection, connections

from portal.accounts.models import Role
from portal.audit.log import Actor
from screenrecording import services
from screenrecording.models import ScreenRecordingCertificate
from tests.conftest import World, make_user
from tests.factories import make_certificate

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are tested on PostgreSQL (as in CI)"),
]


def run_together(*jobs: Any) -> list[Any]:
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def run(index: int, job: Any) -> None:
        try:
            barrier.wait()
            results[index] = job()
        except Exception as error:  # the outcome is what the test looks at
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_simultaneous_saves_one_wins_the_other_is_told(world: World) -> None:
    carol = make_user("carol", Role.TENANT_ADMIN, world.acme)
    first, second = make_certificate(world.acme, "first"), make_certificate(world.acme, "second")

    def save_as(user: Any, cert: Any) -> Any:
        return lambda: services.save(
            world.acme, staged=[cert.pk], base_version=0, confirm_unencrypted=False, by=Actor(user)
        )

    results = run_together(save_as(world.alice, first), save_as(carol, second))
    wins = [r for r in results if isinstance(r, services.SavedChange)]
    refusals = [r for r in results if isinstance(r, services.ListChanged)]
    assert len(wins) == 1 and len(refusals) == 1, results
    assert "while you were editing. Nothing was saved" in str(refusals[0])
    assert [a.certificate.alias for a in ScreenRecordingCertificate.objects.all()] == wins[0].added
