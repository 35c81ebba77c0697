"""The audit trail's table rows (the header row is in audit/log.html).

Written with format_html, one call per row, rather than cell by cell in a template, where every cell costs a variable
lookup and a node on top of its escaping. A row once written is kept with the row it shows (``views._row``, kept
while the entry's values are the same), so a page read again escapes only its new entries.
"""

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from ..views import KEPT_ROWS, Row

register = template.Library()

NOTHING = format_html('<span class="muted">{}</span>', "—")
_START = '<tr><td><time datetime="{created_iso}">{created_text}</time></td><td>{user}</td>'
_END = '<td>{action}</td><td>{entry_object}</td><td class="details-text">{details_text}</td><td>{ip}</td></tr>'
ROW = _START + _END
ROW_WITH_TENANT = _START + "<td>{tenant}</td>" + _END


@lru_cache(maxsize=2 * KEPT_ROWS)  # keyed by the Row object itself: a row shown again is the same object
def _written(row: Row, with_tenant: bool) -> SafeString:
    return format_html(
        ROW_WITH_TENANT if with_tenant else ROW,
        created_iso=row.created_iso,
        created_text=row.created_text,
        user=row.actor_username or "—",
        tenant=row.tenant_slug or "—",
        action=row.action,
        entry_object=row.object_text or NOTHING,
        details_text=row.details_text,
        ip=row.ip or "",
    )


@register.simple_tag
def audit_rows(rows: Iterable[Row], tenant: Any) -> SafeString:
    """One <tr> per entry; on the cross-tenant page (no ``tenant``), with a Tenant cell."""
    # Each row is already escaped: joined as it is.
    return SafeString("\n".join([_written(row, not tenant) for row in rows]))
