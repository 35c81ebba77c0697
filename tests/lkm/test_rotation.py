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
from lkm.rotation import Rotated, rotate_due, set_period
from portal.audit.log import COMMAND
from tests.conftest import World


def made_keypair(outcomes: list[Rotated]) -> Keypair:
    """The one keypair a rotation run made."""
    assert len(outcomes) == 1 and outcomes[0].keypair is not None, outcomes
    return outcomes[0].keypair


def test_a_due_schedule_rotated_twice_makes_one_keypair(world: World) -> None:
    set_period(world.acme, Period.DAILY, by=COMMAND)

    first = rotate_due(by=COMMAND)
    second = rotate_due(by=COMMAND)

    keypair = made_keypair(first)
    assert (first[0].tenant_slug, keypair.origin) == ("acme", Origin.SCHEDULE)
    assert second == []
    assert list(Keypair.objects.of_tenant(world.acme)) == [keypair]
    next_due = RotationSchedule.objects.get(tenant=world.acme).next_due
    assert next_due == keypair.date_created + timedelta(days=1)


def test_the_next_keypair_comes_a_period_later(world: World) -> None:
    set_period(world.acme, Period.WEEKLY, by=COMMAND)
    made = made_keypair(rotate_due(by=COMMAND))
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
    keypair = made_keypair(rotate_due(by=COMMAND))
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


def test_a_tenant_whose_keystore_fails_stays_due_and_the_others_rotate(world: World) -> None:
    from django.core.management import call_command

    from keystore.models import TenantKey
    from lkm.credentials import issue_credential

    for tenant in (world.acme, world.globex):
        issue_credential(tenant, by=COMMAND)  # each tenant now has a data key
        set_period(tenant, Period.DAILY, by=COMMAND)
    broken = TenantKey.objects.get(tenant=world.acme)  # altered: acme's keystore no longer opens
    TenantKey.objects.filter(pk=broken.pk).update(wrapped_key=bytes(broken.wrapped_key)[:-1] + b"\x00")

    with pytest.raises(SystemExit) as exited:
        call_command("rotate_lkm_keypairs")

    assert exited.value.code == 1
    assert Keypair.objects.of_tenant(world.acme).count() == 0
    assert Keypair.objects.of_tenant(world.globex).count() == 1
    due = RotationSchedule.objects.get(tenant=world.acme).next_due
    assert due is not None and due <= timezone.now()
