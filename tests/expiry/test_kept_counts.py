"""Each process keeps every tenant's expiry counts and their sum across tenants (expiry/cached.py), and reads again
only the tenants that changed. What a page shows must still be what counting the certificates gives: after writes
in several tenants, in whichever order pages are seen, in any process, when a tenant goes, and at every second the
clock changes a certificate's status, midnight included."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from certificates import revisions
from certificates.models import Certificate, CertificateRevision
from expiry import cached, summary, tallies
from expiry import overview as expiry
from expiry.models import EndingTally
from ivr.models import IvrProfile
from portal.accounts.models import Tenant
from tests.conftest import World
from tests.factories import assign_to_ivr, assign_to_screen_recording, make_certificate

NOW = datetime(2027, 3, 15, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)
ASSIGNED = ("", "yes", "no")


def kept(tenant: Tenant | None, assigned: str, moment: datetime, memo: cached.Memo | None = None) -> expiry.Overview:
    """The overview a page shows (every tenant when ``tenant`` is None), read as the page reads it: the state
    first. ``memo``: what another process keeps, instead of this one's."""
    ids = None if tenant is None else [tenant.pk]
    with time_machine.travel(moment, tick=False):
        state = revisions.state(ids)
        if memo is None:
            return cached.overview(ids, assigned, moment, state)
        with memo.lock:
            if tenant is None:
                return expiry.Overview(moment, memo.every_tenant(assigned, moment, state))
            return expiry.Overview(moment, memo.one_tenant(tenant.pk, assigned, moment, state))


def counted(tenant: Tenant | None, assigned: str, moment: datetime) -> expiry.Overview:
    """The same overview, counted from the certificates themselves."""
    return expiry.overview(summary.scope(None if tenant is None else [tenant.pk], assigned), moment)


def assert_exact(
    tenants: list[Tenant], moment: datetime, memo: cached.Memo | None = None, *, tenant_pages_first: bool = False
) -> None:
    """Every tenant's page and the all-tenant page, assigned or not, show what counting gives: tiles, chart and
    the length of every list (all follow from the groups compared)."""
    pages = [*tenants, None] if tenant_pages_first else [None, *tenants]
    for assigned in ASSIGNED:
        for tenant in pages:
            shown, truth = kept(tenant, assigned, moment, memo), counted(tenant, assigned, moment)
            assert shown.groups == truth.groups, (tenant, assigned, moment)
            assert shown.counts == truth.counts and shown.histogram() == truth.histogram()


@pytest.fixture
def tenants(world: World) -> list[Tenant]:
    """acme and globex, and three more, each with certificates in several buckets."""
    more = [Tenant.objects.create(slug=f"center-{i}", name=f"Center {i}") for i in range(3)]
    everyone = [world.acme, world.globex, *more]
    with time_machine.travel(NOW, tick=False):
        for i, tenant in enumerate(everyone):
            for j, days in enumerate((-20, 10 + i, 45, 80 + i, 400)):
                cert = make_certificate(tenant, f"c-{j}", key_index=j, not_after=NOW + days * DAY + i * SECOND)
                if j % 2:
                    assign_to_ivr(cert)
            make_certificate(tenant, "later", key_index=5, not_before=NOW + 7 * DAY, not_after=NOW + 300 * DAY)
    cached.forget()
    return everyone


def test_writes_in_several_tenants_keep_the_sum_exact(tenants: list[Tenant]) -> None:
    acme, globex, first, second, third = tenants
    assert_exact(tenants, NOW)
    with time_machine.travel(NOW, tick=False):
        writes = [
            lambda: make_certificate(acme, "new", key_index=6, not_after=NOW + 20 * DAY),
            lambda: assign_to_screen_recording(Certificate.objects.get(tenant=globex, entry__alias="c-0")),
            lambda: Certificate.objects.filter(tenant=first).update(archived_at=NOW),  # a bulk write
            lambda: Certificate.objects.filter(tenant=first).update(archived_at=None),
            lambda: Certificate.objects.filter(tenant=second, entry__alias="c-4").update(not_valid_after=NOW + DAY),
            lambda: make_certificate(third, "more", key_index=6, not_before=NOW + 2 * DAY, not_after=NOW + 9 * DAY),
        ]
    for number, write in enumerate(writes):
        with time_machine.travel(NOW, tick=False):
            write()
        assert tallies.rebuild() == []  # the summaries are right: what follows checks what is kept of them
        assert_exact(tenants, NOW, tenant_pages_first=bool(number % 2))


def test_a_tenant_read_first_by_its_own_page_is_counted_once_in_the_sum(tenants: list[Tenant]) -> None:
    acme, globex = tenants[:2]
    assert_exact(tenants, NOW)
    for number, tenant in enumerate((acme, globex, acme)):
        with time_machine.travel(NOW, tick=False):
            make_certificate(tenant, f"new-{number}", key_index=7, not_after=NOW + (33 + number) * DAY)
        kept(tenant, "", NOW)  # the tenant's page reads it again before the all-tenant page
        assert_exact(tenants, NOW)
    with time_machine.travel(NOW, tick=False):
        make_certificate(acme, "unseen", key_index=8, not_after=NOW + 50 * DAY)
    kept(acme, "", NOW)
    with time_machine.travel(NOW, tick=False):
        make_certificate(acme, "unseen-too", key_index=9, not_after=NOW + 51 * DAY)
    assert_exact(tenants, NOW)  # the all-tenant page first: the tenant's page saw only the first of the two


def test_a_write_seen_by_another_process(tenants: list[Tenant]) -> None:
    """Two processes keep counts of their own; each sees every write by the versions it reads, whichever process
    (or none of them) made it, and however many writes came in between."""
    acme, globex, first = tenants[:3]
    one, other = cached.Memo(), cached.Memo()
    assert_exact(tenants, NOW, one)
    with time_machine.travel(NOW, tick=False):
        make_certificate(acme, "one", key_index=6, not_after=NOW + 15 * DAY)
    assert_exact(tenants, NOW, other)
    with time_machine.travel(NOW, tick=False):
        make_certificate(globex, "two", key_index=6, not_after=NOW + 65 * DAY)
        Certificate.objects.filter(tenant=first, entry__alias="c-2").update(archived_at=NOW)
    assert_exact(tenants, NOW, one)  # three tenants changed since it last looked
    assert_exact(tenants, NOW, other, tenant_pages_first=True)


def test_a_tenant_that_is_gone_leaves_the_sum(tenants: list[Tenant]) -> None:
    """A tenant is deleted with its summaries (it has no certificates left: they protect it). Its counts must
    leave the all-tenant page with it, though no write of a certificate announces it."""
    gone = Tenant.objects.create(slug="gone", name="Gone")
    EndingTally.objects.create(tenant=gone, assigned=False, ends=(NOW + 40 * DAY).date(), count=3)
    CertificateRevision.objects.replace([gone.pk], announce=False)  # as the rebuild that would have written them
    assert kept(None, "", NOW).counts.within[60] == counted(None, "", NOW).counts.within[60] + 3  # the summaries
    IvrProfile.objects.filter(tenant=gone).delete()  # the profile every tenant starts with
    gone.delete()
    assert_exact(tenants, NOW)


def test_a_new_tenant_joins_the_sum(tenants: list[Tenant]) -> None:
    assert_exact(tenants, NOW)
    newcomer = Tenant.objects.create(slug="newcomer", name="Newcomer")
    assert_exact([*tenants, newcomer], NOW)
    with time_machine.travel(NOW, tick=False):
        make_certificate(newcomer, "first", not_after=NOW + 5 * DAY)
    assert_exact([*tenants, newcomer], NOW)


def test_the_clock_in_one_tenant_and_midnight(tenants: list[Tenant]) -> None:
    """A certificate of acme ends this afternoon, one of globex enters the 30-day window tonight, and midnight
    moves every tenant's day buckets: each second around those moments, every page is exact, also when the clock
    is set back (as tests do)."""
    acme, globex = tenants[:2]
    ending, entering = NOW + 3 * timedelta(hours=1), NOW + 30 * DAY + 10 * timedelta(hours=1)
    with time_machine.travel(NOW, tick=False):
        assign_to_ivr(make_certificate(acme, "this-afternoon", key_index=6, not_after=ending))
        make_certificate(globex, "tonight", key_index=6, not_after=entering)
    midnight = NOW.replace(hour=0) + DAY
    moments = [NOW, ending, ending + SECOND, entering - 30 * DAY, entering - 30 * DAY + SECOND]
    moments += [midnight - SECOND, midnight, midnight + SECOND, midnight + DAY, NOW, midnight + 20 * DAY]
    for number, moment in enumerate(moments):
        assert_exact(tenants, moment, tenant_pages_first=bool(number % 2))


def test_after_a_write_the_all_tenant_page_reads_only_that_tenant(tenants: list[Tenant], client_for) -> None:
    """A write in one tenant makes the all-tenant page read that tenant's summaries again, not every tenant's, on
    every process, whatever it kept."""
    acme, globex = tenants[:2]

    def counting_queries() -> list[str]:
        """The queries behind the counts and the chart: the summaries, and the certificates of the edge days."""
        with CaptureQueriesContext(connection) as captured:
            kept(None, "", NOW)
        return [
            q["sql"].replace("-", "")
            for q in captured.captured_queries
            if 'tally"' in q["sql"] or ('"certificates_certificate"' in q["sql"] and '"not_valid_after" >=' in q["sql"])
        ]

    cold = counting_queries()
    assert len(cold) == 2 and not any(tenant.pk.hex in sql for sql in cold for tenant in tenants)  # all at once
    assert counting_queries() == []  # seen again: nothing read
    with time_machine.travel(NOW, tick=False):
        make_certificate(globex, "new", key_index=6, not_after=NOW + 70 * DAY)
    after = counting_queries()
    assert len(after) == 2  # both summaries in one query, and the edge days' certificates
    assert all(globex.pk.hex in sql and acme.pk.hex not in sql for sql in after)
    assert counting_queries() == []
    cached.forget()  # as a process that never saw the page
    assert len(counting_queries()) == 2
    assert_exact(tenants, NOW)
