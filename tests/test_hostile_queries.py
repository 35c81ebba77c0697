"""Every page, given query strings nobody designed it for, answers without a server error."""

import pytest
from django.urls import reverse

from tests.conftest import World
from tests.foreign_objects import FACTORIES
from tests.test_isolation import ALL_PATTERNS

HOSTILE = [
    "page=-1&sort=__class__&q=%00",
    "page=99999999999999999999&per_page=0&sort=-&order=x",
    "q=%27%22%3Cscript%3E&status=%3Cscript%3E&assigned=maybe&tenant=no-such&month=2026-13",
    "from=2026-02-30&to=yesterday&user=%00&action=%25&tenant=%00",
    "format=exe&download=1&month=0000-00&window=-5&sort=valid_until%00",
]


@pytest.mark.parametrize("who", ["alice", "sam", "pat"])
def test_odd_query_strings_never_cause_a_server_error(world: World, client_for, who: str) -> None:
    client = client_for(getattr(world, who))
    client.raise_request_exception = False
    # Objects live in globex: support reads them, the others are answered 404 (an answer too, never a 500);
    # tenant pages are visited in acme, where alice and pat work.
    values = {kw: factory(world) for kw, factory in FACTORIES.items()} | {"tenant": "acme"}
    failures = []
    for name, keywords in ALL_PATTERNS:
        if name in {"logout"}:
            continue
        url = reverse(name, kwargs={kw: values[kw] for kw in keywords})
        for query in HOSTILE:
            status = client.get(f"{url}?{query}").status_code
            if status >= 500:
                failures.append(f"{url}?{query} -> {status}")
    assert failures == []


def test_a_nul_byte_in_the_query_is_a_bad_request(world: World, client_for) -> None:
    response = client_for(world.alice).get(reverse("certificate-list", args=["acme"]), {"q": "a\x00b"})
    assert response.status_code == 400
    assert "Bad request" in response.content.decode()
