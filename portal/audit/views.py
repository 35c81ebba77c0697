"""The audit trail: support reads every tenant's entries (and those tied to none), a tenant administrator its own.

Each page costs the same few queries whatever the size of the log: the head (the log's length and version) with
the action names when the log has changed (reading.log_state), the count when filtered (counted no further than a
few hundred pages ahead), one page of entries (everything shown is stored on the entry itself, so no join) and the
tenant choices.
"""

import json
from collections.abc import Iterator
from datetime import tzinfo
from functools import lru_cache
from typing import Any, cast

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
from portal.web.paging import KeysFirstPaginator, KnownCountPaginator, page_links
from portal.web.text import visible

from .forms import AuditFilterForm, filter_form
from .models import AuditEntry
from .reading import BoundedCountMatchesPaginator, Matches, WholeLog, log_state

CSV_HEADER = ["Id", "Time (UTC)", "User", "Tenant", "Action", "Object type", "Object id", "Object", "Details", "IP"]


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


class Row:
    """One entry as the page shows it; read by name, as ``row.action`` or ``row["action"]``."""

    __slots__ = (
        "created",
        "created_iso",
        "created_text",
        "actor_username",
        "tenant_slug",
        "action",
        "object_text",
        "details_text",
        "ip",
    )

    def __init__(self, entry: tuple[Any, ...], zone: tzinfo) -> None:
        created, self.actor_username, self.tenant_slug, self.action, object_type, object_repr, details, self.ip = entry
        self.created = created.astimezone(zone)
        self.created_iso = self.created.isoformat()  # the <time> element's datetime attribute
        # Written here rather than by the template's date filter, which was a noticeable part of the page's time.
        self.created_text = self.created.strftime("%Y-%m-%d %H:%M:%S")
        # "type: name", or empty when the entry concerns no object
        self.object_text = visible(f"{object_type}: {object_repr}") if object_type else ""
        self.details_text = describe_details(json.loads(details) if details else None)

    def __getitem__(self, name: str) -> Any:
        return getattr(self, name)


# Rows shown lately. An entry is never changed, and the key is every value the row shows as read from the database
# on this request, so a row kept is the row that would be written now, on any server.
KEPT_ROWS = 2048


@lru_cache(maxsize=KEPT_ROWS)
def _row(entry: tuple[Any, ...], zone: tzinfo) -> Row:
    return Row(entry, zone)


def _query_strings(query: QueryDict, page: Page) -> dict[str, str]:
    """The paging links, and the download link's query string: the current filters without the page."""
    links = page_links(query, page, first_and_last=True)
    params = query.copy()
    params.pop("page", None)
    links["export"] = f"?{params.urlencode()}" if params or query else ""
    return links


def _page(request: HttpRequest, tenant: Tenant | None) -> HttpResponse:
    state = log_state(tenant)
    form = filter_form(request.GET, tenants=None if tenant else TenantFilter.of(request), actions=state.actions)
    conditions = form.conditions()
    if tenant is None and not conditions:
        # The whole log: its length is known.
        paginator: KeysFirstPaginator = KnownCountPaginator(WholeLog(state), form.page_size, state.entries)
    else:
        if tenant is not None:
            conditions.insert(0, ("tenant", "exact", tenant.pk))
        # Counted as far as a few hundred pages past the one asked for (README, Audit trail).
        paginator = BoundedCountMatchesPaginator(Matches(conditions), form.page_size, request.GET.get("page"))
    page = paginator.get_page(request.GET.get("page"))
    zone = timezone.get_current_timezone()
    page.object_list = [_row(entry, zone) for entry in page]
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
    form = AuditFilterForm(request.GET, tenants=None if tenant else TenantFilter.of(request), actions=[])
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
    return _page(request, None)


@user_view(Cap.VIEW_ALL_TENANTS)
@never_cache
def audit_log_csv(request: HttpRequest) -> HttpResponse:
    check(request.user, Cap.VIEW_AUDIT)
    return _export(request, _all_entries(request), None)


@tenant_view(Cap.VIEW_AUDIT)
@never_cache
def audit_tenant(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    return _page(request, tenant)


@tenant_view(Cap.VIEW_AUDIT)
@never_cache
def audit_tenant_csv(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    return _export(request, AuditEntry.objects.filter(tenant=tenant), tenant)
