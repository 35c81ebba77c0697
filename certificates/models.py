"""Recording certificates and the tenant's trusted root CAs.

A recording certificate is the public half of a keystore entry: the keystore holds the alias, the certificate DER and
the sealed private key; this model holds what the portal shows and filters on (names, serial, validity, fingerprint,
chain result), read once by the parser at upload. The DER is not copied here: downloads and the details page read it
from the entry, which every query that needs it loads with ``select_related("entry")``.
"""

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from . import status as rules


class CertificateQuerySet(models.QuerySet["Certificate"]):
    def active(self) -> "CertificateQuerySet":
        return self.filter(archived_at__isnull=True)

    def archived(self) -> "CertificateQuerySet":
        return self.filter(archived_at__isnull=False)

    def expired(self, now: datetime | None = None) -> "CertificateQuerySet":
        return self.filter(rules.expired_q(now or timezone.now()))

    def not_yet_valid(self, now: datetime | None = None) -> "CertificateQuerySet":
        return self.filter(rules.not_yet_valid_q(now or timezone.now()))

    def valid(self, now: datetime | None = None) -> "CertificateQuerySet":
        """Within their validity period now (expiring ones included)."""
        return self.filter(rules.in_validity_q(now or timezone.now()))

    def expiring_within(self, days: int, now: datetime | None = None) -> "CertificateQuerySet":
        """Valid now and ending within ``days``."""
        return self.filter(rules.ending_within_q(days, now or timezone.now()))

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
        return rules.status_for(self.not_valid_before, self.not_valid_after, now)

    def status_label(self, now: datetime | None = None) -> str:
        return rules.status_label(self.status(now), self.not_valid_before)

    @property
    def current_status(self) -> str:
        return self.status()

    @property
    def current_status_label(self) -> str:
        return self.status_label()


class RootCAQuerySet(models.QuerySet["RootCA"]):
    def ders_of(self, tenant: Any, *, excluding: Any = None) -> list[bytes]:
        """The DER of each root CA the tenant (object or id) trusts, leaving out the one with pk ``excluding``: what
        chain checks take. The one query for a tenant's roots."""
        rows = self.filter(tenant=tenant)
        if excluding is not None:
            rows = rows.exclude(pk=excluding)
        return [bytes(der) for der in rows.values_list("der", flat=True)]


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

    objects = RootCAQuerySet.as_manager()

    class Meta:
        ordering = ["subject_name", "created"]
        verbose_name = "root CA"
        constraints = [models.UniqueConstraint(fields=["tenant", "sha256_fingerprint"], name="rootca_unique_in_tenant")]

    def __str__(self) -> str:
        return self.subject_name


class CertificateRevision(models.Model):
    """A version per tenant, replaced whenever the tenant's certificates or their assignments change.

    Summaries computed from those rows (the expiry dashboard's counts and chart) are cached under the versions they were
    computed from, so any change makes them stale at once. A version is a random UUID rather than a counter: a value
    is never seen twice, even after a rolled-back transaction or a deleted tenant, so a stale summary can never be
    mistaken for a current one.
    """

    tenant = models.OneToOneField("accounts.Tenant", primary_key=True, on_delete=models.CASCADE, related_name="+")
    version = models.UUIDField(default=uuid.uuid4)

    def __str__(self) -> str:
        return f"{self.tenant_id}: {self.version}"
