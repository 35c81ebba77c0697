import uuid

from django.conf import settings
from django.db import models

from portal.accounts.models import Tenant


class DecryptionBatchQuerySet(models.QuerySet["DecryptionBatch"]):
    def of_tenant(self, tenant: Tenant) -> "DecryptionBatchQuerySet":
        return self.filter(tenant=tenant)


class DecryptionBatch(models.Model):
    """Recordings decrypted on the Decrypt Recordings page: the files stay in the spool as they were uploaded, still
    encrypted, until they are downloaded decrypted or the batch expires. No plaintext is ever stored."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created = models.DateTimeField(auto_now_add=True)
    expires = models.DateTimeField(db_index=True)

    objects = DecryptionBatchQuerySet.as_manager()

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"decryption batch {self.id} of tenant {self.tenant_id}"


class BatchItem(models.Model):
    """One recording of a batch: an uploaded file, or one member of an uploaded zip archive."""

    batch = models.ForeignKey(DecryptionBatch, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField()
    upload = models.PositiveIntegerField()  # the uploaded file's number in the batch's spool folder
    member = models.CharField(max_length=1024, blank=True)  # the zip member; "" for a recording uploaded alone
    name = models.CharField(max_length=1024)
    output_name = models.CharField(max_length=1024)
    size = models.BigIntegerField()
    plaintext_size = models.BigIntegerField(default=0)
    alias = models.CharField(max_length=64, blank=True)
    error = models.CharField(max_length=1000, blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["batch", "position"], name="recordings_item_position_unique")]

    def __str__(self) -> str:
        return self.name

    @property
    def ok(self) -> bool:
        return not self.error


class KeyDrillClaim(models.Model):
    """When a key drill last started on the tenant: verify_keys runs on every node at once (cron on each), and the
    run that moves this forward is the one that proves the tenant's keys."""

    tenant = models.OneToOneField("accounts.Tenant", on_delete=models.CASCADE, primary_key=True, related_name="+")
    started = models.DateTimeField()

    def __str__(self) -> str:
        return f"key drill of tenant {self.tenant_id} started {self.started:%Y-%m-%d %H:%M}"
