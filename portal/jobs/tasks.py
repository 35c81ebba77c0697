"""Procrastinate's side (PostgreSQL only): the one task that runs a Job, and taking over the jobs of dead workers.
Imported only when procrastinate.contrib.django is installed (portal/settings.py installs it on PostgreSQL)."""

import asyncio
import logging
import uuid

from asgiref.sync import sync_to_async
from procrastinate import App, RetryStrategy
from procrastinate.contrib.django import app

from . import runner

logger = logging.getLogger(__name__)


# Retried (a lost database connection, say); each attempt goes on from the first item not done. Deferred by
# runner.start, by name.
@app.task(name=runner.RUN_TASK, queue=runner.QUEUE, retry=RetryStrategy(max_attempts=3, wait=5))
def run_job(job_id: str) -> None:
    runner.run(uuid.UUID(job_id))


async def retry_stalled(worker_app: App, stalled_seconds: float) -> int:
    """Put back in the queue the jobs of workers that stopped beating (killed, machine lost): another worker takes
    them and goes on from their first item not done."""
    stalled = await worker_app.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_seconds)
    count = 0
    for job in stalled:
        logger.warning("jobs: the worker of job %s stopped; it is queued again", job.id)
        await worker_app.job_manager.retry_job(job)
        count += 1
    return count


async def watch_stalled(worker_app: App, stalled_seconds: float) -> None:
    while True:
        try:
            await retry_stalled(worker_app, stalled_seconds)
            await sync_to_async(runner.purge_expired, thread_sensitive=False)()
        except Exception:
            logger.exception("jobs: looking for stalled jobs failed")
        await asyncio.sleep(max(1.0, stalled_seconds / 3))


def run_worker(concurrency: int) -> None:
    """A Procrastinate worker on the jobs queue, with its own connection pool, beating every third of
    PORTAL_JOBS_STALLED_SECONDS, and watching for the jobs of workers that stopped."""
    stalled_seconds = float(runner.stalled_seconds())
    worker_app = app.with_connector(app.connector.get_worker_connector())  # type: ignore[attr-defined]

    async def work() -> None:
        async with worker_app.open_async():
            watcher = asyncio.create_task(watch_stalled(worker_app, stalled_seconds))
            try:
                await worker_app.run_worker_async(
                    queues=[runner.QUEUE],
                    concurrency=concurrency,
                    update_heartbeat_interval=max(0.5, stalled_seconds / 3),
                    stalled_worker_timeout=stalled_seconds,
                    delete_jobs="successful",  # the Job row keeps what is worth keeping
                )
            finally:
                watcher.cancel()

    asyncio.run(work())
