"""The job page as its users meet it: who sees a job, its progress as JSON, its result file, and the keep period."""

import os
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.audit.log import COMMAND, Actor
from portal.audit.models import AuditEntry
from portal.jobs import runner
from portal.jobs.models import Job, JobState
from portal.jobs.progress import Progress, jobs_dir
from recordings.jobs import VERIFY_KEYS
from tests.conftest import World, make_user
from tests.factories import make_certificate
from tests.jobs.helpers import latest_job, post_backup, run_jobs

pytestmark = pytest.mark.django_db


@pytest.fixture
def backup_job(world: World, client_for, settings) -> Job:
    """A keystore backup of acme, queued by alice from the page (every backup is a job here)."""
    settings.PORTAL_BACKUP_JOB_MIN_KEYS = 1
    make_certificate(world.acme, "recording-2026")
    response = post_backup(client_for(world.alice), "acme")
    job = latest_job()
    assert response.status_code == 302 and response["Location"] == reverse("job", args=["acme", job.id])
    return job


def _page(job: Job, slug: str = "acme") -> str:
    return reverse("job", args=[slug, job.id])


def test_the_owner_follows_the_job_and_downloads_its_result_once(world, client_for, backup_job) -> None:
    client = client_for(world.alice)
    queued = client.get(_page(backup_job)).content.decode()
    assert "Queued" in queued and "jobs/progress.js" in queued and "Download" not in queued
    assert client.get(_page(backup_job) + "progress/").json() == {
        "state": "queued",
        "state_text": "Queued",
        "done": 0,
        "total": 0,
        "message": "",
        "finished": False,
    }
    assert run_jobs() == 1
    progress = client.get(_page(backup_job) + "progress/").json()
    assert (progress["state"], progress["done"], progress["total"], progress["finished"]) == ("done", 1, 1, True)
    done = client.get(_page(backup_job)).content.decode()
    assert "Download acme-keystore-" in done and "jobs/progress.js" not in done
    download = client.get(_page(backup_job) + "download/")
    assert download.status_code == 200 and download["Content-Type"] == "application/x-pkcs12"
    assert b"".join(download.streaming_content)
    assert AuditEntry.objects.filter(action="job-result-downloaded", actor=world.alice).count() == 1
    assert client.get(_page(backup_job) + "download/").status_code == 404  # once
    assert "Download acme-keystore-" not in client.get(_page(backup_job)).content.decode()
    assert not list(jobs_dir().glob(f"{backup_job.id}*"))


@pytest.mark.parametrize("who", ["bob", "sam_other_tenant"])
def test_another_tenants_job_is_not_found(world, client_for, backup_job, who) -> None:
    user = world.bob if who == "bob" else world.sam
    client = client_for(user)
    # Under bob's own tenant (or any tenant support reaches) the job does not exist; under acme, bob reaches nothing.
    for path in (_page(backup_job, "globex"), _page(backup_job, "globex") + "progress/"):
        assert client.get(path).status_code == 404
    if who == "bob":
        assert client.get(_page(backup_job)).status_code == 404


def test_a_role_without_the_kinds_capability_is_refused(world, client_for, backup_job) -> None:
    assert client_for(world.pat).get(_page(backup_job)).status_code == 403  # a professional of acme: no keys
    assert client_for(world.pat).get(_page(backup_job) + "download/").status_code == 403


def test_an_outsider_is_sent_to_sign_in(client, backup_job) -> None:
    for suffix in ("", "progress/", "download/"):
        response = client.get(_page(backup_job) + suffix)
        assert response.status_code == 302 and reverse("login") in response["Location"]


def test_a_decryption_job_is_its_starters_alone(world, client_for) -> None:
    """Recordings one administrator decrypted are theirs alone, as their batch is."""
    job = runner.start("recordings.decrypt", tenant=world.acme, by=Actor(world.alice), params={})
    other_admin = make_user("alina", "tenant-admin", world.acme)
    assert client_for(world.alice).get(_page(job)).status_code == 200
    assert client_for(other_admin).get(_page(job)).status_code == 404


def test_a_job_over_every_tenant_is_for_support(world, client_for) -> None:
    job = runner.start(VERIFY_KEYS, tenant=None, by=COMMAND)
    page = reverse("global-job", args=[job.id])
    assert client_for(world.sam).get(page).status_code == 200
    assert client_for(world.alice).get(page).status_code == 403
    assert client_for(world.sam).get(page + "progress/").json()["state"] == "queued"
    assert client_for(world.sam).get(_page(job)).status_code == 404  # not under any tenant


def test_a_finished_job_and_its_file_go_after_the_keep_period(world, client_for, backup_job, settings) -> None:
    run_jobs()
    backup_job.refresh_from_db()
    result = jobs_dir() / backup_job.result_path
    assert result.is_file()
    settings.PORTAL_JOBS_KEEP_MINUTES = 30
    Job.objects.filter(pk=backup_job.pk).update(finished=timezone.now() - timedelta(minutes=29))
    assert runner.purge_expired() == 0 and result.is_file()
    Job.objects.filter(pk=backup_job.pk).update(finished=timezone.now() - timedelta(minutes=31))
    assert runner.purge_expired() >= 1
    assert not result.exists() and not Job.objects.filter(pk=backup_job.pk).exists()
    assert client_for(world.alice).get(_page(backup_job)).status_code == 404


def test_a_failing_job_says_so_in_one_line(world, client_for, settings) -> None:
    job = runner.start("recordings.decrypt", tenant=world.acme, by=Actor(world.alice), params={"batch": None})
    run_jobs()
    job.refresh_from_db()
    assert job.state == JobState.FAILED and "upload them again" in job.message
    page = client_for(world.alice).get(_page(job)).content.decode()
    assert "Failed" in page and "upload them again" in page and "Traceback" not in page


def test_an_item_done_is_never_done_again(world) -> None:
    """What a worker that takes over a job does: items already done are skipped."""
    job = runner.start(VERIFY_KEYS, tenant=None, by=COMMAND)
    progress = Progress(job)
    progress.plan([("a", "A"), ("b", "B"), ("c", "C")])
    progress.plan([("x", "X")])  # planned once
    seen: list[str] = []
    job.items.filter(key="a").update(done=True)

    def work(item):
        seen.append(item.key)
        from portal.jobs.progress import Outcome

        return Outcome("ok")

    progress.each(work)
    progress.each(work)
    assert seen == ["b", "c"]
    job.refresh_from_db()
    assert (job.total, job.done_count) == (3, 2)


def test_a_jobs_folder_the_portal_cannot_write_is_named_at_start_up(settings, tmp_path) -> None:
    from portal.jobs.checks import check_jobs_dir

    assert check_jobs_dir() == []
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    settings.PORTAL_JOBS_DIR = blocker / "jobs"
    (error,) = check_jobs_dir()
    assert error.id == "jobs.E001" and str(blocker / "jobs") in error.msg


def test_the_starting_page_leads_back_to_its_starters_jobs(world, client_for, backup_job) -> None:
    alina = make_user("alina", "tenant-admin", world.acme)
    keystore = reverse("keystore-home", args=["acme"])
    assert _page(backup_job) in client_for(world.alice).get(keystore).content.decode()
    assert _page(backup_job) not in client_for(alina).get(keystore).content.decode()
    assert client_for(alina).get(_page(backup_job)).status_code == 404  # the file opens with alice's password
    decryption = runner.start("recordings.decrypt", tenant=world.acme, by=Actor(world.alice), params={})
    decrypt_page = client_for(world.alice).get(reverse("recordings-decrypt", args=["acme"])).content.decode()
    assert _page(decryption) in decrypt_page and _page(backup_job) not in decrypt_page


def test_the_sweep_removes_only_old_job_files_in_a_shared_folder(db, settings, tmp_path) -> None:
    settings.PORTAL_JOBS_KEEP_MINUTES, settings.PORTAL_JOBS_DIR = 30, tmp_path
    folder = jobs_dir()
    hour_ago = (timezone.now() - timedelta(hours=1)).timestamp()
    stray_result, stray_partial, other = folder / "stray.result", folder / ".stray.result.x1.tmp", folder / "master.key"
    fresh = folder / "fresh.result"
    for path in (stray_result, stray_partial, other, fresh):
        path.write_bytes(b"x")
    for path in (stray_result, stray_partial, other):
        os.utime(path, (hour_ago, hour_ago))
    runner.purge_expired()
    assert not stray_result.exists() and not stray_partial.exists()
    assert other.exists() and fresh.exists()  # not the portal's, or not old enough
