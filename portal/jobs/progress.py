"""What a job's work reports as it goes: its items, each one done in the transaction of its effects, and its result
file, written whole or not at all."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from portal.cli import write_whole

from .models import Job, JobItem


def jobs_dir() -> Path:
    return Path(settings.PORTAL_JOBS_DIR)


def result_file(job: Job) -> Path | None:
    """The job's result file, when it has one still on disk."""
    if not job.result_path:
        return None
    path = jobs_dir() / job.result_path
    return path if path.is_file() else None


class JobFailed(Exception):
    """The job cannot go on; str() is the one line its page shows."""


@dataclass(frozen=True)
class Outcome:
    text: str  # one line for the job page
    failed: bool = False


class Progress:
    def __init__(self, job: Job) -> None:
        self.job = job

    def plan(self, items: Iterable[tuple[str, str]]) -> None:
        """The job's items as (key, label), in order. Planned once: a job taken over keeps the items it has."""
        if JobItem.objects.filter(job=self.job).exists():
            return
        rows = [
            JobItem(job=self.job, key=key, label=label[:1100], position=position)
            for position, (key, label) in enumerate(items)
        ]
        with transaction.atomic():
            JobItem.objects.bulk_create(rows, batch_size=1000)
            Job.objects.filter(pk=self.job.pk).update(total=len(rows), heartbeat=timezone.now())
        self.job.total = len(rows)

    def each(self, work: Callable[[JobItem], Outcome]) -> None:
        """Do every item not done yet, in order. Each one's effects, its outcome and the job's count commit together;
        the item's row is locked meanwhile, so a second worker on the same job skips it and never does it twice."""
        pending = JobItem.objects.filter(job=self.job, done=False).order_by("position").values_list("pk", flat=True)
        for item_pk in list(pending):
            with transaction.atomic():
                item = self._locked(item_pk)
                if item is None or item.done:
                    continue
                outcome = work(item)
                JobItem.objects.filter(pk=item.pk).update(done=True, failed=outcome.failed, outcome=outcome.text[:1000])
                Job.objects.filter(pk=self.job.pk).update(done_count=F("done_count") + 1, heartbeat=timezone.now())

    def _locked(self, item_pk: int) -> JobItem | None:
        items = JobItem.objects.filter(pk=item_pk)
        if connection.features.has_select_for_update_skip_locked:
            items = items.select_for_update(skip_locked=True)
        # SQLite: transactions take the write lock when they begin (settings), which serialises them instead.
        return items.first()

    def say(self, message: str) -> None:
        """The one line the job page shows under its progress."""
        Job.objects.filter(pk=self.job.pk).update(message=message[:500], heartbeat=timezone.now())

    def write_result(self, data: bytes, *, name: str, content_type: str) -> None:
        """The job's result file, written to a temporary file and renamed, so a reader never sees half of it. Call it
        inside an item's work: the job names its result in that item's transaction."""
        folder = jobs_dir()
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        final = folder / f"{self.job.id}.result"
        write_whole(final, data)
        Job.objects.filter(pk=self.job.pk).update(result_path=final.name, result_name=name, result_type=content_type)
