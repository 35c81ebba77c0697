"""Real HTTP requests to a running portal, for the tests of parallel requests.

``Browser`` keeps one session's cookies and sends its CSRF token, over ``http.client``; copies of it send requests
of the same session from several threads. ``sqlite_portal`` serves the portal as ``make run`` does (``runserver``
on a file-based SQLite database), in a process of its own: the test database of a SQLite test run lives in memory,
and Django's live server shares one connection between all its threads, which is no test of locking.
"""

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.client import HTTPConnection
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    text: str


@dataclass
class Browser:
    base_url: str
    cookies: dict[str, str] = field(default_factory=dict)

    def copy(self) -> "Browser":
        return Browser(self.base_url, dict(self.cookies))

    def request(self, method: str, path: str, body: bytes | None = None, content_type: str | None = None) -> Reply:
        # runserver accepts 10 waiting connections; beyond that the kernel resets some before the server has read
        # them (it answers every request it reads in full, as it drains unread bodies), so those are sent again.
        for _ in range(4):
            with contextlib.suppress(ConnectionResetError, ConnectionRefusedError, BrokenPipeError):
                return self._send(method, path, body, content_type)
        return self._send(method, path, body, content_type)

    def _send(self, method: str, path: str, body: bytes | None, content_type: str | None) -> Reply:
        parts = urlsplit(self.base_url)
        connection = HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=120)
        headers = {"Cookie": "; ".join(f"{name}={value}" for name, value in self.cookies.items())}
        if "csrftoken" in self.cookies:
            headers["X-CSRFToken"] = self.cookies["csrftoken"]
        if content_type:
            headers["Content-Type"] = content_type
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode(errors="replace")
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel.value:
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        return Reply(response.status, dict(response.headers.items()), text)

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def post(self, path: str, fields: dict[str, str], files: dict[str, tuple[str, bytes]] | None = None) -> Reply:
        if not files:
            return self.request("POST", path, urlencode(fields).encode(), "application/x-www-form-urlencoded")
        boundary = uuid.uuid4().hex
        body = b""
        for name, value in fields.items():
            body += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, (filename, data) in files.items():
            body += (
                (
                    f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                    "Content-Type: application/octet-stream\r\n\r\n"
                ).encode()
                + data
                + b"\r\n"
            )
        body += f"--{boundary}--\r\n".encode()
        return self.request("POST", path, body, f"multipart/form-data; boundary={boundary}")

    def sign_in(self, username: str, password: str) -> "Browser":
        self.get("/accounts/login/")  # the CSRF cookie
        reply = self.post("/accounts/login/", {"username": username, "password": password})
        assert reply.status == 302 and "sessionid" in self.cookies, reply.text[:500]
        return self


def all_at_once(count: int, job: Callable[[int], Any]) -> list[Any]:
    """``job(0)`` to ``job(count - 1)``, each in its own thread, released together; results (or errors) in order."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = job(index)
        except Exception as error:  # the outcome is what the test looks at
            results[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


# --- The portal on a file-based SQLite database, in a process of its own -------------------------------------------


@dataclass
class Served:
    url: str
    env: dict[str, str]
    log_path: Path | None = None

    def log(self) -> str:
        """What the server logged (its console output)."""
        return self.log_path.read_text() if self.log_path else ""

    def manage(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, check=False
        )

    def run_python(self, code: str) -> Any:
        """Run ``code`` with Django set up against the served database; it prints its result as JSON."""
        setup = "import django; django.setup()\n"
        done = subprocess.run(
            [sys.executable, "-c", setup + code], cwd=ROOT, env=self.env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_listening(port: int, server: subprocess.Popen[bytes]) -> None:
    for _ in range(600):  # a few seconds are plenty; the bound keeps a broken server from hanging the test
        if server.poll() is not None:
            raise RuntimeError("the portal's server stopped while starting")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.1):
            return
        threading.Event().wait(0.05)
    raise RuntimeError("the portal's server did not start listening")


@contextlib.contextmanager
def runserver(env: dict[str, str], log_path: Path | None) -> Iterator[str]:
    """``runserver`` (threaded, as ``make run``) on the database ``env`` names, in a process of its own; yields its
    URL and stops it afterwards."""
    port = _free_port()
    with open(log_path or os.devnull, "wb") as log:
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", "--skip-checks", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_until_listening(port, server)
            yield f"http://127.0.0.1:{port}"
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


@contextlib.contextmanager
def sqlite_portal(directory: Path) -> Iterator[Served]:
    """The portal migrated into ``directory``/portal.sqlite3 and served by ``runserver`` (threaded, as ``make run``)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"sqlite:///{directory / 'portal.sqlite3'}",
        "PYTHONUNBUFFERED": "1",
    }
    served = Served("", env, directory / "server.log")
    migrated = served.manage("migrate", "--noinput")
    assert migrated.returncode == 0, migrated.stderr
    with runserver(env, served.log_path) as url:
        served.url = url
        yield served
