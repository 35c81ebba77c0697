"""Assigning recording certificates to IVR profiles, and the requests that ask for it.

Every change is made and audited in one transaction. A certificate is locked (``select_for_update``) while it is
assigned, so an assignment and a delete of the same certificate cannot both succeed.
"""

from dataclasses import dataclass
from functools import cache
from typing import Any
from uuid import UUID

from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from certificates.eligibility import certificate_pem, recording_refusal, utc_text
from certificates.models import Certificate
from certificates.usage import UsageProvider, rows_for_certificates
from keystore.api import fitting_alias, numbered
from portal.accounts.models import Tenant
from portal.audit.log import Actor, record
from portal.web.text import visible

from .models import (
    ANNEX_SECTION,
    RECORD_PROFILE_NAME,
    AssignmentRequest,
    IvrAssignment,
    IvrProfile,
    RequestStatus,
)

RECORD_DESCRIPTION = "Voice recordings. Set the DBID to the one the Configuration Server shows for this profile."
COMMENT_MAX = 1000


class AssignmentRefused(Exception):
    """A change that cannot be made; the message says why, for the page the user is on."""


# --- Profiles ---------------------------------------------------------------------------------------------------------


def next_dbid(tenant: Tenant) -> int:
    top = IvrProfile.objects.filter(tenant=tenant).aggregate(top=Max("dbid"))["top"]
    return (top or 0) + 1


def ensure_record_profile(tenant: Tenant) -> IvrProfile:
    """Every tenant starts with the "record" profile for voice recordings (created with the tenant, not audited
    apart from the tenant's own creation)."""
    existing = IvrProfile.objects.filter(tenant=tenant, name__iexact=RECORD_PROFILE_NAME).first()
    if existing is not None:
        return existing
    return IvrProfile.objects.create(
        tenant=tenant, name=RECORD_PROFILE_NAME, dbid=next_dbid(tenant), description=RECORD_DESCRIPTION
    )


def profile_details(profile: IvrProfile) -> dict[str, Any]:
    return {"profile": profile.name, "dbid": profile.dbid}


def save_profile(profile: IvrProfile, *, by: Actor, created: bool) -> IvrProfile:
    """Insert or update; a DBID or name already used in the tenant is refused with a message."""
    action = "ivr-profile-created" if created else "ivr-profile-changed"
    try:
        with transaction.atomic():
            profile.save()
            record(action, by=by, tenant=profile.tenant, obj=profile, details=profile_details(profile))
    except IntegrityError:
        raise AssignmentRefused(
            "Another IVR profile of this tenant has this name or DBID; use the values the Configuration Server shows."
        ) from None
    return profile


# --- Assignments ------------------------------------------------------------------------------------------------------


def certificate_details(certificate: Certificate) -> dict[str, Any]:
    return {
        "alias": certificate.alias,
        "serial": certificate.serial_number,
        "fingerprint": certificate.sha256_fingerprint,
    }


def _locked_active(certificate: Certificate) -> Certificate:
    locked = (
        Certificate.objects.select_for_update(of=("self",))
        .select_related("entry")
        .filter(pk=certificate.pk, tenant_id=certificate.tenant_id)
        .first()
    )
    if locked is None or locked.archived_at is not None:
        raise AssignmentRefused(f"'{certificate.alias}' was deleted meanwhile; it cannot be assigned.")
    return locked


def _assign_locked(profile: IvrProfile, certificate: Certificate, by: Actor, via: str) -> IvrAssignment:
    """Inside the caller's transaction."""
    if profile.tenant_id != certificate.tenant_id:  # both are loaded for one tenant; this is a second fence
        raise AssignmentRefused("This certificate belongs to another tenant.")
    locked = _locked_active(certificate)
    problem = recording_refusal(locked)
    if problem:
        raise AssignmentRefused(problem)
    if IvrAssignment.objects.filter(profile=profile, certificate=locked).exists():
        raise AssignmentRefused(f"'{locked.alias}' is already assigned to the IVR profile '{profile.name}'.")
    try:
        with transaction.atomic():
            assignment = IvrAssignment.objects.create(
                tenant_id=profile.tenant_id, profile=profile, certificate=locked, assigned_by=by.user
            )
    except IntegrityError:  # assigned by someone else between the check and the insert
        raise AssignmentRefused(f"'{locked.alias}' is already assigned to the IVR profile '{profile.name}'.") from None
    record(
        "ivr-certificate-assigned",
        by=by,
        tenant=profile.tenant,
        obj=profile,
        details={**profile_details(profile), **certificate_details(locked), "via": via},
    )
    return assignment


def assign(profile: IvrProfile, certificate: Certificate, *, by: Actor) -> IvrAssignment:
    with transaction.atomic():
        return _assign_locked(profile, certificate, by, via="profile page")


def unassign(assignment: IvrAssignment, *, by: Actor) -> None:
    profile, certificate = assignment.profile, assignment.certificate
    with transaction.atomic():
        deleted, _ = IvrAssignment.objects.filter(pk=assignment.pk).delete()
        if not deleted:
            raise AssignmentRefused(f"'{certificate.alias}' was already unassigned.")
        record(
            "ivr-certificate-unassigned",
            by=by,
            tenant=profile.tenant,
            obj=profile,
            details={**profile_details(profile), **certificate_details(certificate)},
        )


# --- Requests ---------------------------------------------------------------------------------------------------------


def request_assignment(profile: IvrProfile, certificate: Certificate, *, comment: str, by: Actor) -> AssignmentRequest:
    """The tenant administrator's request. Refused early when the certificate could not be assigned anyway."""
    if IvrAssignment.objects.filter(profile=profile, certificate=certificate).exists():
        raise AssignmentRefused(f"'{certificate.alias}' is already assigned to the IVR profile '{profile.name}'.")
    problem = recording_refusal(certificate)
    if problem:
        raise AssignmentRefused(problem)
    try:
        with transaction.atomic():
            made = AssignmentRequest.objects.create(
                tenant_id=profile.tenant_id,
                profile=profile,
                certificate=certificate,
                certificate_alias=certificate.alias,
                comment=comment[:COMMENT_MAX],
                requested_by=by.user,
            )
            record(
                "ivr-assignment-requested",
                by=by,
                tenant=profile.tenant,
                obj=made,
                details={**profile_details(profile), **certificate_details(certificate), "comment": made.comment},
            )
    except IntegrityError:
        raise AssignmentRefused(
            f"An open request to assign '{certificate.alias}' to '{profile.name}' already exists."
        ) from None
    return made


def _lock_open(assignment_request: AssignmentRequest) -> AssignmentRequest:
    locked = AssignmentRequest.objects.select_for_update(of=("self",)).filter(pk=assignment_request.pk).first()
    if locked is None or not locked.is_open:
        raise AssignmentRefused("This request was answered meanwhile; see its outcome below.")
    return locked


def _close(locked: AssignmentRequest, status: str, *, comment: str, by: Actor, action: str) -> AssignmentRequest:
    locked.status = status
    locked.decided_by = by.user
    locked.decided_at = timezone.now()
    locked.decision_comment = comment[:COMMENT_MAX]
    locked.save(update_fields=["status", "decided_by", "decided_at", "decision_comment"])
    record(
        action,
        by=by,
        tenant=locked.profile.tenant,
        obj=locked,
        details={
            **profile_details(locked.profile),
            "alias": locked.certificate_alias,
            "comment": locked.decision_comment,
        },
    )
    return locked


def fulfil(assignment_request: AssignmentRequest, *, comment: str, by: Actor) -> AssignmentRequest:
    """Assign, with the same checks as on the profile page, and close the request, all or nothing."""
    with transaction.atomic():
        locked = _lock_open(assignment_request)
        if locked.certificate is None:
            raise AssignmentRefused(f"'{locked.certificate_alias}' no longer exists; decline the request.")
        _assign_locked(locked.profile, locked.certificate, by, via="request")
        return _close(locked, RequestStatus.FULFILLED, comment=comment, by=by, action="ivr-request-fulfilled")


def decline(assignment_request: AssignmentRequest, *, comment: str, by: Actor) -> AssignmentRequest:
    if not comment.strip():
        raise AssignmentRefused("Say why the request is declined; the tenant administrator reads this comment.")
    with transaction.atomic():
        locked = _lock_open(assignment_request)
        return _close(locked, RequestStatus.DECLINED, comment=comment, by=by, action="ivr-request-declined")


def withdraw_open_requests(certificate: Certificate, *, by: Actor) -> int:
    """When a certificate is deleted, requests to assign it can no longer be fulfilled (caller's transaction)."""
    return (
        AssignmentRequest.objects.open()
        .filter(certificate=certificate)
        .update(
            status=RequestStatus.WITHDRAWN,
            decided_by=by.user,
            decided_at=timezone.now(),
            decision_comment="Withdrawn: the certificate was deleted.",
        )
    )


# --- The Annex section as Configuration Server holds it ---------------------------------------------------------------


@dataclass(frozen=True)
class AnnexOption:
    name: str  # the certificate's alias, as the alias rule has it
    value: str  # the certificate, PEM


def annex_header_value(text: object) -> str:
    """A value written into the section's comment header: its control characters (line breaks among them) and
    direction characters become escapes, so it stays inside its comment line and cannot start a section or option."""
    return visible(str(text))


def annex_option_name(alias: str, used: set[str]) -> str:
    """The option's name: the alias, which the alias rule keeps to letters, digits, spaces and . _ @ - (no "=", "[",
    "#" or line break). Applied again here so the section holds whatever a row says; names the Configuration Server
    would take for one (it ignores case) are numbered, so each certificate stays one option. ``used`` is updated."""
    name = numbered(fitting_alias(alias), used)
    used.add(name.lower())
    return name


def annex_options(assignments: list[IvrAssignment]) -> list[AnnexOption]:
    used: set[str] = set()
    return [
        AnnexOption(annex_option_name(a.certificate.alias, used), certificate_pem(a.certificate).strip())
        for a in assignments
    ]


def annex_text(profile: IvrProfile, options: list[AnnexOption]) -> str:
    """The section as text: a comment header, then one ``name=value`` option per certificate, the PEM verbatim (base64
    lines between its BEGIN and END lines, as the parser writes it). Every value from a user or a row goes through
    ``annex_header_value`` or ``annex_option_name``: none can add a line, a section or an option."""
    tenant, name = annex_header_value(profile.tenant.slug), annex_header_value(profile.name)
    lines = [
        f"# Tenant '{tenant}', IVR profile '{name}' (DBID {int(profile.dbid)}), Annex tab",
        f"# Generated {utc_text(timezone.now())}. Each option's value is one certificate (PEM).",
        f"[{ANNEX_SECTION}]",
    ]
    lines += [f"{option.name}={option.value}" for option in options]
    return "\n".join(lines) + "\n"


# --- Where certificates are used (for the certificate pages and the delete guard) -------------------------------------


def profile_label(name: str, dbid: int) -> str:
    # Shown on certificate pages and in mails; names saved before the form refused such characters are escaped.
    return f"IVR profile '{visible(name)}' (DBID {dbid})"


@cache
def _ivr_labels_sql() -> str:
    quote = connection.ops.quote_name
    assignments, profiles = quote(IvrAssignment._meta.db_table), quote(IvrProfile._meta.db_table)
    certificate = f"{assignments}.{quote(IvrAssignment._meta.get_field('certificate').column)}"
    profile = f"{assignments}.{quote(IvrAssignment._meta.get_field('profile').column)}"
    name, dbid = f"{profiles}.{quote('name')}", f"{profiles}.{quote('dbid')}"
    return (
        f"SELECT {certificate}, {name}, {dbid} FROM {assignments} "  # noqa: S608  (names only)
        f"INNER JOIN {profiles} ON {profile} = {profiles}.{quote(IvrProfile._meta.pk.column or 'id')} "
        f"WHERE {certificate} IN ({{ids}}) ORDER BY {name}"
    )


def _ivr_labels(ids: list[UUID]) -> dict[UUID, list[str]]:
    labels: dict[UUID, list[str]] = {}
    for certificate_id, name, dbid in rows_for_certificates(_ivr_labels_sql(), ids):
        labels.setdefault(certificate_id, []).append(profile_label(name, dbid))
    return labels


def _ivr_assigned() -> Q:
    return Q(pk__in=IvrAssignment.objects.values("certificate_id"))


def _ivr_pending(certificate_id: UUID) -> int:
    return AssignmentRequest.objects.open().filter(certificate_id=certificate_id).count()


IVR_USAGE = UsageProvider(name="ivr-profiles", labels=_ivr_labels, assigned=_ivr_assigned, pending=_ivr_pending)
