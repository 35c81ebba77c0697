"""The Local Key Manager served by real server processes on a database of their own, and requests to it signed
with ``mohawk``, as Genesys Cloud signs them."""

import base64
import contextlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.client import HTTPConnection
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from mohawk import Sender  # type: ignore[import-untyped]  # no stubs published

from tests.live import ROOT, Served, runserver

API = "/key-management/v1"
SERVER_TIMEOUT = 60  # seconds any one request or command may take before the test fails instead of hanging


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


@dataclass(frozen=True)
class HawkClient:
    """One credential as ``create_lkm_credential`` printed it."""

    id: str
    auth_key: str

    def sign(self, url: str, method: str, body: bytes = b"", content_type: str = "") -> str:
        credentials = {"id": self.id, "key": self.auth_key, "algorithm": "sha256"}
        if not body and not content_type:
            # No payload hash without a body: runserver reports a missing Content-Type as text/plain, so a hash of
            # an empty body with no content type does not verify there (it does under gunicorn).
            return str(Sender(credentials, url, method, always_hash_content=False).request_header)
        return str(Sender(credentials, url, method, content=body, content_type=content_type).request_header)


def send(url: str, method: str, authorization: str, body: bytes = b"", content_type: str = "") -> Answer:
    """One request, with exactly the Authorization header given."""
    parts = urlsplit(url)
    connection = HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=SERVER_TIMEOUT)
    headers = {"Authorization": authorization}
    if content_type:
        headers["Content-Type"] = content_type
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request(method, target, body=body or None, headers=headers)
        response = connection.getresponse()
        text = response.read().decode(errors="replace")
    finally:
        connection.close()
    return Answer(response.status, dict(response.headers.items()), text)


def signed(client: HawkClient, base_url: str, method: str, path: str, data: dict[str, Any] | None = None) -> Answer:
    url = base_url + API + path
    body = json.dumps(data).encode() if data is not None else b""
    content_type = "application/json" if data is not None else ""
    return send(url, method, client.sign(url, method, body, content_type), body, content_type)


def master_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def portal_env(database_url: str, key: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url,
        "PORTAL_MASTER_KEY": key,
        "PYTHONUNBUFFERED": "1",
    }


def on_postgresql() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


@contextlib.contextmanager
def fresh_database(directory: Path, sqlite: bool) -> Iterator[str]:
    """A database of the portal's own: a SQLite file in ``directory``, or on the PostgreSQL server the test run uses
    (unless ``sqlite``), a database created for it and dropped afterwards."""
    if sqlite or not on_postgresql():
        yield f"sqlite:///{directory / 'portal.sqlite3'}"
        return
    import psycopg

    server_url = os.environ["DATABASE_URL"]
    name = f"lkm_{os.environ.get('TEST_DB_SUFFIX', 'test')}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def manage(env: dict[str, str], *args: str, timeout: float = SERVER_TIMEOUT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


def server(env: dict[str, str], log_path: Path) -> contextlib.AbstractContextManager[str]:
    """One more server process (``runserver``, as ``make run``) on the database ``env`` names; yields its URL."""
    return runserver(env, log_path)


@contextlib.contextmanager
def lkm_portal(directory: Path, tenant: str, *, sqlite: bool = False) -> Iterator[Served]:
    """A portal of its own (database, master key) with ``tenant`` created, served by one process. The database is
    the test run's kind (SQLite or PostgreSQL) unless ``sqlite`` asks for a SQLite file."""
    directory.mkdir(parents=True, exist_ok=True)
    with fresh_database(directory, sqlite) as database_url:
        env = portal_env(database_url, master_key())
        for command in (("migrate", "--noinput"), ("create_tenant", tenant, "--name", f"{tenant} contact center")):
            done = manage(env, *command, timeout=180)
            assert done.returncode == 0, done.stderr
        with server(env, directory / "server.log") as url:
            yield Served(url, env, directory / "server.log")


def issue(env: dict[str, str], tenant: str) -> HawkClient:
    done = manage(env, "create_lkm_credential", "--tenant", tenant)
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    return HawkClient(printed["id"], printed["authKey"])
