"""The dashboards' counts and chart at a moment, read from the summaries that expiry/tallies.py keeps current.

Which bucket a certificate is in (expired, expiring within a window, not yet valid, ...) depends on the moment only
through its end and start compared with now and with each window's limit (now + N days). The summaries count
certificates per UTC day, the site's time zone. So every day before today, between today and a window's limit, or
after the last limit falls wholly into one bucket, and its count moves there whole: time moving on never needs a
recount. Only the certificates that end today or on a limit's day, or start today, need their exact times, and
those few are counted from their rows. Not yet valid certificates, which start after today, come from the start-day
summary, by an index that reads only days still to come.

Three queries and one per usage provider, whatever the number of certificates. ``overview_until`` also says until
when the result stays exact if nothing is written: the next midnight, or sooner the moment one of the certificates
counted from their rows changes bucket.
"""

from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import BooleanField, Case, CharField, Q, QuerySet, Sum, Value, When
from django.db.models.functions import TruncMonth
from django.utils import timezone

from certificates import usage
from certificates.models import Certificate, CertificateQuerySet

from . import overview as expiry
from .models import AllEndingTally, AllStartingTally, EndingTally, StartingTally

EXPIRED_BUCKETS = {expiry.URGENT, expiry.EXPIRED_UNASSIGNED}
ASSIGNED_FLAGS = {"yes": [True], "no": [False], "": [True, False]}


def scope(tenant_ids: Sequence[Any] | None, assigned: str) -> CertificateQuerySet:
    """Active certificates of these tenants (every tenant when None), narrowed by assignment ("yes", "no", "")."""
    certificates = Certificate.objects.active()
    if tenant_ids is not None:
        certificates = certificates.filter(tenant_id__in=tenant_ids)
    return expiry.with_assignment(certificates, assigned)


def edge_days(now: datetime) -> tuple[date, set[date]]:
    """Today, and the days on which a certificate's end needs its time of day to be placed: today and the day of
    each window's limit."""
    today = timezone.localdate(now)
    return today, {today} | {timezone.localdate(now + timedelta(days=days)) for days in expiry.windows()}


def _day_bucket(today: date, now: datetime) -> Case:
    """The bucket of the certificates ending on a day that is not an edge day, by the day alone (field ``ends``)."""
    whens = [
        When(ends__lt=today, assigned=True, then=Value(expiry.URGENT)),
        When(ends__lt=today, then=Value(expiry.EXPIRED_UNASSIGNED)),
        *(
            When(ends__lt=timezone.localdate(now + timedelta(days=days)), then=Value(f"{expiry.WITHIN_PREFIX}{days}"))
            for days in expiry.windows()
        ),
    ]
    return Case(*whens, default=Value(expiry.BEYOND), output_field=CharField())


def _start_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.get_current_timezone())


def _from_rows(today: date, edges: set[date]) -> Q:
    """The certificates counted from their rows: those ending on an edge day (today is one) or starting today."""
    condition = Q()
    for day in sorted(edges):
        start = _start_of(day)
        end = start + timedelta(days=1)
        condition |= Q(not_valid_after__gte=start, not_valid_after__lt=end)
        if day == today:
            condition |= Q(not_valid_before__gte=start, not_valid_before__lt=end)
    return condition


def _edge_rows(
    tenant_ids: Sequence[Any] | None, assigned: str, now: datetime, today: date, edges: set[date]
) -> list[tuple[datetime, datetime, bool]]:
    """(start, end, assigned) of the certificates counted from their rows: one query for them, then one per usage
    provider for which of them are assigned. Only an expired certificate's bucket depends on that (urgent or not),
    so only those are asked about, by their ids: a condition on "assigned anywhere" would make the database gather
    every tenant's assignments first."""
    rows = scope(tenant_ids, assigned).filter(_from_rows(today, edges)).order_by()
    found = list(rows.values_list("pk", "not_valid_before", "not_valid_after"))
    expired = [pk for pk, _, not_valid_after in found if not_valid_after < now]
    used = {pk for pk, labels in usage.labels_for(expired).items() if labels}
    return [(not_valid_before, not_valid_after, pk in used) for pk, not_valid_before, not_valid_after in found]


def _next_change(rows: list[tuple[datetime, datetime, bool]], now: datetime) -> datetime:
    """The first moment after ``now`` at which the overview could change with nothing written: the next midnight
    (the edge days move; a day that is not one keeps its bucket all day), or sooner when one of these certificates
    starts, ends or enters a window."""
    moments = [_start_of(timezone.localdate(now)) + timedelta(days=1)]
    for not_valid_before, not_valid_after, _ in rows:
        limits = [not_valid_before, not_valid_after, *(not_valid_after - timedelta(days=d) for d in expiry.windows())]
        moments.extend(moment for moment in limits if moment >= now)
    return min(moments)


def overview(tenant_ids: Sequence[Any] | None, assigned: str, now: datetime) -> expiry.Overview:
    """The overview of the active certificates of these tenants (all when None), narrowed by assignment, at
    ``now``: the same as ``overview.overview`` over the certificates themselves."""
    return overview_until(tenant_ids, assigned, now)[0]


def overview_until(tenant_ids: Sequence[Any] | None, assigned: str, now: datetime) -> tuple[expiry.Overview, datetime]:
    """The overview, and until when it stays exact if nothing is written."""
    today, edges = edge_days(now)
    flags = ASSIGNED_FLAGS[assigned]
    bucket = _day_bucket(today, now)
    groups: Counter[tuple[str, date]] = Counter()
    ending: QuerySet[Any] = AllEndingTally.objects.all()
    starting: QuerySet[Any] = AllStartingTally.objects.all()
    if tenant_ids is not None:
        ending = EndingTally.objects.filter(tenant_id__in=tenant_ids)
        starting = StartingTally.objects.filter(tenant_id__in=tenant_ids)

    by_end = (
        ending.filter(assigned__in=flags)
        .exclude(ends__in=edges)
        .annotate(bucket=bucket, month=TruncMonth("ends"))
        .values_list("bucket", "month")
        .annotate(n=Sum("count"))
    )
    for name, month, n in by_end:
        groups[(name, month)] += n

    # Certificates starting today or later were counted above by their end day. Those starting after today are not
    # yet valid, unless their end is already past; those starting today are counted from their rows below.
    by_start = (
        starting.filter(assigned__in=flags, starts__gte=today)
        .exclude(ends__in=edges)
        .annotate(
            bucket=bucket,
            month=TruncMonth("ends"),
            later=Case(When(starts__gt=today, then=Value(True)), default=Value(False), output_field=BooleanField()),
        )
        .values_list("bucket", "month", "later")
        .annotate(n=Sum("count"))
    )
    for name, month, later, n in by_start:
        if later and name in EXPIRED_BUCKETS:
            continue
        groups[(name, month)] -= n
        if later:
            groups[(expiry.NOT_YET_VALID, month)] += n

    rows = _edge_rows(tenant_ids, assigned, now, today, edges)
    for not_valid_before, not_valid_after, is_assigned in rows:
        month = expiry.month_start(timezone.localtime(not_valid_after)).date()
        groups[(expiry.bucket_for(not_valid_before, not_valid_after, is_assigned, now), month)] += 1
    return expiry.Overview(now, {key: n for key, n in groups.items() if n}), _next_change(rows, now)
