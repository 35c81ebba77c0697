"""The Redis the deployment tests use: database 3 of the local server, each run's keys under a prefix of its own,
removed afterwards (other programs may use the same database)."""

import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

REDIS = "redis://127.0.0.1:6379/3"


def closed_port() -> int:
    """A local port nothing listens on (bound and released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def redis_or_skip() -> Any:
    import redis

    client = redis.Redis.from_url(REDIS, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("no Redis server at 127.0.0.1:6379")
    return client


@contextmanager
def own_prefix() -> Iterator[tuple[Any, str]]:
    """(client, prefix): a key prefix no other run uses; its keys are deleted at the end."""
    client = redis_or_skip()
    prefix = f"test-nodes-{uuid.uuid4().hex[:12]}"
    try:
        yield client, prefix
    finally:
        keys = list(client.scan_iter(match=f"{prefix}:*"))
        if keys:
            client.delete(*keys)


def cache_settings(location: str, prefix: str) -> dict[str, Any]:
    return {
        "default": {
            "BACKEND": "portal.web.cache.RedisCache",
            "LOCATION": location,
            "KEY_PREFIX": prefix,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
