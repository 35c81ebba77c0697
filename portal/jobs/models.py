import uuid

from django.conf import settings
from django.db import models

from portal.audit.log import Actor


class JobState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


FINISHED = (JobState.DONE, JobState.FAILED)


class Job(models.Model):
    """Long work run by a worker, not a web request: what it is, where it stands, and its result. What each kind does
    lives in the app that registers it (portal/jobs/kinds.py)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # None: work over every tenant (started from the command line).
    tenant = models.ForeignKey("accounts.Tenant", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=64)
    state = models.CharField(max_length=16, choices=JobState.choices, default=JobState.QUEUED, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_from = models.GenericIPAddressField(null=True, blank=True)  # the address audit entries name
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True, db_index=True)
    # Beaten while the job runs: without Procrastinate (SQLite), a running job whose beat stopped is taken over.
    heartbeat = models.DateTimeField(null=True, blank=True)
    done_count = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    message = models.CharField(max_length=500, blank=True)
    params = models.JSONField(default=dict, blank=True)  # what the kind needs to know; never a secret
    # A secret the kind sealed for the worker (keystore: under the tenant's data key); erased when the job ends.
    sealed_input = models.BinaryField(null=True, blank=True, editable=False)
    result_path = models.CharField(max_length=200, blank=True)  # a file name under PORTAL_JOBS_DIR
    result_name = models.CharField(max_length=200, blank=True)  # the name it downloads as
    result_type = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.kind} job {self.id}"

    @property
    def is_finished(self) -> bool:
        return self.state in FINISHED

    @property
    def actor(self) -> Actor:
        """Who the job's work is audited as: whoever started it, from where."""
        return Actor(self.created_by, self.created_from)


class JobItem(models.Model):
    """One piece of a job's work. An item is done, with its outcome, in the same transaction as its effects, so a job
    taken over after its worker died goes on from the first item not done and never does one twice."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="items")
    key = models.CharField(max_length=1100)
    position = models.PositiveIntegerField()
    label = models.CharField(max_length=1100, blank=True)
    done = models.BooleanField(default=False)
    failed = models.BooleanField(default=False)
    outcome = models.CharField(max_length=1000, blank=True)  # one line for the job page

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["job", "key"], name="jobs_item_key_unique")]
        indexes = [models.Index(fields=["job", "done", "position"], name="jobs_item_pending")]

    def __str__(self) -> str:
        return self.label or self.key
