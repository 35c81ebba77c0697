"""Paging for long lists.

KeysFirstPaginator reads a page past the first by its primary keys first: ``WHERE pk IN (SELECT pk ... ORDER BY ...
OFFSET n LIMIT m)``. The database still steps over the first n rows, but in the index alone, instead of fetching
every skipped row from the table. The rows keep the list's order; the page is still one query.

KnownCountPaginator pages without a COUNT query when the length of the list is already known (from the head of the
audit log, or from the expiry overview's grouped counts): on a large table that count is the most expensive query of
a page. With ``from_either_end``, a page in the back half of the list is found by stepping from the end instead of
from the start, so the last pages cost what the first do; only for a count that is exact.

BoundedCountPaginator counts no further than a fixed number of pages past the one asked for: counting every match
of a broad filter over a large table costs more than the page itself. When there are more, ``count_is_exact`` is
False, ``count`` is the number counted, and the list has at least one page more than ``num_pages``.
"""

from functools import cached_property
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet

PAGES_COUNTED_AHEAD = 400  # past the requested page: 10,000 entries at 25 a page
_HIGHEST_PAGE_ASKED = 10**9  # a page number past any list: the limit stays a number the database takes


class KeysFirstPaginator(Paginator):
    count_is_exact = True

    def page(self, number: Any) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        return Page(self._rows(bottom, top), number, self)

    def _rows(self, bottom: int, top: int) -> Any:
        rows: Any = self.object_list
        if bottom and isinstance(rows, QuerySet):  # past the first page
            return rows.filter(pk__in=rows.values("pk")[bottom:top])
        return rows[bottom:top]


class KnownCountPaginator(KeysFirstPaginator):
    def __init__(self, object_list: Any, per_page: int, count: int, *, from_either_end: bool = False) -> None:
        super().__init__(object_list, per_page)
        self._known_count = count
        self._from_either_end = from_either_end

    @cached_property
    def count(self) -> int:
        return self._known_count

    def _rows(self, bottom: int, top: int) -> Any:
        rows: Any = self.object_list
        from_end = self.count - top
        if self._from_either_end and isinstance(rows, QuerySet) and rows.ordered and from_end < bottom:
            # The same rows, counted from the other end: the skipped ones are the fewer. The outer query keeps the
            # list's order.
            return rows.filter(pk__in=rows.reverse().values("pk")[from_end : self.count - bottom])
        return super()._rows(bottom, top)


class BoundedCountPaginator(KeysFirstPaginator):
    def __init__(self, object_list: Any, per_page: int, requested_page: Any) -> None:
        super().__init__(object_list, per_page)
        try:
            requested = min(max(int(requested_page), 1), _HIGHEST_PAGE_ASKED)
        except (TypeError, ValueError):
            requested = 1
        self._count_limit = (requested + PAGES_COUNTED_AHEAD) * per_page

    @cached_property
    def count(self) -> int:
        rows: Any = self.object_list
        if not isinstance(rows, QuerySet):
            return len(rows)
        # One row more than the limit says whether there are more; COUNT over a LIMIT subquery stops there.
        counted = rows.order_by().values("pk")[: self._count_limit + 1].count()
        if counted > self._count_limit:
            self.count_is_exact = False
            return self._count_limit
        return counted


def page_links(query: Any, page: Page, *, first_and_last: bool = False) -> dict[str, str]:
    """The query strings of a page's Previous and Next links (and First and Last, when asked and the last page is
    known), as ``{% querystring %}`` writes them: the current query (a QueryDict) with another page number, from one
    copy of it rather than one per link."""
    params = query.copy()
    numbers: dict[str, int] = {}
    if first_and_last and page.has_other_pages():
        numbers["first"] = 1
        if getattr(page.paginator, "count_is_exact", True):  # otherwise the last page is not known
            numbers["last"] = page.paginator.num_pages
    if page.has_previous():
        numbers["previous"] = page.previous_page_number()
    if page.has_next():
        numbers["next"] = page.next_page_number()
    links = {}
    for name, number in numbers.items():
        params["page"] = str(number)
        links[name] = f"?{params.urlencode()}"
    return links
