"""Scheduled rotation: each due keypair is made exactly once, even when the command runs on several nodes at once.
Old keypairs stay and keep decrypting."""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from keystore.api import KeystoreError
from portal.accounts.models import Tenant
from portal.audit.log import Actor, record

from . import schedule
from .keypairs import create_keypair
from .models import Keypair, Origin, Period, RotationSchedule


@dataclass(frozen=True)
class Rotated:
    """One due tenant's outcome: its new keypair, or why none was made (it stays due for the next run)."""

    tenant_slug: str
    keypair: Keypair | None
    failure: str = ""


def set_period(tenant: Tenant, period: Period, *, by: Actor) -> RotationSchedule:
    """The tenant's schedule. The next keypair is due a period after the newest one, or now when it has none."""
    with transaction.atomic():
        current, _ = RotationSchedule.objects.select_for_update().get_or_create(tenant=tenant)
        dates = Keypair.objects.of_tenant(tenant).order_by("-date_created").values_list("date_created", flat=True)
        current.period = period
        current.next_due = schedule.first_due(dates.first(), period, timezone.now())
        current.save()
        record("lkm-rotation-scheduled", by=by, tenant=tenant, details={"period": str(period)})
    return current


def _claim(due: RotationSchedule, now: datetime) -> bool:
    """Advance the schedule from the value this run read: only one run sees its update succeed."""
    claimed = RotationSchedule.objects.filter(pk=due.pk, period=due.period, next_due=due.next_due).update(
        next_due=schedule.after(now, due.period)
    )
    return claimed == 1


def rotate_due(*, by: Actor, now: datetime | None = None) -> list[Rotated]:
    """Make one keypair for each tenant whose schedule is due. A tenant whose keystore fails is reported and stays
    due; the others are rotated all the same."""
    now = now or timezone.now()
    due_schedules = (
        RotationSchedule.objects.exclude(period=Period.DISABLED)
        .filter(next_due__lte=now)
        .select_related("tenant")
        .order_by("tenant__slug")
    )
    rotated = []
    for due in due_schedules:
        try:
            with transaction.atomic():
                if not _claim(due, now):
                    continue
                keypair = create_keypair(due.tenant, origin=Origin.SCHEDULE, by=by)
        except KeystoreError as error:
            rotated.append(Rotated(due.tenant.slug, None, str(error)))
            continue
        rotated.append(Rotated(due.tenant.slug, keypair))
    return rotated
