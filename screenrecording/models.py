"""The Screen Recording Certificates list: which of the tenant's recording certificates encrypt screen recordings.

Interaction Recording Web Services encrypts each new screen recording with every certificate on the list; an empty
list turns screen-recording encryption off. ``ScreenRecordingSettings.version`` counts saves, so a Save based on an
older version is refused instead of overwriting someone else's change.
"""

import uuid

from django.conf import settings
from django.db import models

from certificates.models import WatchedQuerySet


class ScreenRecordingSettings(models.Model):
    tenant = models.OneToOneField("accounts.Tenant", on_delete=models.PROTECT, related_name="screen_recording")
    version = models.PositiveIntegerField(default=0)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "screen recording settings"
        verbose_name_plural = "screen recording settings"

    def __str__(self) -> str:
        return f"screen recording of {self.tenant_id} (version {self.version})"


class ScreenRecordingCertificateQuerySet(WatchedQuerySet["ScreenRecordingCertificate"]):
    pass


class ScreenRecordingCertificate(models.Model):
    """A certificate on the list. PROTECT: a certificate in use cannot be purged, whatever the code above does."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.PROTECT, related_name="+")
    certificate = models.OneToOneField(
        "certificates.Certificate", on_delete=models.PROTECT, related_name="screen_recording"
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    added = models.DateTimeField(auto_now_add=True)

    objects = ScreenRecordingCertificateQuerySet.as_manager()

    class Meta:
        ordering = ["added"]

    def __str__(self) -> str:
        return f"certificate {self.certificate_id} for screen recording"


class StagedCertificate(models.Model):
    """A certificate proposed for the list (a renewal's successor), shown to the administrators as a pending addition
    until one of them saves the list with it, removes it, or cancels. Staging encrypts nothing.

    CASCADE, unlike the list's own rows: a staging does not keep a certificate in use. Archiving the certificate
    drops its staging (signals.py), and only archived certificates are purged, so the cascade finds nothing; were a
    staging left over, purging must not fail on a proposal that can no longer be saved anyway."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.PROTECT, related_name="+")
    certificate = models.OneToOneField(
        "certificates.Certificate", on_delete=models.CASCADE, related_name="screen_recording_staging"
    )
    reason = models.CharField(max_length=200)  # "Successor of 'rec-2026'"
    staged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    staged_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["staged_at"]

    def __str__(self) -> str:
        return f"certificate {self.certificate_id} staged for screen recording"
