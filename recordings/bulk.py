"""Large uploads on the Decrypt Recordings page are decrypted by a background job: the request only spools the
files (still encrypted) and queues the job. Its items are the recordings, each uploaded file or member of an uploaded
zip; each one's check, its audit entry and its row of results commit together, so a job taken over after its worker
died goes on where it stopped and decrypts no recording twice. The download is the batch's, as for small uploads:
decrypted again as it streams, so no plaintext is ever stored."""

import shutil
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any, BinaryIO, cast

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from portal.accounts.models import Tenant, User
from portal.audit.log import Actor
from portal.jobs import runner
from portal.jobs.models import Job, JobItem
from portal.jobs.progress import JobFailed, Outcome, Progress

from .batches import batch_dir, discard, keep_upload, new_batch, open_upload_archive
from .decrypting import Decryptor
from .decrypting import Outcome as Decrypted
from .models import BatchItem, DecryptionBatch
from .naming import NameRefused, unique_names, upload_name
from .zips import Archive, ArchiveRefused, Member, is_zip

DECRYPT = "recordings.decrypt"


def _recordings_in(upload: UploadedFile) -> int:
    """How many recordings an upload holds: the members of a zip archive (its table of contents only is read)."""
    if upload.file is None:
        return 1
    stream = cast(BinaryIO, upload.file)
    stream.seek(0)
    try:
        if not is_zip(stream):
            return 1
        with open_upload_archive(stream) as archive:
            return len(archive)
    except (ArchiveRefused, NameRefused):
        return 1
    finally:
        stream.seek(0)


def wants_job(uploads: list[UploadedFile]) -> bool:
    """Whether an upload is too much to decrypt within the request."""
    if sum(upload.size or 0 for upload in uploads) >= settings.PORTAL_RECORDINGS_JOB_MIN_BYTES:
        return True
    return sum(_recordings_in(upload) for upload in uploads) >= settings.PORTAL_RECORDINGS_JOB_MIN_FILES


def start(tenant: Tenant, uploads: list[UploadedFile], *, user: User, by: Actor) -> Job:
    """Spool the uploads and queue their decryption; the batch and the job commit together."""
    batch, folder = new_batch(tenant, user)
    try:
        described = []
        for number, upload in enumerate(uploads):
            keep_upload(upload, folder / str(number))
            try:
                described.append({"name": upload_name(upload.name or ""), "size": upload.size or 0, "refused": ""})
            except NameRefused as refused:  # e.g. over 255 bytes: shown escaped, never used as a name
                described.append({"name": f"file {number + 1}", "size": upload.size or 0, "refused": str(refused)})
        with transaction.atomic():
            batch.save()
            return runner.start(DECRYPT, tenant=tenant, by=by, params={"batch": str(batch.id), "uploads": described})
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def result_url(job: Job) -> str:
    assert job.tenant is not None
    return reverse("recordings-batch", args=[job.tenant.slug, job.params["batch"]])


def _items(folder: Path, uploads: list[dict[str, Any]]) -> Iterator[tuple[str, str]]:
    """(key, label) of each recording: "N" for uploaded file N, "N/member" for a member of uploaded zip N."""
    for number, upload in enumerate(uploads):
        if not upload["refused"]:
            with (folder / str(number)).open("rb") as stream:
                if is_zip(stream):
                    try:
                        with open_upload_archive(stream) as archive:
                            for member in archive.members():
                                yield f"{number}/{member.name}", str(member.name)
                        continue
                    except (ArchiveRefused, NameRefused):
                        pass  # one item: its check says why the archive is refused
        yield str(number), upload["name"]


class _Archives:
    """Uploaded zip archives opened once for all of their members, while the job runs."""

    def __init__(self, folder: Path, files: ExitStack) -> None:
        self.folder = folder
        self.files = files
        self.members: dict[int, dict[str, Member]] = {}

    def member(self, number: int, name: str) -> Member:
        if number not in self.members:
            stream = self.files.enter_context((self.folder / str(number)).open("rb"))
            archive: Archive = self.files.enter_context(open_upload_archive(stream))
            self.members[number] = {str(member.name): member for member in archive.members()}
        return self.members[number][name]


def _check(decryptor: Decryptor, archives: _Archives, upload: dict[str, Any], number: int, member: str) -> Decrypted:
    """Decrypt one recording into nothing: which key opens it, and is it whole."""
    if upload["refused"]:
        return decryptor.refused(upload["name"], upload["size"], upload["refused"])
    if member:
        found = archives.member(number, member)
        with found.open() as stream:
            return decryptor.decrypt(member, found.size, stream, discard)
    with (archives.folder / str(number)).open("rb") as stream:
        if is_zip(stream):
            try:
                with open_upload_archive(stream):
                    pass
            except (ArchiveRefused, NameRefused) as refused:
                return decryptor.refused(upload["name"], upload["size"], str(refused))
        return decryptor.decrypt(upload["name"], upload["size"], stream, discard)


def _decrypt_item(
    batch: DecryptionBatch, decryptor: Decryptor, archives: _Archives, uploads: list[dict[str, Any]], item: JobItem
) -> Outcome:
    number_text, _, member = item.key.partition("/")
    number = int(number_text)
    outcome = _check(decryptor, archives, uploads[number], number, member)
    BatchItem.objects.create(
        batch=batch,
        position=item.position,
        upload=number,
        member=member,
        name=outcome.name,
        output_name=outcome.output_name,
        size=outcome.size,
        plaintext_size=outcome.plaintext_size,
        alias=outcome.alias or "",
        error=outcome.error,
    )
    if outcome.ok:
        return Outcome(f"decrypted with '{outcome.alias}'")
    return Outcome(outcome.error, failed=True)


def _name_outputs(batch: DecryptionBatch) -> int:
    """Only what decrypted is downloaded, so only it takes a name: a failed "a.bin" never turns "a" into "a (2)".
    The number that decrypted."""
    decrypted = [item for item in batch.items.all() if item.ok]
    for item, name in zip(decrypted, unique_names([item.output_name for item in decrypted]), strict=True):
        item.output_name = name
    with transaction.atomic():
        BatchItem.objects.bulk_update(decrypted, ["output_name"], batch_size=500)
        # The download is kept for the keep period from now, however long the decryption took.
        batch.expires = timezone.now() + timedelta(minutes=settings.PORTAL_RECORDINGS_KEEP_MINUTES)
        batch.save(update_fields=["expires"])
    return len(decrypted)


def run_decrypt(job: Job, progress: Progress) -> None:
    batch = DecryptionBatch.objects.select_related("tenant").filter(pk=job.params["batch"]).first()
    if batch is None:
        raise JobFailed("The uploaded recordings were deleted before they were decrypted: upload them again.")
    uploads: list[dict[str, Any]] = job.params["uploads"]
    folder = batch_dir(batch.id)
    progress.plan(_items(folder, uploads))
    decryptor = Decryptor(batch.tenant, by=job.actor, source="page")
    with ExitStack() as files:
        archives = _Archives(folder, files)
        progress.each(lambda item: _decrypt_item(batch, decryptor, archives, uploads, item))
    decrypted = _name_outputs(batch)
    total = batch.items.count()
    progress.say(f"{decrypted} of {total} recording{'s' if total != 1 else ''} decrypted.")
