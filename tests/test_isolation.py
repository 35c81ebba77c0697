"""Every URL of the project, visited as each role against the other tenant's objects, is refused.

The patterns are read from the URL resolver, so views added later are covered without editing this file.
"""

from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from portal.audit.models import AuditEntry
from tests.conftest import World
from tests.foreign_objects import FACTORIES

# Pages that act on the signed-in user themselves, not on a tenant's objects.
SELF_SERVICE = {"login", "logout", "password-change"}


def _patterns(
    resolver: URLResolver, namespace: str = "", outer: tuple[str, ...] = ()
) -> Iterator[tuple[str, list[str]]]:
    # Keywords of an include()'s prefix (e.g. <slug:tenant>) belong to every pattern inside it.
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _patterns(entry, inner, outer + tuple(entry.pattern.regex.groupindex))
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}", [*outer, *entry.pattern.regex.groupindex]


# The Local Key Manager's key-management/v1 endpoints authenticate Genesys Cloud with Hawk, never a session: a
# signed-in user reaches none of them (below), and their tenant isolation is tested in tests/lkm/test_api*.py.
HAWK_ONLY = {"lkm-api-keypairs", "lkm-api-keypair", "lkm-api-decrypt"}
EVERY_PATTERN = sorted(set((name, tuple(kw)) for name, kw in _patterns(get_resolver())))
ALL_PATTERNS = [(name, kw) for name, kw in EVERY_PATTERN if name not in HAWK_ONLY]
TENANT_PATTERNS = [(name, kw) for name, kw in ALL_PATTERNS if kw]
SUPPORT_PATTERNS = [(name, kw) for name, kw in ALL_PATTERNS if name not in SELF_SERVICE]


def test_every_url_keyword_has_a_foreign_object_factory() -> None:
    missing = {kw for _, kws in TENANT_PATTERNS for kw in kws} - set(FACTORIES)
    assert not missing, f"add factories to tests/foreign_objects.py for: {sorted(missing)}"


def _url(world: World, name: str, keywords: tuple[str, ...]) -> str:
    return reverse(name, kwargs={kw: FACTORIES[kw](world) for kw in keywords})


@pytest.mark.parametrize("name,keywords", TENANT_PATTERNS, ids=[n for n, _ in TENANT_PATTERNS])
@pytest.mark.parametrize("who", ["alice", "pat", "charlie"])
def test_foreign_tenant_objects_are_out_of_reach(world: World, client_for, who: str, name: str, keywords) -> None:
    url = _url(world, name, keywords)
    client: Client = client_for(getattr(world, who))
    before = AuditEntry.objects.count()
    for method in ("get", "post"):
        response = getattr(client, method)(url)
        assert response.status_code in (403, 404, 405), f"{who} {method.upper()} {url} -> {response.status_code}"
    assert AuditEntry.objects.count() == before, f"{who} changed something through {url}"


@pytest.mark.parametrize("name,keywords", TENANT_PATTERNS, ids=[n for n, _ in TENANT_PATTERNS])
def test_anonymous_is_sent_to_sign_in(world: World, name: str, keywords) -> None:
    url = _url(world, name, keywords)
    for method in ("get", "post"):
        response = getattr(Client(), method)(url)
        assert response.status_code in (302, 405), f"anonymous {method.upper()} {url} -> {response.status_code}"
        if response.status_code == 302:
            assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name,keywords", SUPPORT_PATTERNS, ids=[n for n, _ in SUPPORT_PATTERNS])
def test_support_is_read_only_everywhere(world: World, client_for, name: str, keywords) -> None:
    url = _url(world, name, keywords)
    client = client_for(world.sam)
    before = AuditEntry.objects.count()
    response = client.post(url)
    # Read-only views answer 405 to POST; views that change state refuse support with 403.
    assert response.status_code in (403, 405), f"support POST {url} -> {response.status_code}"
    assert AuditEntry.objects.count() == before


@pytest.mark.parametrize("name", sorted(SELF_SERVICE))
def test_support_uses_its_own_account_pages_without_touching_a_tenant(world: World, client_for, name: str) -> None:
    response = client_for(world.sam).post(reverse(name))
    assert response.status_code in (200, 302), f"support POST {name} -> {response.status_code}"
    assert not AuditEntry.objects.filter(tenant__isnull=False).exists()


@pytest.mark.parametrize("name,keywords", [(n, kw) for n, kw in EVERY_PATTERN if n in HAWK_ONLY])
def test_a_signed_in_session_reaches_no_key_manager_endpoint(world: World, client_for, name: str, keywords) -> None:
    """Even the tenant's own administrator, signed in, is refused: only a Hawk credential reaches these."""
    url = reverse(name, kwargs={kw: "00000000-0000-4000-8000-000000000000" for kw in keywords})
    client: Client = client_for(world.alice)
    before = AuditEntry.objects.count()
    for method in ("get", "post"):
        response = getattr(client, method)(url)
        assert response.status_code in (401, 405), f"alice {method.upper()} {url} -> {response.status_code}"
        assert response["Content-Type"] == "application/json"
    assert AuditEntry.objects.count() == before
