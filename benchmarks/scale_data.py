"""The scale benchmark's data: tenants with their certificates and a chained audit trail, written in bulk.

On PostgreSQL the rows go in with COPY, streamed a slice of tenants at a time, so a thousand tenants of 200
certificates and a million audit entries take minutes rather than an hour; elsewhere (SQLite, for the in-process
benchmarks) with ``bulk_create``. Either way the rows bypass the application's write hooks: the certificate
revisions are replaced here as ``bulk_create`` would, and the caller rebuilds whatever summaries the application keeps.

Load-only placeholders: the keystore entries carry the certificate bytes of one real certificate and a dummy sealed
key, because the pages measured never read either (they list what the certificate rows hold). Fingerprints and
serials are unique per row, so indexes and constraints see realistic data.
"""

import hashlib
import inspect
import random
import secrets
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from common import log, self_signed_der
from django.db.models import (
    AutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    DateTimeField,
    IntegerField,
    PositiveIntegerField,
    PositiveSmallIntegerField,
    TextField,
    UUIDField,
)

TENANTS = 100
PER_TENANT = 200
AUDIT_ENTRIES = 100_000
CONNECTIONS = 10
SESSIONS_PER_USER = 10  # one per connection, so no two requests wait on the same session row
TENANTS_PER_SLICE = 50  # certificates built and written for this many tenants at a time: bounded memory
SQLITE_BATCH = 5000
PLAIN_FIELDS = {
    BigIntegerField,
    BooleanField,
    CharField,
    DateTimeField,
    IntegerField,
    PositiveIntegerField,
    PositiveSmallIntegerField,
    TextField,
    UUIDField,
}
ACTIONS = [
    "certificate-uploaded",
    "certificate-archived",
    "certificate-restored",
    "ivr-assigned",
    "ivr-unassigned",
    "ivr-profile-created",
    "assignment-requested",
    "screen-recording-saved",
    "rootca-added",
    "rootca-removed",
    "keystore-exported",
    "sign-in",
    "sign-out",
    "sign-in-failed",
    "expiry-notification-sent",
]


def tenant_slug(index: int) -> str:
    return f"tenant-{index:03d}"


def write_rows(model: Any, rows: Iterable[Any]) -> int:
    """Insert model instances as ``save`` would write them (``pre_save``, then the field's database value), with COPY
    on PostgreSQL; returns how many. An auto-incremented primary key is left to the database."""
    from django.db import DEFAULT_DB_ALIAS, connections

    connection = connections[DEFAULT_DB_ALIAS]  # the connection itself: the proxy's attribute lookups add up here
    if connection.vendor != "postgresql":
        count, batch = 0, []
        for row in rows:
            batch.append(row)
            if len(batch) == SQLITE_BATCH:
                count += len(model.objects.bulk_create(batch))
                batch = []
        return count + len(model.objects.bulk_create(batch))
    fields = [field for field in model._meta.concrete_fields if not isinstance(field, AutoField)]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    prepared = [not passes_as_is(field) for field in fields]
    count = 0
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            values = [field.pre_save(row, True) for field in fields]
            copy.write_row(
                [
                    field.get_db_prep_save(value, connection) if prepare else value
                    for field, value, prepare in zip(fields, values, prepared, strict=True)
                ]
            )
            count += 1
    return count


def passes_as_is(field: Any) -> bool:
    """Whether psycopg takes this field's Python value as the database value (most of the time of a million rows
    went into Django's preparation of values that need none)."""
    if field.is_relation:
        field = field.target_field
    return type(field) in PLAIN_FIELDS


def seed(
    rng: random.Random, *, tenant_count: int = TENANTS, per_tenant: int = PER_TENANT, audit_entries: int = AUDIT_ENTRIES
) -> dict[str, object]:
    """The data, at the scale benchmark's default size unless told; smaller sizes serve the in-process benchmarks."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection

    from certificates.models import Certificate, CertificateRevision
    from ivr.models import IvrAssignment, IvrProfile
    from keystore.api import KeystoreEntry
    from portal.accounts.models import Role, Tenant, User
    from screenrecording.models import ScreenRecordingCertificate

    now = datetime.now(UTC)
    started = time.perf_counter()
    tenants = Tenant.objects.bulk_create(
        [Tenant(slug=tenant_slug(i), name=f"Contact Center {i:03d}") for i in range(tenant_count)], batch_size=1000
    )
    password = make_password(secrets.token_urlsafe(16))
    support = User.objects.create(username="bench-support", role=Role.SUPPORT, password=password)
    admin = User.objects.create(
        username="bench-admin", role=Role.TENANT_ADMIN, password=password, email="admin@example.com"
    )
    admin.tenants.set([tenants[0]])
    profiles = IvrProfile.objects.bulk_create(
        [IvrProfile(tenant=t, name="record", dbid=100 + i) for i, t in enumerate(tenants)], batch_size=1000
    )

    der = self_signed_der()
    counts = {"certificates": 0, "assignments": 0, "screen": 0}
    for first in range(0, tenant_count, TENANTS_PER_SLICE):
        slice_ = range(first, min(first + TENANTS_PER_SLICE, tenant_count))
        entries, certificates = tenant_certificates(rng, [(i, tenants[i]) for i in slice_], per_tenant, der, now)
        write_rows(KeystoreEntry, entries)
        counts["certificates"] += write_rows(Certificate, certificates)
        assignments, screen = [], []
        for index, cert in enumerate(certificates, start=first * per_tenant):
            if index % 9 == 0:
                assignments.append(
                    IvrAssignment(tenant_id=cert.tenant_id, profile=profiles[index // per_tenant], certificate=cert)
                )
            elif index % 13 == 0:
                screen.append(ScreenRecordingCertificate(tenant_id=cert.tenant_id, certificate=cert))
        counts["assignments"] += write_rows(IvrAssignment, assignments)
        counts["screen"] += write_rows(ScreenRecordingCertificate, screen)
    # What bulk_create does for the watched models: every tenant written gets a new revision version. Where the
    # application lets the announcement of the change be left out, it is: the caller rebuilds the summaries that
    # announcement would update, once for all tenants.
    replace = CertificateRevision.objects.replace
    quiet = {"announce": False} if "announce" in inspect.signature(replace).parameters else {}
    replace((t.pk for t in tenants), **quiet)
    log(
        f"  {counts['certificates']:,} certificates in {len(tenants):,} tenants, {counts['assignments']:,} in IVR "
        f"profiles, {counts['screen']:,} for screen recording ({time.perf_counter() - started:.1f} s)"
    )

    started = time.perf_counter()
    last_hash = seed_audit(rng, tenants, [support, admin], now, audit_entries)
    log(f"  {audit_entries:,} audit entries, chained ({time.perf_counter() - started:.1f} s)")
    started = time.perf_counter()
    statement = "VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE"
    with connection.cursor() as cursor:
        # As autovacuum leaves a table at rest: statistics, and the visibility map that index-only scans rely on.
        cursor.execute(statement)
    log(f"  {statement} ({time.perf_counter() - started:.1f} s)")
    return {"tenant": tenants[0].slug, "support": support, "admin": admin, "last_hash": last_hash}


def tenant_certificates(
    rng: random.Random, tenants: list[tuple[int, Any]], per_tenant: int, der: bytes, now: datetime
) -> tuple[list[Any], list[Any]]:
    """Keystore entries and certificates for these (index, tenant) pairs: expiring from two years ago to three years
    ahead, some not yet valid, a few archived."""
    from certificates.models import Certificate
    from keystore.api import KeystoreEntry

    entries, certificates = [], []
    for t_index, tenant in tenants:
        for c_index in range(per_tenant):
            alias = f"rec-{t_index:03d}-{c_index:03d}"
            entry = KeystoreEntry(
                tenant=tenant,
                alias=alias,
                certificate_der=der,
                certificate_sha256=hashlib.sha256(alias.encode()).hexdigest(),
                sealed_private_key=b"placeholder: not a sealed key",
            )
            entries.append(entry)
            not_after = now + timedelta(days=rng.uniform(-730, 1095))
            not_before = not_after - timedelta(days=rng.choice([365, 730, 1095]))
            if rng.random() < 0.02:
                not_before = now + timedelta(days=rng.uniform(1, 60))  # not yet valid
            serial = rng.getrandbits(127)
            fingerprint = hashlib.sha256(f"{alias}-{serial}".encode()).hexdigest().upper()
            certificates.append(
                Certificate(
                    tenant=tenant,
                    entry=entry,
                    subject_name=f"Genesys Recording {alias}",
                    serial_number=str(serial),
                    serial_hex=f"{serial:X}",
                    subject_dn=f"CN=Genesys Recording {alias},C=US,ST=California,O=Genesys",
                    issuer_dn=f"CN=Genesys Recording {alias},C=US,ST=California,O=Genesys",
                    not_valid_before=not_before,
                    not_valid_after=not_after,
                    sha256_fingerprint=":".join(fingerprint[i : i + 2] for i in range(0, 64, 2)),
                    key_size=2048,
                    signature_algorithm="sha256WithRSAEncryption",
                    is_self_signed=True,
                    chain_ok=True,
                    chain_reason="",
                    archived_at=now - timedelta(days=10) if rng.random() < 0.03 else None,
                )
            )
    return entries, certificates


def existing_seed() -> dict[str, object]:
    from portal.accounts.models import User

    return {
        "tenant": tenant_slug(0),
        "support": User.objects.get(username="bench-support"),
        "admin": User.objects.get(username="bench-admin"),
    }


def seed_audit(rng: random.Random, tenants: list, users: list, now: datetime, count: int = AUDIT_ENTRIES) -> str:
    """Entries over the last year with a valid chain, built and hashed as record() would build them, inserted in
    bulk in chain order."""
    from django.db import connection, transaction

    from portal.audit.log import GENESIS_HASH
    from portal.audit.models import AuditEntry, AuditHead

    usernames = [f"user-{i:03d}" for i in range(300)]
    start = now - timedelta(days=365)
    step = timedelta(days=365) / count
    chain = {"last": GENESIS_HASH}

    def entries() -> Iterator[Any]:
        for i in range(count):
            tenant = rng.choice(tenants) if rng.random() < 0.9 else None
            entry = AuditEntry(
                created=start + step * i,
                actor_username=rng.choice(usernames),
                tenant=tenant,
                tenant_slug=tenant.slug if tenant else "",
                action=rng.choice(ACTIONS),
                object_type="certificate" if tenant else "",
                object_id=str(rng.getrandbits(64)) if tenant else "",
                object_repr=f"rec-{rng.randrange(1000):03d}" if tenant else "",
                details={"alias": f"rec-{rng.randrange(1000):03d}", "via": "portal"} if tenant else {},
                ip=f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
                prev_hash=chain["last"],
            )
            entry.entry_hash = entry.compute_hash()
            chain["last"] = entry.entry_hash
            yield entry

    write_rows(AuditEntry, entries())
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The database lets the head's count grow only by one per append; a bulk load sets it in one step, as
            # the table's owner, with triggers off for this transaction alone.
            cursor.execute("SET LOCAL session_replication_role = replica")
        AuditHead.objects.update_or_create(pk=1, defaults={"last_hash": chain["last"], "count": count})
    return chain["last"]


def sessions(user: object, count: int) -> list[str]:
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    keys = []
    for _ in range(count):
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)  # type: ignore[attr-defined]
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()  # type: ignore[attr-defined]
        store.create()
        keys.append(store.session_key)
    return keys
