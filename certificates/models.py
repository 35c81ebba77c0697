"""Recording certificates, the tenant's trusted root CAs, and the revision version of each tenant's certificates.

A recording certificate is the public half of a keystore entry: the keystore holds the alias, the certificate DER and
the sealed private key; this model holds what the portal shows and filters on (names, serial, validity, fingerprint,
chain result), read once by the parser at upload. The DER is not copied here: downloads and the details page read it
from the entry, which every query that needs it loads with ``select_related("entry")``.
"""

import uuid
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any, TypeVar

from django.conf import settings
from django.db import models, transaction
from django.db.models.expressions import Col
from django.db.models.lookups import Exact
from django.db.models.sql.where import AND
from django.utils import timezone

from . import events
from . import status as rules

_Watched = TypeVar("_Watched", bound=models.Model)
_TENANT_ID = "tenant_id"  # every watched model's foreign key to its tenant


class WatchedQuerySet(models.QuerySet[_Watched]):
    """The queryset of a model whose rows are part of a tenant's certificates or their assignments (the models
    ``revisions.watch`` counts; each has a ``tenant`` foreign key).

    Saves and deletes of single rows announce themselves through signals (deletes of a queryset too: with receivers
    connected, Django deletes row by row). The bulk writes here send no signals, so they replace the revision version
    of every tenant whose rows they write themselves, in the same transaction: ``update``, ``bulk_create`` and
    ``bulk_update`` (which Django runs through ``update``), and their async twins, which call them.
    """

    def update(self, **kwargs: Any) -> int:
        self._refuse_moves(kwargs)
        with transaction.atomic(using=self.db, savepoint=False):
            tenant = self._filtered_tenant()
            if tenant is not None:
                tenants, rows = [tenant], self
            else:
                tenants = list(self.order_by().values_list(_TENANT_ID, flat=True).distinct())
                # Only rows of the tenants just read: a row of another tenant committed since is left as it was,
                # rather than changed without its tenant's version changing.
                rows = self.filter(tenant_id__in=tenants)
            count = super(WatchedQuerySet, rows).update(**kwargs)
            if count:
                CertificateRevision.objects.using(self.db).replace(tenants)
        return count

    def bulk_create(
        self,
        objs: Iterable[_Watched],
        batch_size: int | None = None,
        ignore_conflicts: bool = False,
        update_conflicts: bool = False,
        update_fields: Collection[str] | None = None,
        unique_fields: Collection[str] | None = None,
    ) -> list[_Watched]:
        with transaction.atomic(using=self.db, savepoint=False):
            created = super().bulk_create(
                objs, batch_size, ignore_conflicts, update_conflicts, update_fields, unique_fields
            )
            CertificateRevision.objects.using(self.db).replace(getattr(row, _TENANT_ID) for row in created)
        return created

    def bulk_update(self, objs: Iterable[_Watched], fields: Iterable[str], batch_size: int | None = None) -> int:
        fields = list(fields)
        self._refuse_moves(fields)  # before Django's transaction, which a refusal inside would spoil for the caller
        return super().bulk_update(objs, fields, batch_size)  # one update() per batch, which announces it

    def _refuse_moves(self, fields: Iterable[str]) -> None:
        # Announcing a move would take the tenants the rows leave as well as those they join; rows never move.
        if {"tenant", _TENANT_ID} & set(fields):
            raise ValueError(f"{self.model._meta.label} rows stay with their tenant: bulk writes do not move them")

    def _filtered_tenant(self) -> Any:
        """The tenant id this queryset is filtered on with ``tenant=`` at its top level, else None: then its rows
        are that tenant's alone, and no query is needed to find whose they are."""
        where = self.query.where
        if where.connector != AND or where.negated:
            return None
        field = self.model._meta.get_field("tenant")
        for condition in where.children:
            if (
                isinstance(condition, Exact)
                and isinstance(condition.lhs, Col)
                and condition.lhs.target is field
                and condition.lhs.alias == self.query.base_table
                and not hasattr(condition.rhs, "resolve_expression")
            ):
                return condition.rhs
        return None


class CertificateQuerySet(WatchedQuerySet["Certificate"]):
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
    # The certificate this one renews (made as its successor); the predecessor stays for playback.
    renews = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="successors")

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

    def audit_details(self) -> dict[str, Any]:
        """What every audit entry about this certificate says of it: enough to tell it apart after a purge."""
        return {
            "alias": self.alias,
            "subject": self.subject_dn,
            "serial": self.serial_number,
            "fingerprint": self.sha256_fingerprint,
        }

    @property
    def current_status(self) -> str:
        return self.status()

    @property
    def current_status_label(self) -> str:
        return self.status_label()


class CertificateRequest(models.Model):
    """A key generated in the keystore that waits for a CA to sign its request ("Waiting for certificate").

    Its keystore entry holds the key beside a placeholder self-signed certificate (see ``requests``); the request
    and the public key's hash, which a CA's reply is matched by, are kept here. When the CA's certificate is
    imported, the entry takes it, a Certificate row is made and this row goes.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.PROTECT, related_name="certificate_requests")
    entry = models.OneToOneField("keystore.KeystoreEntry", on_delete=models.PROTECT, related_name="waiting")
    subject_dn = models.TextField()
    subject_name = models.CharField(max_length=300)
    key_size = models.PositiveIntegerField()
    csr_der = models.BinaryField(editable=False)
    public_key_sha256 = models.CharField(max_length=64, db_index=True)  # hex SHA-256 of the SubjectPublicKeyInfo
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    # A renewal's: the certificate the reply will succeed, and what to do then (names of ``followups``).
    renews = models.ForeignKey(
        Certificate, null=True, blank=True, on_delete=models.SET_NULL, related_name="waiting_successors"
    )
    follow_ups = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["created"]
        verbose_name = "key waiting for a certificate"
        verbose_name_plural = "keys waiting for a certificate"

    def __str__(self) -> str:
        return f"{self.alias} (waiting for a certificate)"

    @property
    def alias(self) -> str:
        return self.entry.alias


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


# Tenants whose announcement waits for the end of ``announcing_once``; None outside one.
_announce_later: ContextVar[set[uuid.UUID] | None] = ContextVar("announce_later", default=None)


@contextmanager
def announcing_once() -> Iterator[None]:
    """Inside the caller's transaction: the writes inside still replace their tenants' versions as they go, but
    ``certificates_changed`` is sent once for all of their tenants when the block ends without an error. Each
    announcement recounts a tenant's summaries, so a write of many certificates (a restore) would otherwise recount
    its tenant once per certificate."""
    if _announce_later.get() is not None:  # already inside one: the outer block announces
        yield
        return
    tenants: set[uuid.UUID] = set()
    token = _announce_later.set(tenants)
    try:
        yield
    finally:
        _announce_later.reset(token)
    if tenants:
        events.certificates_changed.send(CertificateRevision, tenant_ids=sorted(tenants))


class CertificateRevisionQuerySet(models.QuerySet["CertificateRevision"]):
    def replace(self, tenant_ids: Iterable[Any], *, announce: bool = True) -> None:
        """Give each of these tenants a new version, in one statement that also makes the rows tenants lack yet,
        then (unless ``announce`` is false) send ``events.certificates_changed`` for them: at once, or at the end of
        the ``announcing_once`` block this runs in.

        The tenants of one write share the new version: a cache key always pairs a version with its tenant. Rows are
        written in tenant order, so two such statements lock them in the same order rather than deadlock.
        """
        version = uuid.uuid4()
        tenants = sorted({uuid.UUID(str(tenant)) for tenant in tenant_ids})  # one spelling of each tenant's id
        rows = [CertificateRevision(tenant_id=tenant, version=version) for tenant in tenants]
        if rows:
            with transaction.atomic(using=self.db, savepoint=False):
                CertificateRevision.objects.using(self.db).bulk_create(
                    rows, update_conflicts=True, unique_fields=["tenant"], update_fields=["version"]
                )
                later = _announce_later.get()
                if announce and later is not None:
                    later.update(tenants)
                elif announce:
                    events.certificates_changed.send(CertificateRevision, tenant_ids=tenants)


class CertificateRevision(models.Model):
    """A version per tenant, replaced whenever the tenant's certificates or their assignments change.

    Summaries computed from those rows (the expiry dashboard's counts and chart) are cached under the versions they were
    computed from, so any change makes them stale at once. A version is a random UUID rather than a counter: a value
    is never seen twice for a tenant, even after a rolled-back transaction or a deleted tenant, so a stale summary can
    never be mistaken for a current one.
    """

    tenant = models.OneToOneField("accounts.Tenant", primary_key=True, on_delete=models.CASCADE, related_name="+")
    version = models.UUIDField(default=uuid.uuid4)

    objects = CertificateRevisionQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.tenant_id}: {self.version}"
