"""The monthly expiry histogram as inline SVG, drawn on the server: no script, nothing fetched. Geometry uses SVG
presentation attributes (allowed by the page's Content-Security-Policy); colours and fonts come from portal.css
classes, never from style attributes."""

from collections.abc import Callable, Sequence
from datetime import date

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH = 760
HEIGHT = 240
LEFT = 40  # room for the count labels
RIGHT = 8
TOP = 12
BOTTOM = 40  # room for the month labels


def nice_ceiling(value: int) -> int:
    """A round axis maximum at or above ``value``: 1, 2, 5, 10, 20, 50, ..."""
    if value <= 1:
        return 1
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def _label(n: int) -> str:
    return f"{n} certificate{'' if n == 1 else 's'}"


def histogram_svg(
    buckets: Sequence[tuple[date, int]],
    *,
    link: Callable[[date], str] | None = None,
    title: str = "Certificates expiring per month",
) -> SafeString:
    """One bar per month, tallest scaled to the axis maximum; each bar has a tooltip and, with ``link``, leads to
    that month's certificates. Everything interpolated is a number or escaped text."""
    top_value = nice_ceiling(max((n for _, n in buckets), default=0))
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(buckets), 1)
    bar_w = slot * 0.7
    baseline = TOP + plot_h
    total = sum(n for _, n in buckets)
    desc = f"{_label(total)} expire in these {len(buckets)} months." if buckets else "No data."
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="histogram" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" role="img" aria-labelledby="histogram-title histogram-desc">',
        f'<title id="histogram-title">{escape(title)}</title><desc id="histogram-desc">{escape(desc)}</desc>',
    ]
    for value in (0, top_value // 2, top_value) if top_value > 1 else (0, top_value):
        y = baseline - plot_h * value / top_value
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text class="axis" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{value}</text>')
    for i, (month, n) in enumerate(buckets):
        x = LEFT + i * slot + (slot - bar_w) / 2
        centre = LEFT + i * slot + slot / 2
        tooltip = escape(f"{month:%B %Y}: {_label(n)}")
        if n:
            height = max(plot_h * n / top_value, 1.0)
            bar = (
                f'<rect class="bar" x="{x:.1f}" y="{baseline - height:.1f}" width="{bar_w:.1f}" '
                f'height="{height:.1f}"><title>{tooltip}</title></rect>'
            )
            if link is not None:
                bar = f'<a href="{escape(link(month))}" aria-label="{tooltip}">{bar}</a>'
            parts.append(bar)
            parts.append(
                f'<text class="value" x="{centre:.1f}" y="{baseline - height - 3:.1f}" text-anchor="middle">{n}</text>'
            )
        month_text = f"{month:%b}"
        parts.append(
            f'<text class="axis" x="{centre:.1f}" y="{baseline + 14}" text-anchor="middle">{month_text}</text>'
        )
        if i == 0 or month.month == 1:
            parts.append(
                f'<text class="axis year" x="{centre:.1f}" y="{baseline + 28}" text-anchor="middle">{month.year}</text>'
            )
    parts.append(f'<line class="baseline" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{baseline}" y2="{baseline}"/>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308  (numbers and escaped text only, built above)
