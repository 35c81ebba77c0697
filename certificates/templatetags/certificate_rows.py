"""The Recording Certificates list's table rows (the headings are in certificates/list.html).

Written with format_html, one call per row, rather than cell by cell in a template, where every cell costs a variable
lookup and a node on top of its escaping.
"""

from collections.abc import Iterable

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from ..views.listing import ListRow

register = template.Library()

NOTHING = format_html('<span class="muted">{}</span>', "—")
LINE_BREAK = mark_safe("<br>")  # noqa: S308  (fixed markup)
ROW = (
    '<tr>\n      <td><a href="{detail_url}">{alias}</a></td>\n      <td>{subject_name}</td>\n'
    '      <td class="serial">{serial_number}</td>\n      <td>{issuer_dn}</td>\n'
    '      <td class="nowrap">{valid_from}</td>\n      <td class="nowrap">{valid_until}</td>\n'
    '      <td><span class="badge {status}">{status_label}</span></td>\n      <td>{assigned}</td>\n    </tr>'
)


def _assigned(labels: list[str]) -> SafeString:
    return format_html_join(LINE_BREAK, "{}", ((label,) for label in labels)) if labels else NOTHING


@register.simple_tag
def certificate_rows(rows: Iterable[ListRow]) -> SafeString:
    """One <tr> per certificate."""
    return format_html_join(
        "\n    ",
        ROW,
        ({**row, "assigned": _assigned(row["assigned"])} for row in rows),
    )
