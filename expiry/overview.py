"""Expiry queries for the dashboards, the CSV export and the notifications.

Only active certificates count: archived ones are out of service. Every function takes ``now`` so that a page (or
a test with the clock frozen) sees one consistent moment. An ``Overview`` (bucket and month of expiry -> count) gives
the whole status breakdown, the monthly histogram and the length of any filtered list. The pages read it from the
summaries (summary.py); ``overview`` here counts the certificates themselves, grouped in one query: what the
summaries must always equal, and how the few edge-day certificates are placed (``bucket_for`` is its twin).
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Case, CharField, Count, Q, Value, When
from django.db.models.functions import TruncMonth
from django.utils import timezone

from certificates import status as rules
from certificates.models import CertificateQuerySet
from certificates.usage import assigned_q

EXPIRED = rules.EXPIRED
URGENT = "urgent"  # expired and still assigned: recordings are being encrypted with a certificate past its end
NOT_YET_VALID = rules.NOT_YET_VALID
VALID = rules.VALID
WITHIN_PREFIX = "within-"
HISTOGRAM_MONTHS = 24


def windows() -> list[int]:
    """The "expiring within N days" windows, smallest first (settings.PORTAL_EXPIRY_WINDOWS)."""
    return sorted({int(days) for days in settings.PORTAL_EXPIRY_WINDOWS})


def status_choices() -> list[tuple[str, str]]:
    return [
        (URGENT, "Expired and still assigned"),
        (EXPIRED, "Expired"),
        *((f"{WITHIN_PREFIX}{days}", f"Expiring within {days} days") for days in windows()),
        (NOT_YET_VALID, "Not yet valid"),
        (VALID, "Valid (including expiring)"),
    ]


def assigned_ids() -> Q:
    """Certificates assigned anywhere. The providers' conditions are semi-joins (``pk__in`` a subquery), so a
    certificate in several IVR profiles is still one row; tests hold every page to that."""
    return assigned_q()


def status_q(status: str, now: datetime) -> Q:
    """The condition for one status of status_choices(), built from the certificate status rules (their SQL twins
    in certificates.status)."""
    if status == EXPIRED:
        return rules.expired_q(now)
    if status == URGENT:
        return rules.expired_q(now) & assigned_ids()
    if status == NOT_YET_VALID:
        return rules.not_yet_valid_q(now)
    if status == VALID:
        return rules.in_validity_q(now)
    if status.startswith(WITHIN_PREFIX):
        return rules.ending_within_q(int(status.removeprefix(WITHIN_PREFIX)), now)
    raise ValueError(f"unknown expiry status {status!r}")


@dataclass(frozen=True)
class Counts:
    total: int
    expired: int
    urgent: int
    not_yet_valid: int
    valid: int
    within: dict[int, int]  # window in days -> valid certificates ending within it

    def tiles(self) -> list[tuple[str, str, int]]:
        """(status filter, label, count) in the dashboard's order, most urgent first."""
        return [
            (URGENT, "Expired and still assigned", self.urgent),
            (EXPIRED, "Expired", self.expired),
            *((f"{WITHIN_PREFIX}{days}", f"Expiring within {days} days", n) for days, n in self.within.items()),
            (NOT_YET_VALID, "Not yet valid", self.not_yet_valid),
            (VALID, "Valid (including expiring)", self.valid),
        ]


# Every active certificate falls in exactly one bucket; each status of status_choices() is a union of buckets.
EXPIRED_UNASSIGNED = "expired-unassigned"
BEYOND = "beyond"  # valid, ending after the largest window


def bucket_for(not_valid_before: datetime, not_valid_after: datetime, assigned: bool, now: datetime) -> str:
    """The bucket of one certificate at ``now``: ``_bucket``'s twin, in the same order of tests, for the few rows
    read one by one (tests hold the two to the same answer at every boundary)."""
    if not_valid_after < now:
        return URGENT if assigned else EXPIRED_UNASSIGNED
    if not_valid_before > now:
        return NOT_YET_VALID
    for days in windows():
        if not_valid_after <= now + timedelta(days=days):
            return f"{WITHIN_PREFIX}{days}"
    return BEYOND


def _bucket(now: datetime) -> Case:
    whens = [
        When(status_q(URGENT, now), then=Value(URGENT)),
        When(status_q(EXPIRED, now), then=Value(EXPIRED_UNASSIGNED)),
        When(status_q(NOT_YET_VALID, now), then=Value(NOT_YET_VALID)),
        *(When(not_valid_after__lte=now + timedelta(days=d), then=Value(f"{WITHIN_PREFIX}{d}")) for d in windows()),
    ]
    return Case(*whens, default=Value(BEYOND), output_field=CharField())


def _buckets_of(status: str) -> set[str]:
    if status == URGENT:
        return {URGENT}
    if status == EXPIRED:
        return {URGENT, EXPIRED_UNASSIGNED}
    if status == NOT_YET_VALID:
        return {NOT_YET_VALID}
    if status == VALID:
        return {f"{WITHIN_PREFIX}{d}" for d in windows()} | {BEYOND}
    if status.startswith(WITHIN_PREFIX):
        limit = int(status.removeprefix(WITHIN_PREFIX))
        return {f"{WITHIN_PREFIX}{d}" for d in windows() if d <= limit}
    if not status:
        return {URGENT, EXPIRED_UNASSIGNED, NOT_YET_VALID, BEYOND} | {f"{WITHIN_PREFIX}{d}" for d in windows()}
    raise ValueError(f"unknown expiry status {status!r}")


@dataclass(frozen=True)
class Overview:
    """How many certificates there are per bucket and month of expiry: enough for the status counts, the chart and
    the length of any filtered list, all from one grouped query over the table."""

    now: datetime
    groups: dict[tuple[str, date], int]  # (bucket, month of not_valid_after) -> certificates

    def count(self, status: str = "", month: date | None = None) -> int:
        buckets = _buckets_of(status)
        return sum(n for (bucket, m), n in self.groups.items() if bucket in buckets and (month is None or m == month))

    @property
    def counts(self) -> Counts:
        return Counts(
            total=self.count(),
            expired=self.count(EXPIRED),
            urgent=self.count(URGENT),
            not_yet_valid=self.count(NOT_YET_VALID),
            valid=self.count(VALID),
            within={days: self.count(f"{WITHIN_PREFIX}{days}") for days in windows()},
        )

    def histogram(self, months: int = HISTOGRAM_MONTHS) -> list[tuple[date, int]]:
        """Certificates ending in each month from now on: this month (from ``now``) and the ``months - 1`` after it,
        0 for months without any. Expired ones are behind, not ahead."""
        first = month_start(timezone.localtime(self.now))
        ahead = _buckets_of("") - _buckets_of(EXPIRED)
        by_month: dict[date, int] = {}
        for (bucket, month), n in self.groups.items():
            if bucket in ahead:
                by_month[month] = by_month.get(month, 0) + n
        return [(day, by_month.get(day, 0)) for day in (add_months(first, i).date() for i in range(months))]


def overview(certificates: CertificateQuerySet, now: datetime) -> Overview:
    """One query: the certificates grouped by bucket and month of expiry."""
    rows = (
        certificates.order_by()
        .annotate(bucket=_bucket(now), month=TruncMonth("not_valid_after"))
        .values("bucket", "month")
        .annotate(n=Count("pk"))
    )
    groups: dict[tuple[str, date], int] = {}
    for row in rows:
        key = (row["bucket"], _as_date(row["month"]))
        groups[key] = groups.get(key, 0) + row["n"]
    return Overview(now, groups)


def month_start(moment: datetime) -> datetime:
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def add_months(start: datetime, months: int) -> datetime:
    index = start.year * 12 + start.month - 1 + months
    return start.replace(year=index // 12, month=index % 12 + 1)


def _as_date(value: date | datetime) -> date:
    if isinstance(value, datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


def month_range(month: date) -> tuple[datetime, datetime]:
    """The first instant of ``month`` and of the month after it, in the site's time zone (UTC)."""
    start = datetime(month.year, month.month, 1, tzinfo=timezone.get_current_timezone())
    return start, add_months(start, 1)


def with_assignment(certificates: CertificateQuerySet, assigned: str) -> CertificateQuerySet:
    """``assigned``: "yes" (in an IVR profile or screen recording), "no", or "" for both."""
    if assigned == "yes":
        return certificates.filter(assigned_ids())
    if assigned == "no":
        return certificates.exclude(assigned_ids())
    return certificates


def filtered(
    certificates: CertificateQuerySet,
    now: datetime,
    *,
    status: str = "",
    month: date | None = None,
    descending: bool = False,
) -> CertificateQuerySet:
    """The listing behind the table and the CSV: filters, then sorted by expiry (soonest first unless
    ``descending``), with what each row shows loaded in the same query."""
    if status:
        certificates = certificates.filter(status_q(status, now))
    if month is not None:
        start, end = month_range(month)
        certificates = certificates.filter(not_valid_after__gte=start, not_valid_after__lt=end)
    order = ("-not_valid_after", "-pk") if descending else ("not_valid_after", "pk")
    return certificates.with_alias().select_related("tenant").order_by(*order)
