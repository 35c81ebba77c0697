"""The floor: the tenant home page (session, sign-in, access check, layout: the least a signed-in page does) against a
WSGI application that does nothing (benchmarks/floor_app.py), both served the same way. Target: at most 8x the
do-nothing application's latency, p50 and p95.

What it does:
1. creates a PostgreSQL database of its own (portal_floor_bench, dropped at the end unless --keep), migrates it and
   seeds 5 tenants with a tenant administrator and a support user, each with one session per connection made through
   the session engine;
2. serves the portal (portal.wsgi) and the do-nothing application with gunicorn, 4 sync workers each, on 127.0.0.1
   with production settings (DEBUG off, manifest static files), as the scale benchmark does;
3. drives each with wrk (one thread, 10 connections) in alternate rounds, after a warm-up, and reports p50 and p95 of
   each round, their medians and the ratios (the median of each round's ratio to the do-nothing app measured just
   before it, which follows a shared machine's changing load). ``--compare DIR`` serves another checkout of the
   portal as well (e.g. the code before a change, from ``git archive``) and measures its home page in the same rounds.

--in-process instead times the tenant home page through Django's test client against the same database, one
request at a time (processor time of the thread and wall time), with --profile writing a cProfile listing.
``--in-process --compare DIR [DIR ...]`` measures other checkouts of the portal (e.g. ``git archive <commit> | tar -x
-C DIR``) the same way, each round a fresh process per checkout in turn, so every checkout sees the same machine.

Run: .venv/bin/python benchmarks/floor_bench.py   (needs PostgreSQL at 127.0.0.1:5432 as postgres, and wrk)
"""

import argparse
import base64
import json
import os
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# The checkout measured: this one, or the one --code names.
CODE = Path(sys.argv[sys.argv.index("--code") + 1]).resolve() if "--code" in sys.argv else ROOT
sys.path.insert(0, str(CODE))

from common import MISSED_A_TARGET, log  # noqa: E402
from scale_data import seed, sessions  # noqa: E402
from scale_database import admin_sql, environment  # noqa: E402
from scale_http import fetch, free_port, run_wrk, serve, wait_for, wrk_script  # noqa: E402

DB_NAME = "portal_floor_bench"
TARGET_RATIO = 8


def measure_servers(
    args: argparse.Namespace, env: dict[str, str], seeded: dict[str, object], cookie_sets: list[list[str]]
) -> int:
    """The do-nothing app and the tenant home page of this checkout (and of each --compare checkout), in turn."""
    floor_port = free_port()
    servers = [serve("floor_app:application", floor_port, args.workers, env, ROOT / "benchmarks")]
    # Each checkout its own sessions: one checkout's renewal may write what another does not read.
    targets = [("floor", "Do-nothing WSGI app", f"http://127.0.0.1:{floor_port}/", cookie_sets[0])]
    for index, checkout in enumerate([CODE, *args.compare]):
        if checkout != CODE:  # its manifest of static files, which every page's layout reads
            subprocess.run(
                [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity=0"],
                cwd=checkout,
                env=env,
                check=True,
            )
        port = free_port()
        servers.append(serve("portal.wsgi:application", port, args.workers, env, checkout.resolve()))
        name = "home" if index == 0 else f"home {index}"
        url = f"http://127.0.0.1:{port}/t/{seeded['tenant']}/"
        targets.append((name, f"Tenant home, {checkout}", url, cookie_sets[index]))
    rounds: dict[str, list[dict[str, float]]] = {name: [] for name, _, _, _ in targets}
    try:
        for server, (name, _, url, cookies) in zip(servers, targets, strict=True):
            wait_for(url if name == "floor" else url.split("/t/")[0] + "/accounts/login/", server, seconds=180)
            if name != "floor":
                status, body = fetch(url, cookies[0])
                if status != 200 or "Recording Certificates" not in body:
                    raise RuntimeError(f"{url} did not answer with the page ({status})")
        with tempfile.TemporaryDirectory() as folder:
            script = Path(folder) / "floor.lua"
            script.write_text(wrk_script())
            for _, _, url, cookies in targets:  # warm-up: worker imports, connections, caches
                run_wrk(url, cookies, 200, 10, script, args.connections)
            for index in range(args.rounds):
                for name, _, url, cookies in targets:
                    result = run_wrk(url, cookies, args.requests, args.seconds, script, args.connections)
                    if result["non_200"] or result["socket_errors"]:
                        raise RuntimeError(f"{name}: {result['non_200']} non-200, {result['socket_errors']} errors")
                    rounds[name].append(result)
                    log(
                        f"  round {index + 1} {name}: p50 {result['p50_us'] / 1000:.2f} ms, "
                        f"p95 {result['p95_us'] / 1000:.2f} ms, {result['rps']:.0f} req/s, "
                        f"{result['requests']} requests"
                    )
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:  # a busy machine: workers still finishing
                server.kill()
                server.wait()

    def median(name: str, key: str) -> float:
        return statistics.median(r[key] for r in rounds[name]) / 1000

    def round_ratio(name: str, key: str) -> float:
        """The median over rounds of each round's ratio to the do-nothing app measured just before it."""
        return statistics.median(r[key] / f[key] for r, f in zip(rounds[name], rounds["floor"], strict=True))

    load = os.getloadavg()
    print()
    print(f"Machine: {os.cpu_count()} CPUs, load average after the run {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}")
    print(
        f"gunicorn {args.workers} sync workers each; wrk 1 thread, {args.connections} connections; {args.rounds} "
        f"alternate rounds of up to {args.requests} requests or {args.seconds} s after a warm-up"
    )
    print()
    print("| | ratio p50 / p95 (median of rounds' ratios) | p50 | p95 | req/s | rounds p50 / p95 (ms) |")
    print("|---|---|---|---|---|---|")
    for name, label, _, _ in targets:
        per_round = ", ".join(f"{r['p50_us'] / 1000:.2f} / {r['p95_us'] / 1000:.2f}" for r in rounds[name])
        rps = statistics.median(r["rps"] for r in rounds[name])
        ratio = f"x{round_ratio(name, 'p50_us'):.1f} / x{round_ratio(name, 'p95_us'):.1f}"
        print(
            f"| {label} | {ratio} | {median(name, 'p50_us'):.2f} ms | {median(name, 'p95_us'):.2f} ms | {rps:.0f} "
            f"| {per_round} |"
        )
    ratios = {key: round_ratio("home", key) for key in ("p50_us", "p95_us")}
    met = all(ratio <= TARGET_RATIO for ratio in ratios.values())
    print(
        f"\nRatio home / do-nothing: p50 x{ratios['p50_us']:.1f}, p95 x{ratios['p95_us']:.1f} "
        f"(target at most x{TARGET_RATIO}: {'met' if met else 'not met'})"
    )
    return 0 if met else MISSED_A_TARGET


def measure_in_process(args: argparse.Namespace, seeded: dict[str, object], cookies: list[str]) -> int:
    from django.db import connection, reset_queries
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    client.cookies["sessionid"] = cookies[0]
    path = f"/t/{seeded['tenant']}/"
    for _ in range(50):  # warm-up: templates, URL resolvers, caches, prepared statements
        assert client.get(path).status_code == 200
    connection.force_debug_cursor = True
    reset_queries()
    client.get(path)
    queries = [query["sql"] for query in connection.queries]
    connection.force_debug_cursor = False
    log(f"{len(queries)} queries per request:")
    for sql in queries:
        log(f"  {sql[:160]}")
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile(time.thread_time)  # processor time: waits for the database are not counted
        profiler.enable()
        for _ in range(args.requests):
            client.get(path)
        profiler.disable()
        stats = pstats.Stats(profiler).sort_stats(os.environ.get("PROFILE_SORT", "cumulative"))
        stats.print_stats(int(os.environ.get("PROFILE_LINES", "60")))
        return 0
    for index in range(args.rounds):
        cpu, wall = [], []
        for _ in range(args.requests):
            started_cpu, started_wall = time.thread_time(), time.perf_counter()
            client.get(path)
            cpu.append(time.thread_time() - started_cpu)
            wall.append(time.perf_counter() - started_wall)
        log(
            f"  round {index + 1}: processor {statistics.median(cpu) * 1000:.3f} ms, "
            f"wall {statistics.median(wall) * 1000:.3f} ms (median of {args.requests})"
        )
        print(
            "ROUND " + json.dumps({"cpu_ms": statistics.median(cpu) * 1000, "wall_ms": statistics.median(wall) * 1000})
        )
    return 0


def attribute(args: argparse.Namespace, seeded: dict[str, object], cookies: list[str]) -> int:
    """Each change to the page's work, the way before and the way now, timed in alternation in one process: what
    each change saves per request, in processor time, with the machine's load the same for both."""
    from django.contrib.auth.backends import ModelBackend
    from django.contrib.sessions.backends.db import SessionStore as DjangoSessionStore
    from django.db import connection
    from django.shortcuts import get_object_or_404
    from django.template import engines
    from django.template.loader import render_to_string
    from django.utils.functional import SimpleLazyObject

    from portal.accounts.access import tenant_for, tenants_for
    from portal.accounts.backends import UserBackend
    from portal.accounts.models import Tenant
    from portal.accounts.sessions import SessionStore

    admin = seeded["admin"]
    slug = str(seeded["tenant"])
    tenant = Tenant.objects.get(slug=slug)
    context = {"tenant": tenant, "caps": {"VIEW_CERTIFICATES": True, "VIEW_EXPIRY": True, "MANAGE_KEYS": True}}
    connection.ensure_connection()
    lazy = SimpleLazyObject(lambda: admin)

    def through_proxy(user: object) -> None:
        for _ in range(60):  # about the uses of request.user in one page
            user.is_authenticated  # type: ignore[attr-defined]  # noqa: B018

    sections = engines["django"].from_string(
        "{% load cache %}{% cache 3600 tenant-home-sections tenant.slug role %}"
        '{% include "tenant_home_sections.html" %}{% endcache %}'
    )
    changes: list[tuple[str, Callable[[], object], Callable[[], object]]] = [
        (
            "Home page sections: from the cache (written by the included template before)",
            lambda: render_to_string("tenant_home_sections.html", context),
            lambda: sections.render({**context, "role": admin.role}),  # type: ignore[attr-defined]
        ),
        (
            "Session read: one statement written once (Django's ORM read before)",
            lambda: DjangoSessionStore(cookies[0]).load(),
            lambda: SessionStore(cookies[0]).load(),
        ),
        (
            "Health check: the socket asked (SELECT 1 before)",
            lambda: connection.is_usable(),
            lambda: connection.closed_by_server(),  # type: ignore[attr-defined]
        ),
        (
            "request.user: the user itself (through the lazy proxy before), 60 uses",
            lambda: through_proxy(lazy),
            lambda: through_proxy(admin),
        ),
        (
            "User load: one statement written once (ModelBackend's ORM read before)",
            lambda: ModelBackend().get_user(admin.pk),  # type: ignore[attr-defined]
            lambda: UserBackend().get_user(admin.pk),  # type: ignore[attr-defined]
        ),
        (
            "Tenant read: one statement written once (the ORM's get on tenants_for before)",
            lambda: get_object_or_404(tenants_for(admin), slug=slug),
            lambda: tenant_for(admin, slug),  # type: ignore[arg-type]
        ),
    ]
    times: dict[str, list[tuple[float, float]]] = {name: [] for name, _, _ in changes}
    for _ in range(args.rounds):
        for name, before, after in changes:
            pair = []
            for run in (before, after):
                for _ in range(20):
                    run()
                started = time.thread_time()
                for _ in range(args.requests):
                    run()
                pair.append((time.thread_time() - started) / args.requests * 1e6)
            times[name].append((pair[0], pair[1]))
    load = os.getloadavg()
    print(
        f"\nLoad average after the run {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}; {args.rounds} alternate rounds "
        f"of {args.requests} calls each; processor time per call, median of rounds\n"
    )
    print("| Change | before (us) | after (us) | saved per request (us) |")
    print("|---|---|---|---|")
    for name, _, _ in changes:
        before_us = statistics.median(b for b, _ in times[name])
        after_us = statistics.median(a for _, a in times[name])
        print(f"| {name} | {before_us:.0f} | {after_us:.0f} | {before_us - after_us:.0f} |")
    return 0


def compare_in_process(args: argparse.Namespace) -> int:
    """Each checkout in a process of its own, in turn, round after round, against the database this run seeded."""
    checkouts = [ROOT, *args.compare]
    results: dict[Path, list[dict[str, float]]] = {checkout: [] for checkout in checkouts}
    for index in range(args.rounds):
        for checkout in checkouts:
            command = [sys.executable, str(HERE / "floor_bench.py"), "--in-process", "--reuse", "--rounds", "1"]
            command += ["--requests", str(args.requests), "--code", str(checkout)]
            output = subprocess.run(command, check=True, capture_output=True, text=True, env=os.environ).stdout
            line = next(line for line in output.splitlines() if line.startswith("ROUND "))
            results[checkout].append(json.loads(line.removeprefix("ROUND ")))
            log(f"  round {index + 1} {checkout}: {results[checkout][-1]['cpu_ms']:.3f} ms")
    load = os.getloadavg()
    print(
        f"\nLoad average after the run {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}; {args.rounds} rounds of "
        f"{args.requests} requests per checkout; median per round of processor time per request\n"
    )
    print("| Checkout | processor ms (median of rounds) | wall ms | rounds |")
    print("|---|---|---|---|")
    for checkout in checkouts:
        cpu = statistics.median(r["cpu_ms"] for r in results[checkout])
        wall = statistics.median(r["wall_ms"] for r in results[checkout])
        rounds = ", ".join(f"{r['cpu_ms']:.2f}" for r in results[checkout])
        print(f"| {checkout} | {cpu:.3f} | {wall:.3f} | {rounds} |")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000, help="requests per round (default 3000)")
    parser.add_argument("--seconds", type=int, default=15, help="at most this long per round (default 15)")
    parser.add_argument("--rounds", type=int, default=3, help="alternate rounds of each (default 3)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers per server (default 4)")
    parser.add_argument("--connections", type=int, default=10, help="concurrent clients (default 10)")
    parser.add_argument("--in-process", action="store_true", help="time the page through the test client instead")
    parser.add_argument("--profile", action="store_true", help="with --in-process: a cProfile listing")
    parser.add_argument("--attribute", action="store_true", help="what each change saves, before and after beside")
    parser.add_argument("--compare", type=Path, nargs="+", default=[], help="other checkouts measured alongside")
    parser.add_argument("--code", type=Path, help="measure this checkout of the portal instead of this one")
    parser.add_argument("--keep", action="store_true", help=f"keep the {DB_NAME} database afterwards")
    parser.add_argument("--reuse", action="store_true", help="reuse the database a --keep run left (skip seeding)")
    args = parser.parse_args()
    if shutil.which("wrk") is None and not (args.in_process or args.attribute):
        log("wrk is missing: install Debian's package (apt-get install wrk).")
        return 2

    if args.in_process and args.compare and not args.code:
        if not args.reuse:
            log("--compare measures the database a --keep run left: run once with --keep, then with --reuse.")
            return 2
        return compare_in_process(args)
    env = environment(DB_NAME, base64.b64encode(secrets.token_bytes(32)).decode())
    os.environ.update(env)
    if not args.reuse:
        admin_sql(f"DROP DATABASE IF EXISTS {DB_NAME}")
        admin_sql(f"CREATE DATABASE {DB_NAME}")
    try:
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        from portal.accounts.models import User

        if args.reuse:
            seeded: dict[str, object] = {"tenant": "tenant-000", "admin": User.objects.get(username="bench-admin")}
        else:
            log(f"Seeding {DB_NAME} ...")
            seeded = seed(random.Random(8), tenant_count=5, per_tenant=5, audit_entries=100)
        cookies = sessions(seeded["admin"], args.connections)
        if args.attribute:
            return attribute(args, seeded, cookies)
        if args.in_process:
            return measure_in_process(args, seeded, cookies)
        from django.db import connections

        cookie_sets = [cookies] + [sessions(seeded["admin"], args.connections) for _ in args.compare]
        connections.close_all()
        return measure_servers(args, {**os.environ, **env}, seeded, cookie_sets)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep and not args.reuse:
            admin_sql(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


if __name__ == "__main__":
    sys.exit(main())
