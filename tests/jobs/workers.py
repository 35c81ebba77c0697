"""Worker processes (manage.py run_worker) against this test run's PostgreSQL database, as an operator runs them."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import connection

REPO = Path(__file__).resolve().parents[2]
STALLED_SECONDS = 3
WAIT_SECONDS = 180


def environment() -> dict[str, str]:
    database = connection.settings_dict
    host, port = database["HOST"] or "127.0.0.1", database["PORT"] or 5432
    url = f"postgres://{database['USER']}@{host}:{port}/{database['NAME']}"
    env = {key: value for key, value in os.environ.items() if not key.startswith(("TEST_DB", "DATABASE_URL"))}
    env.update(
        DJANGO_SETTINGS_MODULE="tests.settings",
        DATABASE_URL=url,
        PORTAL_JOBS_DIR=str(settings.PORTAL_JOBS_DIR),
        PORTAL_RECORDINGS_SPOOL_DIR=str(settings.PORTAL_RECORDINGS_SPOOL_DIR),
        PORTAL_JOBS_STALLED_SECONDS=str(STALLED_SECONDS),
        PYTHONPATH=str(REPO),
    )
    return env


def start_worker(log: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "manage.py", "run_worker"], cwd=REPO, env=environment(), stdout=out, stderr=out
        )


def stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def wait_until(condition: Callable[[], bool], what: str, log: Path, pause: float = 0.2) -> None:
    """Wait for ``condition``; a worker that never gets there fails the test with its log."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            tail = log.read_text()[-5000:]
            raise AssertionError(f"{what}: still waiting after {WAIT_SECONDS} s. Worker log:\n{tail}")
        time.sleep(pause)


def empty_queue() -> None:
    """Procrastinate's tables are not Django's to empty between tests."""
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE procrastinate_jobs, procrastinate_events, procrastinate_periodic_defers, procrastinate_workers"
        )
