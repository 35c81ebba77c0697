"""Scheduled rotation: a due schedule makes one keypair and moves a period on; a disabled one makes none; and a
keypair, once made, can never be deleted with its key."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone

from keystore.api import purge_entry
from lkm import schedule
from lkm.models import Keypair, Origin, Period, RotationSchedule
from lkm.rotation import rotate_due, set_period
from portal.audit.log import COMMAND
from tests.conftest import World


def test_a_due_schedule_rotated_twice_makes_one_keypair(world: World) -> None:
    set_period(world.acme, Period.DAILY, by=COMMAND)

    first = rotate_due(by=COMMAND)
    second = rotate_due(by=COMMAND)

    assert [(done.tenant_slug, done.keypair.origin) for done in first] == [("acme", Origin.SCHEDULE)]
    assert second == []
    assert list(Keypair.objects.of_tenant(world.acme)) == [first[0].keypair]
    next_due = RotationSchedule.objects.get(tenant=world.acme).next_due
    assert next_due == first[0].keypair.date_created + timedelta(days=1)


def test_the_next_keypair_comes_a_period_later(world: World) -> None:
    set_period(world.acme, Period.WEEKLY, by=COMMAND)
    made = rotate_due(by=COMMAND)[0].keypair
    next_due = RotationSchedule.objects.get(tenant=world.acme).next_due
    assert next_due == made.date_created + timedelta(weeks=1)

    assert rotate_due(by=COMMAND, now=next_due - timedelta(seconds=1)) == []
    again = rotate_due(by=COMMAND, now=next_due)

    assert [done.tenant_slug for done in again] == ["acme"]
    assert Keypair.objects.of_tenant(world.acme).count() == 2


def test_a_disabled_schedule_makes_no_keypair(world: World) -> None:
    set_period(world.acme, Period.DAILY, by=COMMAND)
    set_period(world.acme, Period.DISABLED, by=COMMAND)

    assert rotate_due(by=COMMAND, now=timezone.now() + timedelta(days=400)) == []
    assert not Keypair.objects.exists()
    assert RotationSchedule.objects.get(tenant=world.acme).next_due is None


def test_only_the_due_tenant_gets_a_keypair(world: World) -> None:
    set_period(world.acme, Period.DAILY, by=COMMAND)
    set_period(world.globex, Period.MONTHLY, by=COMMAND)
    rotate_due(by=COMMAND)
    globex_due = RotationSchedule.objects.get(tenant=world.globex).next_due
    assert globex_due is not None

    tomorrow = rotate_due(by=COMMAND, now=timezone.now() + timedelta(days=1, minutes=1))

    assert [done.tenant_slug for done in tomorrow] == ["acme"]
    assert RotationSchedule.objects.get(tenant=world.globex).next_due == globex_due


@pytest.mark.parametrize(
    ("made", "period", "due"),
    [
        (datetime(2027, 1, 31, 8, 30, tzinfo=UTC), Period.MONTHLY, datetime(2027, 2, 28, 8, 30, tzinfo=UTC)),
        (datetime(2028, 1, 31, 8, 30, tzinfo=UTC), Period.MONTHLY, datetime(2028, 2, 29, 8, 30, tzinfo=UTC)),
        (datetime(2027, 12, 31, 0, 0, tzinfo=UTC), Period.MONTHLY, datetime(2028, 1, 31, 0, 0, tzinfo=UTC)),
        (datetime(2028, 2, 29, 12, 0, tzinfo=UTC), Period.YEARLY, datetime(2029, 2, 28, 12, 0, tzinfo=UTC)),
        (datetime(2027, 3, 30, 23, 0, tzinfo=UTC), Period.DAILY, datetime(2027, 3, 31, 23, 0, tzinfo=UTC)),
        (datetime(2027, 3, 30, 23, 0, tzinfo=UTC), Period.WEEKLY, datetime(2027, 4, 6, 23, 0, tzinfo=UTC)),
    ],
)
def test_the_period_after_a_keypair(made: datetime, period: Period, due: datetime) -> None:
    assert schedule.after(made, period) == due


def test_a_disabled_period_has_no_next_keypair() -> None:
    assert schedule.after(datetime(2027, 1, 31, tzinfo=UTC), Period.DISABLED) is None


# --- keypairs are never deleted ---


def test_the_keystore_entry_of_a_keypair_cannot_be_deleted(world: World) -> None:
    set_period(world.acme, Period.DAILY, by=COMMAND)
    keypair = rotate_due(by=COMMAND)[0].keypair
    entry = keypair.entry

    with pytest.raises(ProtectedError):
        entry.delete()
    with pytest.raises(ProtectedError), transaction.atomic():
        purge_entry(world.acme, entry.pk)

    assert Keypair.objects.filter(pk=keypair.pk, entry=entry).exists()
    # Certificate purges start from a recording certificate row, and a keypair's entry has none.
    entry.refresh_from_db()
    assert not hasattr(entry, "certificate")
    assert entry.lkm_keypair == keypair
