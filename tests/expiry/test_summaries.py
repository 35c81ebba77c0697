"""The dashboards read their counts and chart from summaries kept current by every write (expiry/tallies.py,
expiry/summary.py), and the certificate pages reuse where each certificate is assigned. What a user sees must still
be what a fresh count of the certificates gives: right after any change to the tenant's certificates or their
assignments, and from the very second the clock carries a certificate into another status."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connection, models
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from certificates import archive as services_archive
from certificates import followups, generation, renewal
from certificates import restore as restores
from certificates.models import Certificate
from expiry import cached, summary, tallies
from expiry import overview as expiry
from expiry.models import AllEndingTally, AllStartingTally, EndingTally, StartingTally
from ivr import services as services_ivr
from ivr.models import IvrProfile
from keystore.api import COMMAND_RESTORE
from keystore.backup import export_keystore
from lkm.keypairs import create_keypair
from lkm.models import Origin
from portal.audit.log import COMMAND, Actor
from screenrecording import services as screen_recording
from tests.certificates.test_generation import new_key
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
        assert tallies.rebuild() == []  # the write kept the summaries as a recount makes them
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
        assert tallies.rebuild() == []
    assert shown(alice, NOW + 2 * DAY)["expired"] == 0
    assert shown(alice, NOW + 2 * DAY + SECOND)["urgent"] == 1
    assert shown(alice, NOW + 5 * DAY - SECOND)["not-yet-valid"] == 1
    assert shown(alice, NOW + 5 * DAY)["not-yet-valid"] == 0
    assert shown(alice, NOW + 10 * DAY - SECOND)["within-30"] == 0  # "ends" has expired by then
    assert shown(alice, NOW + 10 * DAY)["within-30"] == 1


def _all_tenants(moment: datetime, assigned: str = "") -> dict[str, int]:
    counts = summary.overview(None, assigned, moment).counts
    return {"total": counts.total, **{key: n for key, _, n in counts.tiles()}}


def _all_counted(moment: datetime, assigned: str = "") -> dict[str, int]:
    counts = expiry.overview(summary.scope(None, assigned), moment).counts
    return {"total": counts.total, **{key: n for key, _, n in counts.tiles()}}


def _midnight(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def test_every_second_around_each_day_edge_counts_as_the_rows_do(world: World, as_alice) -> None:
    """Certificates ending just before, at and just after midnight and noon of today and of each window's limit,
    and starting around today's: at each of those seconds the summaries give what counting the rows gives, for
    one tenant and across tenants, assigned or not, the chart and every list length included."""
    profile = IvrProfile.objects.get(tenant=world.acme, name="record")
    ends, starts = [], []
    for days in (0, *expiry.windows()):
        limit = NOW + days * DAY
        for offset in (-DAY, -SECOND, timedelta(0), SECOND, DAY):
            ends.append(_midnight(limit) + offset)
            ends.append(limit + offset)
    for offset in (-DAY, -SECOND, SECOND, 3 * DAY):
        starts.append(_midnight(NOW) + offset)
        starts.append(NOW + offset)
    with time_machine.travel(NOW - 200 * DAY, tick=False):
        for i, end in enumerate(ends):
            tenant = world.acme if i % 2 else world.globex
            made = make_certificate(tenant, f"end-{i}", not_before=NOW - 300 * DAY, not_after=end)
            if i % 3 == 0 and tenant == world.acme:
                services_ivr.assign(profile, made, by=as_alice)
        for i, start in enumerate(starts):
            make_certificate(world.acme, f"start-{i}", not_before=start, not_after=start + (i + 1) * 20 * DAY)
        backwards = make_certificate(world.acme, "backwards", not_before=NOW - 5 * DAY, not_after=NOW + 5 * DAY)
    # Ends before it starts: other tools than ours write such certificates, and bulk writes count too.
    Certificate.objects.filter(pk=backwards.pk).update(not_valid_before=NOW + 5 * DAY, not_valid_after=NOW - 5 * DAY)
    assert tallies.rebuild() == []

    moments = sorted({NOW, *ends, *starts, *(_midnight(m) for m in ends)} | {m + SECOND for m in ends})
    for moment in moments:
        for assigned in ("", "yes", "no"):
            assert _all_tenants(moment, assigned) == _all_counted(moment, assigned), (moment, assigned)
            one = summary.overview([world.acme.pk], assigned, moment)
            rows = expiry.overview(summary.scope([world.acme.pk], assigned), moment)
            assert one.counts == rows.counts, (moment, assigned)
            assert one.histogram() == rows.histogram(), (moment, assigned)
            for status, _ in expiry.status_choices():
                for month, _ in rows.histogram()[:4]:
                    assert one.count(status, month) == rows.count(status, month), (moment, status, month)


def test_the_rebuild_command_reports_and_mends_a_difference(world: World, client_for) -> None:
    with time_machine.travel(NOW, tick=False):
        make_certificate(world.acme, "soon", not_after=NOW + 10 * DAY)
    output = StringIO()
    call_command("rebuild_expiry_summaries", stdout=output)
    assert output.getvalue().strip() == "The expiry summaries match the certificates."

    row = EndingTally.objects.get(tenant=world.acme)
    row.count += 4  # as if a write had been lost
    row.save()
    assert shown(lambda: client_for(world.alice), NOW)["within-30"] == 5  # the page reads the summaries

    with pytest.raises(CommandError, match="1 summary row differs"):
        call_command("rebuild_expiry_summaries", "--check", stdout=(checked := StringIO()))
    assert f"acme: ending {(NOW + 10 * DAY).date()}, unassigned: the summary said 5, the certificates 1" in (
        checked.getvalue()
    )
    assert EndingTally.objects.get(pk=row.pk).count == 5  # --check changes nothing

    output = StringIO()
    call_command("rebuild_expiry_summaries", stdout=output)
    assert "the summary said 5, the certificates 1" in output.getvalue()
    assert "Mended 1 summary row." in output.getvalue()
    assert shown(lambda: client_for(world.alice), NOW)["within-30"] == 1
    assert tallies.rebuild() == []


def test_certificates_written_before_the_summaries_are_counted_once(world: World) -> None:
    """After the upgrade that adds the summaries, migrate counts the certificates it finds, once."""
    with time_machine.travel(NOW, tick=False):
        make_certificate(world.acme, "old", not_after=NOW + 10 * DAY)
    for model in (EndingTally, StartingTally, AllEndingTally, AllStartingTally):
        model.objects.all().delete()
    assert _all_tenants(NOW)["total"] == 0

    assert tallies.count_if_never_counted() != []
    assert _all_tenants(NOW) == _all_counted(NOW)
    assert _all_tenants(NOW)["total"] == 1
    assert tallies.count_if_never_counted() == []  # counted already: nothing done


def test_a_write_in_one_tenant_costs_the_all_tenant_page_nothing_more(world: World, client_for) -> None:
    """The page across tenants is kept while nothing changes. After a write anywhere it reads that tenant's few
    summary rows again (not every certificate, nor every tenant's rows), on every worker, whatever it kept."""
    with time_machine.travel(NOW, tick=False):
        for i in range(6):
            make_certificate(world.globex if i % 2 else world.acme, f"cert-{i}", not_after=NOW + (i + 2) * 50 * DAY)
        client = client_for(world.sam)
        url = reverse("expiry-dashboard")
        client.get(url)

    def counting_queries() -> list[str]:
        """The queries behind the counts and the chart: the summaries, and the certificates of the edge days."""
        with time_machine.travel(NOW, tick=False), CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200
        return [
            q["sql"].replace("-", "")
            for q in captured.captured_queries
            if 'tally"' in q["sql"] or ('"certificates_certificate"' in q["sql"] and '"not_valid_after" >=' in q["sql"])
        ]

    assert counting_queries() == []  # seen again: nothing read
    with time_machine.travel(NOW, tick=False):
        make_certificate(world.globex, "new", not_after=NOW + 70 * DAY)
    after = counting_queries()
    assert len(after) == 2  # both summaries in one query, and the edge days' certificates (only theirs)
    assert all(world.globex.pk.hex in sql and world.acme.pk.hex not in sql for sql in after)
    assert counting_queries() == []
    cache.clear()
    cached.forget()  # as on a node that never saw the page
    assert len(counting_queries()) == 2


def test_a_kept_overview_ends_at_midnight_and_at_the_next_status_change(world: World, client_for) -> None:
    """Kept counts are dropped the second the clock changes what they count; at midnight the edge days move."""
    with time_machine.travel(NOW, tick=False):
        make_certificate(world.acme, "today", not_after=NOW + 3 * timedelta(hours=1))
        make_certificate(world.acme, "later", not_after=NOW + 45 * DAY)
        assert summary.overview_until([world.acme.pk], "", NOW)[1] == NOW + 3 * timedelta(hours=1)
        assert summary.overview_until([world.acme.pk], "", NOW + 4 * timedelta(hours=1))[1] == _midnight(NOW + DAY)
    for moment in (NOW, NOW + 3 * timedelta(hours=1) + SECOND, _midnight(NOW + DAY), NOW + 15 * DAY + SECOND):
        assert shown(lambda: client_for(world.alice), moment) == counted(world.acme, moment), moment


def _generate(world: World, as_alice: Actor) -> None:
    generation.generate_certificate(world.acme, new_key(world.acme), by=as_alice)


def _renew_with_follow_ups(world: World, as_alice: Actor) -> None:
    old = make_certificate(world.acme, "old", not_after=timezone.now() + 20 * DAY)
    services_ivr.assign(IvrProfile.objects.get(tenant=world.acme, name="record"), old, by=as_alice)
    renewal.renew(old, new_key(world.acme), by=as_alice, follow_ups=[name for name, _ in followups.offered(old)])


def _restore_into_another_tenant(world: World, as_alice: Actor) -> None:
    make_certificate(world.acme, "kept", not_after=timezone.now() + 40 * DAY)
    data, _ = export_keystore(world.acme, "backup password 1", by=as_alice)
    restores.restore_backup(world.globex, data, "backup password 1", by=COMMAND, budget=COMMAND_RESTORE)


def _lkm_keypair(world: World, as_alice: Actor) -> None:
    """Keypairs have no validity period: they never enter the counts, and must not disturb them."""
    create_keypair(world.acme, origin=Origin.PORTAL, by=as_alice)


@pytest.mark.parametrize("write", [_generate, _renew_with_follow_ups, _restore_into_another_tenant, _lkm_keypair])
def test_the_summaries_match_the_rows_after_each_kind_of_write(world: World, as_alice, write) -> None:
    make_certificate(world.globex, "before", not_after=timezone.now() + 100 * DAY)
    total = _all_tenants(timezone.now())["total"]
    write(world, as_alice)
    assert tallies.rebuild() == []
    now = timezone.now()
    assert _all_tenants(now) == _all_counted(now)
    assert _all_tenants(now)["total"] == Certificate.objects.active().count() >= total


def test_a_restore_recounts_its_tenant_once_whatever_its_size(world: World, as_alice) -> None:
    from certificates import events

    for number in range(4):
        make_certificate(world.acme, f"kept-{number}", key_index=number, not_after=timezone.now() + (40 + number) * DAY)
    data, _ = export_keystore(world.acme, "backup password 1", by=as_alice)
    announced: list[list] = []

    def count(sender, tenant_ids, **kwargs) -> None:
        announced.append(list(tenant_ids))

    events.certificates_changed.connect(count)
    try:
        restores.restore_backup(world.globex, data, "backup password 1", by=COMMAND, budget=COMMAND_RESTORE)
    finally:
        events.certificates_changed.disconnect(count)
    assert announced == [[world.globex.pk]]  # one recount for four certificates
    assert tallies.rebuild() == []
    assert EndingTally.objects.filter(tenant=world.globex).aggregate(n=models.Sum("count"))["n"] == 4
