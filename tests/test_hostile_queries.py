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


GARBAGE = {
    "alias": "x\x00y",
    "name": "<script>alert(1)</script>" * 20,
    "dbid": "99999999999999999999999",
    "description": "\u202e" * 5000,
    "comment": "=cmd|' /C calc'!A0",
    "certificate": ["not-a-uuid", "00000000-0000-0000-0000-000000000000"],
    "certificates": ["not-a-uuid", "\x00"],
    "selected": ["not-a-uuid"],
    "staged": "not-a-uuid,,,",
    "version": "-99999999999999999999",
    "confirm": "yes",
    "confirm_alias": "\x00",
    "your_password": "x" * 5000,
    "password": "\x00",
    "key_password": "\x00",
    "format": "../../etc/passwd",
    "action": "save",
    "add": "1",
    "remove": "1",
    "save": "1",
    "cancel": "1",
}


@pytest.mark.parametrize("who", ["bob", "professional"])
def test_garbage_posted_by_the_owner_never_causes_a_server_error(world: World, client_for, who: str) -> None:
    # The isolation factories make their objects in globex, where bob is the administrator.
    user = world.bob
    if who == "professional":
        user = world.pat
        user.tenants.add(world.globex)
    client = client_for(user)
    client.raise_request_exception = False
    values = {kw: factory(world) for kw, factory in FACTORIES.items()}
    failures = []
    for name, keywords in ALL_PATTERNS:
        if name in {"logout", "login"}:
            continue
        url = reverse(name, kwargs={kw: values[kw] for kw in keywords})
        status = client.post(url, GARBAGE).status_code
        if status >= 500:
            failures.append(f"POST {url} -> {status}")
    assert failures == []
