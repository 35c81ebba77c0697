"""An existing database upgrades without losing or changing a row, and the models and migrations agree.

IVR profiles, assignments and assignment requests moved from ``certificates`` to ``ivr``, and expiry notifications to
``expiry``, keeping their tables. The test builds a database as it stood before the move, fills every table of the
portal's apps through the models of that time, migrates to just after the move, and compares every table row by row.
Later migrations are not part of the comparison (they may add tables and columns on purpose); the database ends at
the latest state as every other test expects.
"""

import hashlib
import io
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.apps.registry import Apps
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from certificates.x509.parsing import parse_certificate, parse_root_ca
from portal.audit.models import AuditEntry as CurrentAuditEntry
from portal.audit.verify import verify_chain
from tests.certificates import pki

PORTAL_APPS = ("accounts", "audit", "keystore", "certificates", "ivr", "screenrecording", "expiry")
# The portal's migrations just before the move; None: the app had none yet.
BEFORE_THE_MOVE = {
    "accounts": "0001_initial",
    "audit": "0003_tenant_action_index",
    "keystore": "0002_certificate_fingerprint_alias_nocase",
    "certificates": "0006_certificate_revision",
    "screenrecording": "0001_screen_recording_certificates",
    "ivr": None,
    "expiry": None,
    "lkm": None,
}
# The same apps just after the move.
AFTER_THE_MOVE = {
    **BEFORE_THE_MOVE,
    "certificates": "0007_models_move_to_ivr_and_expiry",
    "ivr": "0001_initial",
    "expiry": "0001_initial",
}
# Each moved model and the app that holds it after the move.
MOVED = {"IvrProfile": "ivr", "IvrAssignment": "ivr", "AssignmentRequest": "ivr", "ExpiryNotification": "expiry"}
NOW = datetime(2027, 3, 15, 12, 0, 0, 123456, tzinfo=UTC)

Snapshot = dict[str, tuple[list[str], list[tuple[Any, ...]]]]  # table: (columns, rows ordered by primary key)


def latest() -> list[tuple[str, str]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def portal_at(state: dict[str, str | None]) -> list[tuple[str, str | None]]:
    """The portal's apps at ``state``; Django's own apps (and other third-party ones) at their latest."""
    others = [node for node in latest() if node[0] not in state]
    return [*state.items(), *others]


def before_the_move() -> list[tuple[str, str | None]]:
    return portal_at(BEFORE_THE_MOVE)


def after_the_move() -> list[tuple[str, str | None]]:
    return portal_at(AFTER_THE_MOVE)


def applied_nodes(targets: Sequence[tuple[str, str | None]]) -> list[tuple[str, str]]:
    """The migration nodes of ``targets``, leaving out the apps at zero (None)."""
    return [(app, name) for app, name in targets if name is not None]


def migrate(targets: Sequence[tuple[str, str | None]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection)  # a fresh loader sees what is applied now


def plain(value: Any) -> Any:
    return bytes(value) if isinstance(value, memoryview) else value


def snapshot() -> Snapshot:
    """Every table but Django's migration record: its columns and all its rows, ordered by primary key."""
    tables: Snapshot = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            if table == "django_migrations":
                continue
            quoted = connection.ops.quote_name(table)
            key = connection.introspection.get_primary_key_columns(cursor, table) or []
            order = ", ".join(connection.ops.quote_name(column) for column in key) or "1"
            cursor.execute(f"SELECT * FROM {quoted} ORDER BY {order}")
            columns = [column[0] for column in cursor.description]
            tables[table] = (columns, [tuple(plain(value) for value in row) for row in cursor.fetchall()])
    return tables


def differences(before: Snapshot, after: Snapshot) -> Iterator[str]:
    for table in sorted(before.keys() - after.keys()):
        yield f"table {table} is gone"
    for table in sorted(after.keys() - before.keys()):
        yield f"table {table} is new"
    for table in sorted(before.keys() & after.keys()):
        (columns_before, rows_before), (columns_after, rows_after) = before[table], after[table]
        if columns_before != columns_after:
            yield f"table {table}: columns {columns_before} became {columns_after}"
        elif rows_before != rows_after:
            lost = [row for row in rows_before if row not in rows_after]
            gained = [row for row in rows_after if row not in rows_before]
            yield f"table {table}: rows differ; before only: {lost}; after only: {gained}"


def portal_tables(apps: Apps) -> set[str]:
    """The tables of the portal's apps, many-to-many tables included."""
    return {
        model._meta.db_table
        for model in apps.get_models(include_auto_created=True)
        if model._meta.app_label in PORTAL_APPS
    }


def field_values(rows: Any) -> list[dict[str, Any]]:
    """Each row's stored values (foreign keys as ids), ordered by primary key."""
    return [
        {field.attname: plain(getattr(row, field.attname)) for field in row._meta.concrete_fields}
        for row in sorted(rows, key=lambda row: str(row.pk))
    ]


def chain(AuditEntry: Any, AuditHead: Any, entries: list[dict[str, Any]]) -> None:
    """Audit entries hashed as portal.audit.log.record hashed them then (today's model computes the hash the first
    way, version 1; the historical one writes the row), so the upgraded trail can be verified."""
    previous = "0" * 64
    for index, fields in enumerate(entries):
        values = {"created": NOW + timedelta(seconds=index), "prev_hash": previous, **fields}
        hashed = {name: value for name, value in values.items() if name not in ("actor", "tenant")}  # ids aren't hashed
        values["entry_hash"] = CurrentAuditEntry(hash_version=1, **hashed).compute_hash()
        AuditEntry.objects.create(**values)
        previous = values["entry_hash"]
    AuditHead.objects.create(pk=1, last_hash=previous, count=len(entries))


def fill(apps: Apps) -> None:
    """At least one row in every table of the portal's apps, written through the models of that time."""

    def model(label: str) -> Any:
        return apps.get_model(label)

    acme = model("accounts.Tenant").objects.create(slug="acme", name="Acme Contact Center")
    globex = model("accounts.Tenant").objects.create(slug="globex", name="Globex Corporation")
    User = model("accounts.User")
    alice = User.objects.create(username="alice", role="tenant-admin", email="alice@example.com", password="!")
    pat = User.objects.create(username="pat", role="professional", password="!", last_login=NOW)
    alice.tenants.add(acme)
    pat.tenants.add(acme, globex)
    auditors = model("auth.Group").objects.create(name="auditors")
    pat.groups.add(auditors)
    pat.user_permissions.add(model("auth.Permission").objects.order_by("pk").first())

    for tenant, wrapped in ((acme, b"\x00wrapped acme\xff"), (globex, b"\x00wrapped globex\xff")):
        model("keystore.TenantKey").objects.create(
            tenant=tenant, wrapped_key=wrapped, master_key_id="k1", rewrapped=NOW
        )
    root_cert, root_key = pki.make_ca("Acme Root CA")
    root = parse_root_ca(pki.der(root_cert))
    model("certificates.RootCA").objects.create(
        tenant=acme,
        subject_dn=root.subject_dn,
        subject_name=root.subject_name,
        der=root.der,
        sha256_fingerprint=root.sha256_fingerprint,
        not_valid_after=root.not_valid_after,
        added_by=alice,
    )
    issued, _ = pki.issue(root_cert, root_key, "Acme Recording", key=pki.make_key(2048, 2))
    own, _ = pki.make_self_signed(pki.make_key(2048, 0), "Globex Recording")
    certificates = {}
    for tenant, alias, cert, archived in ((acme, "acme-rec", issued, None), (globex, "globex-rec", own, NOW)):
        parsed = parse_certificate(pki.der(cert))
        entry = model("keystore.KeystoreEntry").objects.create(
            tenant=tenant,
            alias=alias,
            certificate_der=parsed.der,
            certificate_sha256=hashlib.sha256(parsed.der).hexdigest(),
            sealed_private_key=b"\x01sealed: not a real envelope\x00\xff" + alias.encode(),
        )
        certificates[alias] = model("certificates.Certificate").objects.create(
            tenant=tenant,
            entry=entry,
            subject_name=parsed.subject_name,
            serial_number=str(parsed.serial_number),
            serial_hex=parsed.serial_hex,
            subject_dn=parsed.subject_dn,
            issuer_dn=parsed.issuer_dn,
            not_valid_before=parsed.not_valid_before,
            not_valid_after=parsed.not_valid_after,
            sha256_fingerprint=parsed.sha256_fingerprint,
            key_size=parsed.key_size,
            signature_algorithm=parsed.signature_algorithm,
            is_self_signed=parsed.is_self_signed,
            chain_ok=True,
            chain_reason="",
            uploaded_by=alice,
            archived_at=archived,
            archived_by=alice if archived else None,
        )
    acme_cert, globex_cert = certificates["acme-rec"], certificates["globex-rec"]

    IvrProfile = model("certificates.IvrProfile")
    record = IvrProfile.objects.create(tenant=acme, name="record", dbid=101, description="Voice recordings")
    IvrProfile.objects.create(tenant=acme, name="Record-EU", dbid=102)
    globex_record = IvrProfile.objects.create(tenant=globex, name="record", dbid=7)
    model("certificates.IvrAssignment").objects.create(
        tenant=acme, profile=record, certificate=acme_cert, assigned_by=pat
    )
    AssignmentRequest = model("certificates.AssignmentRequest")
    AssignmentRequest.objects.create(
        tenant=acme,
        profile=record,
        certificate=acme_cert,
        certificate_alias="acme-rec",
        comment="Please assign",
        status="fulfilled",
        requested_by=alice,
        decided_by=pat,
        decided_at=NOW,
        decision_comment="Done",
    )
    AssignmentRequest.objects.create(
        tenant=globex, profile=globex_record, certificate=None, certificate_alias="purged-one", status="withdrawn"
    )
    ExpiryNotification = model("certificates.ExpiryNotification")
    ExpiryNotification.objects.create(
        certificate=acme_cert, threshold_days=60, status="sent", created=NOW, sent_at=NOW, recipients="a@example.com"
    )
    ExpiryNotification.objects.create(
        certificate=acme_cert, threshold_days=30, status="failed", created=NOW, error="SMTP refused"
    )
    model("screenrecording.ScreenRecordingCertificate").objects.create(
        tenant=globex, certificate=globex_cert, added_by=alice
    )
    model("screenrecording.ScreenRecordingSettings").objects.create(
        tenant=globex, version=3, updated_by=alice, updated=NOW
    )
    model("certificates.CertificateRevision").objects.create(tenant=acme)
    chain(
        model("audit.AuditEntry"),
        model("audit.AuditHead"),
        [
            {"actor": alice, "actor_username": "alice", "action": "sign-in", "ip": "192.0.2.1"},
            {
                "actor": alice,
                "actor_username": "alice",
                "tenant": acme,
                "tenant_slug": "acme",
                "action": "certificate-uploaded",
                "object_type": "certificate",
                "object_id": str(acme_cert.pk),
                "object_repr": "acme-rec (Acme Recording)",
                "details": {"alias": "acme-rec", "nested": {"list": [1, "två"]}},
                "ip": "2001:db8::1",
            },
            {"tenant": globex, "tenant_slug": "globex", "action": "expiry-notification-failed", "details": {}},
        ],
    )


@pytest.mark.django_db(transaction=True)
def test_upgrading_a_database_from_before_the_move_keeps_every_row() -> None:
    try:
        executor = migrate(before_the_move())
        assert {("ivr", "0001_initial"), ("certificates", "0007_models_move_to_ivr_and_expiry")}.isdisjoint(
            executor.loader.applied_migrations
        )
        then = executor.loader.project_state(applied_nodes(before_the_move())).apps
        fill(then)
        before = snapshot()
        empty = sorted(table for table in portal_tables(then) if not before[table][1])
        assert empty == [], f"the test leaves these tables of the portal empty: {empty}"
        moved_then = {name: field_values(then.get_model("certificates", name).objects.all()) for name in MOVED}

        executor = migrate(after_the_move())
        after = snapshot()
        changed = list(differences(before, after))
        assert changed == [], "the upgrade changed data:\n" + "\n".join(changed)
        now = executor.loader.project_state(applied_nodes(after_the_move())).apps
        for name, app in MOVED.items():
            moved = field_values(now.get_model(app, name).objects.all())
            assert moved == moved_then[name], f"{name} reads back differently from {app}"
        assert now.get_model("ivr", "IvrAssignment").objects.get().profile.name == "record"
        migrate(latest())
        report = verify_chain()  # the entries written before hash version 2 keep verifying, none rewritten
        assert report.ok and report.checked == report.version_1 == 3
    finally:
        migrate(latest())  # other tests reuse this database


@pytest.mark.django_db
def test_every_model_change_has_its_migration() -> None:
    out = io.StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit:
        pytest.fail("models differ from their migrations; run makemigrations:\n" + out.getvalue())
    assert "No changes detected" in out.getvalue()


def test_snapshot_comparison_names_the_table_whose_rows_differ() -> None:
    before: Snapshot = {"certificates_ivrprofile": (["id", "name"], [(1, "record")]), "kept": (["id"], [(1,)])}
    after: Snapshot = {"certificates_ivrprofile": (["id", "name"], [(1, "Record")]), "kept": (["id"], [(1,)])}
    assert list(differences(before, after)) == [
        "table certificates_ivrprofile: rows differ; before only: [(1, 'record')]; after only: [(1, 'Record')]"
    ]
    assert list(differences(before, {"kept": (["id"], [(1,)])})) == ["table certificates_ivrprofile is gone"]
    assert list(differences(before, before)) == []
