"""The Recording Certificates list, a certificate's details, and its download as PEM or DER.

Every request reads the certificates from the database, so a change made in one browser session shows in any other
on reload. Only where each certificate is assigned is reused, under the tenant's revision version, which every change
replaces (summaries.py).
"""

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, TypedDict

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Length, Lower
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.cache import never_cache

from portal.accounts.access import Cap, can, tenant_view
from portal.accounts.models import Tenant
from portal.web.links import UrlPattern
from portal.web.paging import KnownCountPaginator, page_links

from .. import eligibility, revisions, summaries
from ..lookups import get_certificate
from ..models import Certificate, CertificateRequest
from ..status import expiring_window_days, status_for, status_label
from ..usage import labels_for
from ..x509.parsing import CertificateError, parse_certificate

PAGE_SIZE = 25
MAX_QUERY = 200
DEFAULT_SORT = "alias"

# Sortable columns: the ?sort= value, the heading, and what the database orders by.
COLUMNS: list[tuple[str, str]] = [
    ("alias", "Alias"),
    ("subject", "Subject Name"),
    ("serial", "Serial Number"),
    ("issuer", "Issuer"),
    ("valid_from", "Valid from"),
    ("valid_until", "Valid until"),
    ("status", "Status"),
]


def _order_expressions(key: str) -> list[Any]:
    now = timezone.now()
    status_rank = Case(
        When(not_valid_after__lt=now, then=Value(0)),
        When(not_valid_before__gt=now, then=Value(3)),
        When(not_valid_after__lte=now + timedelta(days=expiring_window_days()), then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    orderings: dict[str, list[Any]] = {
        "alias": [Lower("entry__alias")],
        "subject": [Lower("subject_name")],
        # Decimal text: shorter is smaller, then digit by digit.
        "serial": [Length("serial_number"), "serial_number"],
        "issuer": [Lower("issuer_dn")],
        "valid_from": ["not_valid_before"],
        "valid_until": ["not_valid_after"],
        "status": [status_rank, "not_valid_after"],
    }
    return orderings[key]


def parse_sort(value: str) -> tuple[str, bool]:
    """(column, descending) from ?sort=; anything not in the whitelist falls back to the default."""
    descending = value.startswith("-")
    key = value.removeprefix("-")
    if key not in dict(COLUMNS):
        return DEFAULT_SORT, False
    return key, descending


def sorted_certificates(queryset: QuerySet[Certificate], key: str, descending: bool) -> QuerySet[Certificate]:
    ordering = []
    for expression in _order_expressions(key):
        if isinstance(expression, str):
            ordering.append(f"-{expression}" if descending else expression)
        else:
            ordering.append(expression.desc() if descending else expression.asc())
    return queryset.order_by(*ordering, "pk")


def search(queryset: QuerySet[Certificate], query: str) -> QuerySet[Certificate]:
    """Over alias, subject, serial (decimal, or hex with or without colons) and issuer."""
    if not query:
        return queryset
    hex_query = query.replace(":", "").replace(" ", "").upper()
    condition = (
        Q(entry__alias__icontains=query)
        | Q(subject_name__icontains=query)
        | Q(subject_dn__icontains=query)
        | Q(serial_number__icontains=query)
        | Q(issuer_dn__icontains=query)
    )
    if hex_query:
        condition |= Q(serial_hex__icontains=hex_query)
    return queryset.filter(condition)


# What a row reads: plain values rather than model instances, which cost more to build than the query itself.
ROW_FIELDS = ("pk", "entry__alias", "subject_name", "serial_number", "issuer_dn", "not_valid_before", "not_valid_after")


class ListRow(TypedDict):
    """One line of the list, formatted here: the template only prints. A dict, because the template engine looks a
    name up as a key first and only then as an attribute."""

    detail_url: str
    alias: str
    subject_name: str
    serial_number: str
    issuer_dn: str
    valid_from: str
    valid_until: str
    status: str
    status_label: str
    assigned: list[str]


def list_rows(tenant: Tenant, certificates: Iterable[dict[str, Any]], now: datetime) -> list[ListRow]:
    certificates = list(certificates)
    # Where they are assigned: kept per tenant until its certificates or assignments change (summaries.py).
    known = revisions.versions([tenant.pk])
    assigned = summaries.assignment_labels([(tenant.pk, cert["pk"]) for cert in certificates], known)
    detail = UrlPattern("certificate-detail", True)
    rows = []
    for cert in certificates:
        status = status_for(cert["not_valid_before"], cert["not_valid_after"], now)
        rows.append(
            ListRow(
                detail_url=detail(tenant.slug, cert["pk"]),
                alias=cert["entry__alias"],
                subject_name=cert["subject_name"],
                serial_number=cert["serial_number"],
                issuer_dn=cert["issuer_dn"],
                valid_from=f"{timezone.localtime(cert['not_valid_before']):%Y-%m-%d}",
                valid_until=f"{timezone.localtime(cert['not_valid_after']):%Y-%m-%d}",
                status=status,
                status_label=status_label(status, cert["not_valid_before"]),
                assigned=assigned.get(cert["pk"], []),
            )
        )
    return rows


class Column(TypedDict):
    key: str
    label: str
    active: bool
    descending: bool
    href: str  # the list sorted by this column: ascending, or reversed when it is the current one


def _columns(query: QueryDict, sort_key: str, descending: bool) -> list[Column]:
    """The headings with their links, as ``{% querystring sort=... page=None %}`` writes them, from one copy of the
    query rather than one per heading."""
    params = query.copy()
    params.pop("page", None)
    columns = []
    for key, label in COLUMNS:
        # A click on the current column reverses it; on another, sorts ascending.
        params["sort"] = f"-{key}" if key == sort_key and not descending else key
        columns.append(
            Column(
                key=key,
                label=label,
                active=key == sort_key,
                descending=key == sort_key and descending,
                href=f"?{params.urlencode()}",
            )
        )
    return columns


@tenant_view(Cap.VIEW_CERTIFICATES)
@never_cache
def certificate_list(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:MAX_QUERY]
    sort_key, descending = parse_sort(request.GET.get("sort", DEFAULT_SORT))
    certificates = search(Certificate.objects.filter(tenant=tenant).active(), query)
    rows = sorted_certificates(certificates, sort_key, descending).values(*ROW_FIELDS)
    # Counted without the sort's join to the keystore entries, which a count does not need.
    page = KnownCountPaginator(rows, PAGE_SIZE, certificates.count()).get_page(request.GET.get("page"))
    current_sort = f"-{sort_key}" if descending else sort_key
    return render(
        request,
        "certificates/list.html",
        {
            "tenant": tenant,
            "page": page,
            "rows": list_rows(tenant, page.object_list, timezone.now()),
            "columns": _columns(request.GET, sort_key, descending),
            "page_links": page_links(request.GET, page),
            "query": query,
            "sort": current_sort,
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
