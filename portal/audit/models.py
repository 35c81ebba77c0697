import hashlib
import json
from typing import Any

from django.conf import settings
from django.db import models

HASH_VERSION = 2  # what ``compute_hash`` covers for new entries; see ``AuditEntry``


class AppendOnlyError(Exception):
    """Audit entries are never changed or removed through the application."""


class AuditQuerySet(models.QuerySet["AuditEntry"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("audit entries cannot be updated")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit entries cannot be deleted")

    def for_tenants(self, tenants: Any) -> "AuditQuerySet":
        return self.filter(tenant__in=tenants)


class AuditEntry(models.Model):
    """One state change. ``entry_hash`` covers the entry's fields and the previous entry's hash, so an altered,
    inserted or deleted entry breaks the chain (see ``verify``).

    ``hash_version`` says which fields the hash covers. Version 1 (entries written before version 2 existed) covers
    the tenant's slug and the user's name but not the ``tenant`` and ``actor`` links the audit pages filter on;
    version 2 adds both links and the version itself. Entries are never rewritten, so version 1 entries keep their
    hash and ``verify`` checks their links against the names their hash covers.
    """

    created = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor_username = models.CharField(max_length=150, blank=True)
    tenant = models.ForeignKey("accounts.Tenant", null=True, blank=True, on_delete=models.PROTECT)
    tenant_slug = models.CharField(max_length=50, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=300, blank=True)
    details = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    # The actor's user id as recorded: ``actor`` is set to NULL when the user is deleted, this is not.
    recorded_actor_id = models.BigIntegerField(null=True, blank=True)
    hash_version = models.PositiveSmallIntegerField(default=HASH_VERSION)
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64, unique=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["tenant", "-id"]),
            models.Index(fields=["actor_username", "-id"]),
            models.Index(fields=["actor_username", "action", "-id"]),  # one user's entries of one action, newest first
            models.Index(fields=["tenant", "action"]),  # the action names of one tenant (reading.log_state)
        ]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.created:%Y-%m-%d %H:%M:%S} {self.actor_username or '-'} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("audit entries cannot be updated")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit entries cannot be deleted")

    def canonical(self) -> bytes:
        body = {
            "created": self.created.isoformat(timespec="microseconds"),
            "actor": self.actor_username,
            "tenant": self.tenant_slug,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "object_repr": self.object_repr,
            "details": self.details,
            "ip": self.ip or "",
            "prev": self.prev_hash,
        }
        if self.hash_version >= 2:
            # The links the pages filter on, and the version, so an entry cannot be passed off as version 1.
            body["v"] = self.hash_version
            body["tenant_id"] = str(self.tenant_id) if self.tenant_id is not None else ""
            body["actor_id"] = self.recorded_actor_id
        return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()

    def compute_hash(self) -> str:
        return hashlib.sha256(self.canonical()).hexdigest()


class AuditHead(models.Model):
    """The single row that holds the newest hash and the count: it is locked while an entry is appended (so the
    chain stays a line under concurrency) and lets ``verify`` notice entries cut off the end."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_hash = models.CharField(max_length=64, default="0" * 64)
    count = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.count} entries, last {self.last_hash[:12]}"
