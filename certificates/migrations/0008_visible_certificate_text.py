"""Names stored before the parser wrote text-direction and C1 control characters as escapes get them escaped now, as
the parser writes them today (it already escaped C0 controls, and escaping is idempotent: escapes are plain ASCII).
Issuer and subject DNs change alike, so a certificate still finds its root CA by DN."""

from django.db import migrations

from portal.web.text import visible

BATCH = 1000
TEXT_FIELDS = {
    "Certificate": ("subject_name", "subject_dn", "issuer_dn", "chain_reason"),
    "RootCA": ("subject_name", "subject_dn"),
}
LIMITS = {"subject_name": 300, "chain_reason": 500}


def escape_stored_text(apps, schema_editor):
    for model_name, fields in TEXT_FIELDS.items():
        model = apps.get_model("certificates", model_name)
        changed = []
        for row in model.objects.only("pk", *fields).iterator(chunk_size=BATCH):
            before = [getattr(row, name) for name in fields]
            for name in fields:
                escaped = visible(getattr(row, name))
                setattr(row, name, escaped[: LIMITS[name]] if name in LIMITS else escaped)
            if [getattr(row, name) for name in fields] != before:
                changed.append(row)
            if len(changed) == BATCH:
                model.objects.bulk_update(changed, fields)
                changed = []
        if changed:
            model.objects.bulk_update(changed, fields)


class Migration(migrations.Migration):
    dependencies = [
        ("certificates", "0007_models_move_to_ivr_and_expiry"),
    ]

    operations = [
        migrations.RunPython(escape_stored_text, migrations.RunPython.noop),
    ]
