"""Bulk writes of certificates and their assignments change the revision version of the tenants they touch by
themselves, so the expiry dashboard, which reuses its counts until a version changes, shows them on the next view
without anyone clearing a cache or calling anything."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from certificates import revisions
from certificates.models import Certificate, RootCA
from ivr.models import IvrAssignment, IvrProfile
from screenrecording.models import ScreenRecordingCertificate
from tests.conftest import World
from tests.factories import make_certificate

NOW = datetime(2027, 3, 15, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


class Boom(Exception):
    pass


@pytest.fixture
def dashboard(world: World, client_for):
    """The counts on acme's dashboard, as alice sees them at NOW (signing in then: a session from today would have
    timed out by then): the total and each tile."""

    def shown(assigned: str = "") -> dict[str, int]:
        with time_machine.travel(NOW, tick=False):
            response = client_for(world.alice).get(
                reverse("expiry-tenant", args=["acme"]), {"assigned": assigned} if assigned else {}
            )
        assert response.status_code == 200
        counts = response.context["counts"]
        return {"total": counts.total, **{key: n for key, _, n in counts.tiles()}}

    return shown


@pytest.fixture
def certificates(world: World) -> dict[str, Certificate]:
    with time_machine.travel(NOW, tick=False):
        return {
            "a1": make_certificate(world.acme, "a1", not_after=NOW + 400 * DAY),
            "a2": make_certificate(world.acme, "a2", not_after=NOW + 500 * DAY),
            "g1": make_certificate(world.globex, "g1", not_after=NOW + 400 * DAY),
        }


def versions(world: World) -> dict[str, object]:
    known = revisions.versions([world.acme.pk, world.globex.pk])
    return {"acme": known.get(world.acme.pk), "globex": known.get(world.globex.pk)}


def test_a_queryset_update_of_certificates_shows_on_the_dashboard_at_once(world: World, certificates, dashboard):
    assert dashboard()["within-30"] == 0  # counted, and kept under acme's version
    before = versions(world)
    Certificate.objects.filter(pk=certificates["a1"].pk).update(not_valid_after=NOW + 10 * DAY)
    after = versions(world)
    assert after["acme"] != before["acme"] and after["globex"] == before["globex"]
    assert dashboard()["within-30"] == 1


def test_an_update_across_tenants_changes_each_tenant_it_touches(world: World, certificates, dashboard):
    make_certificate(world.acme, "spare")
    assert dashboard()["within-30"] == 0
    before = versions(world)
    touched = Certificate.objects.filter(pk__in=[certificates["a1"].pk, certificates["g1"].pk])
    assert touched.update(not_valid_after=NOW + 10 * DAY) == 2
    after = versions(world)
    assert after["acme"] != before["acme"] and after["globex"] != before["globex"]
    assert dashboard()["within-30"] == 1

    before = after
    assert Certificate.objects.filter(tenant=world.acme, not_valid_after__lt=NOW - DAY).update(chain_ok=False) == 0
    assert versions(world) == before  # nothing written, nothing announced


def test_an_update_filtered_on_one_tenant_does_not_ask_whose_rows_they_are(world: World, certificates, dashboard):
    assert dashboard()["within-30"] == 0
    before = versions(world)
    with CaptureQueriesContext(connection) as captured:
        Certificate.objects.filter(tenant=world.acme).active().update(not_valid_after=NOW + 20 * DAY)
    assert not [q["sql"] for q in captured.captured_queries if "DISTINCT" in q["sql"].upper()]
    after = versions(world)
    assert after["acme"] != before["acme"] and after["globex"] == before["globex"]
    assert dashboard()["within-30"] == 2


def test_a_bulk_create_of_ivr_assignments_shows_on_the_dashboard_at_once(world: World, certificates, dashboard):
    assert dashboard(assigned="yes")["total"] == 0
    before = versions(world)
    record = IvrProfile.objects.get(tenant=world.acme, name="record")
    IvrAssignment.objects.bulk_create(
        IvrAssignment(tenant=world.acme, profile=record, certificate=certificates[alias]) for alias in ("a1", "a2")
    )
    after = versions(world)
    assert after["acme"] != before["acme"] and after["globex"] == before["globex"]
    assert dashboard(assigned="yes")["total"] == 2


def test_a_bulk_create_of_screen_recording_rows_shows_on_the_dashboard_at_once(world: World, certificates, dashboard):
    assert dashboard(assigned="yes")["total"] == 0
    before = versions(world)
    ScreenRecordingCertificate.objects.bulk_create(
        [ScreenRecordingCertificate(tenant=world.acme, certificate=certificates["a2"])]
    )
    after = versions(world)
    assert after["acme"] != before["acme"] and after["globex"] == before["globex"]
    assert dashboard(assigned="yes")["total"] == 1


def test_a_bulk_update_changes_the_versions_of_the_tenants_written(world: World, certificates, dashboard):
    assert dashboard()["within-30"] == 0
    before = versions(world)
    cert = certificates["a2"]
    cert.not_valid_after = NOW + 5 * DAY
    Certificate.objects.bulk_update([cert], ["not_valid_after"])
    after = versions(world)
    assert after["acme"] != before["acme"] and after["globex"] == before["globex"]
    assert dashboard()["within-30"] == 1


def test_a_rolled_back_bulk_write_leaves_the_version_as_it_was(world: World, certificates, dashboard):
    shown = dashboard()
    before = versions(world)
    record = IvrProfile.objects.get(tenant=world.acme, name="record")
    with pytest.raises(Boom), transaction.atomic():
        Certificate.objects.filter(tenant=world.acme).update(not_valid_after=NOW + 10 * DAY)
        IvrAssignment.objects.bulk_create(
            [IvrAssignment(tenant=world.acme, profile=record, certificate=certificates["a1"])]
        )
        assert versions(world)["acme"] != before["acme"]
        raise Boom
    assert versions(world) == before
    assert dashboard() == shown


def test_rows_do_not_move_between_tenants_in_bulk(world: World, certificates):
    before = versions(world)
    with pytest.raises(ValueError, match="stay with their tenant"):
        Certificate.objects.filter(pk=certificates["a1"].pk).update(tenant=world.globex)
    cert = certificates["a1"]
    cert.tenant = world.globex
    with pytest.raises(ValueError, match="stay with their tenant"):
        Certificate.objects.bulk_update([cert], ["tenant"])
    assert Certificate.objects.filter(tenant=world.acme).count() == 2
    assert versions(world) == before


def test_a_watched_model_must_announce_its_bulk_writes(db):
    with pytest.raises(ImproperlyConfigured, match="WatchedQuerySet"):
        revisions.watch(RootCA)


def test_the_state_of_every_tenant_changes_with_any_write_and_only_then(world: World) -> None:
    """What the all-tenant dashboard keeps its counts under: read in one row however many tenants there are."""
    make_certificate(world.acme, "first")
    before = revisions.state(None)
    assert revisions.state(None) == before  # nothing written: the same
    assert revisions.state([world.acme.pk]) != before  # one tenant's state is another value

    make_certificate(world.globex, "second")  # globex's first change gives it a version
    after_globex = revisions.state(None)
    assert after_globex != before
    Certificate.objects.filter(tenant=world.acme).update(serial_number="01")
    assert revisions.state(None) not in (before, after_globex)

    with CaptureQueriesContext(connection) as captured:
        revisions.state(None)
    assert len(captured) == 1
