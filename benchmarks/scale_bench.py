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

Targets (exit status 1 when one is missed, the JSON is written anyway): every page's p95 at most 3 times the
floor's; every page's first request after a write at most 3 times its warm request; the floor's p95 at most 8 times
the do-nothing application's; no answer other than 200 and no failed write.

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

Output: a markdown table (ratios first, milliseconds as context) and, with ``--json FILE``:
``{"config": {...}, "floor": {"p50_ms", "p95_ms", "ratio_to_wsgi", ...}, "pages": {NAME: {"p50_ms", "p95_ms",
"warm_ms", "first_after_write_ms", "ratio_p95", ...}}, "writer": {"writes", "errors", ...}}``. Page names:
expiry_all, expiry_within_30, expiry_tenant, certificate_list, audit_all, audit_page_1000 (page 1000 of the
audit trail, or its last page when it has fewer), audit_filtered, audit_tenant.

Run: .venv/bin/python benchmarks/scale_bench.py [--tenants 100 --certs-per-tenant 200 --audit 100000]
     [--writes-per-second 2] [--json FILE]   (needs PostgreSQL at 127.0.0.1:5432 as postgres, and wrk)
With ``--seed-only --keep`` it stops after seeding, and a later ``--reuse`` run measures that database.
"""

import argparse
import base64
import http.client
import json
import os
import random
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from common import log  # noqa: E402
from scale_data import SESSIONS_PER_USER, existing_seed, seed, sessions  # noqa: E402

DB_NAME = "portal_scale_bench"
SERVER_URL = "postgres://postgres@127.0.0.1:5432"
CONNECTIONS = 10
WARMUP_REQUESTS = 100
PAGE_RATIO_TARGET = 3.0
AFTER_WRITE_TARGET = 3.0
FLOOR_TO_WSGI_TARGET = 8.0

WRK_SCRIPT = """
-- Rotate this thread's session cookies, stop after a bounded number of requests, count answers other than 200.
local threads = {}
local counter = 1

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  cookies = {}
  for cookie in string.gmatch(args[1], "[^,]+") do table.insert(cookies, cookie) end
  limit = tonumber(args[2])
  sent, done_count, bad = 0, 0, 0
end

function request()
  sent = sent + 1
  local cookie = cookies[((sent + id) % #cookies) + 1]
  return wrk.format("GET", nil, {["Cookie"] = "sessionid=" .. cookie})
end

function response(status, headers, body)
  done_count = done_count + 1
  if status ~= 200 then bad = bad + 1 end
  if done_count >= limit then wrk.thread:stop() end
end

function done(summary, latency, requests)
  local bad_total = 0
  for _, thread in ipairs(threads) do bad_total = bad_total + thread:get("bad") end
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "mean_us": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "non_200": %d, "socket_errors": %d}\\n',
    summary.requests, summary.duration, latency.mean, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, bad_total,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


@dataclass
class Page:
    name: str  # the JSON key
    label: str
    path: str
    cookies: list[str]
    marker: str  # text the page shows when it is the page asked for
    tenant: str | None  # the page's own tenant; None for a page across all tenants


def admin_sql(statement: str) -> None:
    subprocess.run(["psql", SERVER_URL + "/postgres", "-q", "-c", statement], check=True)


def environment(database: str, master_key: str) -> dict[str, str]:
    """Production settings: DEBUG off, a real secret and master key, plain HTTP on 127.0.0.1 only."""
    return {
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DEBUG": "false",
        "DATABASE_URL": f"{SERVER_URL}/{database}",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",
        "PORTAL_MASTER_KEY": master_key,
        "LOG_LEVEL": "WARNING",
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fetch(url: str, cookie: str) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Cookie": f"sessionid={cookie}"})
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310  (http://127.0.0.1 only)
        return response.status, response.read().decode()


def timed_get(port: int, path: str, cookie: str) -> tuple[float, int]:
    """One request on a new connection, as a browser's first: milliseconds to the last byte, and the status."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers={"Cookie": f"sessionid={cookie}"})
        response = connection.getresponse()
        response.read()
        status = response.status
    finally:
        connection.close()
    return (time.perf_counter() - started) * 1000, status


def serve(app: str, port: int, workers: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),  # the virtualenv running this script
            app,
            f"--bind=127.0.0.1:{port}",
            f"--workers={workers}",
            "--worker-class=sync",
            "--backlog=64",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def wait_for(url: str, server: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {server.stderr.read().decode() if server.stderr else ''}")
        try:
            urllib.request.urlopen(url, timeout=2)  # noqa: S310
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("gunicorn did not answer in time")


def run_wrk(
    url: str, cookies: list[str], requests: int, seconds: int, script: Path, connections: int
) -> dict[str, float]:
    # One wrk thread drives all the connections (it keeps up easily). With two, the thread that reaches its share
    # of the request bound first stops but keeps its sockets open until wrk exits; gunicorn's sync workers wait up
    # to 2 s for the client to close after each answer (RFC 9112 graceful close), so each such socket held a
    # worker, and the other thread's requests measured that wait: one- and two-second stalls that no real client,
    # which closes once answered, causes.
    command = [
        "wrk",
        "--threads=1",
        f"--connections={connections}",
        f"--duration={seconds}s",
        "--timeout=10s",
        "--latency",
        f"--script={script}",
        url,
        "--",
        ",".join(cookies),
        str(max(1, requests)),
    ]
    output = subprocess.run(command, check=True, capture_output=True, text=True, timeout=seconds + 60).stdout
    line = next(line for line in output.splitlines() if line.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    # Closed loop (each client sends its next request when the last is answered): throughput is clients over the
    # mean latency. wrk's own duration keeps running after the request bound stops its threads.
    result["rps"] = connections * 1e6 / max(result["mean_us"], 1)
    return result


def rounded(value: float) -> float:
    return round(value, 2)


class Background:
    """benchmarks/scale_writer.py as a process of its own, writing at a steady rate while wrk runs."""

    def __init__(self, rate: float, env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self.process = subprocess.Popen(
            [sys.executable, str(HERE / "scale_writer.py"), "--rate", str(rate), "--log", str(log_path)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if line.strip() != "ready":
            self.process.kill()
            raise RuntimeError(f"the background writer did not start: {line!r}")

    def writes_between(self, start: float, end: float) -> tuple[int, int]:
        """Writes (and failed writes) that finished between these Unix times."""
        done = failed = 0
        for line in self.log_path.read_text().splitlines():
            record = json.loads(line)
            if start <= record["finished"] <= end:
                done += 1
                failed += 0 if record["ok"] else 1
        return done, failed

    def stop(self) -> dict[str, Any]:
        self.process.terminate()
        output, _ = self.process.communicate(timeout=60)
        line = next((line for line in output.splitlines() if line.startswith("SUMMARY ")), None)
        if line is None:
            raise RuntimeError(f"the background writer stopped without a summary (exit {self.process.returncode})")
        return dict(json.loads(line.removeprefix("SUMMARY ")))


def sequential(
    port: int, page: Page, trials: int, writer: Any, tenants: list[str], rng: random.Random
) -> dict[str, Any]:
    """Warm requests, then write-then-request trials, one request at a time; the wrk warm-up came before."""
    bad = 0
    warm = []
    for index in range(trials + 3):
        ms, status = timed_get(port, page.path, page.cookies[index % len(page.cookies)])
        bad += status != 200
        if index >= 3:  # the first few settle the connection pool and the session renewal
            warm.append(ms)
    after_write, writes_failed = [], 0
    for index in range(trials):
        record = writer.write(page.tenant or rng.choice(tenants))
        if not record["ok"]:
            writes_failed += 1
            log(f"    write failed: {record['kind']} in {record['tenant']}: {record['error']}")
        ms, status = timed_get(port, page.path, page.cookies[index % len(page.cookies)])
        bad += status != 200
        after_write.append(ms)
    return {
        "warm_ms": rounded(statistics.median(warm)),
        "first_after_write_ms": rounded(statistics.median(after_write)),
        "first_after_write_max_ms": rounded(max(after_write)),
        "sequential_non_200": bad,
        "sequential_writes_failed": writes_failed,
    }


def seed_database(args: argparse.Namespace) -> dict[str, Any]:
    from django.core.management import call_command, get_commands

    if args.reuse:
        seeded = existing_seed()
    else:
        log(
            f"Seeding {args.tenants:,} tenants x {args.certs_per_tenant:,} certificates, "
            f"{args.audit:,} audit entries ..."
        )
        started = time.perf_counter()
        seeded = seed(
            random.Random(20_000),
            tenant_count=args.tenants,
            per_tenant=args.certs_per_tenant,
            audit_entries=args.audit,
        )
        log(f"  seeded in {time.perf_counter() - started:.1f} s")
    if "rebuild_expiry_summaries" in get_commands():
        started = time.perf_counter()
        call_command("rebuild_expiry_summaries", stdout=open(os.devnull, "w"))  # noqa: SIM115
        log(f"  rebuild_expiry_summaries: {time.perf_counter() - started:.1f} s")
    return seeded


def database_size() -> dict[str, int]:
    """What the database holds: a reused one may differ from the options."""
    from certificates.models import Certificate
    from portal.accounts.models import Tenant
    from portal.audit.models import AuditHead

    head = AuditHead.objects.filter(pk=1).first()
    return {
        "tenants": Tenant.objects.count(),
        "certificates": Certificate.objects.count(),
        "audit": head.count if head else 0,
    }


def page_list(tenant: str, support: list[str], admin: list[str], audit_pages: int) -> list[Page]:
    deep = min(1000, audit_pages)
    return [
        Page("expiry_all", "Expiry dashboard, all tenants", "/expiry/", support, "Certificate Expiry", None),
        Page(
            "expiry_within_30",
            "Expiry dashboard, within 30 days",
            "/expiry/?status=within-30",
            support,
            "Expiring",
            None,
        ),
        Page("expiry_tenant", "Expiry dashboard, one tenant", f"/t/{tenant}/expiry/", admin, "Expiry", tenant),
        Page(
            "certificate_list", "Certificate list, one tenant", f"/t/{tenant}/certificates/", admin, "Recording", tenant
        ),
        Page("audit_all", "Audit trail, all tenants", "/audit/", support, "Audit Trail", None),
        Page(
            "audit_page_1000",
            f"Audit trail, page {deep} of {audit_pages}",
            f"/audit/?page={deep}",
            support,
            f"Page {deep} of",
            None,
        ),  # fmt: skip
        Page(
            "audit_filtered",
            "Audit trail, filtered by user and action",
            "/audit/?user=user-007&action=sign-in",
            support,
            "Audit Trail",
            None,
        ),
        Page("audit_tenant", "Audit trail, one tenant", f"/t/{tenant}/audit/", admin, "Audit Trail", tenant),
    ]


def report(results: dict[str, Any]) -> list[str]:
    """Print the table; return the targets missed."""
    floor, pages, config = results["floor"], results["pages"], results["config"]
    missed = []
    print()
    print(
        f"Data: {config['tenants']:,} tenants, {config['certificates']:,} certificates, {config['audit']:,} audit "
        f"entries. {config['writes_per_second']} background writes a second during the wrk runs. Machine: "
        f"{config['cpus']} CPUs, load average {config['load_average_start'][0]:.2f} at the start, "
        f"{config['load_average_end'][0]:.2f} / {config['load_average_end'][1]:.2f} / "
        f"{config['load_average_end'][2]:.2f} at the end."
    )
    print(
        f"gunicorn {config['workers']} sync workers; wrk 1 thread, {config['connections']} connections, up to "
        f"{config['requests']} requests or {config['seconds']} s per page after a warm-up; {config['trials']} "
        "sequential requests and write-then-request trials per page, background writer stopped."
    )
    print()
    floor_met = floor["ratio_to_wsgi"] <= FLOOR_TO_WSGI_TARGET and floor["non_200"] == 0
    if not floor_met:
        missed.append(f"floor: p95 {floor['ratio_to_wsgi']:.2f} x WSGI (target <= {FLOOR_TO_WSGI_TARGET})")
    print(
        f"Floor (tenant home `{floor['path']}`): p95 {floor['ratio_to_wsgi']:.2f} x the do-nothing WSGI app "
        f"(target <= {FLOOR_TO_WSGI_TARGET:g}: {'met' if floor_met else '**not met**'}); p50 {floor['p50_ms']} ms, "
        f"p95 {floor['p95_ms']} ms; WSGI p50 {floor['wsgi_p50_ms']} ms, p95 {floor['wsgi_p95_ms']} ms; "
        f"warm {floor['warm_ms']} ms, first after a write {floor['first_after_write_ms']} ms"
    )
    print()
    print(
        "| Page | p95 / floor p95 | first after write / warm | met | p50 | p95 | warm | first after write | "
        "writes during | non-200 |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, r in pages.items():
        after_ratio = r["first_after_write_ms"] / max(r["warm_ms"], 0.001)
        problems = []
        if r["ratio_p95"] > PAGE_RATIO_TARGET:
            problems.append(f"p95 {r['ratio_p95']:.2f} x floor (target <= {PAGE_RATIO_TARGET:g})")
        if after_ratio > AFTER_WRITE_TARGET:
            problems.append(f"first after write {after_ratio:.2f} x warm (target <= {AFTER_WRITE_TARGET:g})")
        if r["non_200"] or r["sequential_non_200"] or r["socket_errors"]:
            problems.append("answers other than 200 or socket errors")
        missed.extend(f"{name}: {problem}" for problem in problems)
        print(
            f"| {name} | {r['ratio_p95']:.2f} | {after_ratio:.2f} | {'met' if not problems else '**not met**'} | "
            f"{r['p50_ms']} ms | {r['p95_ms']} ms | {r['warm_ms']} ms | {r['first_after_write_ms']} ms | "
            f"{r.get('writes_during', 0)} | {r['non_200'] + r['sequential_non_200']} |"
        )
    writer = results["writer"]
    if writer["errors"]:
        missed.append(f"writer: {writer['errors']} failed writes")
    print()
    print(
        f"Writes: {writer['writes']} in the background ({writer.get('kinds', {})}), write p50 "
        f"{writer.get('write_ms_p50')} ms, p95 {writer.get('write_ms_p95')} ms; {writer['sequential_writes']} "
        f"before requests; failed: {writer['errors']}"
    )
    for sample in writer.get("error_samples", []):
        print(f"  failed write: {sample}")
    if results.get("verify_audit_seconds") is not None:
        print(f"verify_audit over {config['audit']:,} entries: {results['verify_audit_seconds']:.1f} s")
    return missed


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
    from scale_writer import Writer

    support_cookies = sessions(seeded["support"], SESSIONS_PER_USER)
    admin_cookies = sessions(seeded["admin"], SESSIONS_PER_USER)
    rng = random.Random(30_000)
    log("Making the key pool for the writes before requests ...")
    writer = Writer(random.Random(40_000), pool_size=10)
    tenants = sorted(writer.tenants)
    connections.close_all()

    servers = []
    try:
        server_env = {**os.environ, **env}
        port, floor_port = free_port(), free_port()
        servers.append(serve("portal.wsgi:application", port, args.workers, server_env))
        floor_env = {**server_env, "PYTHONPATH": str(HERE)}
        servers.append(serve("floor_app:application", floor_port, args.workers, floor_env))
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/accounts/login/", servers[0])
        wait_for(f"http://127.0.0.1:{floor_port}/", servers[1])

        tenant = str(seeded["tenant"])
        status, body = fetch(f"{base}/audit/", support_cookies[0])
        match = re.search(r"Page 1 of ([\d,]+)", body)
        audit_pages = int(match.group(1).replace(",", "")) if match else 1
        floor_page = Page("floor", "Tenant home (the floor)", f"/t/{tenant}/", admin_cookies, "Contact", tenant)
        pages = [p for p in page_list(tenant, support_cookies, admin_cookies, audit_pages) if args.only in p.path]
        script = folder / "pages.lua"
        script.write_text(WRK_SCRIPT)
        for page in [floor_page, *pages]:
            status, body = fetch(base + page.path, page.cookies[0])
            if status != 200 or page.marker not in body:
                raise RuntimeError(f"{page.path} did not answer with the page ({status})")

        log("One request at a time, no background writes:")
        sequential_results = {}
        for page in [floor_page, *pages]:
            run_wrk(base + page.path, page.cookies, WARMUP_REQUESTS, 10, script, args.connections)
            sequential_results[page.name] = sequential(port, page, args.trials, writer, tenants, rng)
            log(f"  {page.name}: {sequential_results[page.name]}")
        connections.close_all()

        background = None
        if args.writes_per_second > 0:
            log(f"Starting the background writer at {args.writes_per_second} writes a second ...")
            background = Background(args.writes_per_second, server_env, folder / "writes.jsonl")
        loaded: dict[str, dict[str, Any]] = {}
        try:
            log("Under load:")
            wsgi_url = f"http://127.0.0.1:{floor_port}/"
            targets = [
                ("wsgi", wsgi_url, admin_cookies),
                *((p.name, base + p.path, p.cookies) for p in [floor_page, *pages]),
            ]
            for name, url, cookies in targets:
                run_wrk(url, cookies, WARMUP_REQUESTS, 10, script, args.connections)
                started = time.time()
                result = run_wrk(url, cookies, args.requests, args.seconds, script, args.connections)
                if background is not None:
                    result["writes_during"], result["writes_failed_during"] = background.writes_between(
                        started, time.time()
                    )
                loaded[name] = result
                log(
                    f"  {name}: p50 {result['p50_us'] / 1000:.1f} ms, p95 {result['p95_us'] / 1000:.1f} ms, "
                    f"{result['requests']} requests, non-200 {result['non_200']}, "
                    f"writes during {result.get('writes_during', 0)}"
                )
        finally:
            writer_summary = background.stop() if background is not None else {"writes": 0, "errors": 0}
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=15)

    sequential_writes = args.trials * (len(pages) + 1)
    sequential_failed = sum(r["sequential_writes_failed"] for r in sequential_results.values())
    writer_summary["sequential_writes"] = sequential_writes
    writer_summary["errors"] += sequential_failed
    writer_summary["background_errors"] = writer_summary["errors"] - sequential_failed

    def load_figures(result: dict[str, Any]) -> dict[str, Any]:
        return {
            "p50_ms": rounded(result["p50_us"] / 1000),
            "p95_ms": rounded(result["p95_us"] / 1000),
            "p99_ms": rounded(result["p99_us"] / 1000),
            "requests": result["requests"],
            "non_200": result["non_200"],
            "socket_errors": result["socket_errors"],
            "writes_during": result.get("writes_during", 0),
        }

    wsgi, home = loaded["wsgi"], loaded["floor"]
    floor_p95 = home["p95_us"] / 1000
    results["floor"] = {
        **load_figures(home),
        "ratio_to_wsgi": rounded(home["p95_us"] / max(wsgi["p95_us"], 1)),
        "path": floor_page.path,
        "wsgi_p50_ms": rounded(wsgi["p50_us"] / 1000),
        "wsgi_p95_ms": rounded(wsgi["p95_us"] / 1000),
        **sequential_results["floor"],
    }
    results["pages"] = {
        page.name: {
            **load_figures(loaded[page.name]),
            **sequential_results[page.name],
            "ratio_p95": rounded(loaded[page.name]["p95_us"] / 1000 / max(floor_p95, 0.001)),
            "path": page.path,
        }
        for page in pages
    }
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
        "cpus": os.cpu_count(),
        "database": args.database,
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
    parser.add_argument("--trials", type=int, default=15, help="warm requests and write trials per page (default 15)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
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
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", args.database):
        log("--database: lower-case letters, digits and underscores only.")
        return 2

    load_start = os.getloadavg()
    master_key = base64.b64encode(secrets.token_bytes(32)).decode()
    env = environment(args.database, master_key)
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
        return 1
    print("Every target met.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
