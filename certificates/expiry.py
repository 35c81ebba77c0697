"""Expiry queries for the dashboards, the CSV export and the notifications.

Only active certificates count: archived ones are out of service. Every function takes ``now`` so that a page (or
a test with the clock frozen) sees one consistent moment. The whole status breakdown is one aggregate query and the
monthly histogram one grouped query, whatever the number of certificates.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone

from .models import Certificate, CertificateQuerySet
from .usage import assigned_q

EXPIRED = "expired"
URGENT = "urgent"  # expired and still assigned: recordings are being encrypted with a certificate past its end
NOT_YET_VALID = "not-yet-valid"
VALID = "valid"
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
    """Certificates assigned anywhere, as a semi-join: a provider filtering through a to-many relation (one
    certificate in several IVR profiles) then cannot repeat a row or inflate a count."""
    return Q(pk__in=Certificate.objects.filter(assigned_q()).values("pk"))


def status_q(status: str, now: datetime) -> Q:
    """The condition for one status of status_choices(), mirroring CertificateQuerySet and models.status_for."""
    if status == EXPIRED:
        return Q(not_valid_after__lt=now)
    if status == URGENT:
        return Q(not_valid_after__lt=now) & assigned_ids()
    if status == NOT_YET_VALID:
        return Q(not_valid_before__gt=now)
    valid = Q(not_valid_before__lte=now, not_valid_after__gte=now)
    if status == VALID:
        return valid
    if status.startswith(WITHIN_PREFIX):
        days = int(status.removeprefix(WITHIN_PREFIX))
        return valid & Q(not_valid_after__lte=now + timedelta(days=days))
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


def counts(certificates: CertificateQuerySet, now: datetime) -> Counts:
    """The breakdown by status and window, in one aggregate query."""
    aggregates = {
        "total": Count("pk"),
        "expired": Count("pk", filter=status_q(EXPIRED, now)),
        "urgent": Count("pk", filter=status_q(URGENT, now)),
        "not_yet_valid": Count("pk", filter=status_q(NOT_YET_VALID, now)),
        "valid": Count("pk", filter=status_q(VALID, now)),
        **{f"within_{days}": Count("pk", filter=status_q(f"{WITHIN_PREFIX}{days}", now)) for days in windows()},
    }
    row = certificates.order_by().aggregate(**aggregates)
    return Counts(
        total=row["total"],
        expired=row["expired"],
        urgent=row["urgent"],
        not_yet_valid=row["not_yet_valid"],
        valid=row["valid"],
        within={days: row[f"within_{days}"] for days in windows()},
    )


def month_start(moment: datetime) -> datetime:
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def add_months(start: datetime, months: int) -> datetime:
    index = start.year * 12 + start.month - 1 + months
    return start.replace(year=index // 12, month=index % 12 + 1)


def histogram(
    certificates: CertificateQuerySet, now: datetime, months: int = HISTOGRAM_MONTHS
) -> list[tuple[date, int]]:
    """Certificates ending in each month from now on: this month (from ``now``) and the ``months - 1`` after it.
    One grouped query; months without any are filled in with 0."""
    now = timezone.localtime(now)
    first = month_start(now)
    end = add_months(first, months)
    rows = (
        certificates.filter(not_valid_after__gte=now, not_valid_after__lt=end)
        .annotate(month=TruncMonth("not_valid_after"))
        .order_by()
        .values("month")
        .annotate(n=Count("pk"))
    )
    by_month = {_as_date(row["month"]): row["n"] for row in rows}
    return [(day, by_month.get(day, 0)) for day in (add_months(first, i).date() for i in range(months))]


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
    return certificates.select_related("entry", "tenant").order_by(*order)
