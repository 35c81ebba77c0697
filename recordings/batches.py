"""Recordings decrypted on the page, in two steps: the upload is decrypted at once to learn which key opens each file
and whether it is whole (padding and tags are at the end), then the download decrypts it again as it streams. Between
the two the files wait in the spool exactly as they were uploaded, still encrypted, so no plaintext is ever stored
and a damaged file is reported before anything is downloaded."""

import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.core.files.move import file_move_safe
from django.core.files.uploadedfile import TemporaryUploadedFile, UploadedFile
from django.db import transaction
from django.utils import timezone

from portal.accounts.models import Tenant, User
from portal.audit.log import Actor, record
from portal.jobs.models import FINISHED, Job

from .decrypting import Decryptor, Outcome
from .models import BatchItem, DecryptionBatch
from .naming import NameRefused, unique_names, upload_name
from .zips import Archive, ArchiveRefused, Member, is_zip, open_archive, stream_zip

ZIP_NAME = "decrypted-recordings.zip"
# An uploaded zip may declare this many times the upload limit in recordings; zip's ratio cap stops a bomb.
ARCHIVE_BYTES_PER_UPLOAD_BYTE = 4


def discard(_chunk: bytes | memoryview) -> None:
    """The first decryption only checks: its plaintext goes nowhere."""


def spool_dir() -> Path:
    return Path(settings.PORTAL_RECORDINGS_SPOOL_DIR)


def batch_dir(batch_id: uuid.UUID) -> Path:
    return spool_dir() / str(batch_id)


def keep_upload(upload: UploadedFile, path: Path) -> None:
    """The uploaded file into the spool: moved when Django already wrote it to a temporary file, else written."""
    if isinstance(upload, TemporaryUploadedFile):
        file_move_safe(upload.temporary_file_path(), str(path))
        path.chmod(0o600)
        return
    with path.open("xb") as out:
        path.chmod(0o600)
        for chunk in upload.chunks():
            out.write(chunk)


@dataclass
class _Item:
    upload: int
    member: str
    outcome: Outcome


def _check(decryptor: Decryptor, number: int, name: str, path: Path) -> list[_Item]:
    """Decrypt one uploaded file, or each member of an uploaded zip, into nothing: what opens it, and is it whole."""
    size = path.stat().st_size
    with path.open("rb") as stream:
        if not is_zip(stream):
            return [_Item(number, "", decryptor.decrypt(name, size, stream, discard))]
        try:
            with open_upload_archive(stream) as archive:
                items = []
                for member in archive.members():
                    with member.open() as member_stream:
                        outcome = decryptor.decrypt(str(member.name), member.size, member_stream, discard)
                    items.append(_Item(number, str(member.name), outcome))
            return items
        except (ArchiveRefused, NameRefused) as exc:
            return [_Item(number, "", decryptor.refused(name, size, str(exc)))]


def new_batch(tenant: Tenant, user: User) -> tuple[DecryptionBatch, Path]:
    """A batch not saved yet, and its empty spool folder; expired batches are removed first."""
    purge_expired()
    batch = DecryptionBatch(
        tenant=tenant,
        created_by=user,
        expires=timezone.now() + timedelta(minutes=settings.PORTAL_RECORDINGS_KEEP_MINUTES),
    )
    folder = batch_dir(batch.id)
    folder.mkdir(mode=0o700, parents=True)
    return batch, folder


def decrypt_uploads(tenant: Tenant, uploads: list[UploadedFile], *, user: User, by: Actor) -> DecryptionBatch:
    """Check every uploaded recording and keep the uploads for the download. Each decryption is audited."""
    batch, folder = new_batch(tenant, user)
    try:
        decryptor = Decryptor(tenant, by=by, source="page")
        items: list[_Item] = []
        for number, upload in enumerate(uploads):
            path = folder / str(number)
            keep_upload(upload, path)
            try:
                name = upload_name(upload.name or "")
            except NameRefused as refused:  # e.g. over 255 bytes: shown escaped, never used as a name
                outcome = decryptor.refused(f"file {number + 1}", upload.size or 0, str(refused))
                items.append(_Item(number, "", outcome))
                continue
            items.extend(_check(decryptor, number, name, path))
        # Only what decrypted is downloaded, so only it takes a name: a failed "a.bin" never turns "a" into "a (2)".
        taken = iter(unique_names([item.outcome.output_name for item in items if item.outcome.ok]))
        names = [next(taken) if item.outcome.ok else item.outcome.output_name for item in items]
        with transaction.atomic():
            batch.save()
            BatchItem.objects.bulk_create(
                BatchItem(
                    batch=batch,
                    position=position,
                    upload=item.upload,
                    member=item.member,
                    name=item.outcome.name,
                    output_name=names[position],
                    size=item.outcome.size,
                    plaintext_size=item.outcome.plaintext_size,
                    alias=item.outcome.alias or "",
                    error=item.outcome.error,
                )
                for position, item in enumerate(items)
            )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return batch


def open_upload_archive(stream: BinaryIO) -> Archive:
    limit = ARCHIVE_BYTES_PER_UPLOAD_BYTE * settings.PORTAL_RECORDINGS_MAX_UPLOAD_BYTES
    return open_archive(stream, max_total_bytes=limit)


def _opener(path: Path) -> Callable[[], BinaryIO]:
    def open_file() -> BinaryIO:
        return path.open("rb")

    return open_file


def _plaintext_of(decryptor: Decryptor, open_stream: Callable[[], BinaryIO]) -> Iterator[bytes]:
    with open_stream() as stream:
        yield from decryptor.plaintext(stream)


def _entries(decryptor: Decryptor, folder: Path, items: list[BatchItem]) -> Iterator[tuple[str, Iterator[bytes]]]:
    """Each recording's output name and plaintext, pulled as the download goes. An uploaded zip is opened once for
    all of its members."""
    with ExitStack() as open_files:
        members: dict[int, dict[str, Member]] = {}
        for item in items:
            path = folder / str(item.upload)
            if not item.member:
                yield item.output_name, _plaintext_of(decryptor, _opener(path))
                continue
            if item.upload not in members:
                archive = open_files.enter_context(open_upload_archive(open_files.enter_context(path.open("rb"))))
                members[item.upload] = {str(member.name): member for member in archive.members()}
            yield item.output_name, _plaintext_of(decryptor, members[item.upload][item.member].open)


@dataclass(frozen=True)
class Download:
    filename: str
    length: int | None  # known for one recording; a zip's is not computed in advance
    chunks: Iterator[bytes]


def download(batch: DecryptionBatch, *, by: Actor) -> Download | None:
    """The batch's decrypted recordings as they stream: one file, or a zip of several. None when none decrypted."""
    items = [item for item in batch.items.all() if item.ok]
    if not items:
        return None
    with transaction.atomic():
        record(
            "recordings-downloaded",
            by=by,
            tenant=batch.tenant,
            details={"batch": str(batch.id), "files": [item.name for item in items]},
        )
    decryptor = Decryptor(batch.tenant, by=by, source="page", audit=False)
    entries = _entries(decryptor, batch_dir(batch.id), items)
    if len(items) == 1:
        name, plaintext = next(entries)
        return Download(name.rpartition("/")[2], items[0].plaintext_size, _then_close(plaintext, entries))
    return Download(ZIP_NAME, None, stream_zip(entries))


def _then_close(chunks: Iterator[bytes], entries: Iterator[tuple[str, Iterator[bytes]]]) -> Iterator[bytes]:
    """One recording's chunks; then the generator that opened its file lets go of it."""
    try:
        yield from chunks
    finally:
        close = getattr(entries, "close", None)
        if close is not None:
            close()


def purge_expired() -> int:
    """Forget batches past their time, with their spooled files; and spool folders no batch owns (a crash between
    the upload and its record) once they are as old as a batch may be."""
    now = timezone.now()
    # A batch a job has yet to decrypt (queued, or running for longer than the keep period) is not expired: the job
    # sets its time when it ends.
    waiting = Job.objects.exclude(state__in=FINISHED).filter(params__has_key="batch").values_list("params__batch")
    expired = list(
        DecryptionBatch.objects.filter(expires__lt=now)
        .exclude(id__in=[batch_id for (batch_id,) in waiting])
        .values_list("id", flat=True)
    )
    DecryptionBatch.objects.filter(id__in=expired).delete()
    for batch_id in expired:
        shutil.rmtree(batch_dir(batch_id), ignore_errors=True)
    root = spool_dir()
    if root.is_dir():
        oldest = (now - timedelta(minutes=settings.PORTAL_RECORDINGS_KEEP_MINUTES)).timestamp()
        known = {str(batch_id) for batch_id in DecryptionBatch.objects.values_list("id", flat=True)}
        for folder in root.iterdir():
            if folder.name not in known and folder.stat().st_mtime < oldest:
                shutil.rmtree(folder, ignore_errors=True)
    return len(expired)
