"""Each kind of job end to end, run in this process as run_worker runs them on SQLite: bulk decryption, a keystore
backup, and the key drill over every tenant."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from keystore.api import KeystoreEntry
from keystore.pfx import read_pfx
from portal.audit.models import AuditEntry
from portal.jobs import runner
from portal.jobs.models import Job, JobState
from recordings.models import BatchItem, DecryptionBatch
from tests.conftest import World
from tests.factories import make_certificate
from tests.jobs.helpers import (
    BACKUP_PASSWORD,
    latest_job,
    post_backup,
    post_recordings,
    recordings_zip,
    run_jobs,
    unzip,
)
from tests.recordings.envelopes import builder_recording, certificate_of

pytestmark = pytest.mark.django_db


def test_a_large_upload_is_decrypted_by_a_job(world: World, client_for, settings) -> None:
    settings.PORTAL_RECORDINGS_JOB_MIN_FILES = 5
    certificate = make_certificate(world.acme, "recording-2026")
    archive, contents = recordings_zip(certificate, 6)
    client = client_for(world.alice)
    response = post_recordings(client, "acme", ("calls.zip", archive), ("junk.bin", b"not a recording"))
    job = latest_job()
    assert response.status_code == 302 and response["Location"] == reverse("job", args=["acme", job.id])
    assert not BatchItem.objects.exists()  # nothing decrypted in the request
    assert run_jobs() == 1
    job.refresh_from_db()
    assert (job.state, job.done_count, job.total) == (JobState.DONE, 7, 7)
    page = client.get(response["Location"]).content.decode()
    batch = DecryptionBatch.objects.get()
    results = reverse("recordings-batch", args=["acme", batch.id])
    assert "6 of 7 recordings decrypted." in page and results in page and "calls/call-00003" in page
    assert "6 of 7 recordings decrypted" in client.get(results).content.decode()
    download = client.get(reverse("recordings-download", args=["acme", batch.id]))
    assert unzip(b"".join(download.streaming_content)) == contents
    audited = AuditEntry.objects.filter(action__startswith="recording-", actor=world.alice)
    assert audited.filter(action="recording-decrypted").count() == 6
    assert audited.filter(action="recording-not-decrypted").count() == 1


def test_a_small_upload_is_still_decrypted_in_the_request(world: World, client_for, settings) -> None:
    certificate = make_certificate(world.acme, "recording-2026")
    encrypted = builder_recording(b"hello", certificate_of(certificate))
    response = post_recordings(client_for(world.alice), "acme", ("a.bin", encrypted), ("b.bin", encrypted))
    assert "/recordings/" in response["Location"] and not Job.objects.exists()
    assert BatchItem.objects.count() == 2


def test_an_upload_of_many_bytes_is_decrypted_by_a_job(world: World, client_for, settings) -> None:
    certificate = make_certificate(world.acme, "recording-2026")
    encrypted = builder_recording(b"hello" * 100, certificate_of(certificate))
    settings.PORTAL_RECORDINGS_JOB_MIN_BYTES = 2 * len(encrypted)
    client = client_for(world.alice)
    post_recordings(client, "acme", ("a.bin", encrypted))
    assert not Job.objects.exists()  # below the size: decrypted in the request
    response = post_recordings(client, "acme", ("a.bin", encrypted), ("b.bin", encrypted))
    assert response["Location"] == reverse("job", args=["acme", latest_job().id])


def test_a_queued_jobs_upload_outlives_the_keep_period_until_it_is_decrypted(
    world: World, client_for, settings
) -> None:
    settings.PORTAL_RECORDINGS_JOB_MIN_FILES = 2
    certificate = make_certificate(world.acme, "recording-2026")
    encrypted = builder_recording(b"hello", certificate_of(certificate))
    client = client_for(world.alice)
    post_recordings(client, "acme", ("a.bin", encrypted), ("b.bin", encrypted))
    # The job waits past the keep period, and another upload sweeps expired batches meanwhile.
    DecryptionBatch.objects.update(expires=timezone.now() - timedelta(minutes=1))
    post_recordings(client, "acme", ("c.bin", encrypted))
    assert run_jobs() == 1
    assert latest_job().state == JobState.DONE
    assert BatchItem.objects.filter(batch__in=DecryptionBatch.objects.filter(expires__gt=timezone.now())).count() == 3


def test_a_backup_of_many_keys_is_made_by_a_job(world: World, client_for, settings) -> None:
    settings.PORTAL_BACKUP_JOB_MIN_KEYS = 3
    for number in range(3):
        make_certificate(world.acme, f"key-{number}", key_index=number)
    client = client_for(world.alice)
    post_backup(client, "acme")
    job = latest_job()
    sealed = bytes(job.sealed_input or b"")
    assert sealed and BACKUP_PASSWORD.encode() not in sealed
    if connection.vendor == "postgresql":  # Procrastinate was handed the job's id alone
        with connection.cursor() as cursor:
            cursor.execute("SELECT args::text FROM procrastinate_jobs WHERE args->>'job_id' = %s", [str(job.id)])
            args = [row[0] for row in cursor.fetchall()]
        assert args == [f'{{"job_id": "{job.id}"}}']  # queued once, in the transaction that made the Job row
    assert not AuditEntry.objects.filter(action="keystore-exported").exists()
    run_jobs()
    job.refresh_from_db()
    assert job.state == JobState.DONE and job.sealed_input is None  # the password went with the job's end
    download = client.get(reverse("job-download", args=["acme", job.id]))
    contents = read_pfx(b"".join(download.streaming_content), BACKUP_PASSWORD)
    assert sorted(key.alias for key in contents.keys) == ["key-0", "key-1", "key-2"]
    exported = AuditEntry.objects.get(action="keystore-exported")
    assert (exported.actor, exported.details["entries"]) == (world.alice, 3)


def test_a_backup_below_the_threshold_downloads_at_once(world: World, client_for) -> None:
    make_certificate(world.acme, "only-key")
    response = post_backup(client_for(world.alice), "acme")
    assert response.status_code == 200 and response["Content-Type"] == "application/x-pkcs12"
    assert not Job.objects.exists()


def test_verify_keys_in_the_background_reports_each_tenant(world: World, client_for, capsys) -> None:
    make_certificate(world.acme, "healthy", key_index=1)
    make_certificate(world.acme, "broken", key_index=2)
    make_certificate(world.globex, "globex-key", key_index=3)
    entry = KeystoreEntry.objects.get(alias="broken")
    sealed = bytearray(bytes(entry.sealed_private_key))
    sealed[-1] ^= 0xFF
    KeystoreEntry.objects.filter(pk=entry.pk).update(sealed_private_key=bytes(sealed))
    call_command("verify_keys", "--background")
    job = latest_job()
    page = reverse("global-job", args=[job.id])
    assert f"Queued job {job.id}: see {page}" in capsys.readouterr().out
    assert not AuditEntry.objects.filter(action="keys-verified").exists()
    run_jobs()
    html = client_for(world.sam).get(page).content.decode()
    assert "1 tenant with a key that failed." in html
    assert "1 OK, 1 failed: &#x27;broken&#x27;" in html and "1 OK, 0 failed" in html
    assert AuditEntry.objects.filter(action="keys-verified").count() == 2
    assert KeystoreEntry.objects.get(alias="healthy").proven_at is not None


def test_background_verification_is_over_every_tenant(world: World) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="leave out --tenant"):
        call_command("verify_keys", "--background", "--tenant", "acme")
    assert not Job.objects.exists()


def test_a_backup_not_run_within_the_keep_period_must_be_started_again(world: World, client_for, settings) -> None:
    settings.PORTAL_BACKUP_JOB_MIN_KEYS = 1
    make_certificate(world.acme, "only-key")
    post_backup(client_for(world.alice), "acme")
    job = latest_job()
    Job.objects.filter(pk=job.pk).update(created=timezone.now() - timedelta(minutes=61))
    runner.purge_expired()
    job.refresh_from_db()
    assert job.sealed_input is None  # the sealed password waits no longer than a result would
    run_jobs()
    job.refresh_from_db()
    assert job.state == JobState.FAILED and "start the backup again" in job.message
    assert not AuditEntry.objects.filter(action="keystore-exported").exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="Procrastinate's queue is on PostgreSQL")
def test_a_job_whose_transaction_rolls_back_is_never_delivered(world: World) -> None:
    from django.db import transaction

    from portal.audit.log import COMMAND
    from recordings.jobs import VERIFY_KEYS

    with pytest.raises(RuntimeError), transaction.atomic():
        job = runner.start(VERIFY_KEYS, tenant=None, by=COMMAND)
        raise RuntimeError("the change that queued it failed")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM procrastinate_jobs WHERE args->>'job_id' = %s", [str(job.id)])
        assert cursor.fetchone() == (0,)
    assert not Job.objects.exists()
