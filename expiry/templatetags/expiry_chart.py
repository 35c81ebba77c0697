"""The expiry dashboard's monthly chart as inline SVG, and the same numbers as table rows (expiry/chart.py works
out every number and word; expiry/dashboard.html places them).

Written with format_html, one call per month, rather than in a template, where every coordinate costs a variable
lookup and a node: the chart is drawn again whenever a count changes, and a write anywhere changes the cross-tenant
one.
"""

from functools import lru_cache
from typing import Any, cast

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from ..chart import Histogram, Month

register = template.Library()

# A month is written once and kept, for as long as the process runs (least recently used first out): it depends only
# on its numbers and words (all plain text, made by expiry/chart.py), and a change of count redraws the chart but
# leaves most months as they were.
KEPT_MONTHS = 1024

SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" class="histogram" viewBox="0 0 {} {}" width="100%" role="img"'
    ' aria-labelledby="histogram-title histogram-desc"><title id="histogram-title">{}</title>'
    '<desc id="histogram-desc">{}</desc>\n{}{}<line class="baseline" x1="{}" x2="{}" y1="{}" y2="{}"/></svg>'
)
GRID_LINE = (
    '<line class="grid" x1="{}" x2="{}" y1="{}" y2="{}"/><text class="axis" x="{}" y="{}" text-anchor="end">{}</text>\n'
)
# Each bar leads to that month's certificates and has a tooltip.
BAR = (
    '<a href="{}" aria-label="{}"><rect class="bar" x="{}" y="{}" width="{}" height="{}"><title>{}</title></rect></a>'
    '<text class="value" x="{}" y="{}" text-anchor="middle">{}</text>'
)
MONTH = '{}<text class="axis" x="{}" y="{}" text-anchor="middle">{}</text>{}\n'
YEAR = '<text class="axis year" x="{}" y="{}" text-anchor="middle">{}</text>'


def _month(chart: Histogram, month: Month) -> SafeString:
    return _kept_month(chart.bar_width, chart.month_y, chart.year_y, tuple(month.items()))


@lru_cache(maxsize=KEPT_MONTHS)
def _kept_month(bar_width: str, month_y: int, year_y: int, values: tuple[tuple[str, Any], ...]) -> SafeString:
    month = cast(Month, dict(values))
    bar = (
        format_html(
            BAR,
            month["href"],
            month["tooltip"],
            month["x"],
            month["top"],
            bar_width,
            month["height"],
            month["tooltip"],
            month["centre"],
            month["count_y"],
            month["count"],
        )
        if month["count"]
        else ""
    )
    year = format_html(YEAR, month["centre"], year_y, month["year"]) if month["year"] else ""
    return format_html(MONTH, bar, month["centre"], month_y, month["label"], year)


@register.simple_tag
def expiry_chart(chart: Histogram) -> SafeString:
    """The chart: grid lines with their values, a bar per month with any certificate ending in it, month labels."""
    grid = format_html_join(
        "",
        GRID_LINE,
        (
            (chart.left, chart.right, line["y"], line["y"], chart.axis_label_x, line["label_y"], line["value"])
            for line in chart.grid
        ),
    )
    months = format_html_join("", "{}", ((_month(chart, month),) for month in chart.months))
    return format_html(
        SVG,
        chart.width,
        chart.height,
        chart.title,
        chart.description,
        grid,
        months,
        chart.left,
        chart.right,
        chart.baseline,
        chart.baseline,
    )


@register.simple_tag
def expiry_chart_rows(chart: Histogram) -> SafeString:
    """The chart as table rows: month, certificates expiring."""
    return format_html_join("", "<tr><td>{}</td><td>{}</td></tr>", ((m["name"], m["count"]) for m in chart.months))
