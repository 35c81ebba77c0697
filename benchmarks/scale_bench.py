"""Scale: the expiry dashboard, a tenant's certificate list and the audit trail on a live system, many tenants of
certificates and a long audit trail, while certificates are uploaded, archived and assigned.

Every figure is judged against a floor measured in the same run, because the machine is shared and its speed moves:
- the floor is the tenant home page `/t/<tenant>/` (session, sign-in, layout: what every page pays), itself
  judged against a WSGI application that does nothing (benchmarks/floor_app.py) served by gunicorn the same way;
- each page under load: p50 and p95 under wrk (10 connections), and its p95 as a multiple of the floor's;
- each page one request at a time: ``warm_ms``, the median of single requests with no write in between, and
  ``first_after_write_ms``, the median over as many trials of one write (as the background writer makes them, in a
  random tenant for the all-tenant pages, in the page's own tenant for one-tenant pages) followed by one request,
  which lands on whichever gunicorn worker takes it.

Targets (exit status 3 when one is missed, as run_all.py expects; the JSON is written anyway): every page's p95 at
most 3 times the floor's; every page's first request after a write at most 3 times its warm request; the floor's p95
at most 8 times the do-nothing application's; no answer other than 200 and no failed write.

What it does:
1. creates a PostgreSQL database of its own (``--database``, dropped at the end unless ``--keep``) and migrates it;
2. seeds ``--tenants`` tenants with ``--certs-per-tenant`` certificates each, expiring from two years ago to three
   years ahead (some not yet valid, a few archived, about one in six assigned to an IVR profile or to screen
   recording), and ``--audit`` audit entries with a valid hash chain computed here, all with COPY
   (benchmarks/scale_data.py); then runs ``rebuild_expiry_summaries`` when the application has it, since bulk-loaded
   rows bypass the application's write hooks (also with ``--reuse``); ``--verify-audit`` times ``verify_audit``;
3. serves the portal with gunicorn on 127.0.0.1 with production settings (DEBUG off, manifest static files), and
   the do-nothing application with the same worker count and class on another port;
4. signs in a support user and a tenant administrator by creating sessions through the session engine;
5. one request at a time, with no background writes: per page a wrk warm-up (every worker), then the warm requests,
   then the write-then-request trials (benchmarks/scale_writer.py's ``Writer``, called in this process);
6. under load: with ``--writes-per-second`` R above 0, starts benchmarks/scale_writer.py as a process of its own
   (same environment and database), which uploads, archives and assigns or unassigns at R writes a second through
   the application's services; then drives the do-nothing application, the floor and each page with wrk (Debian
   package "wrk"), 10 connections, bounded by a request count and a duration, after a warm-up; a Lua script reports
   the latency percentiles and counts any answer other than 200. The writer's log says how many writes landed
   during each page's run; its failures are reported and fail the run.

Several nodes: with ``--nodes N`` (N above 1) and ``--cache-url URL`` the same run also serves the portal as N
gunicorn processes on N ports, each with ``--workers`` workers, on the same database and the shared cache URL names
(benchmarks/scale_nodes.py says how the clients are spread over them); ``--one-node-shared-cache`` adds one node on
that cache, to tell what the cache does from what the second node does. Every configuration is served at once and
measured page by page in turn (A B, then B A), so the load from other work on the host falls on each alike; a
shared cache is emptied before each of its turns. Each trial after a write also makes a second request, on the next
node where there are several (``second_after_write_ms``).

Output: a markdown table (ratios first, milliseconds as context) and, with ``--json FILE``:
``{"config": {...}, "floor": {"p50_ms", "p95_ms", "ratio_to_wsgi", ...}, "pages": {NAME: {"p50_ms", "p95_ms",
"warm_ms", "first_after_write_ms", "ratio_p95", ...}}, "writer": {"writes", "errors", ...}}``. Page names:
expiry_all, expiry_within_30, expiry_tenant, certificate_list, audit_all, audit_page_1000 (page 1000 of the
audit trail, or its last page when it has fewer), audit_filtered, audit_tenant.
With several configurations the top level keeps one node's figures (with a cache per process, as before) and
``"configurations": {NAME: {"config": {"label", "nodes", "workers_per_node", "cache", "cache_entries_at_end"},
"floor": {...}, "pages": {...}}}`` holds each, that one node included, NAME one of one_node,
one_node_shared_cache, two_nodes (or nodes_N).

Run: .venv/bin/python benchmarks/scale_bench.py [--tenants 100 --certs-per-tenant 200 --audit 100000]
     [--writes-per-second 2] [--nodes 2 --cache-url redis://127.0.0.1:6379/N] [--json FILE]
     (needs PostgreSQL at 127.0.0.1:5432 as postgres, and wrk; with --cache-url, that cache)
With ``--seed-only --keep`` it stops after seeding, and a later ``--reuse`` run measures that database. The writes
seal keys under a master key made for the database, so ``--keep`` also keeps that key, in the temporary directory
(``<database>.master-key``, readable by its owner only), for ``--reuse`` to read.
"""

import argparse
import base64
import json
import os
import random
import re
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from common import MISSED_A_TARGET, log  # noqa: E402
from scale_data import SESSIONS_PER_USER, sessions  # noqa: E402
from scale_database import (  # noqa: E402
    DB_NAME,
    admin_sql,
    database_size,
    environment,
    master_key_file,
    seed_database,
)
from scale_http import fetch, merged, run_wrk, wrk_script  # noqa: E402
from scale_nodes import Deployment, cache_entries, clear_cache, configurations  # noqa: E402
from scale_pages import Page, figures, in_turn, page_list, sequential  # noqa: E402
from scale_report import report  # noqa: E402

CONNECTIONS = 10
MAX_NODES = 4  # gunicorn processes on one machine; more measure the machine, not the nodes
WARMUP_REQUESTS = 100
WARMUP_SECONDS = 3  # wrk runs for its whole duration even when the request bound stopped its thread


def measure(args: argparse.Namespace, env: dict[str, str], folder: Path) -> dict[str, Any]:
    import django
    from django.core.management import call_command

    django.setup()
    log(f"Migrating {args.database} and collecting static files ...")
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    seeded = seed_database(args)
    size = database_size()
    results: dict[str, Any] = {}
    if args.verify_audit:
        started = time.perf_counter()
        call_command("verify_audit", stdout=open(os.devnull, "w"))  # noqa: SIM115
        results["verify_audit_seconds"] = round(time.perf_counter() - started, 1)
        log(f"  verify_audit over {size['audit']:,} entries: {results['verify_audit_seconds']:.1f} s")
    if args.seed_only:
        return results

    from django.db import connections
    from scale_writer import BackgroundWriter, Writer

    support_cookies = sessions(seeded["support"], SESSIONS_PER_USER)
    admin_cookies = sessions(seeded["admin"], SESSIONS_PER_USER)
    rng = random.Random(30_000)
    log("Making the key pool for the writes before requests ...")
    writer = Writer(random.Random(40_000), pool_size=10)
    tenants = sorted(writer.tenants)
    connections.close_all()

    configs = configurations(
        args.nodes,
        args.workers,
        args.cache_url,
        one_node_shared=args.one_node_shared_cache,
        node_workers=args.node_workers,
    )
    deployments = {config.name: Deployment(config, {**os.environ, **env}) for config in configs}
    one_at_a_time: dict[str, dict[str, dict[str, Any]]] = {config.name: {} for config in configs}
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {config.name: {} for config in configs}
    scripts = {}
    try:
        for config in configs:
            if config.cache_url:
                clear_cache(config.cache_url)
            deployments[config.name].start()
            script = folder / f"{config.name}.lua"
            script.write_text(wrk_script(deployments[config.name].ports if config.nodes > 1 else None))
            floor_script = folder / f"{config.name}-floor.lua"
            floor_script.write_text(wrk_script(deployments[config.name].floor_ports if config.nodes > 1 else None))
            scripts[config.name] = (script, floor_script)
        for deployment in deployments.values():
            deployment.wait()
        log(f"Serving: {', '.join(f'{c.label} (ports {deployments[c.name].ports})' for c in configs)}")

        first = deployments[configs[0].name]
        tenant = str(seeded["tenant"])
        status, body = fetch(f"{first.base()}/audit/", support_cookies[0])
        match = re.search(r"Page 1 of ([\d,]+)", body)
        audit_pages = int(match.group(1).replace(",", "")) if match else 1
        floor_page = Page("floor", "Tenant home (the floor)", f"/t/{tenant}/", admin_cookies, "Contact", tenant)
        pages = [p for p in page_list(tenant, support_cookies, admin_cookies, audit_pages) if args.only in p.path]
        for deployment in deployments.values():
            for node in range(deployment.configuration.nodes):
                for page in [floor_page, *pages]:
                    status, body = fetch(deployment.base(node) + page.path, page.cookies[0])
                    if status != 200 or page.marker not in body:
                        raise RuntimeError(f"{page.path} did not answer with the page ({status})")

        log("One request at a time, no background writes:")
        for index, page in enumerate([floor_page, *pages]):
            for config in in_turn(configs, index):
                deployment = deployments[config.name]
                if config.cache_url:  # what the other configuration on this cache left is not this one's
                    clear_cache(config.cache_url)
                run_wrk(
                    deployment.base() + page.path,
                    page.cookies,
                    WARMUP_REQUESTS,
                    WARMUP_SECONDS,
                    scripts[config.name][0],
                    args.connections,
                    config.nodes,
                )
                found = sequential(deployment.ports, page, args.trials, writer, tenants, rng)
                one_at_a_time[config.name][page.name] = found
                log(f"  {config.name} {page.name}: {found}")
        connections.close_all()

        background = None
        if args.writes_per_second > 0:
            log(f"Starting the background writer at {args.writes_per_second} writes a second ...")
            background = BackgroundWriter(args.writes_per_second, {**os.environ, **env}, folder / "writes.jsonl")
        try:
            log("Under load:")
            targets = [("wsgi", "/", admin_cookies), *((p.name, p.path, p.cookies) for p in [floor_page, *pages])]
            rounds = [(turn, index, target) for turn in range(args.rounds) for index, target in enumerate(targets)]
            for turn, index, (name, path, cookies) in rounds:
                for config in in_turn(configs, index + turn):
                    deployment = deployments[config.name]
                    wsgi = name == "wsgi"
                    port = deployment.floor_ports[0] if wsgi else deployment.ports[0]
                    url = f"http://127.0.0.1:{port}{path}"
                    script = scripts[config.name][1 if wsgi else 0]
                    if config.cache_url:
                        clear_cache(config.cache_url)
                    run_wrk(url, cookies, WARMUP_REQUESTS, WARMUP_SECONDS, script, args.connections, config.nodes)
                    started = time.time()
                    result = run_wrk(url, cookies, args.requests, args.seconds, script, args.connections, config.nodes)
                    if background is not None:
                        # While requests were being made: closed loop, so requests x mean latency / connections.
                        active = result["requests"] * result["mean_us"] / 1e6 / args.connections
                        result["writes_during"], result["writes_failed_during"] = background.writes_between(
                            started, started + active
                        )
                    runs[config.name].setdefault(name, []).append(result)
                    label = f"{config.name} {name}" + (f" (round {turn + 1})" if args.rounds > 1 else "")
                    log(
                        f"  {label}: p50 {result['p50_us'] / 1000:.1f} ms, p95 {result['p95_us'] / 1000:.1f} ms, "
                        f"{result['requests']} requests, non-200 {result['non_200']}, writes during "
                        f"{result.get('writes_during', 0)}"
                    )
        finally:
            writer_summary = background.stop() if background is not None else {"writes": 0, "errors": 0}
    finally:
        for deployment in deployments.values():
            deployment.stop()
        entries = {config.name: cache_entries(config.cache_url) for config in configs if config.cache_url}
        for config in configs:
            if config.cache_url:
                clear_cache(config.cache_url)

    sequential_writes = args.trials * (len(pages) + 1) * len(configs)
    sequential_failed = sum(r["sequential_writes_failed"] for found in one_at_a_time.values() for r in found.values())
    writer_summary["sequential_writes"] = sequential_writes
    writer_summary["errors"] += sequential_failed
    writer_summary["background_errors"] = writer_summary["errors"] - sequential_failed

    loaded = {config.name: {name: merged(found) for name, found in runs[config.name].items()} for config in configs}
    measured = {
        config.name: figures(floor_page, pages, loaded[config.name], one_at_a_time[config.name]) for config in configs
    }
    results.update(measured[configs[0].name])  # today's single node keeps the JSON's top level
    results["writer"] = writer_summary
    results["config"] = {
        **size,
        "certs_per_tenant": args.certs_per_tenant,
        "writes_per_second": args.writes_per_second,
        "workers": args.workers,
        "connections": args.connections,
        "requests": args.requests,
        "seconds": args.seconds,
        "trials": args.trials,
        "rounds": args.rounds,
        "cpus": os.cpu_count(),
        "database": args.database,
    }
    if len(configs) > 1:
        results["configurations"] = {
            config.name: {
                "config": {**config.describe(), "cache_entries_at_end": entries.get(config.name)},
                **measured[config.name],
            }
            for config in configs
        }
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tenants", type=int, default=100, help="tenants to seed (default 100)")
    parser.add_argument("--certs-per-tenant", type=int, default=200, help="certificates per tenant (default 200)")
    parser.add_argument("--audit", type=int, default=100_000, help="audit entries to seed (default 100000)")
    parser.add_argument(
        "--writes-per-second", type=float, default=0, help="background writes a second during the wrk runs (default 0)"
    )
    parser.add_argument("--verify-audit", action="store_true", help="time verify_audit over the seeded trail")
    parser.add_argument("--requests", type=int, default=2000, help="requests per page under load (default 2000)")
    parser.add_argument("--seconds", type=int, default=30, help="at most this long per page under load (default 30)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measure every page under load this many times, in turn; report the median of the rounds (default 1)",
    )
    parser.add_argument("--trials", type=int, default=15, help="warm requests and write trials per page (default 15)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers of a node (default 4)")
    parser.add_argument(
        "--nodes",
        type=int,
        default=1,
        choices=range(1, MAX_NODES + 1),
        help="with N above 1, also serve the portal as N nodes sharing --cache-url, measured in the same run beside "
        "one node with a cache per process (default 1)",
    )
    parser.add_argument(
        "--node-workers",
        type=int,
        help="gunicorn workers of each of the --nodes nodes, when not --workers (e.g. to keep the total the same)",
    )
    parser.add_argument(
        "--cache-url",
        default="",
        help="the shared cache of the nodes, e.g. redis://127.0.0.1:6379/4 (emptied before and after each run)",
    )
    parser.add_argument(
        "--one-node-shared-cache",
        action="store_true",
        help="also measure one node on --cache-url, to tell the shared cache's effect from the second node's",
    )
    parser.add_argument("--connections", type=int, default=CONNECTIONS, help="concurrent clients (default 10)")
    parser.add_argument("--only", default="", help="measure only the pages whose URL contains this text")
    parser.add_argument("--database", default=DB_NAME, help=f"the database's name (default {DB_NAME})")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="reuse the database a --keep run left (skip seeding)")
    parser.add_argument(
        "--seed-only", action="store_true", help="stop after seeding (with --keep, for a later --reuse)"
    )
    parser.add_argument("--json", type=Path, help="write the results here as JSON")
    args = parser.parse_args()
    if shutil.which("wrk") is None and not args.seed_only:
        log("wrk is missing: install Debian's package (apt-get install wrk).")
        return 2
    if (args.nodes > 1 or args.one_node_shared_cache) and not args.cache_url:
        log("--nodes above 1 and --one-node-shared-cache need --cache-url: nodes share one cache.")
        return 2
    if args.connections % args.nodes:
        log("--connections: a multiple of --nodes, so each node has as many clients.")
        return 2
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", args.database):
        log("--database: lower-case letters, digits and underscores only.")
        return 2

    load_start = os.getloadavg()
    key_file = master_key_file(args.database)
    if args.reuse and not key_file.exists():
        log(f"--reuse: {key_file} is missing; the database's keys cannot be opened without it. Seed again.")
        return 2
    if not args.reuse:
        key_file.unlink(missing_ok=True)
        key_file.touch(mode=0o600)
        key_file.write_text(base64.b64encode(secrets.token_bytes(32)).decode())
    env = environment(args.database, key_file.read_text().strip())
    os.environ.update(env)
    if not args.reuse:
        admin_sql(f"DROP DATABASE IF EXISTS {args.database} WITH (FORCE)")
        admin_sql(f"CREATE DATABASE {args.database}")
    try:
        with tempfile.TemporaryDirectory() as folder:
            results = measure(args, env, Path(folder))
    finally:
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: BLE001, S110  (Django may not be set up yet)
            pass
        if not args.keep and not args.reuse:
            admin_sql(f"DROP DATABASE IF EXISTS {args.database} WITH (FORCE)")
            key_file.unlink(missing_ok=True)
    if args.seed_only:
        return 0
    results["config"]["load_average_start"] = [round(x, 2) for x in load_start]
    results["config"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    missed = report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    print()
    if missed:
        print("Targets missed:")
        for line in missed:
            print(f"- {line}")
        return MISSED_A_TARGET
    print("Every target met.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
