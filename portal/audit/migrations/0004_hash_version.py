"""Version 2 of the entry hash covers the tenant and user links too. Existing entries are not rewritten: they get
version 1, the formula their stored hash was made with, and keep verifying with it."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_tenant_action_index")]

    operations = [
        migrations.AddField(
            model_name="auditentry",
            name="recorded_actor_id",
            field=models.BigIntegerField(blank=True, null=True),
        ),
        # Added with 1 for the rows already there (a column default, not an UPDATE: no row is rewritten) ...
        migrations.AddField(
            model_name="auditentry",
            name="hash_version",
            field=models.PositiveSmallIntegerField(default=1),
        ),
        # ... and 2 for every entry from now on.
        migrations.AlterField(
            model_name="auditentry",
            name="hash_version",
            field=models.PositiveSmallIntegerField(default=2),
        ),
    ]
