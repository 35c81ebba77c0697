"""The Recording Certificates list, a certificate's details, and its download as PEM or DER.

A change made in one browser session shows in any other on reload: the list's pages are kept only under the tenant's
revision version, which every change replaces (listing.py), and the rest is read from the database on every request.
"""

import uuid
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.cache import never_cache

from portal.accounts.access import Cap, can, tenant_view
from portal.accounts.models import Tenant
from portal.web.paging import page_links

from .. import eligibility
from ..lookups import get_certificate
from ..models import Certificate, CertificateRequest
from ..usage import labels_for
from ..x509.parsing import CertificateError, parse_certificate
from .listing import DEFAULT_SORT, KEPT_SECONDS, MAX_QUERY, columns, page_of, parse_sort, table


@tenant_view(Cap.VIEW_CERTIFICATES)
@never_cache
def certificate_list(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:MAX_QUERY]
    sort_key, descending = parse_sort(request.GET.get("sort", DEFAULT_SORT))
    shown = table(tenant, query, sort_key, descending, request.GET.get("page"), timezone.now())
    page = page_of(shown)
    return render(
        request,
        "certificates/list.html",
        {
            "tenant": tenant,
            "page": page,
            "table": shown,
            "rows": shown["rows"],
            "kept_seconds": KEPT_SECONDS,
            "columns": columns(request.GET, sort_key, descending),
            "page_links": page_links(request.GET, page),
            "query": query,
            "sort": f"-{sort_key}" if descending else sort_key,
            "can_upload": can(request.user, Cap.MANAGE_CERTIFICATES),
            "waiting": waiting_keys(tenant),
        },
    )


# What the list shows of a key waiting for its certificate: values rather than instances of four models.
WAITING_FIELDS = (
    "pk",
    "entry__alias",
    "subject_name",
    "key_size",
    "created",
    "requested_by__username",
    "renews__entry__alias",
)


def waiting_keys(tenant: Tenant) -> list[dict[str, Any]]:
    """Keys generated for a CSR, oldest first: few, as each waits only until its CA answers."""
    return list(CertificateRequest.objects.filter(tenant=tenant).order_by("created", "pk").values(*WAITING_FIELDS))


@tenant_view(Cap.VIEW_CERTIFICATES)
@never_cache
def certificate_detail(request: HttpRequest, tenant: Tenant, certificate: uuid.UUID) -> HttpResponse:
    cert = get_certificate(tenant, certificate)
    now = timezone.now()
    try:
        parsed = parse_certificate(cert.certificate_der)
    except CertificateError:  # stored by this portal, so readable; the page still shows what the row knows
        parsed = None
    chain = eligibility.chain_now(cert, now) if parsed is not None else None
    return render(
        request,
        "certificates/detail.html",
        {
            "tenant": tenant,
            "cert": cert,
            "assigned_to": labels_for([cert.pk])[cert.pk],
            "parsed": parsed,
            "chain": chain,
            "status": cert.status(now),
            "status_label": cert.status_label(now),
            "show_key_details": can(request.user, Cap.VIEW_KEY_DETAILS),
            **lineage(tenant, cert),
        },
    )


def lineage(tenant: Tenant, cert: Certificate) -> dict[str, Any]:
    """What this certificate renews, what renews it, and renewals still waiting for their CA's certificate."""
    related = Certificate.objects.filter(tenant=tenant).select_related("entry")
    return {
        "renews": related.filter(pk=cert.renews_id).first() if cert.renews_id else None,
        "successors": list(related.filter(renews=cert).order_by("created", "pk")),
        "renewals_waiting": list(
            CertificateRequest.objects.filter(tenant=tenant, renews=cert).select_related("entry").order_by("created")
        ),
    }


def download_name(cert: Certificate, extension: str) -> str:
    return f"{slugify(cert.alias) or 'certificate'}.{extension}"


@tenant_view(Cap.VIEW_CERTIFICATES)
def certificate_download(request: HttpRequest, tenant: Tenant, certificate: uuid.UUID) -> HttpResponse:
    """The certificate (public data) as PEM (default, the seeds' format) or DER (?format=der)."""
    cert = get_certificate(tenant, certificate)
    fmt = request.GET.get("format", "pem").lower()
    if fmt == "pem":
        parsed = parse_certificate(cert.certificate_der)
        response = HttpResponse(parsed.pem.encode("ascii"), content_type="application/x-pem-file")
        name = download_name(cert, "pem")
    elif fmt == "der":
        response = HttpResponse(cert.certificate_der, content_type="application/pkix-cert")
        name = download_name(cert, "der")
    else:
        return HttpResponseBadRequest("Choose the PEM or DER format.", content_type="text/plain")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
