"""Run background jobs: a Procrastinate worker on PostgreSQL; on SQLite (development), a poller of the Job table."""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from portal.jobs import runner


class Command(BaseCommand):
    help = (
        "Run background jobs until stopped. On PostgreSQL, a Procrastinate worker (run as many as you like, on any "
        "node); on SQLite, for development, one poller."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--concurrency", type=int, default=1, help="jobs run at once (PostgreSQL only)")
        parser.add_argument("--poll", type=float, default=1.0, help="seconds between looks at the queue (SQLite)")
        parser.add_argument("--once", action="store_true", help="run the jobs waiting now, then stop (SQLite)")

    def handle(self, *args: Any, **options: Any) -> None:
        if runner.uses_procrastinate():
            from portal.jobs.tasks import run_worker

            run_worker(options["concurrency"])
            return
        self.stdout.write("Running background jobs from the database (SQLite: one worker only).")
        while True:
            runner.purge_expired()
            runner.run_pending()
            if options["once"]:
                return
            close_old_connections()  # between polls, as between requests
            time.sleep(options["poll"])
