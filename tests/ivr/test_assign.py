"""Assigning and unassigning certificates on an IVR profile (Genesys professionals)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from certificates.eligibility import chain_now
from certificates.usage import labels_for
from ivr.models import IvrAssignment, IvrProfile
from ivr.services import AssignmentRefused, assign
from portal.audit.log import Actor
from portal.audit.models import AuditEntry
from tests.conftest import World
from tests.factories import (
    archive,
    assigned_to_record,
    ca_issued_certificate,
    expired_certificate,
    future_certificate,
    make_certificate,
    record_profile,
)


def _assign(client, profile: IvrProfile, certificate_id):
    return client.post(
        reverse("ivr-profile-assign", args=[profile.tenant.slug, profile.pk]), {"certificate": str(certificate_id)}
    )


def test_professional_assigns_a_valid_certificate(world: World, client_for) -> None:
    cert = make_certificate(world.acme, "acme-2026")
    profile = record_profile(world.acme)
    response = _assign(client_for(world.pat), profile, cert.pk)
    assert response.status_code == 302
    assignment = IvrAssignment.objects.get(profile=profile, certificate=cert)
    assert assignment.assigned_by == world.pat
    entry = AuditEntry.objects.get(action="ivr-certificate-assigned")
    assert entry.actor_username == "pat" and entry.tenant_slug == "acme"
    assert entry.details["alias"] == "acme-2026" and entry.details["profile"] == "record"
    # The certificate pages (list, detail, delete guard) see where it is used.
    assert labels_for([cert.pk])[cert.pk] == ["IVR profile 'record' (DBID 1)"]


def test_several_certificates_per_profile(world: World, client_for) -> None:
    profile = record_profile(world.acme)
    for alias in ("one", "two", "three"):
        _assign(client_for(world.pat), profile, make_certificate(world.acme, alias).pk)
    assert profile.assignments.count() == 3


def test_expired_certificate_is_refused_with_its_date(world: World, client_for) -> None:
    cert = expired_certificate(world.acme, "old-2024", ended=datetime(2025, 1, 31, 12, 0, tzinfo=UTC))
    response = _assign(client_for(world.pat), record_profile(world.acme), cert.pk)
    assert response.status_code == 400
    assert (
        "&#x27;old-2024&#x27; expired on 2025-01-31 12:00 UTC; it can no longer be used for recording."
        in response.content.decode()
    )
    assert not IvrAssignment.objects.exists()
    assert not AuditEntry.objects.filter(action="ivr-certificate-assigned").exists()


def test_not_yet_valid_certificate_is_refused_with_its_start(world: World, client_for) -> None:
    starts = (datetime.now(UTC) + timedelta(days=30)).replace(second=0, microsecond=0)
    cert = future_certificate(world.acme, "next-year", starts=starts)
    response = _assign(client_for(world.pat), record_profile(world.acme), cert.pk)
    assert response.status_code == 400
    assert f"is not valid until {starts:%Y-%m-%d %H:%M} UTC" in response.content.decode()
    assert not IvrAssignment.objects.exists()


def test_certificate_whose_root_ca_was_removed_fails_chain_validation(world: World, client_for) -> None:
    cert, root = ca_issued_certificate(world.acme, "ca-issued")
    assert chain_now(cert).ok
    root.delete()
    response = _assign(client_for(world.pat), record_profile(world.acme), cert.pk)
    assert response.status_code == 400
    html = response.content.decode()
    assert "fails chain validation" in html and "is not one of this tenant" in html
    assert not IvrAssignment.objects.exists()


def test_same_certificate_twice_gets_a_clear_message(world: World, client_for) -> None:
    assignment = assigned_to_record(world.acme, "acme-2026")
    response = _assign(client_for(world.pat), assignment.profile, assignment.certificate_id)
    assert response.status_code == 400
    assert "already assigned" in response.content.decode()
    with pytest.raises(AssignmentRefused, match="'acme-2026' is already assigned to the IVR profile 'record'"):
        assign(assignment.profile, assignment.certificate, by=Actor(world.pat))
    assert IvrAssignment.objects.count() == 1


def test_the_same_certificate_may_serve_two_profiles(world: World, client_for) -> None:
    assignment = assigned_to_record(world.acme, "acme-2026")
    chat = IvrProfile.objects.create(tenant=world.acme, name="chat", dbid=2)
    assert _assign(client_for(world.pat), chat, assignment.certificate_id).status_code == 302
    assert sorted(labels_for([assignment.certificate.pk])[assignment.certificate.pk]) == [
        "IVR profile 'chat' (DBID 2)",
        "IVR profile 'record' (DBID 1)",
    ]


def test_another_tenants_certificate_cannot_be_assigned(world: World, client_for) -> None:
    foreign = make_certificate(world.globex, "globex-cert")
    response = _assign(client_for(world.pat), record_profile(world.acme), foreign.pk)
    assert response.status_code == 400
    assert "not one of this tenant" in response.content.decode()
    assert not IvrAssignment.objects.exists()


def test_deleted_certificate_cannot_be_assigned(world: World, client_for) -> None:
    cert = archive(make_certificate(world.acme, "gone"))
    assert _assign(client_for(world.pat), record_profile(world.acme), cert.pk).status_code == 400
    assert not IvrAssignment.objects.exists()


def test_professional_unassigns_and_it_is_audited(world: World, client_for) -> None:
    assignment = assigned_to_record(world.acme, "acme-2026")
    url = reverse("ivr-profile-unassign", args=["acme", assignment.profile.pk, assignment.pk])
    response = client_for(world.pat).post(url, follow=True)
    assert not IvrAssignment.objects.exists()
    assert "new voice recordings with it are not encrypted" in response.content.decode()
    entry = AuditEntry.objects.get(action="ivr-certificate-unassigned")
    assert entry.actor_username == "pat" and entry.details["alias"] == "acme-2026"
    assert labels_for([assignment.certificate.pk])[assignment.certificate.pk] == []


def test_unassign_checks_ownership(world: World, client_for) -> None:
    foreign = assigned_to_record(world.globex, "globex-cert")
    mine = assigned_to_record(world.acme, "acme-cert")
    chat = IvrProfile.objects.create(tenant=world.acme, name="chat", dbid=2)
    client = client_for(world.pat)
    assert client.post(reverse("ivr-profile-unassign", args=["acme", mine.profile.pk, foreign.pk])).status_code == 404
    # An assignment of this tenant reached through another of its profiles is not found either.
    assert client.post(reverse("ivr-profile-unassign", args=["acme", chat.pk, mine.pk])).status_code == 404
    assert IvrAssignment.objects.count() == 2


@pytest.mark.parametrize("who,status", [("alice", 403), ("sam", 403), ("charlie", 404), ("bob", 404)])
def test_assign_and_unassign_require_the_right_role(world: World, client_for, who: str, status: int) -> None:
    cert = make_certificate(world.acme, "acme-2026")
    assignment = assigned_to_record(world.acme, "acme-2025")
    profile = assignment.profile
    client = client_for(getattr(world, who))
    assert _assign(client, profile, cert.pk).status_code == status
    unassign = reverse("ivr-profile-unassign", args=["acme", profile.pk, assignment.pk])
    assert client.post(unassign).status_code == status
    assert IvrAssignment.objects.count() == 1
    assert not AuditEntry.objects.filter(action__startswith="ivr-").exists()


def test_assign_and_unassign_reject_get(world: World, client_for) -> None:
    assignment = assigned_to_record(world.acme, "acme-2025")
    client = client_for(world.pat)
    assert client.get(reverse("ivr-profile-assign", args=["acme", assignment.profile.pk])).status_code == 405
    unassign = reverse("ivr-profile-unassign", args=["acme", assignment.profile.pk, assignment.pk])
    assert client.get(unassign).status_code == 405
    assert IvrAssignment.objects.count() == 1
