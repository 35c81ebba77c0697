"""The expiry dashboard's status tiles (the list around them is in expiry/dashboard.html), written with format_html,
one call per tile, rather than a template loop where every attribute costs a node."""

from collections.abc import Iterable

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from ..views import Tile

register = template.Library()

TILE = (
    '<li class="tile {}{}">\n'
    '    <a href="{}"{}><span class="count">{}</span> <span class="label">{}</span></a>\n'
    "  </li>"
)
CURRENT = format_html(" {}", "current")
ARIA_CURRENT = format_html(' aria-current="{}"', "true")


@register.simple_tag
def expiry_tiles(tiles: Iterable[Tile]) -> SafeString:
    """One <li> per status, the one listed marked current."""
    return format_html_join(
        "\n  ",
        TILE,
        (
            (
                tile["key"],
                CURRENT if tile["current"] else "",
                tile["href"],
                ARIA_CURRENT if tile["current"] else "",
                tile["count"],
                tile["label"],
            )
            for tile in tiles
        ),
    )
