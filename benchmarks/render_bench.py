"""What the list pages cost beyond the layout: the audit trail, the all-tenant expiry dashboard and a tenant's
certificate list, each as a ratio to the tenant home page (session, sign-in, layout and tenant switcher only).

In-process through Django's test client, signed in as support (every page then carries the same switcher of 100
tenants), on a SQLite database seeded as the scale benchmark's at a smaller size: 100 tenants x 20 certificates and
5,000 chained audit entries (benchmarks/scale_data.py). Each round is a fresh process on a fresh copy of the
database: a warm-up, then the pages in turn, ``--requests`` times each; it reports each page's median.

``--compare DIR`` measures another checkout of the portal with the same data and the same script, in alternate
rounds, so both see the same machine, e.g. the code before a change:

    git archive <commit> | tar -x -C /tmp/before
    .venv/bin/python benchmarks/render_bench.py --compare /tmp/before

Run: .venv/bin/python benchmarks/render_bench.py [--requests N] [--rounds N] [--compare DIR]
"""

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

TENANT = "tenant-000"
PAGES = [
    ("Tenant home (the floor)", f"/t/{TENANT}/"),
    ("Audit trail, all tenants", "/audit/"),
    ("Expiry dashboard, all tenants", "/expiry/"),
    ("Expiry dashboard, one tenant", f"/t/{TENANT}/expiry/"),
    ("Recording Certificates list, one tenant", f"/t/{TENANT}/certificates/"),
]
WARM_UP = 20


def setup_django(code: Path, database: Path) -> None:
    sys.path.insert(0, str(code))
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    import django

    django.setup()


def seed(database: Path) -> None:
    """The shared data, written once with this checkout's models (the compared checkouts share the schema)."""
    setup_django(ROOT, database)
    from django.core.management import call_command

    sys.path.insert(0, str(HERE))
    from scale_data import seed as seed_data

    call_command("migrate", verbosity=0)
    seed_data(random.Random(20_000), tenant_count=100, per_tenant=20, audit_entries=5_000)


def measure(requests: int) -> dict[str, dict[str, float]]:
    """Each page's median in ms, as processor time of this thread and as elapsed time. The pages are taken in turn
    so that a busy moment hits them all alike. With SQLite the database works in this thread too, so the processor
    time is the whole request's work, and it is less disturbed than elapsed time by other work on the machine."""
    from django.test import Client

    from portal.accounts.models import User

    client = Client()
    client.force_login(User.objects.get(username="bench-support"))
    for _ in range(WARM_UP):
        for _, url in PAGES:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
    cpu: dict[str, list[float]] = {url: [] for _, url in PAGES}
    wall: dict[str, list[float]] = {url: [] for _, url in PAGES}
    for _ in range(requests):
        for _, url in PAGES:
            started, started_cpu = time.perf_counter(), time.thread_time()
            client.get(url)
            cpu[url].append((time.thread_time() - started_cpu) * 1000)
            wall[url].append((time.perf_counter() - started) * 1000)
    return {
        "cpu": {url: statistics.median(values) for url, values in cpu.items()},
        "wall": {url: statistics.median(values) for url, values in wall.items()},
    }


def run_round(code: Path, seeded: Path, folder: Path, requests: int) -> dict[str, dict[str, float]]:
    database = folder / "round.sqlite3"
    shutil.copyfile(seeded, database)
    command = [
        sys.executable,
        __file__,
        "--worker",
        str(code),
        "--database",
        str(database),
        "--requests",
        str(requests),
    ]
    output = subprocess.run(command, check=True, capture_output=True, text=True, cwd=code)
    return json.loads(output.stdout.strip().splitlines()[-1])


def summary(rounds: list[dict[str, float]]) -> dict[str, tuple[float, float, float]]:
    """Per page, the median over the rounds of: its median (ms), its ratio to the home page's and its time beyond the
    home page's (ms) in that round. The last holds still when the layout itself, part of every page, gets faster or
    slower; the ratio then moves."""
    home = PAGES[0][1]
    return {
        url: (
            statistics.median(r[url] for r in rounds),
            statistics.median(r[url] / r[home] for r in rounds),
            statistics.median(r[url] - r[home] for r in rounds),
        )
        for _, url in PAGES
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200, help="requests per page and round (default 200)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per checkout (default 3)")
    parser.add_argument("--compare", type=Path, help="another checkout of the portal to measure in alternate rounds")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--database", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        setup_django(args.worker, args.database)
        print(json.dumps(measure(args.requests)))
        return 0

    checkouts = {"this checkout": ROOT}
    if args.compare:
        checkouts = {f"compared ({args.compare})": args.compare.resolve(), **checkouts}
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        seeded = folder / "seeded.sqlite3"
        print("Seeding ...", flush=True)
        seed(seeded)
        from django.db import connections

        connections.close_all()
        results: dict[str, list[dict[str, dict[str, float]]]] = {label: [] for label in checkouts}
        for index in range(args.rounds):
            order = list(checkouts.items())
            if index % 2:
                order.reverse()  # ABBA: neither checkout always runs first
            for label, code in order:
                results[label].append(run_round(code, seeded, folder, args.requests))
                print(f"  round {index + 1}, {label}: done", flush=True)

    load = os.getloadavg()
    print(f"\n{args.rounds} rounds x {args.requests} requests per page; load average {load[0]:.2f} after the run")
    for measure_name, title in (("cpu", "Processor time"), ("wall", "Elapsed time")):
        print(f"\n{title}, median (ratio to the tenant home page; time beyond it)\n")
        labels = list(checkouts)
        print("| Page | URL | " + " | ".join(labels) + " |")
        print("|---|---|" + "---|" * len(labels))
        summaries = {label: summary([r[measure_name] for r in results[label]]) for label in labels}
        for page_title, url in PAGES:
            cells = ["{:.2f} ms (×{:.2f}; {:+.2f} ms)".format(*summaries[label][url]) for label in labels]
            print(f"| {page_title} | `{url}` | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
