"""The dashboards reuse their counts and chart, and the certificate pages where each certificate is assigned, between
requests (expiry/cached.py). What a user sees must still be what a fresh count gives: right after any
change to the tenant's certificates or their assignments, and from the very second the clock carries a certificate
into another status."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from certificates import archive as services_archive
from certificates.models import Certificate
from expiry import overview as expiry
from ivr import services as services_ivr
from ivr.models import IvrProfile
from portal.audit.log import Actor
from screenrecording import services as screen_recording
from tests.conftest import World
from tests.factories import make_certificate

NOW = datetime(2027, 3, 15, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)


def shown(sign_in, moment: datetime, **query: str) -> dict[str, int]:
    """The counts on acme's dashboard at ``moment``, as alice sees them (its tiles and its total). She signs in at
    that moment: days later, her earlier session would have timed out."""
    with time_machine.travel(moment, tick=False):
        response = sign_in().get(reverse("expiry-tenant", args=["acme"]), query)
    assert response.status_code == 200
    counts = response.context["counts"]
    return {"total": counts.total, **{key: n for key, _, n in counts.tiles()}}


def counted(tenant, moment: datetime, assigned: str = "") -> dict[str, int]:
    """The same counts, straight from the database."""
    certificates = expiry.with_assignment(Certificate.objects.active().filter(tenant=tenant), assigned)
    counts = expiry.overview(certificates, moment).counts
    return {"total": counts.total, **{key: n for key, _, n in counts.tiles()}}


@pytest.fixture
def as_alice(world: World) -> Actor:
    return Actor(world.alice, "192.0.2.10")


def test_each_change_shows_on_the_next_page_view(world: World, client_for, as_alice) -> None:
    def alice():
        return client_for(world.alice)

    with time_machine.travel(NOW, tick=False):
        soon = make_certificate(world.acme, "soon", not_after=NOW + 10 * DAY)
        later = make_certificate(world.acme, "later", not_after=NOW + 400 * DAY)
    assert shown(alice, NOW) == counted(world.acme, NOW)
    assert shown(alice, NOW)["total"] == 2
    assert shown(alice, NOW, assigned="yes")["total"] == 0

    def labels() -> dict[str, list[str]]:
        """The Assigned column of the Recording Certificates list and of the dashboard, by alias."""
        with time_machine.travel(NOW, tick=False):
            client = alice()
            listed = client.get(reverse("certificate-list", args=["acme"])).context["rows"]
            dashboard = client.get(reverse("expiry-tenant", args=["acme"])).context["rows"]
        assert {r["alias"]: r["assigned"] for r in listed} == {r["alias"]: r["assigned"] for r in dashboard}
        return {r["alias"]: r["assigned"] for r in listed if r["assigned"]}

    def check(total: int, assigned: int) -> None:
        assert shown(alice, NOW) == counted(world.acme, NOW)
        assert shown(alice, NOW, assigned="yes") == counted(world.acme, NOW, "yes")
        assert shown(alice, NOW)["total"] == total
        assert shown(alice, NOW, assigned="yes")["total"] == assigned
        assert len(labels()) == assigned

    with time_machine.travel(NOW, tick=False):
        record = IvrProfile.objects.get(tenant=world.acme, name="record")
        assert labels() == {}
        assignment = services_ivr.assign(record, soon, by=as_alice)
        check(total=2, assigned=1)
        assert labels() == {"soon": [f"IVR profile 'record' (DBID {record.dbid})"]}
        record.name, record.dbid = "record-eu", 900
        services_ivr.save_profile(record, by=as_alice, created=False)
        assert labels() == {"soon": ["IVR profile 'record-eu' (DBID 900)"]}

        screen_recording.save(world.acme, staged=[later.pk], base_version=0, confirm_unencrypted=False, by=as_alice)
        check(total=2, assigned=2)
        assert labels()["later"] == ["Screen recording"]

        services_ivr.unassign(assignment, by=as_alice)
        check(total=2, assigned=1)

        screen_recording.save(world.acme, staged=[], base_version=1, confirm_unencrypted=True, by=as_alice)
        check(total=2, assigned=0)

        services_archive.archive(world.acme, later, typed_alias="later", by=as_alice)
        check(total=1, assigned=0)

        services_archive.unarchive(world.acme, later, by=as_alice)
        check(total=2, assigned=0)

        services_archive.archive(world.acme, later, typed_alias="later", by=as_alice)
        services_archive.purge(world.acme, later, typed_alias="later", understood=True, by=as_alice)
        check(total=1, assigned=0)

        make_certificate(world.acme, "new", not_after=NOW + 20 * DAY)
        check(total=2, assigned=0)


def test_counts_change_at_the_second_a_certificate_changes_status(world: World, client_for, as_alice) -> None:
    def alice():
        return client_for(world.alice)

    with time_machine.travel(NOW, tick=False):
        ends = make_certificate(world.acme, "ends", not_after=NOW + 2 * DAY)
        make_certificate(world.acme, "enters-30", not_after=NOW + 40 * DAY)
        make_certificate(world.acme, "starts", not_before=NOW + 5 * DAY, not_after=NOW + 500 * DAY)
        services_ivr.assign(IvrProfile.objects.get(tenant=world.acme, name="record"), ends, by=as_alice)

    first = shown(alice, NOW)
    assert (first["expired"], first["urgent"], first["within-30"], first["not-yet-valid"]) == (0, 0, 1, 1)

    moments = [
        NOW + 2 * DAY,  # "ends" ends: still valid at its last second
        NOW + 2 * DAY + SECOND,  # expired, and still assigned: urgent
        NOW + 5 * DAY - SECOND,
        NOW + 5 * DAY,  # "starts" starts
        NOW + 10 * DAY - SECOND,
        NOW + 10 * DAY,  # "enters-30" is 30 days from its end
    ]
    for moment in moments:
        shown(alice, NOW)  # the page seen first at NOW, then again at the later moment
        assert shown(alice, moment) == counted(world.acme, moment), moment
    assert shown(alice, NOW + 2 * DAY)["expired"] == 0
    assert shown(alice, NOW + 2 * DAY + SECOND)["urgent"] == 1
    assert shown(alice, NOW + 5 * DAY - SECOND)["not-yet-valid"] == 1
    assert shown(alice, NOW + 5 * DAY)["not-yet-valid"] == 0
    assert shown(alice, NOW + 10 * DAY - SECOND)["within-30"] == 0  # "ends" has expired by then
    assert shown(alice, NOW + 10 * DAY)["within-30"] == 1


def test_a_page_seen_again_reuses_its_counts(world: World, client_for) -> None:
    """The point of keeping them: across a hundred tenants, the count is the most expensive query of the page."""
    url = reverse("expiry-tenant", args=["acme"])
    with time_machine.travel(NOW, tick=False):
        make_certificate(world.acme, "one", not_after=NOW + 100 * DAY)
        client = client_for(world.alice)
        client.get(url)  # the first request after sign-in renews the session

    def queries() -> list[str]:
        with time_machine.travel(NOW, tick=False), CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]

    cache.clear()  # as after a restart
    assert queries()  # the first view counts
    assert not queries()  # the second reuses the counts
    with time_machine.travel(NOW, tick=False):
        make_certificate(world.acme, "two", not_after=NOW + 200 * DAY)
    assert queries()  # a change counts again
