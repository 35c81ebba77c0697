"""The shared cache: pages work while Redis is down (recomputed, the outage logged once), clearing it removes this
portal's keys only, and a per-process cache under several processes is reported by a system check."""

import io
import logging
import os

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import override_settings

from portal.web.cache import _outage_of
from portal.web.checks import gunicorn_workers
from tests.conftest import World
from tests.factories import assign_to_ivr, make_certificate
from tests.live import Browser

from .nodes import gunicorn_node
from .redis_db import REDIS, cache_settings, closed_port, own_prefix


def test_pages_work_while_redis_is_down_and_the_outage_is_logged_once(world: World, client_for, caplog) -> None:
    cert = make_certificate(world.acme, "rec-down")
    assign_to_ivr(cert, "Main line")
    client = client_for(world.alice)
    down = cache_settings(f"redis://127.0.0.1:{closed_port()}/3", "test-nodes-down")
    with override_settings(CACHES=down), caplog.at_level(logging.WARNING, logger="portal.web.cache"):
        pages = [
            client.get("/t/acme/certificates/"),
            client.get("/t/acme/certificates/"),
            client.get("/t/acme/expiry/"),
        ]
    assert [page.status_code for page in pages] == [200, 200, 200]
    assert "rec-down" in pages[0].content.decode() and "Main line" in pages[0].content.decode()
    outages = [r for r in caplog.records if r.name == "portal.web.cache"]
    assert len(outages) == 1
    assert "cannot be reached" in outages[0].getMessage()


def test_values_are_shared_and_clear_removes_only_this_portals_keys(db) -> None:
    with own_prefix() as (client, prefix):
        client.set(f"{prefix}-other:1:kept", b"another program's")
        try:
            with override_settings(CACHES=cache_settings(REDIS, prefix)):
                cache.set("counted", {"acme": 3})
                assert cache.get("counted") == {"acme": 3}
                assert client.exists(f"{prefix}:1:counted")
                cache.clear()
                assert cache.get("counted") is None
            assert client.get(f"{prefix}-other:1:kept") == b"another program's"
        finally:
            client.delete(f"{prefix}-other:1:kept")


@pytest.mark.parametrize(
    "argv,environ,workers",
    [
        (["/srv/.venv/bin/gunicorn", "portal.wsgi", "--workers", "3"], {}, 3),
        (["/srv/.venv/bin/gunicorn", "portal.wsgi", "-w4"], {"WEB_CONCURRENCY": "2"}, 4),
        (["/srv/.venv/lib/python3.11/site-packages/gunicorn/__main__.py", "portal.wsgi", "--workers=2"], {}, 2),
        (["manage.py", "check"], {"GUNICORN_CMD_ARGS": "--bind 0.0.0.0:8000 --workers=5"}, 5),
        (["manage.py", "check"], {"WEB_CONCURRENCY": "2"}, 2),
        (["manage.py", "check"], {}, 1),
    ],
)
def test_gunicorns_worker_count_is_read_as_gunicorn_reads_it(argv, environ, workers) -> None:
    assert gunicorn_workers(argv, environ)[0] == workers


def check_output() -> str:
    out = io.StringIO()
    call_command("check", tags=["caches"], stdout=out, stderr=out)
    return out.getvalue()


def test_a_per_process_cache_under_several_workers_is_warned_about(monkeypatch) -> None:
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    output = check_output()
    assert "portal.W001" in output
    assert "per process (LocMemCache)" in output and "4 processes (WEB_CONCURRENCY=4)" in output
    assert "CACHE_URL" in output


def test_several_nodes_with_a_per_process_cache_are_warned_about(monkeypatch, settings) -> None:
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    monkeypatch.delenv("GUNICORN_CMD_ARGS", raising=False)
    settings.PORTAL_NODES = 2
    assert "2 processes (PORTAL_NODES=2)" in check_output()


def test_no_warning_with_one_process_or_a_shared_cache(monkeypatch, settings) -> None:
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    monkeypatch.delenv("GUNICORN_CMD_ARGS", raising=False)
    assert "portal.W001" not in check_output()
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    settings.CACHES = cache_settings(REDIS, "test-nodes-check")
    assert "portal.W001" not in check_output()


def test_gunicorn_with_several_workers_on_a_per_process_cache_logs_the_warning(tmp_path) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.deployment.node_settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite3'}",
        "CACHE_URL": "",
    }
    env.pop("WEB_CONCURRENCY", None)
    env.pop("GUNICORN_CMD_ARGS", None)
    with gunicorn_node(env, tmp_path / "gunicorn.log") as url:
        assert Browser(url).get("/healthz").status == 200  # served by a worker that has loaded the portal
    warnings = [line for line in (tmp_path / "gunicorn.log").read_text().splitlines() if "portal.W001" in line]
    assert warnings and "2 processes (gunicorn --workers 2)" in warnings[0]


def test_an_outage_costs_one_attempt_per_pause_and_its_end_is_logged(db, monkeypatch, caplog) -> None:
    import redis

    attempts = []

    def refused(self, key):
        attempts.append(key)
        raise redis.ConnectionError("refused")

    with own_prefix() as (_, prefix), override_settings(CACHES=cache_settings(REDIS, prefix)):
        cache.set("counted", 3)
        with caplog.at_level(logging.WARNING, logger="portal.web.cache"):
            with monkeypatch.context() as outage:
                outage.setattr(redis.Redis, "get", refused)
                assert [cache.get("counted"), cache.get("counted"), cache.get("counted")] == [None, None, None]
            assert len(attempts) == 1  # the next two did not wait for Redis
            assert cache.get("counted") is None  # Redis is back, but this process waits out its pause
            _outage_of(REDIS).paused_until = 0.0  # the pause is over
            assert cache.get("counted") == 3
    messages = [record.getMessage() for record in caplog.records if record.name == "portal.web.cache"]
    assert messages == [
        "The shared cache cannot be reached (ConnectionError); pages recompute what it held until it is back.",
        "The shared cache answers again.",
    ]
