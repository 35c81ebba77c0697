"""Keystore pages for tenant administrators: backup of the whole keystore and download of one private key, each
after re-entering their password."""

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from cryptography import x509
from django.contrib import messages
from django.contrib.auth import logout
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables

from portal.accounts.access import Cap, scoped_get, tenant_view
from portal.accounts.models import Tenant, User
from portal.audit.log import Actor, record
from portal.jobs.links import job_url, recent_jobs
from portal.web.text import visible

from . import jobs, reauth
from .api import KeystoreError
from .backup import export_keystore, export_private_key_pem
from .forms import BackupForm, KeyDownloadForm, ReauthForm
from .models import KeystoreEntry

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EntryRow:
    id: uuid.UUID
    alias: str
    subject_name: str
    serial_number: str
    not_valid_after: datetime
    expired: bool
    proven_at: datetime | None
    proof_checked_at: datetime | None
    proof_failure: str


def _entry(tenant: Tenant, entry_id: uuid.UUID) -> KeystoreEntry:
    return scoped_get(KeystoreEntry.objects.select_related("tenant__data_key"), tenant, pk=entry_id)


def _row(entry: KeystoreEntry, now: datetime) -> EntryRow:
    certificate = x509.load_der_x509_certificate(bytes(entry.certificate_der))
    names = certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return EntryRow(
        id=entry.id,
        alias=entry.alias,
        # Read from the certificate itself: its names may hold control and text-direction characters.
        subject_name=visible(str(names[0].value) if names else certificate.subject.rfc4514_string()),
        serial_number=format(certificate.serial_number, "X"),
        not_valid_after=certificate.not_valid_after_utc,
        expired=certificate.not_valid_after_utc < now,
        proven_at=entry.proven_at,
        proof_checked_at=entry.proof_checked_at,
        proof_failure=entry.proof_failure,
    )


def _rows(tenant: Tenant) -> list[EntryRow]:
    now = timezone.now()
    return [_row(entry, now) for entry in KeystoreEntry.objects.of_tenant(tenant)]


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store, private"
    response["Pragma"] = "no-cache"
    return response


def _attempt(request: HttpRequest) -> reauth.Attempt | None:
    """Count a re-entered password before it is checked; None when none was typed (nothing is checked then)."""
    return reauth.begin(request) if request.POST.get("your_password") else None


def _lock_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.error(request, "Your password was entered wrongly too many times; you have been signed out.")
    return redirect("login")


def _refused_unchecked(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    """An attempt beyond the limit (parallel requests of a session being ended): refused without checking."""
    logger.warning(
        "keystore: re-entered password by %s for tenant %s refused unchecked: the limit is reached",
        request.user.get_username(),
        tenant.slug,
    )
    return _lock_out(request)


def _reauth_checked(
    request: HttpRequest, tenant: Tenant, form: ReauthForm, attempt: reauth.Attempt | None
) -> HttpResponse | None:
    """After the form was checked: a correct password starts the count again; a wrong one is logged, and the one
    that reaches the limit ends the session."""
    if attempt is None:
        return None
    if not form.reauth_failed:
        reauth.passed(request)
        return None
    logger.warning(
        "keystore: wrong password re-entered by %s for tenant %s (%d of %d)",
        request.user.get_username(),
        tenant.slug,
        attempt.number,
        reauth.REAUTH_LIMIT,
    )
    if not attempt.is_last:
        return None
    with transaction.atomic():
        record("keystore-reauth-limit", by=Actor.of(request), tenant=tenant, details={"failures": attempt.number})
    return _lock_out(request)


def _home(request: HttpRequest, tenant: Tenant, form: BackupForm, status: int = 200) -> HttpResponse:
    rows = _rows(tenant)
    context = {
        "tenant": tenant,
        "rows": rows,
        "expired_count": sum(row.expired for row in rows),
        "form": form,
        "recent_jobs": recent_jobs(tenant, cast(User, request.user), jobs.BACKUP),
    }
    return _no_store(render(request, "keystore/home.html", context, status=status))


@tenant_view(Cap.MANAGE_KEYS)
def home(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    return _home(request, tenant, BackupForm(user=request.user))


@sensitive_post_parameters("your_password", "backup_password", "backup_password_confirm")
@tenant_view(Cap.MANAGE_KEYS, methods=("POST",))
@sensitive_variables("form", "password", "data")
def backup(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    attempt = _attempt(request)
    if attempt is not None and not attempt.may_check:
        return _refused_unchecked(request, tenant)
    form = BackupForm(request.POST, user=request.user)
    valid = form.is_valid()
    locked_out = _reauth_checked(request, tenant, form, attempt)
    if locked_out or not valid:
        return locked_out or _home(request, tenant, form, status=400)
    password = form.cleaned_data["backup_password"]
    if jobs.wants_job(tenant):
        return redirect(job_url(jobs.start_backup(tenant, password, by=Actor.of(request))))
    try:
        data, count = export_keystore(tenant, password, by=Actor.of(request))
    except KeystoreError as exc:
        logger.error("keystore: backup of tenant %s failed: %s", tenant.slug, exc)
        messages.error(
            request, "The keystore could not be read; the administrators have been told. Nothing was exported."
        )
        return redirect("keystore-home", tenant=tenant.slug)
    filename = f"{tenant.slug}-keystore-{timezone.now():%Y%m%d}.p12"
    response = HttpResponse(data, content_type="application/x-pkcs12")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return _no_store(response)


@sensitive_post_parameters("your_password", "key_password", "key_password_confirm")
@tenant_view(Cap.MANAGE_KEYS, methods=("GET", "POST"))
@sensitive_variables("form", "password", "data")
def key_download(request: HttpRequest, tenant: Tenant, entry: uuid.UUID) -> HttpResponse:
    item = _entry(tenant, entry)
    row = _row(item, timezone.now())  # this entry alone: the page shows no other
    if request.method == "POST":
        attempt = _attempt(request)
        if attempt is not None and not attempt.may_check:
            return _refused_unchecked(request, tenant)
        form = KeyDownloadForm(request.POST, user=request.user)
        valid = form.is_valid()
        locked_out = _reauth_checked(request, tenant, form, attempt)
        if locked_out:
            return locked_out
        if valid:
            encrypted = form.cleaned_data["key_format"] == KeyDownloadForm.ENCRYPTED
            password = form.cleaned_data["key_password"] if encrypted else None
            try:
                data = export_private_key_pem(item, password, by=Actor.of(request))
            except KeystoreError as exc:
                logger.error("keystore: key download of %s in tenant %s failed: %s", item.pk, tenant.slug, exc)
                messages.error(request, "The private key could not be read; the administrators have been told.")
                return redirect("keystore-home", tenant=tenant.slug)
            response = HttpResponse(data, content_type="application/x-pem-file")
            response["Content-Disposition"] = 'attachment; filename="private.pem"'
            return _no_store(response)
        status = 400
    else:
        form = KeyDownloadForm(user=request.user)
        status = 200
    context = {"tenant": tenant, "entry": item, "row": row, "form": form}
    return _no_store(render(request, "keystore/key_download.html", context, status=status))
