"""The shared cache (CACHE_URL=redis://...), used for speed only: every cached value is filed under versions read
from the database, so a miss costs a recount and never a wrong page. A Redis that is down or slow therefore makes
pages recompute instead of failing: each operation gives up after the socket timeout, answers as a miss, and the
process leaves Redis alone for ``PAUSE_SECONDS`` before trying again, so an outage costs one timeout now and then
rather than one per cache call. The outage is logged once, and its end once; /healthz still reports the cache down.

``clear()`` removes this portal's keys (its KEY_PREFIX) only, not the whole Redis database other programs may share.
"""

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

PAUSE_SECONDS = 5.0
CLEAR_BATCH = 500
T = TypeVar("T")


class _Outage:
    """Whether a Redis server is down, for every thread of the process (Django makes a cache object per thread)."""

    def __init__(self) -> None:
        self.down = False
        self.paused_until = 0.0
        self.lock = threading.Lock()

    def failed(self, error: RedisError) -> None:
        with self.lock:
            self.paused_until = time.monotonic() + PAUSE_SECONDS
            if not self.down:
                self.down = True
                logger.warning(
                    "The shared cache cannot be reached (%s); pages recompute what it held until it is back.",
                    type(error).__name__,
                )

    def recovered(self) -> None:
        with self.lock:
            if self.down:
                self.down = False
                logger.warning("The shared cache answers again.")


_outages: dict[str, _Outage] = {}
_outages_lock = threading.Lock()


def _outage_of(location: str) -> _Outage:
    with _outages_lock:
        return _outages.setdefault(location, _Outage())


class RedisCache(DjangoRedisCache):
    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._outage = _outage_of(server if isinstance(server, str) else ",".join(server))

    def _guarded(self, operation: Callable[[], T], missed: T) -> T:
        outage = self._outage
        if outage.down and time.monotonic() < outage.paused_until:
            return missed
        try:
            result = operation()
        except RedisError as error:
            outage.failed(error)
            return missed
        if outage.down:
            outage.recovered()
        return result

    def reachable(self) -> bool:
        """Whether Redis answers now (for /healthz): asked every time, whatever the pause."""
        try:
            return bool(self._cache.get_client(write=True).ping())
        except RedisError as error:
            logger.warning("Health check: the shared cache does not answer (%s).", type(error).__name__)
            return False

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._guarded(lambda: super(RedisCache, self).add(key, value, timeout, version), False)

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        return self._guarded(lambda: super(RedisCache, self).get(key, default, version), default)

    def set(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        self._guarded(lambda: super(RedisCache, self).set(key, value, timeout, version), None)

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._guarded(lambda: super(RedisCache, self).touch(key, timeout, version), False)

    def delete(self, key: Any, version: int | None = None) -> bool:
        return self._guarded(lambda: super(RedisCache, self).delete(key, version), False)

    def get_many(self, keys: Iterable[Any], version: int | None = None) -> dict[Any, Any]:
        return self._guarded(lambda: super(RedisCache, self).get_many(keys, version), {})

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return self._guarded(lambda: super(RedisCache, self).has_key(key, version), False)

    def set_many(self, data: dict[Any, Any], timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> list[Any]:
        return self._guarded(lambda: super(RedisCache, self).set_many(data, timeout, version), list(data))

    def delete_many(self, keys: Iterable[Any], version: int | None = None) -> None:
        self._guarded(lambda: super(RedisCache, self).delete_many(keys, version), None)

    def clear(self) -> None:
        if not self.key_prefix:
            self._guarded(lambda: super(RedisCache, self).clear(), None)
            return
        self._guarded(self._clear_own_keys, None)

    def _clear_own_keys(self) -> None:
        client = self._cache.get_client(write=True)
        pattern = _glob_escape(self.key_prefix) + ":*"
        batch: list[Any] = []
        for key in client.scan_iter(match=pattern, count=CLEAR_BATCH):
            batch.append(key)
            if len(batch) >= CLEAR_BATCH:
                client.delete(*batch)
                batch = []
        if batch:
            client.delete(*batch)


def _glob_escape(text: str) -> str:
    """``text`` as a literal in a Redis MATCH pattern."""
    return "".join("\\" + char if char in "*?[]\\" else char for char in text)
