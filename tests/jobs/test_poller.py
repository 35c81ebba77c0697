"""run_worker without Procrastinate (SQLite, development): it polls the Job table, claims each job with a conditional
update, and takes over a running job whose worker stopped beating."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from portal.audit.log import COMMAND
from portal.jobs import runner
from portal.jobs.models import Job, JobState
from recordings.jobs import VERIFY_KEYS
from tests.factories import make_certificate

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(connection.vendor == "postgresql", reason="on PostgreSQL run_worker is a Procrastinate worker")
def test_run_worker_runs_the_waiting_jobs(world, capsys) -> None:
    make_certificate(world.acme, "healthy")
    job = runner.start(VERIFY_KEYS, tenant=None, by=COMMAND)
    call_command("run_worker", "--once")
    job.refresh_from_db()
    assert job.state == JobState.DONE and job.done_count == job.total == 2
    assert "SQLite: one worker only" in capsys.readouterr().out


def test_a_claimed_job_is_not_claimed_again(world) -> None:
    job = runner.start(VERIFY_KEYS, tenant=None, by=COMMAND)
    assert runner.claim_next() == job
    assert runner.claim_next() is None  # running, and its worker beats


def test_a_running_job_whose_worker_stopped_is_taken_over(world, settings) -> None:
    settings.PORTAL_JOBS_STALLED_SECONDS = 30
    job = runner.start(VERIFY_KEYS, tenant=None, by=COMMAND)
    runner.claim_next()
    Job.objects.filter(pk=job.pk).update(heartbeat=timezone.now() - timedelta(seconds=29))
    assert runner.claim_next() is None
    Job.objects.filter(pk=job.pk).update(heartbeat=timezone.now() - timedelta(seconds=31))
    assert runner.claim_next() == job
    runner.run(job.id)
    job.refresh_from_db()
    assert job.state == JobState.DONE


def test_a_finished_job_delivered_again_does_nothing(world) -> None:
    from portal.audit.models import AuditEntry

    make_certificate(world.acme, "healthy")
    job = runner.start(VERIFY_KEYS, tenant=None, by=COMMAND)
    finished = timezone.now() - timedelta(minutes=5)
    Job.objects.filter(pk=job.pk).update(state=JobState.FAILED, finished=finished, message="Stopped.")
    runner.run(job.id)  # delivered again, e.g. by a retry
    job.refresh_from_db()
    assert (job.state, job.finished, job.message) == (JobState.FAILED, finished, "Stopped.")
    assert not AuditEntry.objects.filter(action="keys-verified").exists() and not job.items.exists()
