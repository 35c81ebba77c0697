"""The monthly expiry histogram, drawn on the server as inline SVG by the expiry_chart tag: no script, nothing
fetched. Here it is numbers and words; the tag writes them. Geometry uses SVG presentation attributes (allowed by the
page's Content-Security-Policy); colours and fonts come from portal.css classes, never from style attributes."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import TypedDict

WIDTH = 760
HEIGHT = 240
LEFT = 40  # room for the count labels
RIGHT = 8
TOP = 12
BOTTOM = 40  # room for the month labels
PLOT_HEIGHT = HEIGHT - TOP - BOTTOM
BASELINE = TOP + PLOT_HEIGHT


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


def _certificates(n: int) -> str:
    return f"{n} certificate{'' if n == 1 else 's'}"


class GridLine(TypedDict):
    value: int
    y: str
    label_y: str


class Month(TypedDict):
    """One month of the chart: its label on the axis and, when any certificate expires in it, its bar. Coordinates
    are written as text with one decimal, as SVG reads them whatever the page's locale."""

    name: str  # "March 2027"
    label: str  # "Mar"
    year: str  # "2027" under the first month and under each January, otherwise empty
    count: int
    tooltip: str
    href: str  # that month's certificates
    centre: str
    x: str
    top: str
    height: str
    count_y: str


@dataclass(frozen=True)
class Histogram:
    """Certificates expiring per month, one bar per month, the tallest scaled to a round axis maximum."""

    buckets: Sequence[tuple[date, int]]
    month_link: str  # a month's list without the month: "<path>?<filters>&month="
    place: str = ""  # the tenant's name on a one-tenant page

    @property
    def key(self) -> str:
        """What the drawing depends on, and nothing else: the page keeps the drawn chart under it."""
        return repr((self.place, self.month_link, [(month.isoformat(), n) for month, n in self.buckets]))

    @property
    def title(self) -> str:
        return f"Certificates expiring per month in {self.place}" if self.place else "Certificates expiring per month"

    @property
    def description(self) -> str:
        if not self.buckets:
            return "No data."
        return f"{_certificates(sum(n for _, n in self.buckets))} expire in these {len(self.buckets)} months."

    @cached_property
    def top_value(self) -> int:
        return nice_ceiling(max((n for _, n in self.buckets), default=0))

    @cached_property
    def grid(self) -> list[GridLine]:
        values = (0, self.top_value // 2, self.top_value) if self.top_value > 1 else (0, self.top_value)
        lines = []
        for value in values:
            y = BASELINE - PLOT_HEIGHT * value / self.top_value
            lines.append(GridLine(value=value, y=f"{y:.1f}", label_y=f"{y + 4:.1f}"))
        return lines

    @property
    def slot(self) -> float:
        return (WIDTH - LEFT - RIGHT) / max(len(self.buckets), 1)

    @property
    def bar_width(self) -> str:
        return f"{self.slot * 0.7:.1f}"

    @cached_property
    def months(self) -> list[Month]:
        slot = self.slot
        bar_width = slot * 0.7
        months = []
        for i, (month, n) in enumerate(self.buckets):
            height = max(PLOT_HEIGHT * n / self.top_value, 1.0) if n else 0.0
            months.append(
                Month(
                    name=f"{month:%B %Y}",
                    label=f"{month:%b}",
                    year=str(month.year) if i == 0 or month.month == 1 else "",
                    count=n,
                    tooltip=f"{month:%B %Y}: {_certificates(n)}",
                    href=f"{self.month_link}{month:%Y-%m}",
                    centre=f"{LEFT + i * slot + slot / 2:.1f}",
                    x=f"{LEFT + i * slot + (slot - bar_width) / 2:.1f}",
                    top=f"{BASELINE - height:.1f}",
                    height=f"{height:.1f}",
                    count_y=f"{BASELINE - height - 3:.1f}",
                )
            )
        return months

    # Fixed geometry, for the drawing.
    width = WIDTH
    height = HEIGHT
    left = LEFT
    right = WIDTH - RIGHT
    axis_label_x = LEFT - 6
    baseline = BASELINE
    month_y = BASELINE + 14
    year_y = BASELINE + 28
