import hashlib

import django.db.models.functions.text
from django.db import migrations, models


def fill_fingerprints(apps, schema_editor):
    KeystoreEntry = apps.get_model("keystore", "KeystoreEntry")
    for entry in KeystoreEntry.objects.all().only("pk", "certificate_der"):
        fingerprint = hashlib.sha256(bytes(entry.certificate_der)).hexdigest()
        KeystoreEntry.objects.filter(pk=entry.pk).update(certificate_sha256=fingerprint)


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0001_initial"),
        ("keystore", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="keystoreentry",
            name="certificate_sha256",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.RunPython(fill_fingerprints, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="keystoreentry",
            name="certificate_sha256",
            field=models.CharField(db_index=True, editable=False, max_length=64),
        ),
        migrations.RemoveConstraint(
            model_name="keystoreentry",
            name="keystore_alias_unique_in_tenant",
        ),
        migrations.AddConstraint(
            model_name="keystoreentry",
            constraint=models.UniqueConstraint(
                models.F("tenant"),
                django.db.models.functions.text.Lower("alias"),
                name="keystore_alias_unique_in_tenant_nocase",
            ),
        ),
    ]
