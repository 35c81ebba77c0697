"""The audit trail's table rows (the header row is in audit/log.html).

Written with format_html, one call per row, rather than cell by cell in a template, where every cell costs a variable
lookup and a node on top of its escaping.
"""

from collections.abc import Iterable
from typing import Any

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from ..views import Row

register = template.Library()

NOTHING = format_html('<span class="muted">{}</span>', "—")
_START = '<tr><td><time datetime="{created_iso}">{created_text}</time></td><td>{user}</td>'
_END = '<td>{action}</td><td>{entry_object}</td><td class="details-text">{details_text}</td><td>{ip}</td></tr>'
ROW = _START + _END
ROW_WITH_TENANT = _START + "<td>{tenant}</td>" + _END


def _cells(row: Row) -> dict[str, Any]:
    return {
        "created_iso": row["created_iso"],
        "created_text": row["created_text"],
        "user": row["actor_username"] or "—",
        "tenant": row["tenant_slug"] or "—",
        "action": row["action"],
        "entry_object": row["object_text"] or NOTHING,
        "details_text": row["details_text"],
        "ip": row["ip"] or "",
    }


@register.simple_tag
def audit_rows(rows: Iterable[Row], tenant: Any) -> SafeString:
    """One <tr> per entry; on the cross-tenant page (no ``tenant``), with a Tenant cell."""
    return format_html_join("\n", ROW if tenant else ROW_WITH_TENANT, (_cells(row) for row in rows))
