"""Certificate states and the typed queryset other pages build on (expiry dashboard, assignments)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from certificates.eligibility import chain_now
from certificates.models import Certificate
from certificates.status import status_for, status_label
from certificates.usage import labels_for
from tests.certificates import pki
from tests.factories import add_root, save_certificate

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "start,end,expected",
    [
        (NOW - timedelta(days=10), NOW + timedelta(days=100), "valid"),
        (NOW - timedelta(days=10), NOW + timedelta(days=30), "expiring"),
        (NOW - timedelta(days=10), NOW + timedelta(days=31), "valid"),
        (NOW - timedelta(days=10), NOW, "expiring"),  # the last second still counts as valid
        (NOW - timedelta(days=10), NOW - timedelta(seconds=1), "expired"),
        (NOW + timedelta(seconds=1), NOW + timedelta(days=100), "not-yet-valid"),
        (NOW, NOW + timedelta(days=100), "valid"),
    ],
)
def test_status(start, end, expected):
    assert status_for(start, end, NOW) == expected


@override_settings(PORTAL_EXPIRY_WINDOWS=[7, 30])
def test_expiring_window_is_the_first_configured_one():
    assert status_for(NOW - timedelta(days=1), NOW + timedelta(days=8), NOW) == "valid"
    assert status_for(NOW - timedelta(days=1), NOW + timedelta(days=7), NOW) == "expiring"


def test_labels():
    start = datetime(2031, 1, 2, 3, 4, tzinfo=UTC)
    assert status_label("valid", start) == "Valid"
    assert status_label("expiring", start) == "Expiring soon"
    assert status_label("expired", start) == "Expired — playback only"
    assert status_label("not-yet-valid", start) == "Not yet valid — unusable for recording until 2031-01-02 03:04 UTC"


def _make(tenant, alias, start, end):
    cert, key = pki.make_self_signed(not_before=start, not_after=end)
    return save_certificate(tenant, cert, key, alias=alias, at=start)


def test_queryset_filters(world):
    now = timezone.now()
    valid = _make(world.acme, "valid", now - timedelta(days=1), now + timedelta(days=200))
    soon = _make(world.acme, "soon", now - timedelta(days=1), now + timedelta(days=20))
    expired = _make(world.acme, "expired", now - timedelta(days=100), now - timedelta(days=1))
    later = _make(world.acme, "later", now + timedelta(days=1), now + timedelta(days=400))
    other = _make(world.globex, "other", now - timedelta(days=1), now + timedelta(days=200))
    archived = _make(world.acme, "archived", now - timedelta(days=1), now + timedelta(days=200))
    Certificate.objects.filter(pk=archived.pk).update(archived_at=now)

    def aliases(queryset):
        return sorted(c.entry.alias for c in queryset.select_related("entry"))

    objects = Certificate.objects
    assert aliases(objects.active().filter(tenant=world.acme)) == ["expired", "later", "soon", "valid"]
    assert aliases(objects.archived()) == ["archived"]
    assert aliases(objects.active().expired()) == ["expired"]
    assert aliases(objects.active().not_yet_valid()) == ["later"]
    assert aliases(objects.active().valid()) == ["other", "soon", "valid"]
    assert aliases(objects.active().expiring_within(30)) == ["soon"]
    assert aliases(objects.active().expiring_within(365)) == ["other", "soon", "valid"]
    assert aliases(objects.for_tenants([world.globex])) == ["other"]
    # The same questions at another moment.
    assert aliases(objects.active().expired(now + timedelta(days=21))) == ["expired", "soon"]
    assert {valid.status(), soon.status(), expired.status(), later.status(), other.status()} == {
        "valid",
        "expiring",
        "expired",
        "not-yet-valid",
    }


def test_chain_now_uses_the_current_root_cas(world):
    ca, ca_key = pki.make_ca()
    root = add_root(world.acme, ca)
    cert, key = pki.issue(ca, ca_key)
    saved = save_certificate(world.acme, cert, key)
    assert saved.chain_ok
    assert chain_now(saved).ok
    root.delete()
    result = chain_now(Certificate.objects.get(pk=saved.pk))
    assert not result.ok
    assert "is not one of this tenant's trusted root CAs" in result.reason


def test_chain_now_at_a_time_when_the_root_has_expired(world):
    start = timezone.now() - timedelta(days=10)
    ca, ca_key = pki.make_ca(not_before=start, days=100)
    add_root(world.acme, ca)
    cert, key = pki.issue(ca, ca_key, not_before=start, days=50)
    saved = save_certificate(world.acme, cert, key)
    assert chain_now(saved, start + timedelta(days=20)).ok
    assert not chain_now(saved, start + timedelta(days=200)).ok


def test_alias_and_assignment_extension_point(world):
    saved = save_certificate(world.acme, alias="voice")
    assert saved.alias == "voice"
    assert str(saved) == "voice (Genesys Recording)"
    assert labels_for([saved.pk])[saved.pk] == []
