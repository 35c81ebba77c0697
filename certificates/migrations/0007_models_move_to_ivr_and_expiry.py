"""IVR profiles, assignments and assignment requests now belong to the ``ivr`` app (ivr 0001), expiry notifications
to the ``expiry`` app (expiry 0001). Their tables stay as they are, rows included: only Django's model state changes
here."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('certificates', '0006_certificate_revision'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name='AssignmentRequest'),
                migrations.DeleteModel(name='IvrAssignment'),
                migrations.DeleteModel(name='IvrProfile'),
                migrations.DeleteModel(name='ExpiryNotification'),
            ],
            database_operations=[],
        ),
    ]
