"""Guarded delete: the impact page, refusal while assigned, the alias typed in, archive, restore and purge."""

import re
from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import ProtectedError
from django.urls import reverse

from certificates.models import Certificate
from ivr.models import RequestStatus
from keystore.lifecycle import EntryGone, purge_entry
from keystore.models import KeystoreEntry
from portal.audit.models import AuditEntry
from screenrecording.models import ScreenRecordingCertificate
from tests.certificates import pki
from tests.conftest import World
from tests.factories import archive, assigned_to_record, expired_certificate, make_certificate, open_request

UNDERSTOOD = "on"
ARCHIVED_AT = datetime(2026, 1, 1, tzinfo=UTC)


def delete_url(cert: Certificate, slug: str = "acme") -> str:
    return reverse("certificate-delete", args=[slug, cert.pk])


def restore_url(cert: Certificate, slug: str = "acme") -> str:
    return reverse("certificate-restore-archived", args=[slug, cert.pk])


def purge_url(cert: Certificate, slug: str = "acme") -> str:
    return reverse("certificate-purge", args=[slug, cert.pk])


def archived(tenant, alias: str = "old") -> Certificate:
    return archive(make_certificate(tenant, alias), at=ARCHIVED_AT)


def test_confirmation_page_states_the_impact(world: World, client_for) -> None:
    assignment = assigned_to_record(world.acme, "acme-2026")
    cert = assignment.certificate
    ScreenRecordingCertificate.objects.create(tenant=world.acme, certificate=cert)
    html = client_for(world.alice).get(delete_url(cert)).content.decode()
    assert "IVR profile &#x27;record&#x27; (DBID 1)" in html and "Screen recording" in html
    assert "cannot be played back without its private key" in html
    assert "Expired certificates are kept for playback" in html
    assert "cannot be deleted: it is assigned to" in html


@pytest.mark.parametrize("where", ["ivr", "screen"])
def test_delete_is_refused_while_assigned_anywhere(world: World, client_for, where: str) -> None:
    if where == "ivr":
        cert = assigned_to_record(world.acme, "acme-2026").certificate
        place = "IVR profile &#x27;record&#x27; (DBID 1)"
    else:
        cert = make_certificate(world.acme, "acme-2026")
        ScreenRecordingCertificate.objects.create(tenant=world.acme, certificate=cert)
        place = "Screen recording"
    response = client_for(world.alice).post(delete_url(cert), {"alias": "acme-2026"})
    assert response.status_code == 400
    assert f"&#x27;acme-2026&#x27; cannot be deleted: it is assigned to {place}." in response.content.decode()
    cert.refresh_from_db()
    assert cert.archived_at is None
    assert not AuditEntry.objects.filter(action="certificate-archived").exists()


def test_delete_needs_the_alias_typed_exactly(world: World, client_for) -> None:
    cert = make_certificate(world.acme, "Acme-2026")
    alice = client_for(world.alice)
    for typed in ("acme-2026", "Acme-2027"):
        response = alice.post(delete_url(cert), {"alias": typed})
        assert "Type the alias &#x27;Acme-2026&#x27; exactly" in response.content.decode()
    assert "This field is required." in alice.post(delete_url(cert), {"alias": ""}).content.decode()
    cert.refresh_from_db()
    assert cert.archived_at is None


def test_delete_moves_certificate_and_key_to_the_archive_and_restore_brings_them_back(world: World, client_for) -> None:
    cert = expired_certificate(world.acme, "old-2024")
    entry_id = cert.entry_id
    alice = client_for(world.alice)
    response = alice.post(delete_url(cert), {"alias": "old-2024"})
    assert response.status_code == 302 and response["Location"] == reverse("certificate-archive", args=["acme"])
    cert.refresh_from_db()
    assert cert.archived_at is not None and cert.archived_by == world.alice
    assert KeystoreEntry.objects.filter(pk=entry_id).exists()  # the private key is kept
    assert not Certificate.objects.filter(tenant=world.acme).active().exists()
    entry = AuditEntry.objects.get(action="certificate-archived")
    assert entry.details["alias"] == "old-2024" and entry.details["fingerprint"] == cert.sha256_fingerprint
    listing = alice.get(reverse("certificate-archive", args=["acme"])).content.decode()
    assert "old-2024" in listing and "by alice" in listing and "Restore" in listing
    response = alice.post(restore_url(cert))
    assert response.status_code == 302 and response["Location"] == reverse("certificate-list", args=["acme"])
    cert.refresh_from_db()
    assert cert.archived_at is None and cert.archived_by is None
    assert AuditEntry.objects.get(action="certificate-unarchived").details["alias"] == "old-2024"


def test_the_trail_tells_unarchiving_from_restoring_a_backup_file(world: World, client_for) -> None:
    """Bringing a deleted certificate back from the archive and restoring one from a keystore backup are two
    different events: each has its own action, to filter on and to be offered among the action names."""
    alice = client_for(world.alice)
    kept = make_certificate(world.acme, "kept-2026")
    assert alice.post(delete_url(kept), {"alias": "kept-2026"}).status_code == 302
    assert alice.post(restore_url(kept)).status_code == 302
    cert, key = pki.make_self_signed(pki.make_key(2048, 3), "Backed up")
    backup = SimpleUploadedFile("keystore.p12", pki.make_p12(key, cert, b"backup password 2027"))
    form = {"backup_file": backup, "password": "backup password 2027"}
    assert alice.post(reverse("certificate-restore", args=["acme"]), form).status_code == 200
    (restored,) = Certificate.objects.filter(tenant=world.acme).exclude(pk=kept.pk)
    trail = reverse("audit-tenant", args=["acme"])

    def shown(action: str) -> list[tuple[str, str]]:
        """The action and object of each row the filtered trail shows."""
        page = alice.get(trail, {"action": action}).context["page"]
        return [(row["action"], row["object_text"]) for row in page]

    assert shown("certificate-unarchived") == [("certificate-unarchived", f"certificate: {kept}")]
    assert shown("certificate-restored") == [("certificate-restored", f"certificate: {restored}")]
    suggested = re.findall(r'<option value="([^"]*)">', alice.get(trail).content.decode())
    assert {"certificate-archived", "certificate-unarchived", "certificate-restored"} <= set(suggested)


def test_delete_withdraws_open_requests_for_the_certificate(world: World, client_for) -> None:
    made = open_request(world.acme, world.alice, "acme-2026")
    assert made.certificate is not None
    html = client_for(world.alice).get(delete_url(made.certificate)).content.decode()
    assert "1 open assignment request for this certificate will be withdrawn" in html
    client_for(world.alice).post(delete_url(made.certificate), {"alias": "acme-2026"})
    made.refresh_from_db()
    assert made.status == RequestStatus.WITHDRAWN
    assert AuditEntry.objects.get(action="certificate-archived").details["requests_withdrawn"] == 1


def test_purge_needs_alias_and_acknowledgement_then_removes_certificate_and_key(world: World, client_for) -> None:
    made = open_request(world.acme, world.alice, "old")
    cert = made.certificate
    made.status = RequestStatus.DECLINED
    made.save()
    assert cert is not None
    archive(cert, at=ARCHIVED_AT)
    entry_id = cert.entry_id
    alice = client_for(world.alice)
    page = alice.get(purge_url(cert)).content.decode()
    assert "cannot be undone" in page and "I understand recordings encrypted for this certificate" in page
    response = alice.post(purge_url(cert), {"alias": "old"})
    assert "to purge" in response.content.decode()
    response = alice.post(purge_url(cert), {"alias": "OLD", "understood": UNDERSTOOD})
    assert "Type the alias &#x27;old&#x27; exactly to confirm the purge." in response.content.decode()
    assert Certificate.objects.filter(pk=cert.pk).exists()
    response = alice.post(purge_url(cert), {"alias": "old", "understood": UNDERSTOOD})
    assert response.status_code == 302
    assert not Certificate.objects.filter(pk=cert.pk).exists()
    assert not KeystoreEntry.objects.filter(pk=entry_id).exists()
    entry = AuditEntry.objects.get(action="certificate-purged")
    assert entry.actor_username == "alice"
    assert entry.details == {
        "alias": "old",
        "subject": cert.subject_dn,
        "serial": cert.serial_number,
        "fingerprint": cert.sha256_fingerprint,
    }
    # The request's history still names the certificate.
    made.refresh_from_db()
    assert made.certificate is None and made.certificate_alias == "old"


def test_only_archived_certificates_can_be_restored_or_purged(world: World, client_for) -> None:
    active = make_certificate(world.acme, "active")
    gone = archived(world.acme, "gone")
    alice = client_for(world.alice)
    assert alice.post(restore_url(active)).status_code == 404
    assert alice.get(purge_url(active)).status_code == 404
    assert alice.post(purge_url(active), {"alias": "active", "understood": UNDERSTOOD}).status_code == 404
    assert alice.get(delete_url(gone)).status_code == 404
    assert Certificate.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_purge_of_the_keystore_entry_requires_the_audited_transaction(world: World) -> None:
    cert = archived(world.acme)
    with pytest.raises(RuntimeError, match="inside the transaction"):
        purge_entry(world.acme, cert.entry_id)
    with pytest.raises(ProtectedError), transaction.atomic():  # its certificate still refers to the entry
        purge_entry(world.acme, cert.entry_id)
    with pytest.raises(EntryGone), transaction.atomic():  # another tenant's entry is not found
        purge_entry(world.globex, cert.entry_id)
    assert KeystoreEntry.objects.filter(pk=cert.entry_id).exists()


@pytest.mark.parametrize("who,status", [("pat", 403), ("sam", 403), ("charlie", 404), ("bob", 404)])
def test_delete_restore_and_purge_require_the_tenant_admin_role(world: World, client_for, who: str, status) -> None:
    active = make_certificate(world.acme, "active")
    gone = archived(world.acme, "gone")
    client = client_for(getattr(world, who))
    assert client.get(delete_url(active)).status_code == status
    assert client.post(delete_url(active), {"alias": "active"}).status_code == status
    assert client.post(restore_url(gone)).status_code == status
    assert client.get(purge_url(gone)).status_code == status
    assert client.post(purge_url(gone), {"alias": "gone", "understood": UNDERSTOOD}).status_code == status
    assert Certificate.objects.filter(archived_at__isnull=True).count() == 1
    assert Certificate.objects.count() == 2


def test_delete_restore_and_purge_check_ownership(world: World, client_for) -> None:
    foreign_active = make_certificate(world.globex, "foreign")
    foreign_archived = archived(world.globex, "foreign-old")
    alice = client_for(world.alice)
    assert alice.post(delete_url(foreign_active), {"alias": "foreign"}).status_code == 404
    assert alice.post(restore_url(foreign_archived)).status_code == 404
    assert alice.post(purge_url(foreign_archived), {"alias": "foreign-old", "understood": "on"}).status_code == 404
    assert Certificate.objects.filter(tenant=world.globex).count() == 2


def test_restore_rejects_get(world: World, client_for) -> None:
    assert client_for(world.alice).get(restore_url(archived(world.acme))).status_code == 405


@pytest.mark.parametrize("who", ["pat", "sam"])
def test_archive_is_readable_but_not_actionable_for_other_roles(world: World, client_for, who: str) -> None:
    archived(world.acme, "gone")
    page = client_for(getattr(world, who)).get(reverse("certificate-archive", args=["acme"]))
    assert page.status_code == 200
    assert b"gone" in page.content and b"Restore" not in page.content and b"Purge" not in page.content
    assert client_for(getattr(world, who)).post(reverse("certificate-archive", args=["acme"])).status_code == 405
