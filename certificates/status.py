"""Each status rule of a recording certificate, written once in Python and once as SQL (``Q``/``Case``) beside it.

A certificate is *not yet valid* before its start, *expired* after its end, *expiring soon* within the first expiry
window (``PORTAL_EXPIRY_WINDOWS``) of its end, and *valid* otherwise. Pages that show one certificate use
``status_for``; queries that count or filter thousands use the twins. ``tests/certificates/test_status.py`` holds
the two to the same answer at every boundary.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Case, CharField, Q, Value, When
from django.utils import timezone

VALID = "valid"
EXPIRING = "expiring"
EXPIRED = "expired"
NOT_YET_VALID = "not-yet-valid"
STATUSES = (NOT_YET_VALID, EXPIRED, EXPIRING, VALID)


def expiring_window_days() -> int:
    """The first expiry window: a valid certificate closer than this to its end is "Expiring soon"."""
    return int(settings.PORTAL_EXPIRY_WINDOWS[0])


def status_for(not_valid_before: datetime, not_valid_after: datetime, now: datetime | None = None) -> str:
    now = now or timezone.now()
    if now < not_valid_before:
        return NOT_YET_VALID
    if now > not_valid_after:
        return EXPIRED
    if not_valid_after <= now + timedelta(days=expiring_window_days()):
        return EXPIRING
    return VALID


def status_label(status: str, not_valid_before: datetime) -> str:
    if status == NOT_YET_VALID:
        return f"Not yet valid — unusable for recording until {not_valid_before:%Y-%m-%d %H:%M} UTC"
    return {VALID: "Valid", EXPIRING: "Expiring soon", EXPIRED: "Expired — playback only"}[status]


# --- The SQL twins ----------------------------------------------------------------------------------------------------


def not_yet_valid_q(now: datetime) -> Q:
    return Q(not_valid_before__gt=now)


def expired_q(now: datetime) -> Q:
    return Q(not_valid_after__lt=now)


def in_validity_q(now: datetime) -> Q:
    """Within the validity period: valid or expiring soon."""
    return Q(not_valid_before__lte=now, not_valid_after__gte=now)


def ending_within_q(days: int, now: datetime) -> Q:
    """In the validity period and ending within ``days``."""
    return in_validity_q(now) & Q(not_valid_after__lte=now + timedelta(days=days))


def expiring_q(now: datetime) -> Q:
    return ending_within_q(expiring_window_days(), now)


def valid_q(now: datetime) -> Q:
    """Valid and not expiring soon (``status_for`` == VALID)."""
    return in_validity_q(now) & Q(not_valid_after__gt=now + timedelta(days=expiring_window_days()))


def status_q(status: str, now: datetime) -> Q:
    return {NOT_YET_VALID: not_yet_valid_q, EXPIRED: expired_q, EXPIRING: expiring_q, VALID: valid_q}[status](now)


def status_case(now: datetime) -> Case:
    """``status_for`` as an annotation, in the same order of tests."""
    return Case(
        When(not_yet_valid_q(now), then=Value(NOT_YET_VALID)),
        When(expired_q(now), then=Value(EXPIRED)),
        When(expiring_q(now), then=Value(EXPIRING)),
        default=Value(VALID),
        output_field=CharField(),
    )
