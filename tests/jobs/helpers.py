"""Recordings and keys for the job tests, made at test time."""

import io
import os
import zipfile

from django.test import Client
from django.urls import reverse

from portal.jobs import runner
from portal.jobs.models import Job
from tests.conftest import PASSWORD
from tests.recordings.envelopes import builder_recording, certificate_of

BACKUP_PASSWORD = "a backup passphrase 2026"


def recordings_zip(certificate, count: int, *, size: int = 200) -> tuple[bytes, dict[str, bytes]]:
    """A zip of ``count`` recordings encrypted to ``certificate``, and each member's plaintext by its output name."""
    cert = certificate_of(certificate)
    contents = {f"calls/call-{number:05d}": os.urandom(size) for number in range(count)}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in contents.items():
            archive.writestr(f"{name}.bin", builder_recording(content, cert))
    return buffer.getvalue(), contents


def post_recordings(client: Client, slug: str, *files: tuple[str, bytes]):
    from django.core.files.uploadedfile import SimpleUploadedFile

    uploads = [SimpleUploadedFile(name, data, content_type="application/octet-stream") for name, data in files]
    return client.post(reverse("recordings-decrypt", args=[slug]), {"recordings": uploads})


def post_backup(client: Client, slug: str):
    form = {"your_password": PASSWORD, "backup_password": BACKUP_PASSWORD, "backup_password_confirm": BACKUP_PASSWORD}
    return client.post(reverse("keystore-backup", args=[slug]), form)


def run_jobs() -> int:
    """The jobs waiting now, run in this process as run_worker does on SQLite."""
    return runner.run_pending()


def latest_job() -> Job:
    return Job.objects.latest("created")


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}
