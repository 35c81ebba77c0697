"""The tenant home page, the least a signed-in page does: what it shows each role, what it reads and writes, and how
a session behaves across requests."""

import time
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.models import Session
from django.db import close_old_connections, connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from portal.accounts.sessions import SessionStore
from tests.conftest import PASSWORD, World

HOME = reverse("tenant-home", args=["acme"])


def signed_in(username: str) -> Client:
    client = Client()
    assert client.post(reverse("login"), {"username": username, "password": PASSWORD}).status_code == 302
    return client


def home_queries(client: Client, page: str = HOME) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(page).status_code == 200
    return [query["sql"] for query in captured.captured_queries]


def test_the_home_page_reads_the_session_the_user_and_the_tenant_and_writes_nothing(world: World) -> None:
    client = signed_in("alice")
    client.get(HOME)  # the first page after sign-in may renew the session
    queries = home_queries(client)
    assert len(queries) == 3, queries
    tables = ["django_session", "accounts_user", "accounts_tenant"]
    assert [next(t for t in tables if f'FROM "{t}"' in sql) for sql in queries] == tables, queries
    assert not any(sql.lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE")) for sql in queries), queries


def test_the_session_is_renewed_at_most_once_a_minute(world: World) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client = signed_in("alice")
        client.get(HOME)
    key = client.cookies["sessionid"].value
    expiry = Session.objects.get(session_key=key).expire_date
    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        assert not any("UPDATE" in sql for sql in home_queries(client))
    assert Session.objects.get(session_key=key).expire_date == expiry
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        client.get(HOME)
    assert Session.objects.get(session_key=key).expire_date == expiry + timedelta(seconds=61)


def test_signing_out_ends_the_session_for_every_copy_of_its_cookie(world: World) -> None:
    client = signed_in("alice")
    copy = Client()
    copy.cookies["sessionid"] = client.cookies["sessionid"].value
    assert copy.get(HOME).status_code == 200
    client.post(reverse("logout"))
    response = copy.get(HOME)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_an_unknown_session_is_signed_out(world: World) -> None:
    client = Client()
    client.cookies["sessionid"] = "x" * 32
    response = client.get(HOME)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_each_role_sees_its_own_sections_whoever_looked_first(world: World) -> None:
    """The sections are written once per tenant and role: another role's or another tenant's never answer."""
    admin = signed_in("alice").get(HOME).content.decode()
    professional = signed_in("pat").get(HOME).content.decode()
    support_acme = signed_in("sam").get(HOME).content.decode()
    support_globex = signed_in("sam").get(reverse("tenant-home", args=["globex"])).content.decode()
    keystore = reverse("keystore-home", args=["acme"])
    assert f'<h2><a href="{keystore}">Keystore</a></h2>' in admin
    assert keystore not in professional and keystore not in support_acme
    assert "Assign and unassign certificates" in professional and "Assign and unassign" not in admin
    assert reverse("certificate-list", args=["globex"]) in support_globex
    assert reverse("certificate-list", args=["acme"]) not in support_globex


def test_a_session_signed_in_through_djangos_own_backend_stays_signed_in(world: World) -> None:
    """Sessions from before the portal's backend name Django's ModelBackend; they go on, and name the portal's once
    renewed."""
    store = SessionStore()
    store[SESSION_KEY] = str(world.alice.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = world.alice.get_session_auth_hash()
    store.create()
    client = Client()
    client.cookies["sessionid"] = store.session_key or ""
    assert client.get(HOME).status_code == 200
    renewed = SessionStore(store.session_key)
    assert renewed[BACKEND_SESSION_KEY] == "portal.accounts.backends.UserBackend"
    assert client.get(HOME).status_code == 200


def test_a_deactivated_user_is_signed_out_at_the_next_page(world: World) -> None:
    client = signed_in("alice")
    assert client.get(HOME).status_code == 200
    world.alice.is_active = False
    world.alice.save()
    response = client.get(HOME)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_password_changed_elsewhere_signs_out_the_other_sessions(world: World) -> None:
    client = signed_in("alice")
    assert client.get(HOME).status_code == 200
    world.alice.set_password("another long passphrase 43")
    world.alice.save()
    response = client.get(HOME)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.django_db(transaction=True)
def test_a_connection_the_server_closed_is_replaced_before_the_next_page(world: World) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the server closing a kept connection is PostgreSQL's")
    import psycopg

    client = signed_in("alice")
    assert client.get(HOME).status_code == 200
    pid = connection.connection.info.backend_pid
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
        for _ in range(100):
            if other.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone() == (0,):
                break
            time.sleep(0.05)
    close_old_connections()  # as the server does when a request starts (the test client leaves it out)
    assert client.get(HOME).status_code == 200
    assert connection.connection.info.backend_pid != pid
