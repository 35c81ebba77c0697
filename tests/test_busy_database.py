"""A database too busy to answer in time (SQLite's single writer) gives the user a page saying so, with status 503,
wherever in the request it happens; other database errors stay server errors."""

import pytest
from django.db import OperationalError
from django.urls import reverse

from certificates.models import Certificate
from portal.audit.models import AuditEntry
from tests.conftest import PASSWORD, World
from tests.factories import post_upload, seed_files

BUSY_TEXT = "The portal is busy"


def locked(*args, **kwargs):
    raise OperationalError("database is locked")


def test_a_busy_database_during_an_upload_gets_the_busy_page(world: World, client_for, monkeypatch) -> None:
    monkeypatch.setattr("certificates.upload.create_certificate", locked)
    cert, key = seed_files()
    response = post_upload(client_for(world.alice), "acme", cert, key, alias="busy-one")
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert BUSY_TEXT in response.content.decode()
    assert not Certificate.objects.exists()  # nothing half-saved
    assert not AuditEntry.objects.filter(action="certificate-uploaded").exists()


def test_a_busy_database_outside_the_view_gets_the_busy_page_too(world: World, client, monkeypatch) -> None:
    """Saving the session happens after the view, in a middleware: the error handler answers there."""
    monkeypatch.setattr("django.contrib.sessions.backends.db.SessionStore.save", locked)
    client.raise_request_exception = False
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 503
    assert BUSY_TEXT in response.content.decode()


@pytest.mark.parametrize("where", ["view", "session"])
def test_other_database_errors_stay_server_errors(world: World, client_for, client, monkeypatch, where) -> None:
    def broken(*args, **kwargs):
        raise OperationalError("no such table: certificates_certificate")

    if where == "view":
        monkeypatch.setattr("certificates.upload.create_certificate", broken)
        client = client_for(world.alice)
    else:
        monkeypatch.setattr("django.contrib.sessions.backends.db.SessionStore.save", broken)
    client.raise_request_exception = False
    cert, key = seed_files()
    if where == "view":
        response = post_upload(client, "acme", cert, key, alias="broken-one")
    else:
        response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 500
    assert BUSY_TEXT not in response.content.decode()
