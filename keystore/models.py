import hashlib
import uuid

from django.db import models
from django.db.models.functions import Lower

from portal.accounts.models import Tenant

MAX_ALIAS_LENGTH = 64
MAX_PROOF_FAILURE_LENGTH = 300


class TenantKey(models.Model):
    """A tenant's data-encryption key, wrapped (AES-256-GCM) by the master key named by ``master_key_id``."""

    tenant = models.OneToOneField("accounts.Tenant", on_delete=models.PROTECT, related_name="data_key")
    wrapped_key = models.BinaryField(editable=False)
    master_key_id = models.CharField(max_length=16, db_index=True)
    created = models.DateTimeField(auto_now_add=True)
    rewrapped = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"data key of {self.tenant_id} (master {self.master_key_id})"


class KeystoreEntryQuerySet(models.QuerySet["KeystoreEntry"]):
    def of_tenant(self, tenant: Tenant) -> "KeystoreEntryQuerySet":
        return self.filter(tenant=tenant)

    def with_certificate(self, certificate_der: bytes) -> "KeystoreEntryQuerySet":
        return self.filter(certificate_sha256=certificate_fingerprint(certificate_der))

    def with_alias(self, alias: str) -> "KeystoreEntryQuerySet":
        """Aliases compare without case, as Java keystores do."""
        return self.filter(alias__iexact=alias)


def certificate_fingerprint(certificate_der: bytes) -> str:
    return hashlib.sha256(certificate_der).hexdigest()


class KeystoreEntry(models.Model):
    """One entry of a tenant's keystore, as in a Java keystore: an alias, a certificate and its private key.

    The private key is stored only sealed with the tenant's data key; the associated data binds it to this tenant,
    this entry and this certificate, so a blob moved elsewhere does not open. Aliases are unique per tenant without
    regard to case, because Java keystores (the Recording Crypto Server's) fold them to lower case.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.PROTECT, related_name="keystore_entries")
    alias = models.CharField(max_length=MAX_ALIAS_LENGTH)
    certificate_der = models.BinaryField(editable=False)
    certificate_sha256 = models.CharField(max_length=64, db_index=True, editable=False)
    sealed_private_key = models.BinaryField(editable=False)
    created = models.DateTimeField(auto_now_add=True)
    # The key drill's last outcome: when the key last opened a challenge, when it was last tried, and why that
    # try failed ("" when it passed).
    proven_at = models.DateTimeField(null=True, blank=True)
    proof_checked_at = models.DateTimeField(null=True, blank=True)
    proof_failure = models.CharField(max_length=MAX_PROOF_FAILURE_LENGTH, blank=True, default="")

    objects = KeystoreEntryQuerySet.as_manager()

    class Meta:
        ordering = ["alias"]
        constraints = [
            models.UniqueConstraint("tenant", Lower("alias"), name="keystore_alias_unique_in_tenant_nocase"),
        ]
        verbose_name_plural = "keystore entries"

    def __str__(self) -> str:
        return self.alias

    def __repr__(self) -> str:
        return f"<KeystoreEntry {self.alias} of tenant {self.tenant_id}>"

    def save(self, *args: object, **kwargs: object) -> None:
        self.certificate_sha256 = certificate_fingerprint(bytes(self.certificate_der))
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class ReauthAttempts(models.Model):
    """Passwords re-entered in one session since the last correct one, counted in the database: every request reads
    the session once and saves it at its end, so parallel requests counting in the session would each see the count
    before the others' attempts (see ``keystore.reauth``)."""

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    session_digest = models.CharField(max_length=64)  # SHA-256 of the session key: the key itself signs a user in
    attempts = models.PositiveIntegerField(default=0)
    updated = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "session_digest"], name="keystore_reauth_one_row_per_session")
        ]

    def __str__(self) -> str:
        return f"{self.attempts} attempts by user {self.user_id}"
