"""Certificate expiry: across tenants for support, under /t/<tenant>/expiry/ for the tenant's own users.

A page costs the same queries whatever the number of certificates: the state of the tenants' revisions; the status
counts, the chart and the length of the list, read from the summaries kept current by every write (summary.py) and
kept until a version changes or a certificate changes status (cached.py); the page's rows (with their alias and
tenant, and across tenants their tenant's version); where they are assigned, kept per tenant under its version; and,
across tenants, the tenant choices.
"""

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any, TypedDict, cast
from urllib.parse import urlencode
from uuid import UUID

from django import forms
from django.db.models import OuterRef, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from certificates import revisions
from certificates.models import Certificate, CertificateQuerySet, CertificateRevision
from certificates.status import EXPIRING, VALID, status_for, status_label
from certificates.summaries import assignment_labels
from certificates.usage import labels_for
from portal.accounts.access import Cap, can, check, tenant_view, user_view
from portal.accounts.filters import TenantFilter
from portal.accounts.models import Tenant
from portal.web.export import csv_response, filter_errors_response
from portal.web.links import UrlPattern
from portal.web.paging import KnownCountPaginator, page_links

from . import cached, summary
from . import overview as expiry
from .chart import Histogram
from .links import QueryLinks

PAGE_SIZE = 25
MONTH_LINK_KEEPS = ("tenant", "status", "assigned", "sort")
CSV_BATCH = 1000
CSV_HEADER = [
    "Tenant",
    "Alias",
    "Subject Name",
    "Serial Number",
    "Issuer DN",
    "Not valid before (UTC)",
    "Not valid after (UTC)",
    "Days left",
    "Status",
    "Assigned",
]


class ExpiryFilterForm(forms.Form):
    tenant = forms.ChoiceField(required=False, label="Tenant")
    status = forms.ChoiceField(required=False, label="Status")
    assigned = forms.ChoiceField(
        required=False,
        label="Assigned",
        choices=[
            ("", "Assigned or not"),
            ("yes", "Assigned (IVR profile or screen recording)"),
            ("no", "Not assigned"),
        ],
    )
    sort = forms.ChoiceField(
        required=False,
        label="Sort by expiry",
        choices=[("expiry", "Soonest first"), ("-expiry", "Latest first")],
    )
    month = forms.CharField(required=False, max_length=7, widget=forms.HiddenInput)

    def __init__(self, data: Any, *, tenants: TenantFilter | None) -> None:
        """``tenants``: the tenants this user may filter on, or None on a one-tenant page."""
        super().__init__(data)
        self.tenants = tenants
        if tenants is None:
            del self.fields["tenant"]
        else:
            self.fields["tenant"] = tenants.field("Tenant", [("", "All tenants")])
        cast(forms.ChoiceField, self.fields["status"]).choices = [("", "Any status"), *expiry.status_choices()]

    def clean_tenant(self) -> str:
        return self.tenants.clean(self.cleaned_data["tenant"]) if self.tenants else ""

    def clean_month(self) -> date | None:
        value = self.cleaned_data.get("month") or ""
        if not value:
            return None
        try:
            return datetime.strptime(value, "%Y-%m").date()
        except ValueError:
            raise forms.ValidationError("Give the month as YYYY-MM.") from None

    def value(self, name: str) -> Any:
        """A filter's cleaned value, or its empty value when it was invalid (its error is shown on the page)."""
        if name == "month":
            return self.cleaned_data.get("month") or None
        return self.cleaned_data.get(name, "")


def _form(request: HttpRequest, tenant: Tenant | None) -> ExpiryFilterForm:
    form = ExpiryFilterForm(request.GET, tenants=None if tenant else TenantFilter.of(request))
    form.is_valid()
    return form


def _tenant_ids(tenant: Tenant | None, form: ExpiryFilterForm) -> list[Any] | None:
    """The tenants this page covers: its own, the one chosen in the filter, or every tenant (None). The cross-tenant
    page requires Cap.VIEW_ALL_TENANTS, which reaches every tenant (access.tenants_for)."""
    if tenant is not None:
        return [tenant.pk]
    if form.value("tenant") and form.tenants:
        return [form.tenants.tenant_id(form.value("tenant"))]
    return None


def _scope(tenant_ids: list[Any] | None, form: ExpiryFilterForm) -> CertificateQuerySet:
    """Active certificates this page may show, narrowed by tenant and assignment (the counts and the chart follow
    these two filters; status and month narrow the list only)."""
    return summary.scope(tenant_ids, form.value("assigned"))


def _listing(scope: CertificateQuerySet, form: ExpiryFilterForm, now: datetime) -> CertificateQuerySet:
    return expiry.filtered(
        scope,
        now,
        status=form.value("status"),
        month=form.value("month"),
        descending=form.value("sort") == "-expiry",
    )


def days_left(not_valid_after: datetime, now: datetime) -> int:
    """Whole days until the end (negative once expired): 0 on the last day."""
    return (not_valid_after - now).days


def days_text(not_valid_after: datetime, now: datetime) -> str:
    if not_valid_after < now:
        ago = (now - not_valid_after).days
        return "expired today" if ago == 0 else f"expired {ago} day{'' if ago == 1 else 's'} ago"
    left = days_left(not_valid_after, now)
    return "less than a day" if left == 0 else str(left)


class Row(TypedDict):
    """What one line of the list shows, prepared here; the expiry_rows template tag only writes it."""

    alias: str
    tenant_slug: str
    tenant_url: str  # across tenants; "" on a one-tenant page, which has no tenant column
    detail_url: str
    subject_name: str
    serial_number: str
    valid_until: str
    valid_until_iso: str
    days: str
    status: str
    status_label: str
    assigned: list[str]
    urgent: bool  # expired and still assigned
    renew_url: str  # offered inside an expiry window to those who may renew; else ""


# What a row of the list reads: plain values, not model instances, which cost more to build than the page's query.
# Across tenants, also its tenant's slug.
ROW_FIELDS = (
    "pk",
    "tenant_id",
    "entry__alias",
    "subject_name",
    "serial_number",
    "not_valid_before",
    "not_valid_after",
)


class Tile(TypedDict):
    """One status tile above the list: its count, and the link listing those certificates."""

    key: str
    label: str
    count: int
    href: str
    current: bool


def _tenant_version() -> Subquery:
    """The version of a row's tenant (one row per tenant, if any), for listings across tenants."""
    return Subquery(CertificateRevision.objects.filter(tenant_id=OuterRef("tenant_id")).values("version"))


def _rows(
    certificates: list[dict[str, Any]], now: datetime, known: dict[Any, UUID], tenant: Tenant | None, *, renew: bool
) -> list[Row]:
    """``tenant``: the page's tenant, or None across tenants (each row then names and links its own). ``renew``: the
    user may renew this page's certificates (Cap.MANAGE_KEYS in its tenant)."""
    assigned = assignment_labels([(cert["tenant_id"], cert["pk"]) for cert in certificates], known)
    detail, tenant_page = UrlPattern("certificate-detail", True), UrlPattern("expiry-tenant", False)
    renewal = UrlPattern("certificate-renew", True) if renew else None
    renew_until = now + timedelta(days=expiry.windows()[-1])
    zone = timezone.get_current_timezone()
    rows = []
    for cert in certificates:
        status = status_for(cert["not_valid_before"], cert["not_valid_after"], now)
        labels = assigned.get(cert["pk"], [])
        slug = tenant.slug if tenant else cert["tenant__slug"]
        until = cert["not_valid_after"].astimezone(zone)
        rows.append(
            Row(
                alias=cert["entry__alias"],
                tenant_slug=slug,
                tenant_url="" if tenant else tenant_page(slug),
                detail_url=detail(slug, cert["pk"]),
                subject_name=cert["subject_name"],
                serial_number=cert["serial_number"],
                valid_until=until.strftime("%Y-%m-%d %H:%M"),
                valid_until_iso=until.isoformat(),
                days=days_text(cert["not_valid_after"], now),
                status=status,
                status_label=status_label(status, cert["not_valid_before"]),
                assigned=labels,
                urgent=status == expiry.EXPIRED and bool(labels),
                renew_url=renewal(slug, cert["pk"])
                if renewal and status in (EXPIRING, VALID) and cert["not_valid_after"] <= renew_until
                else "",
            )
        )
    return rows


def _month_link(path: str, form: ExpiryFilterForm) -> str:
    """The link of one month's list, the month left to add: the page's valid filters, not the page number. Only
    the filters' accepted values, so the drawn chart, kept under its links, has a bounded number of versions."""
    kept = urlencode([(name, form.value(name)) for name in MONTH_LINK_KEEPS if form.value(name)])
    return f"{path}?{kept}&month=" if kept else f"{path}?month="


def _tiles(counts: expiry.Counts, links: QueryLinks, status: str) -> list[Tile]:
    """``status``: as submitted (a value that is no status makes no tile current)."""
    return [
        Tile(
            key=key, label=label, count=n, href=links.changed(status=key, page=None, month=None), current=status == key
        )
        for key, label, n in counts.tiles()
    ]


def _page(request: HttpRequest, tenant: Tenant | None) -> HttpResponse:
    now = timezone.now()
    form = _form(request, tenant)
    tenant_ids = _tenant_ids(tenant, form)
    # The tenants' state, first (see revisions.py). Over named tenants, their versions themselves, read once: the
    # state stands for them, and the rows' tenants are among them.
    known = revisions.versions(tenant_ids) if tenant_ids is not None else None
    state = revisions.digest(known) if known is not None else revisions.state(None)
    counted = cached.overview(tenant_ids, form.value("assigned"), now, state)
    length = counted.count(form.value("status"), form.value("month"))
    listing = _listing(_scope(tenant_ids, form), form, now)
    if tenant is not None:
        listing = listing.values(*ROW_FIELDS)
    elif known is None:
        # Across tenants, each row brings its tenant's version, read with the rows and so before where they are
        # assigned: no second query for the versions of the page's tenants.
        listing = listing.values(*ROW_FIELDS, "tenant__slug", tenant_version=_tenant_version())
    else:
        listing = listing.values(*ROW_FIELDS, "tenant__slug")
    page = KnownCountPaginator(listing, PAGE_SIZE, length).get_page(request.GET.get("page"))
    may_renew = tenant is not None and can(request.user, Cap.MANAGE_KEYS)
    certificates = list(page)
    if known is None:  # a tenant without a version yet has none (revisions.versions)
        known = {cert["tenant_id"]: cert["tenant_version"] for cert in certificates if cert["tenant_version"]}
    rows = _rows(certificates, now, known, tenant, renew=may_renew)
    chart = Histogram(counted.histogram(), _month_link(request.path, form), tenant.name if tenant else "")
    csv_url = reverse("expiry-tenant-csv", args=[tenant.slug]) if tenant else reverse("expiry-dashboard-csv")
    counts = counted.counts  # worked out from the groups on each reading
    links = QueryLinks(request.GET)
    status = form["status"].value() or ""
    descending = form["sort"].value() == "-expiry"
    return render(
        request,
        "expiry/dashboard.html",
        {
            "tenant": tenant,
            "now": now,
            "form": form,
            "counts": counts,
            "tiles": _tiles(counts, links, status),
            "status": status,
            "chart": chart,
            "page": page,
            "page_links": page_links(request.GET, page),
            "rows": rows,
            "month": form.value("month"),
            "csv_url": csv_url + links.changed(page=None),
            "urgent_url": links.changed(status=expiry.URGENT, page=None, month=None),
            "all_url": links.changed(status=None, page=None, month=None),
            "all_months_url": links.changed(month=None, page=None),
            "descending": descending,
            "sort_url": links.changed(sort="expiry" if descending else "-expiry", page=None),
            "renew_column": may_renew,
        },
    )


def _csv_rows(certificates: Any, now: datetime) -> Iterator[list[Any]]:
    batch: list[Certificate] = []
    for cert in certificates.iterator(chunk_size=CSV_BATCH):
        batch.append(cert)
        if len(batch) == CSV_BATCH:
            yield from _csv_batch(batch, now)
            batch = []
    yield from _csv_batch(batch, now)


def _csv_batch(batch: list[Certificate], now: datetime) -> Iterator[list[Any]]:
    assigned = labels_for([cert.pk for cert in batch])
    for cert in batch:
        status = cert.status(now)
        yield [
            cert.tenant.slug,
            cert.alias,
            cert.subject_name,
            cert.serial_number,
            cert.issuer_dn,
            cert.not_valid_before,
            cert.not_valid_after,
            days_left(cert.not_valid_after, now),
            status_label(status, cert.not_valid_before),
            "; ".join(assigned.get(cert.pk, [])),
        ]


def _export(request: HttpRequest, tenant: Tenant | None) -> HttpResponse:
    now = timezone.now()
    form = _form(request, tenant)
    if form.errors:
        return filter_errors_response(form)
    name = f"expiry-{tenant.slug if tenant else 'all-tenants'}-{now:%Y%m%d}.csv"
    listing = _listing(_scope(_tenant_ids(tenant, form), form), form, now)
    response = csv_response(name, CSV_HEADER, _csv_rows(listing, now))
    return cast(HttpResponse, response)  # streamed; the access decorators only pass it through


@user_view(Cap.VIEW_ALL_TENANTS)
@never_cache
def expiry_dashboard(request: HttpRequest) -> HttpResponse:
    check(request.user, Cap.VIEW_EXPIRY)
    return _page(request, None)


@user_view(Cap.VIEW_ALL_TENANTS)
@never_cache
def expiry_dashboard_csv(request: HttpRequest) -> HttpResponse:
    check(request.user, Cap.VIEW_EXPIRY)
    return _export(request, None)


@tenant_view(Cap.VIEW_EXPIRY)
@never_cache
def expiry_tenant(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    return _page(request, tenant)


@tenant_view(Cap.VIEW_EXPIRY)
@never_cache
def expiry_tenant_csv(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    return _export(request, tenant)
