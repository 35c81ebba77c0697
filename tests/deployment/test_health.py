"""/healthz for load balancers: 200 naming each part's kind when all work, 503 naming the part that is down; no
sign-in, nothing else revealed, never a session or a cached answer."""

import json

import pytest
from django.db import OperationalError, connection
from django.test import Client, override_settings

from tests.conftest import World
from tests.keystore.moto_kms import kms as kms  # the fixture
from tests.keystore.moto_kms import kms_settings

from .redis_db import REDIS, cache_settings, closed_port, own_prefix

PARTS = {"status", "database", "cache", "master_key"}


def health(client: Client | None = None, method: str = "get"):
    return getattr(client or Client(), method)("/healthz")


def test_all_up_is_200_naming_each_part_without_sign_in(db) -> None:
    response = health()
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    assert not response.cookies
    assert json.loads(response.content) == {
        "status": "ok",
        "database": connection.vendor,
        "cache": "local",
        "master_key": "environment",
    }


def test_a_shared_cache_is_named_redis(db) -> None:
    with own_prefix() as (_, prefix), override_settings(CACHES=cache_settings(REDIS, prefix)):
        response = health()
    assert response.status_code == 200
    assert json.loads(response.content)["cache"] == "redis"


def test_an_unreachable_cache_is_503_naming_the_cache(db) -> None:
    with override_settings(CACHES=cache_settings(f"redis://127.0.0.1:{closed_port()}/3", "test-nodes-down")):
        response = health()
    assert response.status_code == 503
    assert json.loads(response.content) == {
        "status": "down",
        "database": connection.vendor,
        "cache": "down",
        "master_key": "environment",
    }


def test_a_misconfigured_master_key_is_503_naming_the_master_key(db) -> None:
    with override_settings(PORTAL_MASTER_KEY="not base64 at all", PORTAL_MASTER_KEY_FILE=""):
        response = health()
    assert response.status_code == 503
    body = json.loads(response.content)
    assert body == {"status": "down", "database": connection.vendor, "cache": "local", "master_key": "down"}
    assert "base64" not in response.content.decode()  # the reason is for the system check, not the balancer


def test_a_missing_master_key_file_is_503_without_its_path(db, tmp_path) -> None:
    missing = tmp_path / "gone.key"
    with override_settings(PORTAL_MASTER_KEY="", PORTAL_MASTER_KEY_FILE=str(missing)):
        response = health()
    assert response.status_code == 503
    assert json.loads(response.content)["master_key"] == "down"
    assert str(tmp_path) not in response.content.decode()


def test_a_kms_key_is_named_by_kind_and_a_disabled_one_is_503_without_its_arn(db, kms) -> None:
    with override_settings(**kms_settings()):
        assert json.loads(health().content)["master_key"] == "aws-kms"
    kms.client.disable_key(KeyId=kms.key)
    with override_settings(**kms_settings()):
        response = health()
    assert response.status_code == 503
    assert json.loads(response.content)["master_key"] == "down"
    assert kms.key not in response.content.decode()


def test_a_database_that_fails_is_503_naming_the_database(db, monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", refuse)
    response = health()
    monkeypatch.undo()
    assert response.status_code == 503
    body = json.loads(response.content)
    assert body["status"] == "down" and body["database"] == "down"
    assert body["cache"] == "local" and body["master_key"] == "environment"
    assert "refused" not in response.content.decode()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a server on a port: PostgreSQL only")
def test_a_database_server_that_does_not_answer_is_503(transactional_db) -> None:
    """The connection itself goes to a closed port: the probe fails within the connection timeout."""
    saved = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = closed_port()
    try:
        response = health()
    finally:
        connection.close()
        connection.settings_dict["PORT"] = saved
    assert response.status_code == 503
    assert json.loads(response.content)["database"] == "down"
    assert health().status_code == 200  # back once the server answers


def test_only_get_and_head(db) -> None:
    assert health(method="head").status_code == 200
    assert health(Client(enforce_csrf_checks=True), "post").status_code == 405


def test_plain_http_probe_is_not_redirected_but_pages_are(db, settings) -> None:
    settings.SECURE_SSL_REDIRECT = True
    assert health().status_code == 200
    assert Client().get("/accounts/login/").status_code == 301


def test_a_tenant_page_still_needs_sign_in(world: World) -> None:
    response = Client().get("/t/acme/certificates/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_health_writes_no_audit_entry_and_no_session(db) -> None:
    from django.contrib.sessions.models import Session

    from portal.audit.models import AuditEntry

    health()
    assert AuditEntry.objects.count() == 0
    assert Session.objects.count() == 0
