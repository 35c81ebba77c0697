"""Real workers on PostgreSQL: `manage.py run_worker` processes running each kind of job, and a worker killed with
kill -9 in the middle of a job whose work a second worker finishes, every item exactly once."""

import collections
import os
import signal
from functools import partial

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from keystore.pfx import read_pfx
from portal.audit.models import AuditEntry
from portal.jobs.models import Job, JobItem, JobState
from recordings.jobs import VERIFY_KEYS
from recordings.models import BatchItem, DecryptionBatch
from tests.conftest import World
from tests.factories import make_certificate
from tests.jobs.helpers import BACKUP_PASSWORD, post_backup, post_recordings, recordings_zip, unzip
from tests.jobs.workers import empty_queue, start_worker, stop, wait_until

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="Procrastinate workers need PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def log(tmp_path):
    empty_queue()
    return tmp_path / "worker.log"


def _state(job: Job) -> str:
    job.refresh_from_db()
    return job.state


def _finished(job: Job) -> bool:
    return _state(job) in (JobState.DONE, JobState.FAILED)


def test_a_worker_runs_each_kind_of_job(world: World, client_for, settings, log) -> None:
    settings.PORTAL_BACKUP_JOB_MIN_KEYS = 2
    settings.PORTAL_RECORDINGS_JOB_MIN_FILES = 2
    first = make_certificate(world.acme, "first", key_index=1)
    make_certificate(world.acme, "second", key_index=2)
    make_certificate(world.globex, "globex-key", key_index=3)
    client = client_for(world.alice)
    archive, contents = recordings_zip(first, 4)
    post_recordings(client, "acme", ("calls.zip", archive))
    decryption = Job.objects.get(kind="recordings.decrypt")
    post_backup(client, "acme")
    backup = Job.objects.get(kind="keystore.backup")
    call_command("verify_keys", "--background")
    drill = Job.objects.get(kind=VERIFY_KEYS)

    worker = start_worker(log)
    try:
        for job in (decryption, backup, drill):
            wait_until(partial(_finished, job), f"job {job.kind}", log)
    finally:
        stop(worker)

    assert [_state(job) for job in (decryption, backup, drill)] == [JobState.DONE] * 3, log.read_text()[-3000:]
    batch = DecryptionBatch.objects.get()
    download = client.get(reverse("recordings-download", args=["acme", batch.id]))
    assert unzip(b"".join(download.streaming_content)) == contents
    backup_file = client.get(reverse("job-download", args=["acme", backup.id]))
    pfx = read_pfx(b"".join(backup_file.streaming_content), BACKUP_PASSWORD)
    assert sorted(key.alias for key in pfx.keys) == ["first", "second"]
    backup.refresh_from_db()
    assert backup.sealed_input is None
    assert {item.label: item.outcome for item in drill.items.all()} == {
        "acme": "2 OK, 0 failed",
        "globex": "1 OK, 0 failed",
    }
    assert BACKUP_PASSWORD not in log.read_text()


def test_a_worker_killed_mid_job_leaves_the_rest_to_another(world: World, client_for, log) -> None:
    certificate = make_certificate(world.acme, "recording-2026")
    count = 1500
    archive, contents = recordings_zip(certificate, count, size=64)
    post_recordings(client_for(world.alice), "acme", ("calls.zip", archive))
    job = Job.objects.get()

    def done() -> int:
        return JobItem.objects.filter(job=job, done=True).count()

    first = start_worker(log)
    try:
        wait_until(lambda: done() > 0, "the first worker's first item", log, pause=0.01)
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
    finally:
        stop(first)
    at_kill = done()
    assert 0 < at_kill < count, f"{at_kill} of {count} items were done when the worker was killed"
    assert _state(job) == JobState.RUNNING

    second = start_worker(log)
    try:
        wait_until(partial(_finished, job), "the second worker", log)
    finally:
        stop(second)

    job.refresh_from_db()
    assert (job.state, job.done_count, job.total) == (JobState.DONE, count, count), job.message
    assert "stopped; it is queued again" in log.read_text()
    # Every recording decrypted exactly once: one audit entry and one row of results each, none lost.
    audited = collections.Counter(
        entry.details["file"] for entry in AuditEntry.objects.filter(action="recording-decrypted")
    )
    assert len(audited) == count and set(audited.values()) == {1}
    assert BatchItem.objects.count() == count
    assert sorted(BatchItem.objects.values_list("position", flat=True)) == list(range(count))
    batch = DecryptionBatch.objects.get()
    download = client_for(world.alice).get(reverse("recordings-download", args=["acme", batch.id]))
    assert unzip(b"".join(download.streaming_content)) == contents
