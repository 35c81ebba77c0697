"""Certificates proposed for the Screen Recording Certificates list (a renewal stages its successor).

A staging encrypts nothing: the editor shows it to the administrators as a pending addition, and it takes effect only
when one of them saves the list with it. Saving with it, removing it before saving, Cancel, and archiving the
certificate each end the staging; every end but the first is audited as "screen-recording-unstaged".
"""

from collections.abc import Iterable
from uuid import UUID

from django.db import transaction

from certificates.eligibility import recording_refusal
from certificates.models import Certificate
from portal.accounts.models import Tenant
from portal.audit.log import Actor, record

from .models import ScreenRecordingCertificate, StagedCertificate

UNSTAGED = "screen-recording-unstaged"
REMOVED_BEFORE_SAVING = "removed before saving"
CANCELLED = "discarded with Cancel"
ARCHIVED = "certificate deleted"


def stage(certificate: Certificate, *, reason: str, by: Actor) -> str:
    """Propose ``certificate`` for the list; the note says what happened, for the page the administrator is on."""
    alias = certificate.alias
    if ScreenRecordingCertificate.objects.filter(certificate=certificate).exists():
        return f"'{alias}' is already on the Screen Recording Certificates list; nothing was staged."
    problem = recording_refusal(certificate)
    if problem:
        return f"Not staged on the Screen Recording Certificates list: {problem}"
    with transaction.atomic():
        _, created = StagedCertificate.objects.get_or_create(
            certificate=certificate,
            defaults={"tenant_id": certificate.tenant_id, "reason": reason, "staged_by": by.user},
        )
        if not created:
            return (
                f"'{alias}' is already staged on the Screen Recording Certificates list; save the list there to use it."
            )
        record(
            "screen-recording-staged",
            by=by,
            tenant=certificate.tenant,
            obj=certificate,
            details={**certificate.audit_details(), "reason": reason},
        )
    return (
        f"Staged '{alias}' on the Screen Recording Certificates list: it encrypts screen recordings once an "
        "administrator saves the list there."
    )


def pending(tenant: Tenant) -> list[StagedCertificate]:
    """The stagings the editor shows as pending additions: active certificates not on the saved list."""
    return list(
        StagedCertificate.objects.filter(tenant=tenant, certificate__archived_at__isnull=True)
        .exclude(certificate__screen_recording__isnull=False)
        .select_related("certificate__entry")
        .order_by("staged_at", "pk")
    )


def reasons(tenant: Tenant, ids: Iterable[UUID]) -> dict[UUID, str]:
    """Certificate id -> why it was staged, for those of ``ids`` still staged in this tenant."""
    rows = StagedCertificate.objects.filter(tenant=tenant, certificate_id__in=list(ids))
    return dict(rows.values_list("certificate_id", "reason"))


def _unstage(tenant: Tenant, rows: list[StagedCertificate], why: str, by: Actor) -> list[str]:
    if not rows:
        return []
    aliases = sorted((row.certificate.alias for row in rows), key=str.lower)
    StagedCertificate.objects.filter(pk__in=[row.pk for row in rows]).delete()
    record(UNSTAGED, by=by, tenant=tenant, details={"aliases": aliases, "why": why})
    return aliases


def settle(tenant: Tenant, *, listed: set[UUID], shown: set[UUID], by: Actor) -> list[str]:
    """After a Save (in its transaction): stagings of certificates now on the list are done; those the administrator
    was shown and removed are dropped. Stagings made while they edited stay for the next visit. Returns the aliases
    dropped."""
    rows = StagedCertificate.objects.filter(tenant=tenant).select_related("certificate__entry")
    rows.filter(certificate_id__in=listed).delete()
    return _unstage(tenant, list(rows.filter(certificate_id__in=shown - listed)), REMOVED_BEFORE_SAVING, by)


def discard(tenant: Tenant, shown: Iterable[UUID], *, by: Actor) -> list[str]:
    """Cancel: the stagings the editor showed are dropped with the other pending changes."""
    with transaction.atomic():
        rows = StagedCertificate.objects.filter(tenant=tenant, certificate_id__in=list(shown))
        return _unstage(tenant, list(rows.select_related("certificate__entry")), CANCELLED, by)


def drop_archived(certificate: Certificate, *, by: Actor) -> None:
    """An archived certificate cannot be used; its staging goes (in the archiving transaction)."""
    rows = list(StagedCertificate.objects.filter(certificate=certificate).select_related("certificate__entry"))
    _unstage(certificate.tenant, rows, ARCHIVED, by)
