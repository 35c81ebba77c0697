"""Paging without a COUNT query when the length of the list is already known (from the head of the audit log, or
from the expiry overview's grouped counts): on a large table that count is the most expensive query of a page."""

from functools import cached_property
from typing import Any

from django.core.paginator import Paginator


class KnownCountPaginator(Paginator):
    def __init__(self, object_list: Any, per_page: int, count: int) -> None:
        super().__init__(object_list, per_page)
        self._known_count = count

    @cached_property
    def count(self) -> int:
        return self._known_count
