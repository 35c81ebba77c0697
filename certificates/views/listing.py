"""The Recording Certificates list's table: search, sort, one page of rows, and where each is assigned.

A page of the table is kept in the cache under the tenant's revision version (``revisions``), read from the database
on every request, so any change to the tenant's certificates or assignments makes the kept page unreachable at once;
what is shown is what a fresh query would give. The statuses (and the order by status) also depend on the time: a
kept page says until when it holds, the first moment a status it shows, or an order it follows, would change.
"""

import hashlib
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, TypedDict

from django.core.cache import cache
from django.core.paginator import Page
from django.db.models import Case, Count, IntegerField, Min, Q, QuerySet, Value, When, Window
from django.db.models.functions import Length, Lower
from django.http import QueryDict
from django.utils import timezone

from portal.accounts.models import Tenant
from portal.web.links import UrlPattern
from portal.web.paging import KnownCountPaginator

from .. import revisions
from ..models import Certificate
from ..status import expiring_window_days, status_for, status_label
from ..usage import labels_for

PAGE_SIZE = 25
MAX_QUERY = 200
DEFAULT_SORT = "alias"
LAST_PAGE_READ = 100_000  # past it (2.5 million certificates), a page is found from the count: its offset stays small
KEPT_SECONDS = 24 * 3600  # a kept page is reached only under its version; this only lets unreached ones go

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
SORT_KEYS = frozenset(key for key, _ in COLUMNS)


def _order_expressions(key: str, now: datetime) -> list[Any]:
    if key == "status":
        status_rank = Case(
            When(not_valid_after__lt=now, then=Value(0)),
            When(not_valid_before__gt=now, then=Value(3)),
            When(not_valid_after__lte=now + timedelta(days=expiring_window_days()), then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        )
        return [status_rank, "not_valid_after"]
    orderings: dict[str, list[Any]] = {
        "alias": [Lower("entry__alias")],
        "subject": [Lower("subject_name")],
        # Decimal text: shorter is smaller, then digit by digit.
        "serial": [Length("serial_number"), "serial_number"],
        "issuer": [Lower("issuer_dn")],
        "valid_from": ["not_valid_before"],
        "valid_until": ["not_valid_after"],
    }
    return orderings[key]


def parse_sort(value: str) -> tuple[str, bool]:
    """(column, descending) from ?sort=; anything not in the whitelist falls back to the default."""
    descending = value.startswith("-")
    key = value.removeprefix("-")
    if key not in SORT_KEYS:
        return DEFAULT_SORT, False
    return key, descending


def sorted_certificates(
    queryset: QuerySet[Certificate], key: str, descending: bool, now: datetime
) -> QuerySet[Certificate]:
    ordering = []
    for expression in _order_expressions(key, now):
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
    assigned = labels_for([cert["pk"] for cert in certificates])
    detail = UrlPattern("certificate-detail", True)
    zone = timezone.get_current_timezone()  # the database's times are aware: localtime's checks would find nothing
    rows = []
    for cert in certificates:
        start, end = cert["not_valid_before"], cert["not_valid_after"]
        status = status_for(start, end, now)
        rows.append(
            ListRow(
                detail_url=detail(tenant.slug, cert["pk"]),
                alias=cert["entry__alias"],
                subject_name=cert["subject_name"],
                serial_number=cert["serial_number"],
                issuer_dn=cert["issuer_dn"],
                valid_from=f"{start.astimezone(zone):%Y-%m-%d}",
                valid_until=f"{end.astimezone(zone):%Y-%m-%d}",
                status=status,
                status_label=status_label(status, start),
                assigned=assigned.get(cert["pk"], []),
            )
        )
    return rows


class Table(TypedDict):
    """One page of the list as shown: the number of certificates it pages through, the page's number and rows, and
    the first moment it no longer holds (None: no status it depends on will change). ``id`` names this reading of
    the page, under which the template keeps the rows' markup."""

    id: str
    count: int
    number: int
    rows: list[ListRow]
    read_at: datetime  # the statuses are those of this moment, and of every moment until holds_until
    holds_until: datetime | None


def _next_change(moments: Iterable[datetime | None], now: datetime) -> datetime | None:
    ahead = [moment for moment in moments if moment is not None and moment >= now]
    return min(ahead, default=None)


def _status_changes(not_valid_before: datetime, not_valid_after: datetime, window: timedelta) -> list[datetime]:
    """When a certificate's status changes: it starts, enters the expiry window, ends (status_for's boundaries)."""
    return [not_valid_before, not_valid_after - window, not_valid_after]


def _page_number(page: str | None) -> int | None:
    """The page asked for, when it may exist; None when only the count can tell which page to show (the last, for a
    number below 1 or past any list, as ``Paginator.get_page`` does)."""
    try:
        number = int(page) if page is not None else 1
    except ValueError:
        return 1
    return number if 1 <= number <= LAST_PAGE_READ else None


def _read_table(tenant: Tenant, query: str, sort_key: str, descending: bool, page: str | None, now: datetime) -> Table:
    certificates = search(Certificate.objects.filter(tenant=tenant).active(), query)
    window = timedelta(days=expiring_window_days())
    # An entry belongs to its certificate's tenant (its key is sealed under that tenant's key). Saying so lets the
    # database join the tenant's entries at once rather than look up each certificate's.
    rows = sorted_certificates(certificates.filter(entry__tenant=tenant), sort_key, descending, now)
    asked = _page_number(page)
    number = 1
    count: int | None = None
    values: list[dict[str, Any]] | None = None
    order_changes: list[datetime | None] = []
    if sort_key == "status":
        # The order by status changes whenever any certificate's status does, on this page or not.
        totals = certificates.aggregate(
            count=Count("pk"),
            start=Min("not_valid_before", filter=Q(not_valid_before__gte=now)),
            window=Min("not_valid_after", filter=Q(not_valid_after__gte=now + window)),
            end=Min("not_valid_after", filter=Q(not_valid_after__gte=now)),
        )
        count = totals["count"]
        order_changes = [totals["start"], totals["window"] and totals["window"] - window, totals["end"]]
    elif asked is not None:
        # The page and the count in one query. A page past the end has no row to tell the count: it is counted, then
        # the last page read.
        number = asked
        bottom = (number - 1) * PAGE_SIZE
        listed = rows.annotate(listed=Window(Count("pk"))).values(*ROW_FIELDS, "listed")
        values = list(listed[bottom : bottom + PAGE_SIZE])
        if values:
            count = values[0]["listed"]
        elif number == 1:
            count = 0
        else:
            values = None
    if count is None:
        # Without the sort's join to the keystore entries, which a count does not need.
        count = certificates.count()
    if values is None:
        shown = KnownCountPaginator(rows.values(*ROW_FIELDS), PAGE_SIZE, count).get_page(page)
        number, values = shown.number, list(shown.object_list)
    moments = [m for cert in values for m in _status_changes(cert["not_valid_before"], cert["not_valid_after"], window)]
    return Table(
        id=uuid.uuid4().hex,
        count=count,
        number=number,
        rows=list_rows(tenant, values, now),
        read_at=now,
        holds_until=_next_change([*moments, *order_changes], now),
    )


def table(tenant: Tenant, query: str, sort_key: str, descending: bool, page: str | None, now: datetime) -> Table:
    """The page of the list asked for, kept under the tenant's version and the request's terms until it no longer
    holds (see the module's docstring)."""
    known = revisions.versions([tenant.pk])
    terms = repr(  # the repr of strings, so that no two sets of terms read alike
        (
            tenant.slug,  # in every row's link
            UrlPattern("certificate-detail", True).pattern,  # where the portal is mounted
            timezone.get_current_timezone_name(),  # the dates' day
            expiring_window_days(),
            query,
            sort_key,
            descending,
            page,
        )
    )
    key = f"certificate-list:{revisions.version_key(tenant.pk, known)}:{hashlib.sha256(terms.encode()).hexdigest()}"
    kept: Table | None = cache.get(key)
    # From the moment it was read (a node whose clock is behind must not show a later moment's statuses) until the
    # first status on it changes.
    if kept is not None and kept["read_at"] <= now and (kept["holds_until"] is None or now < kept["holds_until"]):
        return kept
    fresh = _read_table(tenant, query, sort_key, descending, page, now)
    cache.set(key, fresh, KEPT_SECONDS)
    return fresh


def page_of(shown: Table) -> Page:
    """A paginator's page for the page's links and "Page n of m", without the rows it already has."""
    return KnownCountPaginator(range(shown["count"]), PAGE_SIZE, shown["count"]).page(shown["number"])


class Column(TypedDict):
    key: str
    label: str
    active: bool
    descending: bool
    href: str  # the list sorted by this column: ascending, or reversed when it is the current one


def columns(query: QueryDict, sort_key: str, descending: bool) -> list[Column]:
    """The headings with their links, as ``{% querystring sort=... page=None %}`` writes them, from one copy of the
    query rather than one per heading."""
    params = query.copy()
    params.pop("page", None)
    result = []
    for key, label in COLUMNS:
        # A click on the current column reverses it; on another, sorts ascending.
        params["sort"] = f"-{key}" if key == sort_key and not descending else key
        result.append(
            Column(
                key=key,
                label=label,
                active=key == sort_key,
                descending=key == sort_key and descending,
                href=f"?{params.urlencode()}",
            )
        )
    return result
