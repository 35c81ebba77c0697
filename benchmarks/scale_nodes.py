"""The deployments the scale benchmark measures side by side: today's one node (one gunicorn, a cache per worker
process) and N nodes (N gunicorn processes, each on its own port with its own workers, as separate machines would
be) sharing the PostgreSQL database and one cache (``CACHE_URL``, e.g. Redis).

Each deployment also serves the do-nothing WSGI application (benchmarks/floor_app.py) the same way, N processes on
N ports, so its floor is judged against the least that deployment can cost. Everything listens on 127.0.0.1 only.

No balancer sits in front of the nodes: the load generator spreads its clients over them. wrk runs one thread per
node, each thread's connections open to its own node (half the clients on each of two nodes); as gunicorn's sync
workers close the connection after every answer, each request is a new connection to that node. The one-at-a-time
requests go round robin, the next node for each request, so a write on one node is read on the other.
"""

import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scale_http import free_port, serve, wait_for

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Configuration:
    name: str  # the JSON key
    label: str
    nodes: int
    workers: int  # per node
    cache_url: str  # "" for the default cache, one per worker process

    def describe(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "nodes": self.nodes,
            "workers_per_node": self.workers,
            "cache": redacted(self.cache_url) if self.cache_url else "per process (LocMem)",
        }


def redacted(url: str) -> str:
    """The cache URL without any password, for the report."""
    scheme, _, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.split("@", 1)[1]
    return f"{scheme}://{rest}"


def configurations(
    nodes: int, workers: int, cache_url: str, *, one_node_shared: bool, node_workers: int | None = None
) -> list[Configuration]:
    """Today's single node first (the figures of the JSON's top level), then the shared-cache deployments asked for;
    ``node_workers``: the workers of each of several nodes, when not ``workers``."""
    single = Configuration("one_node", "1 node, cache per process", 1, workers, "")
    if nodes == 1 and not cache_url:
        return [single]
    found = [single]
    if one_node_shared or nodes == 1:
        found.append(Configuration("one_node_shared_cache", "1 node, shared cache", 1, workers, cache_url))
    if nodes > 1:
        name = "two_nodes" if nodes == 2 else f"nodes_{nodes}"
        found.append(Configuration(name, f"{nodes} nodes, shared cache", nodes, node_workers or workers, cache_url))
    return found


def clear_cache(cache_url: str) -> None:
    """Empty the shared cache, so no run starts warm from an earlier one: Django's ``clear()`` of that backend (for
    Redis, FLUSHDB of the database number the URL names, and no other)."""
    import environ
    from django.utils.module_loading import import_string

    config = environ.Env.cache_url_config(cache_url)
    backend = import_string(config["BACKEND"])
    params = {key: value for key, value in config.items() if key not in ("BACKEND", "LOCATION")}
    cache = backend(config["LOCATION"], params)
    try:
        cache.clear()
    finally:
        cache.close()


def cache_entries(cache_url: str) -> int | None:
    """How many entries the shared cache holds (Redis only: the size of its database), as a sign the nodes filled
    one cache; None for another backend."""
    if not cache_url.startswith(("redis://", "rediss://")):
        return None
    import redis

    client = redis.Redis.from_url(cache_url)
    try:
        return int(client.dbsize())
    finally:
        client.close()


@dataclass
class Deployment:
    """A configuration's gunicorn processes: the portal and the do-nothing application, one of each per node."""

    configuration: Configuration
    env: dict[str, str]
    ports: list[int] = field(default_factory=list)
    floor_ports: list[int] = field(default_factory=list)
    servers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self) -> None:
        env = {key: value for key, value in self.env.items() if key != "CACHE_URL"}
        if self.configuration.cache_url:
            env["CACHE_URL"] = self.configuration.cache_url
        floor_env = {**env, "PYTHONPATH": str(HERE)}
        workers = self.configuration.workers
        for _ in range(self.configuration.nodes):
            port, floor_port = free_port(), free_port()
            self.ports.append(port)
            self.floor_ports.append(floor_port)
            self.servers.append(serve("portal.wsgi:application", port, workers, env))
            self.servers.append(serve("floor_app:application", floor_port, workers, floor_env))

    def wait(self) -> None:
        for index, port in enumerate(self.ports):
            wait_for(f"http://127.0.0.1:{port}/accounts/login/", self.servers[2 * index])
            wait_for(f"http://127.0.0.1:{self.floor_ports[index]}/", self.servers[2 * index + 1])

    def stop(self) -> None:
        for server in self.servers:
            server.terminate()
        for server in self.servers:
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=15)

    def base(self, node: int = 0) -> str:
        return f"http://127.0.0.1:{self.ports[node % len(self.ports)]}"
