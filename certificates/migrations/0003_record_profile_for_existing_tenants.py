from django.db import migrations
from django.db.models import Max

RECORD_DESCRIPTION = "Voice recordings. Set the DBID to the one the Configuration Server shows for this profile."


def add_record_profiles(apps, schema_editor):
    """Every tenant starts with a "record" profile; tenants made before IVR profiles existed get theirs now."""
    Tenant = apps.get_model("accounts", "Tenant")
    IvrProfile = apps.get_model("certificates", "IvrProfile")
    for tenant in Tenant.objects.all():
        profiles = IvrProfile.objects.filter(tenant=tenant)
        if profiles.filter(name__iexact="record").exists():
            continue
        dbid = (profiles.aggregate(top=Max("dbid"))["top"] or 0) + 1
        IvrProfile.objects.create(tenant=tenant, name="record", dbid=dbid, description=RECORD_DESCRIPTION)


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0001_initial"),
        ("certificates", "0002_ivr_profiles"),
    ]

    operations = [
        migrations.RunPython(add_record_profiles, migrations.RunPython.noop),
    ]
