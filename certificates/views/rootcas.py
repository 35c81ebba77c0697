"""Root CAs: the tenant's trusted roots, which recording certificates that are not self-signed must chain to."""

import uuid

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from portal.accounts.access import Cap, can, tenant_view
from portal.accounts.models import Tenant
from portal.audit.log import Actor

from .. import rootcas
from .. import upload as uploads
from ..forms import RootCAForm
from ..lookups import get_root_ca
from ..models import RootCA
from ..upload import CERTIFICATE_FILE, UploadInvalid


@tenant_view(Cap.VIEW_CERTIFICATES)
@never_cache
def rootca_list(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    return render(
        request,
        "certificates/rootca_list.html",
        {
            "tenant": tenant,
            "roots": RootCA.objects.filter(tenant=tenant).order_by("subject_name", "created"),
            "now": timezone.now(),
            "can_manage": can(request.user, Cap.MANAGE_ROOT_CAS),
        },
    )


@tenant_view(Cap.MANAGE_ROOT_CAS, methods=("GET", "POST"))
@never_cache
def rootca_add(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    error = ""
    if request.method == "POST":
        form = RootCAForm(request.POST, request.FILES)
        upload = form.cleaned_data.get("certificate_file") if form.is_valid() else None
        try:
            if not upload:
                raise uploads.refusal(CERTIFICATE_FILE, "Choose the root CA certificate file (PEM or DER).")
            data = uploads.read_upload(upload, field_name=CERTIFICATE_FILE, what="certificate file")
            root = rootcas.add_root_ca(tenant, data, by=Actor.of(request))
        except UploadInvalid as invalid:
            error = invalid.first.message
        else:
            messages.success(request, f"Root CA '{root.subject_name}' is now trusted in this tenant.")
            return redirect("rootca-list", tenant=tenant.slug)
    return render(
        request,
        "certificates/rootca_add.html",
        {"tenant": tenant, "form": RootCAForm(), "error": error, "max_kb": settings.PORTAL_MAX_UPLOAD_BYTES // 1024},
    )


@tenant_view(Cap.MANAGE_ROOT_CAS, methods=("GET", "POST"))
@never_cache
def rootca_remove(request: HttpRequest, tenant: Tenant, rootca: uuid.UUID) -> HttpResponse:
    root = get_root_ca(tenant, rootca)
    if request.method == "POST":
        name = root.subject_name
        stranded = rootcas.remove_root_ca(root, by=Actor.of(request))
        messages.success(request, f"Root CA '{name}' was removed.")
        if stranded:
            messages.warning(
                request,
                "These certificates no longer chain to a trusted root CA and will fail validation at their next use: "
                + ", ".join(f"'{c.alias}'" for c in stranded)
                + ".",
            )
        return redirect("rootca-list", tenant=tenant.slug)
    return render(
        request,
        "certificates/rootca_remove.html",
        {"tenant": tenant, "root": root, "stranded": rootcas.certificates_stranded_by_removal(root)},
    )
