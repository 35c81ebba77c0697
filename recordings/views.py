"""Decrypt Recordings, for tenant administrators: upload, see which key opened each recording, download."""

import uuid
from typing import TypeVar, cast

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from portal.accounts.access import Cap, scoped_get, tenant_view
from portal.accounts.models import Tenant, User
from portal.audit.log import Actor
from portal.jobs.links import job_url, recent_jobs

from . import batches, bulk, drill
from .forms import DecryptForm
from .models import DecryptionBatch

R = TypeVar("R", bound=HttpResponseBase)

# A press of "Verify keys" proves this many keys, the longest unchecked first; verify_keys proves them all.
VERIFY_ON_PAGE = 100


def _no_store(response: R) -> R:
    response["Cache-Control"] = "no-store, private"
    return response


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)  # tenant_view lets signed-in users through only


def _batch(request: HttpRequest, tenant: Tenant, batch_id: uuid.UUID) -> DecryptionBatch:
    """A batch of this tenant uploaded by this user: recordings one administrator decrypted are theirs alone."""
    return scoped_get(DecryptionBatch.objects.filter(created_by=_user(request)), tenant, pk=batch_id)


def _page(
    request: HttpRequest,
    tenant: Tenant,
    form: DecryptForm,
    *,
    batch: DecryptionBatch | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    items = list(batch.items.all()) if batch is not None else []
    context = {
        "tenant": tenant,
        "form": form,
        "batch": batch,
        "items": items,
        "decrypted": sum(item.ok for item in items),
        "error": error,
        "max_mb": settings.PORTAL_RECORDINGS_MAX_UPLOAD_BYTES // (1024 * 1024),
        "keep_minutes": settings.PORTAL_RECORDINGS_KEEP_MINUTES,
        "recent_jobs": recent_jobs(tenant, _user(request), bulk.DECRYPT),
    }
    return _no_store(render(request, "recordings/decrypt.html", context, status=status))


def _content_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


# CSRF is checked in _decrypt_posted: the middleware would read the whole upload before the size check below.
@csrf_exempt
@tenant_view(Cap.DECRYPT_RECORDINGS, methods=("GET", "POST"))
def decrypt(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    if request.method != "POST":
        return _page(request, tenant, DecryptForm())
    if _content_length(request) > settings.PORTAL_RECORDINGS_MAX_UPLOAD_BYTES:
        error = (
            f"The upload is larger than {settings.PORTAL_RECORDINGS_MAX_UPLOAD_BYTES // (1024 * 1024)} MB, the most "
            "this page takes at once: choose fewer files, or decrypt them on the server with "
            f"python manage.py decrypt_recordings --tenant {tenant.slug} --out DIR FILES."
        )
        return _page(request, tenant, DecryptForm(), error=error, status=413)
    return _decrypt_posted(request, tenant)


@csrf_protect
def _decrypt_posted(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    form = DecryptForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, tenant, form, status=400)
    uploads = form.cleaned_data["recordings"]
    if bulk.wants_job(uploads):
        job = bulk.start(tenant, uploads, user=_user(request), by=Actor.of(request))
        return redirect(job_url(job))
    batch = batches.decrypt_uploads(tenant, uploads, user=_user(request), by=Actor.of(request))
    return redirect("recordings-batch", tenant=tenant.slug, batch=batch.id)


@tenant_view(Cap.DECRYPT_RECORDINGS)
def batch(request: HttpRequest, tenant: Tenant, batch: uuid.UUID) -> HttpResponse:
    return _page(request, tenant, DecryptForm(), batch=_batch(request, tenant, batch))


@tenant_view(Cap.DECRYPT_RECORDINGS)
def download(request: HttpRequest, tenant: Tenant, batch: uuid.UUID) -> HttpResponseBase:
    found = batches.download(_batch(request, tenant, batch), by=Actor.of(request))
    if found is None:
        messages.error(request, "None of these recordings decrypted, so there is nothing to download.")
        return redirect("recordings-batch", tenant=tenant.slug, batch=batch)
    response = StreamingHttpResponse(found.chunks, content_type="application/octet-stream")
    response["Content-Disposition"] = _attachment(found.filename)
    if found.length is not None:
        response["Content-Length"] = str(found.length)
    return _no_store(response)


def _attachment(filename: str) -> str:
    return content_disposition_header(as_attachment=True, filename=filename) or "attachment"


@tenant_view(Cap.MANAGE_KEYS, methods=("POST",))
def verify_keys(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    proofs = drill.prove_keys(tenant, by=Actor.of(request), limit=VERIFY_ON_PAGE)
    failed = [proof for proof in proofs if not proof.ok]
    if not proofs:
        messages.info(request, "The keystore is empty: there is no key to verify.")
    elif failed:
        names = ", ".join(f"'{proof.alias}'" for proof in failed)
        messages.error(request, f"{len(failed)} of {len(proofs)} keys failed: {names}. See Last proven below.")
    else:
        messages.success(request, f"All {len(proofs)} keys verified: each opened a recording encrypted to it.")
    remaining = drill.count_entries(tenant) - len(proofs)
    if remaining > 0:
        messages.info(
            request,
            f"{remaining} more key{'s' if remaining > 1 else ''} to verify, the longest unchecked first: press Verify "
            f"keys again, or run python manage.py verify_keys --tenant {tenant.slug}.",
        )
    return redirect("keystore-home", tenant=tenant.slug)
