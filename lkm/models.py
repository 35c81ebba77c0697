"""The Local Key Manager's records: keypairs (their private keys are keystore entries), the Hawk credentials Genesys
Cloud signs with, the nonces it has used, and each tenant's rotation schedule."""

import uuid

from django.db import models

MAX_NONCE_LENGTH = 128
MAX_NAME_LENGTH = 150


class Origin(models.TextChoices):
    GENESYS = "genesys", "Genesys Cloud"
    PORTAL = "portal", "Local Key Manager page"
    SCHEDULE = "schedule", "rotation schedule"
    IMPORT = "import", "imported from the sample Local Key Manager"
    RESTORE = "restore", "restored from a backup"


class KeypairQuerySet(models.QuerySet["Keypair"]):
    def of_tenant(self, tenant: object) -> "KeypairQuerySet":
        return self.filter(tenant=tenant)


class Keypair(models.Model):
    """A key encryption key Genesys Cloud wraps recording keys with. ``id`` is the keypairId Genesys Cloud stores
    with every recording, so it never changes. The private key is the keystore entry's; neither is ever deleted:
    recordings wrapped with a lost keypair are lost for good."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.PROTECT, related_name="lkm_keypairs")
    entry = models.OneToOneField("keystore.KeystoreEntry", on_delete=models.PROTECT, related_name="lkm_keypair")
    public_key_der = models.BinaryField(editable=False)  # bare PKCS#1 RSAPublicKey, as Genesys Cloud takes it
    date_created = models.DateTimeField()
    origin = models.CharField(max_length=16, choices=Origin)
    created_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by_name = models.CharField(max_length=MAX_NAME_LENGTH, blank=True)  # kept if the user goes
    genesys_user_id = models.CharField(max_length=MAX_NAME_LENGTH, blank=True)  # PureCloud-User-Id, when it asked
    last_used = models.DateTimeField(null=True, blank=True)
    decrypt_count = models.PositiveBigIntegerField(default=0)

    objects = KeypairQuerySet.as_manager()

    class Meta:
        ordering = ["-date_created", "id"]

    def __str__(self) -> str:
        return f"LKM keypair {self.id}"


class CredentialQuerySet(models.QuerySet["Credential"]):
    def of_tenant(self, tenant: object) -> "CredentialQuerySet":
        return self.filter(tenant=tenant)

    def active(self) -> "CredentialQuerySet":
        return self.filter(revoked__isnull=True)


class Credential(models.Model):
    """A Hawk credential: ``id`` and the auth key are what Genesys Cloud stores as apiId and apiKey. The key is kept
    only sealed by the keystore. Revoked credentials stay, for the audit trail."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.PROTECT, related_name="lkm_credentials")
    label = models.CharField(max_length=100, blank=True)
    sealed_auth_key = models.BinaryField(editable=False)
    created = models.DateTimeField(auto_now_add=True)
    created_by_name = models.CharField(max_length=MAX_NAME_LENGTH, blank=True)
    revoked = models.DateTimeField(null=True, blank=True)
    revoked_by_name = models.CharField(max_length=MAX_NAME_LENGTH, blank=True)

    objects = CredentialQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "id"]

    def __str__(self) -> str:
        return f"LKM credential {self.id}"


class Nonce(models.Model):
    """A Hawk nonce already accepted, kept in the database so that a replay is refused by every worker and node. Kept
    only as long as its request's timestamp could still be accepted."""

    credential = models.ForeignKey(Credential, on_delete=models.CASCADE, related_name="+")
    nonce = models.CharField(max_length=MAX_NONCE_LENGTH)
    seen = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["credential", "nonce"], name="lkm_nonce_once_per_credential")]

    def __str__(self) -> str:
        return self.nonce


class Period(models.TextChoices):
    """The periods of Genesys Cloud's KeyRotationSchedule."""

    DISABLED = "DISABLED", "Disabled"
    DAILY = "DAILY", "Daily"
    WEEKLY = "WEEKLY", "Weekly"
    MONTHLY = "MONTHLY", "Monthly"
    YEARLY = "YEARLY", "Yearly"


class RotationSchedule(models.Model):
    """How often a tenant gets a new keypair. ``next_due`` is claimed with a conditional update, so that the rotation
    command started on several nodes at once makes each due keypair once."""

    tenant = models.OneToOneField(
        "accounts.Tenant", primary_key=True, on_delete=models.CASCADE, related_name="lkm_rotation"
    )
    period = models.CharField(max_length=8, choices=Period, default=Period.DISABLED)
    next_due = models.DateTimeField(null=True, blank=True)
    updated = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.period} rotation of {self.tenant_id}"
