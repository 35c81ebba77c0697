"""On PostgreSQL, the database itself refuses UPDATE and DELETE on audit entries, whatever code runs: the model and
queryset guards only cover the ORM. The one update let through is Django's ON DELETE SET NULL of ``actor`` when a
user is deleted: the hash covers the stored username and (since hash version 2, migration 0004) the recorded user
id, not the link, so the chain stays valid. TRUNCATE is refused too since migration 0005."""

from django.db import migrations

FUNCTION = "audit_entry_append_only"


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name(apps.get_model("audit", "AuditEntry")._meta.db_table)
    schema_editor.execute(
        f"""
        CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger AS $$
        BEGIN
            IF TG_OP = 'UPDATE' AND NEW.actor_id IS NULL
               AND (to_jsonb(NEW) - 'actor_id') = (to_jsonb(OLD) - 'actor_id') THEN
                RETURN NEW;
            END IF;
            RAISE EXCEPTION 'audit entries are append-only: % refused', TG_OP;
        END;
        $$ LANGUAGE plpgsql;
        """,
        None,  # no parameters: the % in RAISE is PL/pgSQL's, not a placeholder
    )
    schema_editor.execute(
        f"CREATE TRIGGER {FUNCTION} BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {FUNCTION}();"
    )


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name(apps.get_model("audit", "AuditEntry")._meta.db_table)
    schema_editor.execute(f"DROP TRIGGER IF EXISTS {FUNCTION} ON {table};")
    schema_editor.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}();")


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(create_trigger, drop_trigger, elidable=False)]
