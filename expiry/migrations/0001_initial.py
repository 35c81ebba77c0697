"""Expiry notifications move here from ``certificates``. The table keeps its name and rows: this migration changes
Django's model state only (the table was made by certificates 0004)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('certificates', '0006_certificate_revision'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='ExpiryNotification',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('threshold_days', models.PositiveSmallIntegerField()),
                        ('status', models.CharField(choices=[('sending', 'Sending'), ('sent', 'Sent'), ('failed', 'Failed'), ('covered', 'Covered by a more urgent mail')], max_length=10)),
                        ('created', models.DateTimeField()),
                        ('sent_at', models.DateTimeField(blank=True, null=True)),
                        ('recipients', models.TextField(blank=True)),
                        ('error', models.CharField(blank=True, max_length=300)),
                        ('certificate', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='expiry_notifications', to='certificates.certificate')),
                    ],
                    options={
                        'db_table': 'certificates_expirynotification',
                        'ordering': ['certificate', '-threshold_days'],
                        'constraints': [models.UniqueConstraint(fields=('certificate', 'threshold_days'), name='expirynotification_once')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
