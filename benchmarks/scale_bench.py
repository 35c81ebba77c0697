"""Scale: the expiry dashboard, a tenant's certificate list and the audit trail at 100 tenants x 200 certificates
(20,000) and 100,000 audit entries, under 10 concurrent clients. Target: p95 under 100 ms per page.

What it does:
1. creates a PostgreSQL database of its own (dropped at the end unless --keep) and migrates it;
2. seeds 100 tenants with 200 certificates each, expiring from two years ago to three years ahead (some not yet
   valid, a few archived, about one in six assigned to an IVR profile or to screen recording), and 100,000 audit
   entries with a valid hash chain computed here (verify_audit is then timed over them);
3. serves the portal with gunicorn on 127.0.0.1 with production settings (DEBUG off, manifest static files);
4. signs in a support user and a tenant administrator by creating sessions through the session engine;
5. drives each page with wrk (Debian package "wrk"), 10 connections, bounded by a request count and a duration;
   a Lua script reports the latency percentiles and counts any answer other than 200.

Load-only placeholders: the keystore entries carry the certificate bytes of one real certificate and a dummy sealed
key, because the pages measured never read either (they list what the certificate rows hold). Fingerprints and
serials are unique per row, so indexes and constraints see realistic data.

Run: .venv/bin/python benchmarks/scale_bench.py   (needs PostgreSQL at 127.0.0.1:5432 as postgres, and wrk)
"""

import argparse
import base64
import json
import os
import random
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import log  # noqa: E402
from scale_data import AUDIT_ENTRIES, SESSIONS_PER_USER, existing_seed, seed, sessions  # noqa: E402

DB_NAME = "portal_scale_bench"
SERVER_URL = "postgres://postgres@127.0.0.1:5432"
CONNECTIONS = 10

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


def admin_sql(statement: str) -> None:
    subprocess.run(["psql", SERVER_URL + "/postgres", "-q", "-c", statement], check=True)


def environment(master_key: str) -> dict[str, str]:
    """Production settings: DEBUG off, a real secret and master key, plain HTTP on 127.0.0.1 only."""
    return {
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DEBUG": "false",
        "DATABASE_URL": f"{SERVER_URL}/{DB_NAME}",
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
    threads = 1
    command = [
        "wrk",
        f"--threads={threads}",
        f"--connections={connections}",
        f"--duration={seconds}s",
        "--timeout=10s",
        "--latency",
        f"--script={script}",
        url,
        "--",
        ",".join(cookies),
        str(max(1, requests // threads)),
    ]
    output = subprocess.run(command, check=True, capture_output=True, text=True, timeout=seconds + 60).stdout
    line = next(line for line in output.splitlines() if line.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    # Closed loop (each client sends its next request when the last is answered): throughput is clients over the
    # mean latency. wrk's own duration keeps running after the request bound stops its threads.
    result["rps"] = connections * 1e6 / max(result["mean_us"], 1)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000, help="requests per page (default 2000)")
    parser.add_argument("--seconds", type=int, default=30, help="at most this long per page (default 30)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    parser.add_argument("--keep", action="store_true", help=f"keep the {DB_NAME} database afterwards")
    parser.add_argument("--reuse", action="store_true", help="reuse the database a --keep run left (skip seeding)")
    parser.add_argument("--connections", type=int, default=CONNECTIONS, help="concurrent clients (default 10)")
    parser.add_argument("--only", help="measure only the pages whose URL contains this text")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        log("wrk is missing: install Debian's package (apt-get install wrk).")
        return 2

    master_key = base64.b64encode(secrets.token_bytes(32)).decode()
    env = environment(master_key)
    os.environ.update(env)
    if not args.reuse:
        admin_sql(f"DROP DATABASE IF EXISTS {DB_NAME}")
        admin_sql(f"CREATE DATABASE {DB_NAME}")
    server: subprocess.Popen[bytes] | None = None
    try:
        import django
        from django.core.management import call_command

        django.setup()
        log(f"Migrating {DB_NAME} and collecting static files ...")
        call_command("migrate", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        if args.reuse:
            seeded = existing_seed()
        else:
            log("Seeding ...")
            seeded = seed(random.Random(20_000))

        started = time.perf_counter()
        call_command("verify_audit", stdout=open(os.devnull, "w"))  # noqa: SIM115
        verify_seconds = time.perf_counter() - started
        log(f"  verify_audit over {AUDIT_ENTRIES} entries: {verify_seconds:.1f} s")

        support_cookies = sessions(seeded["support"], SESSIONS_PER_USER)
        admin_cookies = sessions(seeded["admin"], SESSIONS_PER_USER)
        from django.db import connections

        connections.close_all()

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server_env = {**os.environ, **env}
        server = subprocess.Popen(
            [
                str(ROOT / ".venv/bin/gunicorn"),
                "portal.wsgi:application",
                f"--bind=127.0.0.1:{port}",
                f"--workers={args.workers}",
                "--worker-class=sync",
                "--backlog=64",
            ],
            cwd=ROOT,
            env=server_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        wait_for(f"{base}/accounts/login/", server)

        tenant = seeded["tenant"]
        pages = [
            (
                "Tenant home (the framework's floor: session, sign-in, layout)",
                f"/t/{tenant}/",
                admin_cookies,
                "Contact",
            ),
            ("Expiry dashboard, all tenants (support)", "/expiry/", support_cookies, "Certificate Expiry"),
            ("Expiry dashboard, expiring within 30 days", "/expiry/?status=within-30", support_cookies, "Expiring"),
            ("Expiry dashboard, one tenant (administrator)", f"/t/{tenant}/expiry/", admin_cookies, "Expiry"),
            ("Recording Certificates list, one tenant", f"/t/{tenant}/certificates/", admin_cookies, "Recording"),
            ("Audit trail, all tenants (support)", "/audit/", support_cookies, "Audit Trail"),
            ("Audit trail, page 1000 of 4000", "/audit/?page=1000", support_cookies, "Page 1000 of"),
            (
                "Audit trail, filtered by user and action",
                "/audit/?user=user-007&action=sign-in",
                support_cookies,
                "Audit Trail",
            ),
            ("Audit trail, one tenant (administrator)", f"/t/{tenant}/audit/", admin_cookies, "Audit Trail"),
        ]
        results = []
        with tempfile.TemporaryDirectory() as folder:
            script = Path(folder) / "pages.lua"
            script.write_text(WRK_SCRIPT)
            for name, path, cookies, marker in pages:
                if args.only and args.only not in path:
                    continue
                status, body = fetch(base + path, cookies[0])
                if status != 200 or marker not in body:
                    raise RuntimeError(f"{path} did not answer with the page ({status})")
                run_wrk(
                    base + path, cookies, 100, 10, script, args.connections
                )  # warm-up: caches, connections, worker imports
                result = run_wrk(base + path, cookies, args.requests, args.seconds, script, args.connections)
                results.append((name, path, result))
                log(
                    f"  {name}: p50 {result['p50_us'] / 1000:.1f} ms, p95 {result['p95_us'] / 1000:.1f} ms, "
                    f"p99 {result['p99_us'] / 1000:.1f} ms, {result['rps']:.0f} req/s, {result['requests']} requests, "
                    f"non-200 {result['non_200']}, socket errors {result['socket_errors']}"
                )

        load = os.getloadavg()
        print()
        print(
            f"Machine: {os.cpu_count()} CPUs, load average after the run {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}"
        )
        print(
            f"gunicorn {args.workers} sync workers; wrk 1 thread, "
            f"{args.connections} connections; up to {args.requests} requests or {args.seconds} s per page "
            "after a warm-up"
        )
        print()
        print("| Page | URL | p50 | p95 | p99 | req/s | requests | non-200 | p95 < 100 ms |")
        print("|---|---|---|---|---|---|---|---|---|")
        ok = True
        for name, path, r in results:
            met = r["p95_us"] < 100_000 and r["non_200"] == 0 and r["socket_errors"] == 0
            ok = ok and met
            print(
                f"| {name} | `{path}` | {r['p50_us'] / 1000:.1f} ms | {r['p95_us'] / 1000:.1f} ms | "
                f"{r['p99_us'] / 1000:.1f} ms | {r['rps']:.0f} | {r['requests']} | {r['non_200']} | "
                f"{'met' if met else '**not met**'} |"
            )
        print(f"\nverify_audit over {AUDIT_ENTRIES:,} entries: {verify_seconds:.1f} s")
        return 0 if ok else 1
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=15)
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: BLE001, S110  (Django may not be set up yet)
            pass
        if not args.keep and not args.reuse:
            admin_sql(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


if __name__ == "__main__":
    sys.exit(main())
