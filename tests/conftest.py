"""The shared test base: two tenants and a user for every role.

- alice: tenant administrator of acme (the owner in most tests)
- bob: tenant administrator of globex (a member of another tenant)
- pat: Genesys professional granted acme only
- sam: support, read-only across tenants
- charlie: an outsider, signed in but granted no tenant
"""

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from portal.accounts.models import Role, Tenant, User

# Playwright's sync API runs an event loop in the test thread; Django's ORM calls from fixtures are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "correct horse battery staple 42"


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    """Each test starts with an empty cache: what one test cached must not answer for the next."""
    from django.core.cache import cache

    from expiry import cached

    cache.clear()
    cached.forget()


@dataclass
class World:
    acme: Tenant
    globex: Tenant
    alice: User
    bob: User
    pat: User
    sam: User
    charlie: User


def make_user(username: str, role: str, *tenants: Tenant) -> User:
    user = User(username=username, role=role, email=f"{username}@example.com")
    user.set_password(PASSWORD)
    user.save()
    user.tenants.set(tenants)
    return user


@pytest.fixture
def world(db: Any) -> World:
    acme = Tenant.objects.create(slug="acme", name="Acme Contact Center")
    globex = Tenant.objects.create(slug="globex", name="Globex Corporation")
    return World(
        acme=acme,
        globex=globex,
        alice=make_user("alice", Role.TENANT_ADMIN, acme),
        bob=make_user("bob", Role.TENANT_ADMIN, globex),
        pat=make_user("pat", Role.PROFESSIONAL, acme),
        sam=make_user("sam", Role.SUPPORT),
        charlie=make_user("charlie", Role.PROFESSIONAL),
    )


@pytest.fixture
def client_for() -> Callable[[User], Client]:
    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make
