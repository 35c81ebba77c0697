"""Recording certificates and the tenant's trusted root CAs.

A recording certificate is the public half of a keystore entry: the keystore holds the alias, the certificate DER and
the sealed private key; this model holds what the portal shows and filters on (names, serial, validity, fingerprint,
chain result), read once by the parser at upload. The DER is not copied here: downloads and the details page read it
from the entry, which every query that needs it loads with ``select_related("entry")``.
"""

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.utils import timezone

if TYPE_CHECKING:
    from .x509.chain import ChainResult

VALID = "valid"
EXPIRING = "expiring"
EXPIRED = "expired"
NOT_YET_VALID = "not-yet-valid"


def expiring_window_days() -> int:
    """The first expiry window: a valid certificate closer than this to its end is "Expiring soon"."""
    return int(settings.PORTAL_EXPIRY_WINDOWS[0])


def status_for(not_valid_before: datetime, not_valid_after: datetime, now: datetime | None = None) -> str:
    now = now or timezone.now()
    if now < not_valid_before:
        return NOT_YET_VALID
    if now > not_valid_after:
        return EXPIRED
    if not_valid_after <= now + timedelta(days=expiring_window_days()):
        return EXPIRING
    return VALID


def status_label(status: str, not_valid_before: datetime) -> str:
    if status == NOT_YET_VALID:
        return f"Not yet valid — unusable for recording until {not_valid_before:%Y-%m-%d %H:%M} UTC"
    return {VALID: "Valid", EXPIRING: "Expiring soon", EXPIRED: "Expired — playback only"}[status]


class CertificateQuerySet(models.QuerySet["Certificate"]):
    def active(self) -> "CertificateQuerySet":
        return self.filter(archived_at__isnull=True)

    def archived(self) -> "CertificateQuerySet":
        return self.filter(archived_at__isnull=False)

    def expired(self, now: datetime | None = None) -> "CertificateQuerySet":
        return self.filter(not_valid_after__lt=now or timezone.now())

    def not_yet_valid(self, now: datetime | None = None) -> "CertificateQuerySet":
        return self.filter(not_valid_before__gt=now or timezone.now())

    def valid(self, now: datetime | None = None) -> "CertificateQuerySet":
        """Within their validity period now (expiring ones included)."""
        now = now or timezone.now()
        return self.filter(not_valid_before__lte=now, not_valid_after__gte=now)

    def expiring_within(self, days: int, now: datetime | None = None) -> "CertificateQuerySet":
        """Valid now and ending within ``days``."""
        now = now or timezone.now()
        return self.valid(now).filter(not_valid_after__lte=now + timedelta(days=days))

    def for_tenants(self, tenants: Iterable[Any] | models.QuerySet[Any]) -> "CertificateQuerySet":
        return self.filter(tenant__in=tenants)

    def with_alias(self) -> "CertificateQuerySet":
        """With the keystore entry for the alias, leaving out its certificate bytes and sealed key: lists never read
        them, and loading both for every row of a page costs transfer and memory for nothing."""
        return self.select_related("entry").defer("entry__certificate_der", "entry__sealed_private_key")


class Certificate(models.Model):
    """A tenant's recording certificate, the public half of one keystore entry."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.PROTECT, related_name="certificates")
    entry = models.OneToOneField("keystore.KeystoreEntry", on_delete=models.PROTECT, related_name="certificate")
    subject_name = models.CharField(max_length=300)
    serial_number = models.CharField(max_length=50)  # decimal text: serials reach 160 bits
    serial_hex = models.CharField(max_length=64)
    subject_dn = models.TextField()
    issuer_dn = models.TextField()
    not_valid_before = models.DateTimeField(db_index=True)
    not_valid_after = models.DateTimeField(db_index=True)
    sha256_fingerprint = models.CharField(max_length=95)  # "AB:CD:…", as openssl prints it
    key_size = models.PositiveIntegerField()
    signature_algorithm = models.CharField(max_length=100)
    is_self_signed = models.BooleanField()
    chain_ok = models.BooleanField()
    chain_reason = models.CharField(max_length=500)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    archived_at = models.DateTimeField(null=True, blank=True, db_index=True)
    archived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = CertificateQuerySet.as_manager()

    class Meta:
        ordering = ["not_valid_after"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "sha256_fingerprint"], name="certificate_unique_in_tenant")
        ]

    def __str__(self) -> str:
        return f"{self.alias} ({self.subject_name})"

    @property
    def alias(self) -> str:
        return self.entry.alias

    @property
    def certificate_der(self) -> bytes:
        return bytes(self.entry.certificate_der)

    def status(self, now: datetime | None = None) -> str:
        return status_for(self.not_valid_before, self.not_valid_after, now)

    def status_label(self, now: datetime | None = None) -> str:
        return status_label(self.status(now), self.not_valid_before)

    @property
    def current_status(self) -> str:
        return self.status()

    @property
    def current_status_label(self) -> str:
        return self.status_label()

    def assignment_labels(self) -> list[str]:
        """Where the certificate is used (IVR profiles, screen recording), from every registered provider. Lists
        call ``usage.labels_for`` once for the whole page instead."""
        from .usage import labels_for

        return labels_for([self.pk])[self.pk]

    def revalidate(self, at: datetime | None = None) -> "ChainResult":
        """The chain check again, now (or at ``at``), against the tenant's current root CAs: every use of the
        certificate calls this, because a root CA may have been removed since upload."""
        from .x509.chain import verify_chain
        from .x509.parsing import parse_certificate

        roots = [bytes(der) for der in RootCA.objects.filter(tenant_id=self.tenant_id).values_list("der", flat=True)]
        return verify_chain(parse_certificate(self.certificate_der), roots, at=at or timezone.now())


class RootCA(models.Model):
    """A CA certificate the tenant trusts: recording certificates that are not self-signed must chain to one."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.PROTECT, related_name="root_cas")
    subject_dn = models.TextField()
    subject_name = models.CharField(max_length=300)
    der = models.BinaryField(editable=False)
    sha256_fingerprint = models.CharField(max_length=95)  # "AB:CD:…", as openssl prints it
    not_valid_after = models.DateTimeField()
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["subject_name", "created"]
        verbose_name = "root CA"
        constraints = [models.UniqueConstraint(fields=["tenant", "sha256_fingerprint"], name="rootca_unique_in_tenant")]

    def __str__(self) -> str:
        return self.subject_name


from .ivr_models import AssignmentRequest, IvrAssignment, IvrProfile  # noqa: E402,F401
from .notify_models import ExpiryNotification  # noqa: E402,F401
from .revision_models import CertificateRevision  # noqa: E402,F401
