"""Rotation periods: when a tenant's next keypair is due."""

import calendar
from datetime import datetime, timedelta

from portal.accounts.models import Tenant

from .models import Period, RotationSchedule


def _add_months(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` later, on the month's last day when it is shorter (31 Jan -> 28/29 Feb)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def after(moment: datetime, period: str) -> datetime | None:
    """When the next keypair is due after one made at ``moment``; None when rotation is disabled."""
    if period == Period.DAILY:
        return moment + timedelta(days=1)
    if period == Period.WEEKLY:
        return moment + timedelta(weeks=1)
    if period == Period.MONTHLY:
        return _add_months(moment, 1)
    if period == Period.YEARLY:
        return _add_months(moment, 12)
    return None


def first_due(newest: datetime | None, period: str, now: datetime) -> datetime | None:
    """When a schedule set ``now`` makes its first keypair: a period after the newest one, at once when the tenant
    has none; None when rotation is disabled."""
    if period == Period.DISABLED:
        return None
    return after(newest, period) if newest is not None else now


def schedule_of(tenant: Tenant) -> RotationSchedule:
    return RotationSchedule.objects.filter(tenant=tenant).first() or RotationSchedule(tenant=tenant)


def restart_after(tenant: Tenant, moment: datetime) -> None:
    """A keypair was just made: the next one is due a whole period later (inside the caller's transaction)."""
    schedule = RotationSchedule.objects.filter(tenant=tenant).exclude(period=Period.DISABLED).first()
    if schedule is not None:
        RotationSchedule.objects.filter(pk=schedule.pk).update(next_due=after(moment, schedule.period))
