"""Deleting a recording certificate without losing the means to play recordings back.

Delete moves the certificate (and, untouched, its keystore entry with the private key) to the archive, and only
when nothing uses it. Restore (``unarchive``) brings it back. Purge, a separate and later step, removes certificate and
private key for good. Each step is one transaction with its audit record.
"""

from typing import Any

from django.db import transaction
from django.utils import timezone

from keystore.api import EntryGone, purge_entry
from portal.accounts.models import Tenant
from portal.audit.log import Actor, record

from .events import certificate_archived
from .models import Certificate
from .usage import labels_for


class ArchiveRefused(Exception):
    """The step cannot be taken; the message says why."""


def usage_of(certificate: Certificate) -> list[str]:
    return labels_for([certificate.pk])[certificate.pk]


def in_use_message(alias: str, labels: list[str]) -> str:
    return (
        f"'{alias}' cannot be deleted: it is assigned to {', '.join(labels)}. Recordings are encrypted with it; "
        "have it unassigned first (ask your Genesys professional for IVR profiles)."
    )


def alias_matches(certificate: Certificate, typed: str) -> bool:
    return typed.strip() == certificate.alias


def _locked(tenant: Tenant, certificate: Certificate, *, archived: bool) -> Certificate:
    """The certificate's row, locked for this transaction, in the state the step expects."""
    rows = Certificate.objects.select_for_update(of=("self",)).select_related("entry")
    rows = rows.archived() if archived else rows.active()
    locked = rows.filter(tenant=tenant, pk=certificate.pk).first()
    if locked is None:
        where = "in the archive" if archived else "in the certificate list"
        raise ArchiveRefused(f"'{certificate.alias}' is no longer {where}; someone else changed it meanwhile.")
    return locked


def archive(tenant: Tenant, certificate: Certificate, *, typed_alias: str, by: Actor) -> Certificate:
    """Move to the archive: refused while assigned anywhere, or unless the alias is typed in."""
    with transaction.atomic():
        # Locked first: an assignment of this certificate waits for us, and then finds it archived.
        locked = _locked(tenant, certificate, archived=False)
        labels = usage_of(locked)
        if labels:
            raise ArchiveRefused(in_use_message(locked.alias, labels))
        if not alias_matches(locked, typed_alias):
            raise ArchiveRefused(f"Type the alias '{locked.alias}' exactly to confirm the delete.")
        locked.archived_at = timezone.now()
        locked.archived_by = by.user
        locked.save(update_fields=["archived_at", "archived_by"])
        answers: list[Any] = [answer for _, answer in certificate_archived.send(Certificate, certificate=locked, by=by)]
        withdrawn = sum(answer for answer in answers if isinstance(answer, int))
        record(
            "certificate-archived",
            by=by,
            tenant=tenant,
            obj=locked,
            details={**locked.audit_details(), "requests_withdrawn": withdrawn},
        )
    return locked


def unarchive(tenant: Tenant, certificate: Certificate, *, by: Actor) -> Certificate:
    """Back to the certificate list, audited as "certificate-unarchived": "certificate-restored" is a certificate
    restored from a keystore backup file (restore.py), and the trail tells the two apart."""
    with transaction.atomic():
        locked = _locked(tenant, certificate, archived=True)
        archived_at = locked.archived_at
        locked.archived_at = None
        locked.archived_by = None
        locked.save(update_fields=["archived_at", "archived_by"])
        record(
            "certificate-unarchived",
            by=by,
            tenant=tenant,
            obj=locked,
            details={**locked.audit_details(), "archived_at": archived_at.isoformat() if archived_at else None},
        )
    return locked


def purge(tenant: Tenant, certificate: Certificate, *, typed_alias: str, understood: bool, by: Actor) -> str:
    """Delete an archived certificate and its private key for good. Returns the alias it had."""
    with transaction.atomic():
        locked = _locked(tenant, certificate, archived=True)
        if not alias_matches(locked, typed_alias):
            raise ArchiveRefused(f"Type the alias '{locked.alias}' exactly to confirm the purge.")
        if not understood:
            raise ArchiveRefused(
                "Confirm that you understand recordings encrypted for this certificate can no longer be played back."
            )
        labels = usage_of(locked)  # archived certificates are never assigned; the database enforces it too
        if labels:
            raise ArchiveRefused(in_use_message(locked.alias, labels))
        details = locked.audit_details()
        entry_id = locked.entry_id
        record("certificate-purged", by=by, tenant=tenant, obj=locked, details=details)
        # Whatever refers to it without protecting it (assignment requests keep the alias as text) lets go (SET_NULL).
        locked.delete()
        try:
            purge_entry(tenant, entry_id)
        except EntryGone:
            raise ArchiveRefused(f"'{details['alias']}' was purged meanwhile.") from None
    return str(details["alias"])
