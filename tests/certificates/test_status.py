"""The status rules are written twice, in Python (one certificate on a page) and in SQL (counts and filters over
thousands): both must give every certificate the same status, at every boundary of its validity and of the first
expiry window."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings

from certificates import status
from certificates.models import Certificate
from tests.conftest import World
from tests.factories import make_certificate

NOW = datetime(2027, 3, 1, 12, 0, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
WINDOW = timedelta(days=30)

# (start, end) pairs whose status changes at NOW or within a second of it.
PERIODS = {
    "starts-in-a-second": (NOW + SECOND, NOW + timedelta(days=400)),
    "starts-now": (NOW, NOW + timedelta(days=400)),
    "ended-a-second-ago": (NOW - timedelta(days=400), NOW - SECOND),
    "ends-now": (NOW - timedelta(days=400), NOW),
    "ends-in-a-second": (NOW - timedelta(days=400), NOW + SECOND),
    "ends-at-the-window": (NOW - timedelta(days=400), NOW + WINDOW),
    "ends-a-second-after-the-window": (NOW - timedelta(days=400), NOW + WINDOW + SECOND),
    "ends-in-a-year": (NOW - timedelta(days=10), NOW + timedelta(days=365)),
}
EXPECTED = {
    "starts-in-a-second": status.NOT_YET_VALID,
    "starts-now": status.VALID,
    "ended-a-second-ago": status.EXPIRED,
    "ends-now": status.EXPIRING,
    "ends-in-a-second": status.EXPIRING,
    "ends-at-the-window": status.EXPIRING,
    "ends-a-second-after-the-window": status.VALID,
    "ends-in-a-year": status.VALID,
}


@pytest.fixture
def certificates(world: World) -> dict[str, Certificate]:
    return {
        name: make_certificate(world.acme, name, not_before=start, not_after=end)
        for name, (start, end) in PERIODS.items()
    }


@override_settings(PORTAL_EXPIRY_WINDOWS=[30, 60, 90])
def test_python_rule_and_sql_twin_agree_at_every_boundary(certificates: dict[str, Certificate]) -> None:
    in_python = {name: cert.status(NOW) for name, cert in certificates.items()}
    annotated = Certificate.objects.filter(pk__in=[c.pk for c in certificates.values()]).annotate(
        computed=status.status_case(NOW)
    )
    by_pk = {pk: computed for pk, computed in annotated.values_list("pk", "computed")}
    in_sql = {name: by_pk[cert.pk] for name, cert in certificates.items()}
    assert in_python == EXPECTED
    assert in_sql == EXPECTED
    for each in status.STATUSES:
        filtered = set(Certificate.objects.filter(status.status_q(each, NOW)).values_list("pk", flat=True))
        assert filtered == {cert.pk for name, cert in certificates.items() if EXPECTED[name] == each}, each


@override_settings(PORTAL_EXPIRY_WINDOWS=[30, 60, 90])
def test_queryset_filters_use_the_same_rules(certificates: dict[str, Certificate]) -> None:
    rows = Certificate.objects.all()
    names = {cert.pk: name for name, cert in certificates.items()}
    assert {names[c.pk] for c in rows.expired(NOW)} == {"ended-a-second-ago"}
    assert {names[c.pk] for c in rows.not_yet_valid(NOW)} == {"starts-in-a-second"}
    assert {names[c.pk] for c in rows.expiring_within(30, NOW)} == {
        "ends-now",
        "ends-in-a-second",
        "ends-at-the-window",
    }
    assert len(rows.valid(NOW)) == len(PERIODS) - 2
