"""Starting jobs and running them. On PostgreSQL, Procrastinate delivers each job to a worker (portal/jobs/tasks.py);
on SQLite (development) ``run_worker`` polls the Job table itself. Either way ``run`` does the work."""

import logging
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from portal.accounts.models import Tenant
from portal.audit.log import Actor

from . import kinds
from .models import FINISHED, Job, JobState
from .progress import JobFailed, Progress, jobs_dir

logger = logging.getLogger(__name__)

PROCRASTINATE_APP = "procrastinate.contrib.django"
QUEUE = "jobs"
RUN_TASK = "portal.jobs.run_job"  # portal/jobs/tasks.py


def uses_procrastinate() -> bool:
    return apps.is_installed(PROCRASTINATE_APP)


def start(
    kind: str,
    *,
    tenant: Tenant | None,
    by: Actor,
    params: dict[str, Any] | None = None,
    seal: Callable[[uuid.UUID], bytes] | None = None,
) -> Job:
    """Queue a job of ``kind``. The Job row and its delivery to a worker commit together: a job is never queued
    without its row, nor its row left without a worker to run it. ``seal`` makes ``sealed_input`` for the job's id."""
    kinds.get(kind)  # an unknown kind fails here, not in the worker
    job = Job(kind=kind, tenant=tenant, created_by=by.user, created_from=by.address, params=params or {})
    if seal is not None:
        job.sealed_input = seal(job.id)
    with transaction.atomic():
        job.save(force_insert=True)
        if uses_procrastinate():
            _defer(job.id)
    return job


def _defer(job_id: uuid.UUID) -> None:
    """Deliver a job to Procrastinate through Django's connection, so in the transaction that creates its row. Only
    its id goes in the task's arguments. The lock keeps two workers off one job even were it delivered twice."""
    from procrastinate.contrib.django import app

    task = app.configure_task(RUN_TASK, queue=QUEUE, lock=f"job:{job_id}", queueing_lock=f"job:{job_id}")
    task.defer(job_id=str(job_id))


def run(job_id: uuid.UUID) -> None:
    """Run (or go on with) one job. A finished job is left alone, so a job delivered twice does nothing the second
    time."""
    job = Job.objects.filter(pk=job_id).first()
    if job is None or job.is_finished:
        return
    try:
        kind = kinds.get(job.kind)
    except KeyError:
        _finish(job, JobState.FAILED, "This kind of job is not known to this portal.")
        return
    now = timezone.now()
    Job.objects.filter(pk=job.pk).update(state=JobState.RUNNING, started=Coalesce("started", now), heartbeat=now)
    try:
        kind.run(job, Progress(job))
    except JobFailed as failed:
        _finish(job, JobState.FAILED, str(failed))
    except Exception:
        logger.exception("jobs: job %s (%s) failed", job.id, job.kind)
        _finish(job, JobState.FAILED, "The job failed; the administrators have been told.")
    else:
        _finish(job, JobState.DONE, "")


def _finish(job: Job, state: JobState, message: str) -> None:
    # The sealed input goes with the job's end, whatever the end: it was only for the worker.
    changes: dict[str, Any] = {"state": state, "finished": timezone.now(), "sealed_input": None}
    if message:
        changes["message"] = message[:500]
    Job.objects.filter(pk=job.pk).update(**changes)


def stalled_seconds() -> int:
    return int(settings.PORTAL_JOBS_STALLED_SECONDS)


def claim_next() -> Job | None:
    """Without Procrastinate: the oldest queued job, or a running one whose worker stopped beating, claimed with a
    conditional update so two pollers never take the same job."""
    stalled = timezone.now() - timedelta(seconds=stalled_seconds())
    waiting = Q(state=JobState.QUEUED) | Q(state=JobState.RUNNING, heartbeat__lt=stalled)
    for job in Job.objects.filter(waiting).order_by("created")[:10]:
        claimed = Job.objects.filter(pk=job.pk, state=job.state, heartbeat=job.heartbeat).update(
            state=JobState.RUNNING, heartbeat=timezone.now()
        )
        if claimed:
            return job
    return None


def run_pending() -> int:
    """Without Procrastinate: run every job waiting now, one after another. The number run."""
    count = 0
    while (job := claim_next()) is not None:
        run(job.id)
        count += 1
    return count


def purge_expired() -> int:
    """Forget jobs finished longer ago than PORTAL_JOBS_KEEP_MINUTES, with their result files; and files no job owns
    once as old."""
    oldest = timezone.now() - timedelta(minutes=settings.PORTAL_JOBS_KEEP_MINUTES)
    expired = Job.objects.filter(state__in=FINISHED, finished__lt=oldest)
    paths = [path for path in expired.values_list("result_path", flat=True) if path]
    count, _ = expired.delete()
    # A sealed secret waits no longer than a result would: a job not run by then must be started again.
    Job.objects.filter(created__lt=oldest).exclude(sealed_input=None).update(sealed_input=None)
    folder = jobs_dir()
    for name in paths:
        (folder / name).unlink(missing_ok=True)
    if folder.is_dir():
        # Only what Progress.write_result leaves (a result, or the temporary file of one being written): the folder
        # may be shared with other files.
        known = set(Job.objects.exclude(result_path="").values_list("result_path", flat=True))
        for path in folder.glob("*.result*"):
            if path.name not in known and path.is_file() and path.stat().st_mtime < oldest.timestamp():
                path.unlink(missing_ok=True)
    return count
