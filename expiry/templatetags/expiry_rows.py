"""The expiry dashboard's list rows (the header row is in expiry/dashboard.html).

Written with format_html, one call per row, rather than cell by cell in a template, where every cell costs a variable
lookup and a node on top of its escaping.
"""

from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any, cast

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from ..views import Row

register = template.Library()

# A row is written once and kept, for as long as the process runs (least recently used first out): it depends only
# on what it shows, the same from one view of a list to the next, and escaping each cell cost more than the rest of
# the row. A few thousand rows: the pages of many lists, some kilobytes each.
KEPT_ROWS = 4096

NOTHING = format_html('<span class="muted">{}</span>', "—")
URGENT = format_html(' class="{}"', "urgent")
STILL_ASSIGNED = format_html(' <strong class="urgent-flag">{}</strong>', "Still assigned")


def _row(tenant_column: bool, linked: bool, renew_column: bool) -> str:
    tenant = '<td><a href="{tenant_url}">{tenant_slug}</a></td>' if tenant_column else ""
    alias = '<a href="{detail_url}">{alias}</a>' if linked else "{alias}"
    renew = "<td>{renew}</td>" if renew_column else ""
    return (
        f'<tr{{urgent}}>{tenant}<td class="alias">{alias}</td><td>{{subject_name}}</td><td>{{serial_number}}</td>'
        '<td><time datetime="{valid_until_iso}">{valid_until}</time></td><td>{days}</td>'
        f"{{status}}<td>{{assigned}}</td>{renew}</tr>"
    )


# (tenant column, alias linked to the certificate, renew column) -> the row's format string
ROWS = {
    (tenant, linked, renew): _row(tenant, linked, renew)
    for tenant in (True, False)
    for linked in (True, False)
    for renew in (True, False)
}


@lru_cache(maxsize=64)
def _status(status: str, label: str, urgent: bool) -> SafeString:
    """The status cell, written once per kind (a few, and the start of each not-yet-valid certificate shown) and
    kept for as long as the process runs, least recently used first out."""
    flag = STILL_ASSIGNED if urgent else ""
    return format_html('<td><span class="badge {}">{}</span>{}</td>', status, label, flag)


def _assigned(labels: Sequence[str]) -> Any:
    """One label per line, or a dash."""
    if not labels:
        return NOTHING
    if len(labels) == 1:
        return labels[0]
    return format_html("{}{}", format_html_join("", "{}<br>", ((label,) for label in labels[:-1])), labels[-1])


def _renew(row: Row) -> Any:
    """A Renew link named for its certificate, for rows inside an expiry window; nothing elsewhere."""
    if not row["renew_url"]:
        return ""
    return format_html('<a href="{}" aria-label="Renew {}">Renew</a>', row["renew_url"], row["alias"])


def _cells(row: Row) -> tuple[tuple[str, Any], ...] | None:
    """Everything the row shows, as a key (its labels as a tuple); None unless all of it is plain text (or a flag):
    text already marked as HTML is equal to the plain text of the same characters but must be written differently."""
    cells = []
    for name, value in row.items():
        if type(value) is list:
            value = tuple(value)
            if not all(type(label) is str for label in value):
                return None
        elif type(value) is not str and type(value) is not bool:
            return None
        cells.append((name, value))
    return tuple(cells)


def _written(row: Row, tenant_column: bool, renew_column: bool) -> SafeString:
    cells = _cells(row)
    return _line(row, tenant_column, renew_column) if cells is None else _kept(cells, tenant_column, renew_column)


def _line(row: Row, tenant_column: bool, renew_column: bool) -> SafeString:
    linked = bool(row["detail_url"])
    cells: dict[str, Any] = {
        "urgent": URGENT if row["urgent"] else "",
        "alias": row["alias"],
        "subject_name": row["subject_name"],
        "serial_number": row["serial_number"],
        "valid_until_iso": row["valid_until_iso"],
        "valid_until": row["valid_until"],
        "days": row["days"],
        "status": _status(row["status"], row["status_label"], row["urgent"]),
        "assigned": _assigned(row["assigned"]),
    }
    if tenant_column:
        cells["tenant_url"], cells["tenant_slug"] = row["tenant_url"], row["tenant_slug"]
    if linked:
        cells["detail_url"] = row["detail_url"]
    if renew_column:
        cells["renew"] = _renew(row)
    return format_html(ROWS[tenant_column, linked, renew_column], **cells)


@lru_cache(maxsize=KEPT_ROWS)
def _kept(cells: tuple[tuple[str, Any], ...], tenant_column: bool, renew_column: bool) -> SafeString:
    return _line(cast(Row, dict(cells)), tenant_column, renew_column)


@register.simple_tag
def expiry_rows(rows: Iterable[Row], tenant: Any, renew_column: bool = False) -> SafeString:
    """One <tr> per certificate; on the cross-tenant page (no ``tenant``), with a Tenant cell; with a last cell for
    the Renew links when the user may renew."""
    return format_html_join("\n", "{}", ((_written(row, not tenant, renew_column),) for row in rows))
