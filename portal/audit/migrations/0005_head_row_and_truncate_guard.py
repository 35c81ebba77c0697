"""The audit head exists from the start, and on PostgreSQL the database guards it and refuses TRUNCATE.

- The head row (count and newest hash) is created here rather than by the first append, so a log without a head is
  always one whose head was deleted, never a new one; ``verify`` relies on it.
- The head's count only goes up, by one per append, and the row cannot be deleted: emptying the log behind the
  application's back leaves the count saying how many entries there were.
- TRUNCATE of either table is refused, like UPDATE and DELETE of entries. The one exception is for the table's owner
  with the session setting ``portal.audit_allow_truncate`` on: only the test settings set it, because Django's test
  runner empties every table with TRUNCATE between tests. It gives nothing the owner does not already have (the owner
  can disable triggers), so the application's own role, which should not own the tables, can never truncate, and a
  ``manage.py flush`` run by mistake in production is refused.
"""

from django.db import migrations

HEAD_FUNCTION = "audit_head_count_only_grows"
TRUNCATE_FUNCTION = "audit_refuse_truncate"
ALLOW_TRUNCATE_SETTING = "portal.audit_allow_truncate"


def create_head(apps, schema_editor):
    AuditHead = apps.get_model("audit", "AuditHead")
    AuditEntry = apps.get_model("audit", "AuditEntry")
    if not AuditHead.objects.filter(pk=1).exists() and not AuditEntry.objects.exists():
        AuditHead.objects.create(pk=1)


def remove_empty_head(apps, schema_editor):
    apps.get_model("audit", "AuditHead").objects.filter(pk=1, count=0).delete()


def _tables(apps, schema_editor):
    return [schema_editor.quote_name(apps.get_model("audit", name)._meta.db_table) for name in ("AuditEntry", "AuditHead")]


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    entries, head = _tables(apps, schema_editor)
    schema_editor.execute(
        f"""
        CREATE OR REPLACE FUNCTION {HEAD_FUNCTION}() RETURNS trigger AS $$
        BEGIN
            IF TG_OP = 'UPDATE' AND NEW.id = OLD.id AND NEW.count = OLD.count + 1 THEN
                RETURN NEW;
            END IF;
            RAISE EXCEPTION 'the audit head only counts appends: % refused', TG_OP;
        END;
        $$ LANGUAGE plpgsql;
        """,
        None,
    )
    schema_editor.execute(
        f"""
        CREATE OR REPLACE FUNCTION {TRUNCATE_FUNCTION}() RETURNS trigger AS $$
        BEGIN
            IF current_setting('{ALLOW_TRUNCATE_SETTING}', true) = 'on'
               AND pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'USAGE') THEN
                RETURN NULL;
            END IF;
            RAISE EXCEPTION 'audit entries are append-only: TRUNCATE of % refused', TG_TABLE_NAME;
        END;
        $$ LANGUAGE plpgsql;
        """,
        None,
    )
    schema_editor.execute(
        f"CREATE TRIGGER {HEAD_FUNCTION} BEFORE UPDATE OR DELETE ON {head} "
        f"FOR EACH ROW EXECUTE FUNCTION {HEAD_FUNCTION}();"
    )
    for table in (entries, head):
        schema_editor.execute(
            f"CREATE TRIGGER {TRUNCATE_FUNCTION} BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {TRUNCATE_FUNCTION}();"
        )


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    entries, head = _tables(apps, schema_editor)
    schema_editor.execute(f"DROP TRIGGER IF EXISTS {HEAD_FUNCTION} ON {head};")
    for table in (entries, head):
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TRUNCATE_FUNCTION} ON {table};")
    schema_editor.execute(f"DROP FUNCTION IF EXISTS {HEAD_FUNCTION}();")
    schema_editor.execute(f"DROP FUNCTION IF EXISTS {TRUNCATE_FUNCTION}();")


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_hash_version")]

    operations = [
        migrations.RunPython(create_head, remove_empty_head, elidable=False),
        migrations.RunPython(create_triggers, drop_triggers, elidable=False),
    ]
