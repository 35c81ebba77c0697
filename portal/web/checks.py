"""System check: a per-process cache where the portal runs in several processes.

Nothing shown depends on the cache (cached values are filed under versions read from the database), so this is a
warning about speed, not correctness: each process counts again what another has counted already.

How many processes: settings.PORTAL_NODES (nodes), times gunicorn's workers, read the way gunicorn reads them: its
command line when this is gunicorn (portal/wsgi.py runs this check as it loads), else GUNICORN_CMD_ARGS and
WEB_CONCURRENCY from the environment gunicorn would start with (``manage.py check --deploy``).
"""

import argparse
import os
import shlex
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register

PER_PROCESS_BACKENDS = {
    "django.core.cache.backends.locmem.LocMemCache": "LocMemCache",
    "django.core.cache.backends.dummy.DummyCache": "DummyCache",
}


def _workers_in(arguments: list[str]) -> int | None:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("-w", "--workers", type=int)
    try:
        known, _ = parser.parse_known_args(arguments)
    except SystemExit:  # a value that is not a number: gunicorn itself refuses it
        return None
    return known.workers


def gunicorn_workers(argv: list[str], environ: dict[str, str] | os._Environ[str]) -> tuple[int, str]:
    """gunicorn's worker count and where it comes from: its command line wins over GUNICORN_CMD_ARGS, which wins
    over WEB_CONCURRENCY; 1 when none says."""
    program = Path(argv[0]) if argv else Path()
    if program.name.startswith("gunicorn") or program.parent.name == "gunicorn":  # gunicorn, or python -m gunicorn
        workers = _workers_in(argv[1:])
        if workers is not None:
            return workers, f"gunicorn --workers {workers}"
    workers = _workers_in(shlex.split(environ.get("GUNICORN_CMD_ARGS", "")))
    if workers is not None:
        return workers, f"GUNICORN_CMD_ARGS --workers {workers}"
    concurrency = environ.get("WEB_CONCURRENCY", "")
    if concurrency.isdigit():
        return int(concurrency), f"WEB_CONCURRENCY={concurrency}"
    return 1, ""


@register(Tags.caches)
def check_shared_cache(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    backend = PER_PROCESS_BACKENDS.get(settings.CACHES["default"]["BACKEND"])
    if backend is None:
        return []
    workers, source = gunicorn_workers(sys.argv, os.environ)
    nodes = int(getattr(settings, "PORTAL_NODES", 1))
    processes = max(workers, 1) * max(nodes, 1)
    if processes <= 1:
        return []
    reasons = [source] if source else []
    if nodes > 1:
        reasons.append(f"PORTAL_NODES={nodes}")
    return [
        Warning(
            f"The cache is per process ({backend}) but the portal runs in {processes} processes "
            f"({', '.join(reasons)}): each process counts the expiry overviews and where certificates are assigned "
            "again for itself. Pages stay correct; they are only slower.",
            hint="Set CACHE_URL to a cache every process and node shares, e.g. redis://127.0.0.1:6379/1 "
            "(README, Run on several nodes).",
            id="portal.W001",
        )
    ]
