"""The dashboard's links to itself with a filter changed (status tiles, sort, CSV, all months), written as
``{% querystring %}`` writes them: the current query, in its order, with some parameters set or removed. Each
parameter is encoded once for all the links, rather than the whole query once per link."""

from urllib.parse import urlencode

from django.http import QueryDict


class QueryLinks:
    def __init__(self, query: QueryDict) -> None:
        self._empty = not query
        # What QueryDict.urlencode writes for each parameter, in the query's order.
        self._encoded = {name: "&".join(urlencode({name: value}) for value in values) for name, values in query.lists()}

    def changed(self, **changes: str | None) -> str:
        """``?`` and the query with each named parameter set to its value, or removed when the value is None ("" when
        neither the query nor the result has any parameter, as {% querystring %} gives)."""
        encoded = dict(self._encoded)
        for name, value in changes.items():
            if value is None:
                encoded.pop(name, None)
            else:
                encoded[name] = urlencode({name: value})
        if not encoded and self._empty:
            return ""
        return "?" + "&".join(encoded.values())
