"""The audit trail: support reads every tenant's entries (and those tied to none), a tenant administrator its own.

Each page costs the same few queries whatever the size of the log: the count (read from the head for the whole
log, otherwise counted no further than a few hundred pages ahead), one page of entries (everything shown is stored
on the entry itself, so no join), the tenant choices and the action names (an index walk, not a scan).
"""

import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, TypedDict, cast

from django.core.paginator import Page
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from portal.accounts.access import Cap, check, tenant_view, user_view
from portal.accounts.filters import TenantFilter
from portal.accounts.models import Tenant
from portal.web.export import csv_response, filter_errors_response
from portal.web.paging import BoundedCountPaginator, KeysFirstPaginator, KnownCountPaginator, page_links
from portal.web.text import visible

from .forms import AuditFilterForm
from .models import AuditEntry, AuditHead, action_names

CSV_HEADER = ["Id", "Time (UTC)", "User", "Tenant", "Action", "Object type", "Object id", "Object", "Details", "IP"]


def _form(request: HttpRequest, tenant: Tenant | None) -> AuditFilterForm:
    form = AuditFilterForm(request.GET, tenants=None if tenant else TenantFilter(request), actions=action_names(tenant))
    form.is_valid()  # errors are shown next to their field; the other filters still apply
    return form


def describe_details(details: Any) -> str:
    """The details in one line. Entries are never rewritten, and some hold text typed or read from files before
    such text was checked, so control and direction characters are escaped here, as they are shown."""
    if not details:
        return ""
    if isinstance(details, dict):
        return visible("; ".join(f"{key}: {_plain(value)}" for key, value in details.items()))
    return visible(_plain(details))


def _plain(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)


# What a row of the page shows: plain values, not model instances, which cost more to build than the page's query.
ROW_FIELDS = ("created", "actor_username", "tenant_slug", "action", "object_type", "object_repr", "details", "ip")


class Row(TypedDict):
    """One entry as the page shows it."""

    created: datetime
    created_iso: str  # the <time> element's datetime attribute
    created_text: str
    actor_username: str
    tenant_slug: str
    action: str
    object_text: str  # "type: name", or empty when the entry concerns no object
    details_text: str
    ip: str | None


def _rows_shown(entries: Iterable[dict[str, Any]]) -> list[Row]:
    zone = timezone.get_current_timezone()
    rows = []
    for entry in entries:
        # Formatted here rather than by the template's date filter, which was a noticeable part of the page's time.
        created = entry["created"].astimezone(zone)
        rows.append(
            Row(
                created=created,
                created_iso=created.isoformat(),
                created_text=created.strftime("%Y-%m-%d %H:%M:%S"),
                actor_username=entry["actor_username"],
                tenant_slug=entry["tenant_slug"],
                action=entry["action"],
                object_text=visible(f"{entry['object_type']}: {entry['object_repr']}") if entry["object_type"] else "",
                details_text=describe_details(entry["details"]),
                ip=entry["ip"],
            )
        )
    return rows


def _query_strings(query: QueryDict, page: Page) -> dict[str, str]:
    """The paging links, and the download link's query string: the current filters without the page."""
    links = page_links(query, page, first_and_last=True)
    params = query.copy()
    params.pop("page", None)
    links["export"] = f"?{params.urlencode()}" if params or query else ""
    return links


def _page(request: HttpRequest, entries: Any, tenant: Tenant | None) -> HttpResponse:
    form = _form(request, tenant)
    condition = form.filter_q()
    filtered = entries.filter(condition).order_by("-id").values(*ROW_FIELDS)
    if tenant is None and not condition:
        # The whole log: the head holds its length, kept in the same transaction as every append.
        total = AuditHead.objects.filter(pk=1).values_list("count", flat=True).first() or 0
        paginator: KeysFirstPaginator = KnownCountPaginator(filtered, form.page_size, total, from_either_end=True)
    else:
        # Counted as far as a few hundred pages past the one asked for (README, Audit trail).
        paginator = BoundedCountPaginator(filtered, form.page_size, request.GET.get("page"))
    page = paginator.get_page(request.GET.get("page"))
    page.object_list = _rows_shown(page)  # the page iterates the prepared rows; its links and counts are unchanged
    links = _query_strings(request.GET, page)
    export_url = reverse("audit-tenant-csv", args=[tenant.slug]) if tenant else reverse("audit-log-csv")
    context = {
        "tenant": tenant,
        "form": form,
        "page": page,
        "links": links,
        "export_url": export_url + links["export"],
    }
    return render(request, "audit/log.html", context)


def _rows(entries: Any) -> Iterator[list[Any]]:
    for entry in entries.iterator(chunk_size=2000):
        yield [
            entry.pk,
            entry.created,
            entry.actor_username,
            entry.tenant_slug,
            entry.action,
            entry.object_type,
            entry.object_id,
            entry.object_repr,
            json.dumps(entry.details, ensure_ascii=False, sort_keys=True) if entry.details else "",
            entry.ip,
        ]


def _export(request: HttpRequest, entries: Any, tenant: Tenant | None) -> HttpResponse:
    form = AuditFilterForm(request.GET, tenants=None if tenant else TenantFilter(request), actions=[])
    if not form.is_valid():
        return filter_errors_response(form)
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    name = f"audit-{tenant.slug if tenant else 'all-tenants'}-{stamp}.csv"
    response = csv_response(name, CSV_HEADER, _rows(entries.filter(form.filter_q()).order_by("-id")))
    return cast(HttpResponse, response)  # streamed; the access decorators only pass it through


def _all_entries(request: HttpRequest) -> Any:
    # The cross-tenant pages require Cap.VIEW_ALL_TENANTS, which reaches every tenant (access.tenants_for): every
    # entry, those tied to no tenant (sign-ins) included.
    return AuditEntry.objects.all()


@user_view(Cap.VIEW_ALL_TENANTS)
@never_cache
def audit_log(request: HttpRequest) -> HttpResponse:
    check(request.user, Cap.VIEW_AUDIT)
    return _page(request, _all_entries(request), None)


@user_view(Cap.VIEW_ALL_TENANTS)
@never_cache
def audit_log_csv(request: HttpRequest) -> HttpResponse:
    check(request.user, Cap.VIEW_AUDIT)
    return _export(request, _all_entries(request), None)


@tenant_view(Cap.VIEW_AUDIT)
@never_cache
def audit_tenant(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    return _page(request, AuditEntry.objects.filter(tenant=tenant), tenant)


@tenant_view(Cap.VIEW_AUDIT)
@never_cache
def audit_tenant_csv(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    return _export(request, AuditEntry.objects.filter(tenant=tenant), tenant)
