"""Reading and saving the Screen Recording Certificates list.

Save applies the staged list in one transaction with its audit record, and only if the list is still at the version
the editor started from: a Save based on an older version is refused, so nothing is silently overwritten.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC
from functools import cache
from uuid import UUID

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from certificates.eligibility import recording_refusal, tenant_roots
from certificates.models import Certificate
from certificates.usage import UsageProvider, rows_for_certificates
from portal.accounts.models import Tenant
from portal.audit.log import Actor, record

from . import staging
from .models import ScreenRecordingCertificate, ScreenRecordingSettings

UNENCRYPTED_WARNING = "If you remove all certificates, screen recordings will no longer be encrypted."
FUTURE_ONLY = "Changes affect only future recordings; recordings already made keep their encryption."


class SaveRefused(Exception):
    """Nothing was saved; the message says why."""


class ListChanged(SaveRefused):
    """Another session saved the list after this editor loaded it."""


@dataclass(frozen=True)
class SavedChange:
    added: list[str]
    removed: list[str]
    version: int
    unstaged: list[str]  # staged certificates the administrator removed before saving

    @property
    def list_changed(self) -> bool:
        return bool(self.added or self.removed)


def current_version(tenant: Tenant) -> int:
    row = ScreenRecordingSettings.objects.filter(tenant=tenant).first()
    return row.version if row else 0


def assigned_certificates(tenant: Tenant) -> list[Certificate]:
    """The list as saved, in the order the certificates were added."""
    rows = ScreenRecordingCertificate.objects.filter(tenant=tenant).select_related("certificate__entry")
    return [row.certificate for row in rows.order_by("added", "pk")]


def eligible_certificates(tenant: Tenant, exclude: Iterable[UUID] = ()) -> list[Certificate]:
    """What "Select Certificate" offers: active, valid now, passing chain validation now, not already listed."""
    now = timezone.now()
    candidates = (
        Certificate.objects.filter(tenant=tenant)
        .active()
        .valid(now)
        .exclude(pk__in=list(exclude))
        .select_related("entry")
    )
    roots = tenant_roots(tenant.pk)
    return sorted(
        (cert for cert in candidates if recording_refusal(cert, now, roots=roots) is None),
        key=lambda c: c.alias.lower(),
    )


def changed_message(row: ScreenRecordingSettings) -> str:
    who = row.updated_by.username if row.updated_by else "someone"
    when = f"{row.updated.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC" if row.updated else "an unknown time"
    return (
        f"The list was changed by {who} at {when} while you were editing. Nothing was saved; this is the current list."
    )


def _settings_locked(tenant: Tenant) -> ScreenRecordingSettings:
    ScreenRecordingSettings.objects.get_or_create(tenant=tenant)
    return (
        ScreenRecordingSettings.objects.select_for_update(of=("self",)).select_related("updated_by").get(tenant=tenant)
    )


def _certificates_to_add(tenant: Tenant, ids: set[UUID]) -> list[Certificate]:
    """Locked, and checked again: a certificate may have expired, lost its root CA or been deleted since staging."""
    if not ids:
        return []
    found = list(
        Certificate.objects.select_for_update(of=("self",))
        .select_related("entry")
        .filter(tenant=tenant, pk__in=ids)
        .active()
    )
    if len(found) != len(ids):
        raise SaveRefused(
            "A certificate you added was deleted meanwhile. Nothing was saved; add the certificates again."
        )
    for cert in found:
        problem = recording_refusal(cert)
        if problem:
            raise SaveRefused(f"{problem} Nothing was saved.")
    return sorted(found, key=lambda c: c.alias.lower())


def save(
    tenant: Tenant,
    *,
    staged: Iterable[UUID],
    base_version: int,
    confirm_unencrypted: bool,
    by: Actor,
    shown_stagings: Iterable[UUID] = (),
) -> SavedChange | None:
    """Apply ``staged`` as the new list and settle the stagings the editor showed (``shown_stagings``). None when
    there is nothing to do: the list is unchanged and no staging was removed."""
    wanted = set(staged)
    with transaction.atomic():
        row = _settings_locked(tenant)
        if row.version != base_version:
            raise ListChanged(changed_message(row))
        saved = {
            a.certificate_id: a
            for a in ScreenRecordingCertificate.objects.filter(tenant=tenant).select_related("certificate__entry")
        }
        to_remove = [saved[pk] for pk in saved.keys() - wanted]
        to_add = _certificates_to_add(tenant, wanted - saved.keys())
        unstaged = staging.settle(tenant, listed=wanted, shown=set(shown_stagings), by=by)
        if not to_remove and not to_add:
            return SavedChange([], [], base_version, unstaged) if unstaged else None
        if not wanted and not confirm_unencrypted:
            raise SaveRefused(f"{UNENCRYPTED_WARNING} Check the confirmation to save anyway.")
        ScreenRecordingCertificate.objects.filter(pk__in=[a.pk for a in to_remove]).delete()
        ScreenRecordingCertificate.objects.bulk_create(
            ScreenRecordingCertificate(tenant=tenant, certificate=cert, added_by=by.user) for cert in to_add
        )
        # Compare-and-set as well as the lock: databases without row locks (SQLite) still refuse a lost update.
        bumped = ScreenRecordingSettings.objects.filter(pk=row.pk, version=base_version).update(
            version=F("version") + 1, updated_by=by.user, updated=timezone.now()
        )
        if bumped != 1:
            row.refresh_from_db()
            raise ListChanged(changed_message(row))
        change = SavedChange(
            added=[cert.alias for cert in to_add],
            removed=sorted((a.certificate.alias for a in to_remove), key=str.lower),
            version=base_version + 1,
            unstaged=unstaged,
        )
        record(
            "screen-recording-saved",
            by=by,
            tenant=tenant,
            details={
                "added": change.added,
                "removed": change.removed,
                "version": change.version,
                "encrypted": bool(wanted),
            },
        )
    return change


# --- Where certificates are used (for the certificate pages and the delete guard) -------------------------------------


@cache
def _labels_sql() -> str:
    quote = connection.ops.quote_name
    column = quote(ScreenRecordingCertificate._meta.get_field("certificate").column)
    table = quote(ScreenRecordingCertificate._meta.db_table)
    return f"SELECT {column} FROM {table} WHERE {column} IN ({{ids}})"  # noqa: S608  (names only)


def _labels(ids: list[UUID]) -> dict[UUID, list[str]]:
    return {pk: ["Screen recording"] for (pk,) in rows_for_certificates(_labels_sql(), ids)}


def _assigned() -> Q:
    return Q(pk__in=ScreenRecordingCertificate.objects.values("certificate_id"))


SCREEN_RECORDING_USAGE = UsageProvider(name="screen-recording", labels=_labels, assigned=_assigned)
