"""The scale benchmark's data: 100 tenants x 200 certificates and 100,000 chained audit entries, written in bulk.

Load-only placeholders: the keystore entries carry the certificate bytes of one real certificate and a dummy sealed
key, because the pages measured never read either (they list what the certificate rows hold).
"""

import hashlib
import random
import secrets
import time
from datetime import UTC, datetime, timedelta

from common import log, self_signed_der

TENANTS = 100
PER_TENANT = 200
AUDIT_ENTRIES = 100_000
CONNECTIONS = 10
SESSIONS_PER_USER = 10  # one per connection, so no two requests wait on the same session row
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


def seed(
    rng: random.Random, *, tenant_count: int = TENANTS, per_tenant: int = PER_TENANT, audit_entries: int = AUDIT_ENTRIES
) -> dict[str, object]:
    """The data, at the scale benchmark's size unless told; smaller sizes serve the in-process benchmarks."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection

    from certificates.models import Certificate
    from ivr.models import IvrAssignment, IvrProfile
    from keystore.api import KeystoreEntry
    from portal.accounts.models import Role, Tenant, User
    from screenrecording.models import ScreenRecordingCertificate

    now = datetime.now(UTC)
    started = time.perf_counter()
    tenants = Tenant.objects.bulk_create(
        [Tenant(slug=f"tenant-{i:03d}", name=f"Contact Center {i:03d}") for i in range(tenant_count)]
    )
    password = make_password(secrets.token_urlsafe(16))
    support = User.objects.create(username="bench-support", role=Role.SUPPORT, password=password)
    admin = User.objects.create(
        username="bench-admin", role=Role.TENANT_ADMIN, password=password, email="admin@example.com"
    )
    admin.tenants.set([tenants[0]])
    profiles = IvrProfile.objects.bulk_create(
        [IvrProfile(tenant=t, name="record", dbid=100 + i) for i, t in enumerate(tenants)]
    )

    der = self_signed_der()
    entries: list[KeystoreEntry] = []
    certificates: list[Certificate] = []
    for t_index, tenant in enumerate(tenants):
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
    KeystoreEntry.objects.bulk_create(entries, batch_size=2000)
    Certificate.objects.bulk_create(certificates, batch_size=2000)
    assignments, screen = [], []
    for index, cert in enumerate(certificates):
        if index % 9 == 0:
            assignments.append(
                IvrAssignment(tenant_id=cert.tenant_id, profile=profiles[index // per_tenant], certificate=cert)
            )
        elif index % 13 == 0:
            screen.append(ScreenRecordingCertificate(tenant_id=cert.tenant_id, certificate=cert))
    IvrAssignment.objects.bulk_create(assignments, batch_size=2000)
    ScreenRecordingCertificate.objects.bulk_create(screen, batch_size=2000)
    log(
        f"  {len(certificates)} certificates in {len(tenants)} tenants, {len(assignments)} in IVR profiles, "
        f"{len(screen)} for screen recording ({time.perf_counter() - started:.1f} s)"
    )

    started = time.perf_counter()
    last_hash = seed_audit(rng, tenants, [support, admin], now, audit_entries)
    log(f"  {audit_entries} audit entries, chained ({time.perf_counter() - started:.1f} s)")
    with connection.cursor() as cursor:
        # As autovacuum leaves a table at rest: statistics, and the visibility map that index-only scans rely on.
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return {"tenant": tenants[0].slug, "support": support, "admin": admin, "last_hash": last_hash}


def existing_seed() -> dict[str, object]:
    from portal.accounts.models import User

    return {
        "tenant": "tenant-000",
        "support": User.objects.get(username="bench-support"),
        "admin": User.objects.get(username="bench-admin"),
    }


def seed_audit(rng: random.Random, tenants: list, users: list, now: datetime, count: int = AUDIT_ENTRIES) -> str:
    """Entries over the last year with a valid chain, built as record() would build them, inserted in bulk."""
    from django.db import connection, transaction

    from portal.audit.log import GENESIS_HASH
    from portal.audit.models import AuditEntry, AuditHead

    usernames = [f"user-{i:03d}" for i in range(300)]
    start = now - timedelta(days=365)
    step = timedelta(days=365) / count
    previous = GENESIS_HASH
    batch: list[AuditEntry] = []
    for i in range(count):
        tenant = rng.choice(tenants) if rng.random() < 0.9 else None
        action = rng.choice(ACTIONS)
        entry = AuditEntry(
            created=start + step * i,
            actor_username=rng.choice(usernames),
            tenant=tenant,
            tenant_slug=tenant.slug if tenant else "",
            action=action,
            object_type="certificate" if tenant else "",
            object_id=str(rng.getrandbits(64)) if tenant else "",
            object_repr=f"rec-{rng.randrange(1000):03d}" if tenant else "",
            details={"alias": f"rec-{rng.randrange(1000):03d}", "via": "portal"} if tenant else {},
            ip=f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
            prev_hash=previous,
        )
        entry.entry_hash = entry.compute_hash()
        previous = entry.entry_hash
        batch.append(entry)
        if len(batch) == 5000:
            AuditEntry.objects.bulk_create(batch)
            batch = []
    AuditEntry.objects.bulk_create(batch)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The database lets the head's count grow only by one per append; a bulk load sets it in one step, as
            # the table's owner, with triggers off for this transaction alone.
            cursor.execute("SET LOCAL session_replication_role = replica")
        AuditHead.objects.update_or_create(pk=1, defaults={"last_hash": previous, "count": count})
    return previous


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
