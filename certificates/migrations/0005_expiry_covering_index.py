"""An index for the expiry dashboards, on PostgreSQL: active certificates by tenant and end of validity, carrying
the start of validity and the id. The dashboards' grouped count then reads this index alone (an index-only scan)
instead of every wide certificate row, and a tenant's list sorted by expiry reads it in order.

Made with SQL rather than in the model's Meta: a partial index with INCLUDE columns is PostgreSQL's, and SQLite
(development and quick tests) does well without it."""

from django.db import migrations

INDEX = "certificate_active_expiry_idx"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name(apps.get_model("certificates", "Certificate")._meta.db_table)
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON {table} (tenant_id, not_valid_after) "
        "INCLUDE (not_valid_before, id) WHERE archived_at IS NULL"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("certificates", "0004_expirynotification")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
