"""A delete and an assignment of the same certificate at the same moment, on PostgreSQL: never both."""

import pytest
from django.db import connection

from certificates import archive as services_archive
from certificates.models import Certificate
from ivr import services as services_ivr
from ivr.models import IvrAssignment
from portal.audit.log import Actor
from tests.conftest import World
from tests.factories import make_certificate, record_profile
from tests.screenrecording.test_concurrency import run_together

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are tested on PostgreSQL (as in CI)"),
]


@pytest.mark.parametrize("attempt", range(3))
def test_delete_and_assign_at_once_never_both_succeed(world: World, attempt: int) -> None:
    cert = make_certificate(world.acme, f"race-{attempt}")
    profile = record_profile(world.acme)
    results = run_together(
        lambda: services_archive.archive(world.acme, cert, typed_alias=cert.alias, by=Actor(world.alice)),
        lambda: services_ivr.assign(profile, cert, by=Actor(world.pat)),
    )
    archived = Certificate.objects.get(pk=cert.pk).archived_at is not None
    assigned = IvrAssignment.objects.filter(certificate=cert).exists()
    assert archived != assigned, results
    loser = results[1] if archived else results[0]
    assert isinstance(loser, services_ivr.AssignmentRefused | services_archive.ArchiveRefused), results
