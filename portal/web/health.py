"""/healthz, for load balancers: 200 when the database, the cache and the master key all work, 503 naming the part
that does not. The answer names each part's kind ("postgresql", "redis", "file") or "down", and nothing else: no
versions, host names, settings or error texts.

Each probe is bounded: the database by a statement timeout (and the connection timeout of its settings), the cache
by its socket timeout. Probes of the apps (the keystore's master key) are registered with ``register_probe`` from
their app's ``ready()``, since this module imports no app.
"""

import logging
import uuid
from collections.abc import Callable

from django.core.cache import caches
from django.db import DatabaseError, connection, transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from .cache import RedisCache

logger = logging.getLogger(__name__)

STATEMENT_TIMEOUT_MS = 2000
DOWN = "down"
# (ok, kind): kind names what it is ("postgresql", "redis", "file"), never where or which version.
Probe = Callable[[], tuple[bool, str]]

_probes: dict[str, Probe] = {}

CACHE_KINDS = {
    "redis": "redis",
    "locmem": "local",
    "memcached": "memcached",
    "db": "database",
    "filebased": "file",
    "dummy": "none",
}


def register_probe(name: str, probe: Probe) -> None:
    """Add a part to /healthz; ``probe`` must answer within a second or two and raise nothing."""
    _probes[name] = probe


def database_health() -> tuple[bool, str]:
    try:
        if connection.vendor == "postgresql":
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}")
                cursor.execute("SELECT 1")
                cursor.fetchone()
        else:  # SQLite: no transaction, which would take its write lock
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
    except DatabaseError as error:
        logger.warning("Health check: the database does not answer (%s).", type(error).__name__)
        return False, connection.vendor
    return True, connection.vendor


def cache_health() -> tuple[bool, str]:
    cache = caches["default"]
    module = type(cache).__module__.rsplit(".", 1)[-1]
    kind = "redis" if isinstance(cache, RedisCache) else CACHE_KINDS.get(module, "other")
    if isinstance(cache, RedisCache):
        return cache.reachable(), kind
    key = f"healthz:{uuid.uuid4().hex}"
    try:
        cache.set(key, "ok", 10)
        answered = cache.get(key) == "ok" or kind == "none"
        cache.delete(key)
    except Exception as error:  # any backend's own failure: the cache is down, whatever its kind
        logger.warning("Health check: the cache does not answer (%s).", type(error).__name__)
        return False, kind
    return answered, kind


def _probe(probe: Probe) -> tuple[bool, str]:
    try:
        return probe()
    except Exception as error:  # a probe that breaks its promise still leaves the answer a 503, not a 500
        logger.warning("Health check: a probe failed (%s).", type(error).__name__)
        return False, DOWN


@csrf_exempt  # GET and HEAD only: nothing to forge, and a POST gets 405 rather than a CSRF page
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    results = {"database": _probe(database_health), "cache": _probe(cache_health)}
    results.update({name: _probe(probe) for name, probe in _probes.items()})
    healthy = all(ok for ok, _ in results.values())
    body = {"status": "ok" if healthy else DOWN, **{name: kind if ok else DOWN for name, (ok, kind) in results.items()}}
    response = JsonResponse(body, status=200 if healthy else 503)
    response["Cache-Control"] = "no-store"
    return response
