"""Production settings fail closed, saying in one line what is missing (from manage.py and from gunicorn), and pass
Django's deployment checklist."""

import base64
import os
import signal
import subprocess
from pathlib import Path

import pytest

from tests.checkout import clean_environment, fresh_checkout, manage

PRODUCTION = {
    "SECRET_KEY": "p" * 60 + "-production-like-secret-key",
    "DATABASE_URL": "sqlite:///:memory:",
    "ALLOWED_HOSTS": "certs.example.com",
    "PORTAL_MASTER_KEY": base64.b64encode(b"M" * 32).decode(),
}


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Not the working tree: the development .env `make run` leaves there would turn DEBUG on.
    return fresh_checkout(tmp_path_factory.mktemp("settings"))


def test_check_deploy_is_clean_with_production_settings(checkout: Path) -> None:
    result = manage(checkout, "check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    "missing,message",
    [
        ("SECRET_KEY", "SECRET_KEY must be set"),
        ("DATABASE_URL", "DATABASE_URL must be set"),
        ("ALLOWED_HOSTS", "ALLOWED_HOSTS must be set"),
        ("PORTAL_MASTER_KEY", "master key is missing"),
    ],
)
def test_production_refuses_to_start_without(checkout: Path, missing: str, message: str) -> None:
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = manage(checkout, "check", env=env)
    assert result.returncode == 1
    [line] = result.stderr.splitlines()  # no traceback
    assert line.startswith("Configuration error: ") and message in line


@pytest.mark.parametrize(
    "settings,problem",
    [
        ({k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}, "SECRET_KEY must be set"),
        ({**PRODUCTION, "PORTAL_MASTER_KEY": "not a key"}, "(keystore.E001) The keystore master key is missing"),
    ],
)
def test_gunicorn_stops_with_one_line_on_a_configuration_error(
    checkout: Path, settings: dict[str, str], problem: str
) -> None:
    command = [".venv/bin/gunicorn", "portal.wsgi", "--bind", "127.0.0.1:0", "--no-control-socket"]
    server = subprocess.Popen(
        command,
        cwd=checkout,
        env=clean_environment(**settings),
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        _, stderr = server.communicate(timeout=30)
    finally:
        if server.poll() is None:  # still serving: stop it and its workers
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    assert server.returncode == 4, stderr  # "App failed to load": gunicorn stops instead of restarting the worker
    assert "Traceback" not in stderr
    [line] = [line for line in stderr.splitlines() if problem in line]
    assert line.startswith("Configuration error: ")


def test_responses_carry_security_headers(world, client_for) -> None:
    response = client_for(world.alice).get("/t/acme/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "script-src 'self'" in response["Content-Security-Policy"]


@pytest.mark.parametrize("setting,prepared", [(None, True), ("true", True), ("false", False)])
def test_postgresql_statements_are_prepared_unless_turned_off(
    checkout: Path, setting: str | None, prepared: bool
) -> None:
    """Prepared statements spare PostgreSQL re-planning each page's queries; a transaction-mode pooler cannot keep
    them, so DB_PREPARED_STATEMENTS=false turns them off."""
    env = {**PRODUCTION, "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres"}
    if setting is not None:
        env["DB_PREPARED_STATEMENTS"] = setting
    script = "from django.conf import settings; print(sorted(settings.DATABASES['default'].get('OPTIONS', {}).items()))"
    result = manage(checkout, "shell", "-c", script, env=env)
    assert result.returncode == 0, result.stderr
    prepared_options = "('prepare_threshold', 5), ('server_side_binding', True)"
    options = f"[('connect_timeout', 5), {prepared_options}]" if prepared else "[('connect_timeout', 5)]"
    assert result.stdout.strip().splitlines()[-1] == options  # after the shell's own notice of its imports
