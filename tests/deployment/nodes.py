"""Portal nodes for the two-node test: gunicorn processes on ports of their own, and management commands started on
several nodes at the same moment, all on one PostgreSQL database and one Redis."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.live import ROOT

TIMEOUT = 60  # seconds any start, request or command may take before the test fails instead of hanging

# Each run sets Django up, then waits for the go file, so that every node calls the command at the same moment.
COMMAND_WHEN_RELEASED = """
import io, os, sys, time
import django
django.setup()
from django.core.management import call_command
go, name = sys.argv[1], sys.argv[2]
print("ready", flush=True)
deadline = time.monotonic() + 30
while not os.path.exists(go) and time.monotonic() < deadline:
    time.sleep(0.005)
out, err = io.StringIO(), io.StringIO()
try:
    call_command(name, stdout=out, stderr=err)
    status = 0
except SystemExit as stop:
    status = stop.code
sys.stdout.write(out.getvalue())
sys.stderr.write(err.getvalue())
sys.exit(status)
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_listening(port: int, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the node stopped while starting:\n{log.read_text()}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"the node did not start listening:\n{log.read_text()}")


def _stop(process: subprocess.Popen[Any]) -> None:
    """The process and its children (gunicorn's workers), however it is doing."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@contextlib.contextmanager
def gunicorn_node(env: dict[str, str], log: Path) -> Iterator[str]:
    """``gunicorn portal.wsgi`` (sync workers, as the README runs it) on a free port; yields its URL."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "portal.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2"]
    with open(log, "wb") as output:
        server = subprocess.Popen(
            [*command, "--no-control-socket", "--timeout", str(TIMEOUT)],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped with its workers
        )
    try:
        _wait_until_listening(port, server, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(server)


def run_together(envs: list[dict[str, str]], command: str, go: Path) -> list[subprocess.CompletedProcess[str]]:
    """``manage.py command`` on each node (each env), released at the same moment once all have set Django up."""
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", COMMAND_WHEN_RELEASED, str(go), command],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        for env in envs
    ]
    try:
        # Released once every run has set Django up (each says so, or stops: then its line is empty).
        started = [run.stdout.readline() if run.stdout else "" for run in runs]
        go.touch()
        outputs = [run.communicate(timeout=TIMEOUT) for run in runs]
    finally:
        for run in runs:
            _stop(run)
    assert started == ["ready\n"] * len(runs), outputs
    return [
        subprocess.CompletedProcess(run.args, run.returncode, out, err)
        for run, (out, err) in zip(runs, outputs, strict=True)
    ]
