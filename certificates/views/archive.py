"""Guarded delete of a recording certificate, the archive, restore and purge.

Delete states the impact and is refused while the certificate is assigned anywhere; it moves certificate and
private key to the archive. The archive is readable by everyone who sees the tenant's certificates (support answers
"where did our certificate go?"); restore and purge are for tenant administrators.
"""

import uuid

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from portal.accounts.access import Cap, can, scoped_get, tenant_view
from portal.accounts.models import Tenant
from portal.audit.log import Actor

from .. import archive
from ..forms import DeleteForm, PurgeForm
from ..models import Certificate
from ..usage import pending


def _active_certificate(tenant: Tenant, pk: uuid.UUID) -> Certificate:
    return scoped_get(Certificate.objects.active().select_related("entry"), tenant, pk=pk)


def _archived_certificate(tenant: Tenant, pk: uuid.UUID) -> Certificate:
    return scoped_get(Certificate.objects.archived().select_related("entry", "archived_by"), tenant, pk=pk)


@tenant_view(Cap.MANAGE_CERTIFICATES, methods=("GET", "POST"))
@never_cache
def certificate_delete(request: HttpRequest, tenant: Tenant, certificate: uuid.UUID) -> HttpResponse:
    cert = _active_certificate(tenant, certificate)
    form = DeleteForm(request.POST or None)
    refusal = None
    if request.method == "POST" and form.is_valid():
        try:
            archive.archive(tenant, cert, typed_alias=form.cleaned_data["alias"], by=Actor.of(request))
        except archive.ArchiveRefused as refused:
            refusal = str(refused)
        else:
            messages.success(
                request,
                f"'{cert.alias}' was deleted: it and its private key are in the archive, where you can restore it.",
            )
            return redirect("certificate-archive", tenant=tenant.slug)
    labels = archive.usage_of(cert)
    return render(
        request,
        "certificates/delete_confirm.html",
        {
            "tenant": tenant,
            "cert": cert,
            "form": form,
            "refusal": refusal,
            "usage": labels,
            "in_use": archive.in_use_message(cert.alias, labels) if labels else None,
            "open_requests": sum(pending(cert.pk).values()),
        },
        status=400 if refusal else 200,
    )


@tenant_view(Cap.VIEW_CERTIFICATES)
@never_cache
def certificate_archive(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    rows = Certificate.objects.filter(tenant=tenant).archived().select_related("entry", "archived_by")
    return render(
        request,
        "certificates/archive_list.html",
        {
            "tenant": tenant,
            "certificates": rows.order_by("-archived_at"),
            "can_manage": can(request.user, Cap.MANAGE_CERTIFICATES),
        },
    )


@tenant_view(Cap.MANAGE_CERTIFICATES, methods=("POST",))
def certificate_restore_archived(request: HttpRequest, tenant: Tenant, certificate: uuid.UUID) -> HttpResponse:
    cert = _archived_certificate(tenant, certificate)
    try:
        archive.unarchive(tenant, cert, by=Actor.of(request))
    except archive.ArchiveRefused as refused:
        messages.error(request, str(refused))
        return redirect("certificate-archive", tenant=tenant.slug)
    messages.success(request, f"'{cert.alias}' was restored to the Recording Certificates list.")
    return redirect("certificate-list", tenant=tenant.slug)


@tenant_view(Cap.MANAGE_CERTIFICATES, methods=("GET", "POST"))
@never_cache
def certificate_purge(request: HttpRequest, tenant: Tenant, certificate: uuid.UUID) -> HttpResponse:
    cert = _archived_certificate(tenant, certificate)
    form = PurgeForm(request.POST or None)
    refusal = None
    if request.method == "POST" and form.is_valid():
        try:
            alias = archive.purge(
                tenant,
                cert,
                typed_alias=form.cleaned_data["alias"],
                understood=form.cleaned_data["understood"],
                by=Actor.of(request),
            )
        except archive.ArchiveRefused as refused:
            refusal = str(refused)
        else:
            messages.success(request, f"'{alias}' and its private key were purged for good.")
            return redirect("certificate-archive", tenant=tenant.slug)
    return render(
        request,
        "certificates/archive_purge.html",
        {"tenant": tenant, "cert": cert, "form": form, "refusal": refusal},
        status=400 if refusal else 200,
    )
