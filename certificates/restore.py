"""Restoring certificates from a keystore backup: each restored entry's certificate passes the upload's checks."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db import transaction

from keystore.api import Budget, ImportReport, KeystoreEntry, import_pkcs12
from portal.audit.log import Actor, record

from .models import announcing_once
from .upload import UploadInvalid, check_certificate, create_certificate

# The command line that restores a backup too large for a web request (management/commands/restore_keystore.py).
RESTORE_COMMAND = "python manage.py restore_keystore --tenant {slug} FILE"


def too_large_for_the_web(message: str, tenant_slug: str) -> str:
    """The keystore's refusal of a file over a web request's budget, with where to restore it instead."""
    return f"{message} Restore it on the server with: {RESTORE_COMMAND.format(slug=tenant_slug)}"


class RestoreRefused(Exception):
    """A certificate in a keystore backup breaks the upload rules; nothing of the backup is restored."""


# A restored entry that is not a recording certificate's (an LKM keypair, say) is claimed by the app that owns such
# keys: a claim returns True when it took the entry, or raises RestoreRefused. Apps register at start-up.
RestoreClaim = Callable[[Any, KeystoreEntry, Actor], bool]
_claims: list[RestoreClaim] = []


def register_restore_claim(claim: RestoreClaim) -> None:
    if claim not in _claims:
        _claims.append(claim)


def restore_certificate_for(tenant: Any, *, by: Actor, at: datetime | None = None) -> Callable[[Any], None]:
    """The ``on_entry`` hook for the keystore's PKCS#12 import: each restored entry's certificate passes the same
    parser and checks as an upload, and gets its Certificate row, inside the import's transaction."""

    def on_entry(entry: KeystoreEntry) -> None:
        if any(claim(tenant, entry, by) for claim in _claims):
            return
        try:
            checked = check_certificate(tenant, bytes(entry.certificate_der), at=at)
        except UploadInvalid as invalid:
            raise RestoreRefused(f"'{entry.alias}': {invalid.first.message}") from None
        certificate = create_certificate(tenant, entry, checked, by=by)
        record(
            "certificate-restored",
            by=by,
            tenant=tenant,
            obj=certificate,
            details={**certificate.audit_details(), "status": checked.status},
        )

    return on_entry


def restore_backup(
    tenant: Any,
    data: bytes,
    password: str,
    *,
    by: Actor,
    budget: Budget | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Every key of the backup with its certificate, all or nothing, within ``budget`` (a web request's unless told
    otherwise). ``ImportFileError`` (``ImportTooLarge`` when over budget) or ``RestoreRefused`` when nothing was.
    ``progress`` is called with (keys done, keys in the file) as each key is restored or skipped."""
    on_entry = restore_certificate_for(tenant, by=by)
    # The restored certificates are announced together, in the restore's transaction: the tenant's summaries are
    # recounted once, not once per certificate.
    with transaction.atomic(), announcing_once():
        return import_pkcs12(tenant, data, password, on_entry=on_entry, by=by, budget=budget, progress=progress)
