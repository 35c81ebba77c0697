"""IVR profiles, assignments and assignment requests move here from ``certificates``. Their tables keep their names
and rows: this migration changes Django's model state only (the tables were made by certificates 0002)."""

import django.db.models.deletion
import django.db.models.functions.text
import uuid
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('accounts', '0001_initial'),
        ('certificates', '0006_certificate_revision'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='IvrProfile',
                    fields=[
                        ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ('name', models.CharField(max_length=100)),
                        ('dbid', models.PositiveIntegerField(verbose_name='DBID')),
                        ('description', models.TextField(blank=True)),
                        ('created', models.DateTimeField(auto_now_add=True)),
                        ('tenant', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='ivr_profiles', to='accounts.tenant')),
                    ],
                    options={
                        'db_table': 'certificates_ivrprofile',
                        'verbose_name': 'IVR profile',
                        'ordering': ['name', 'dbid'],
                    },
                ),
                migrations.CreateModel(
                    name='IvrAssignment',
                    fields=[
                        ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ('assigned_at', models.DateTimeField(auto_now_add=True)),
                        ('assigned_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('certificate', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='ivr_assignments', to='certificates.certificate')),
                        ('tenant', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.tenant')),
                        ('profile', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='assignments', to='ivr.ivrprofile')),
                    ],
                    options={
                        'db_table': 'certificates_ivrassignment',
                        'verbose_name': 'IVR assignment',
                        'ordering': ['assigned_at'],
                    },
                ),
                migrations.CreateModel(
                    name='AssignmentRequest',
                    fields=[
                        ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ('certificate_alias', models.CharField(max_length=64)),
                        ('comment', models.TextField(blank=True)),
                        ('status', models.CharField(choices=[('open', 'Open'), ('fulfilled', 'Assigned'), ('declined', 'Declined'), ('withdrawn', 'Withdrawn')], db_index=True, default='open', max_length=10)),
                        ('requested_at', models.DateTimeField(auto_now_add=True)),
                        ('decided_at', models.DateTimeField(blank=True, null=True)),
                        ('decision_comment', models.TextField(blank=True)),
                        ('certificate', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='assignment_requests', to='certificates.certificate')),
                        ('decided_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('requested_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('tenant', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.tenant')),
                        ('profile', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='requests', to='ivr.ivrprofile')),
                    ],
                    options={
                        'db_table': 'certificates_assignmentrequest',
                        'ordering': ['-requested_at'],
                    },
                ),
                migrations.AddConstraint(
                    model_name='ivrprofile',
                    constraint=models.UniqueConstraint(fields=('tenant', 'dbid'), name='ivrprofile_dbid_unique_in_tenant'),
                ),
                migrations.AddConstraint(
                    model_name='ivrprofile',
                    constraint=models.UniqueConstraint(models.F('tenant'), django.db.models.functions.text.Lower('name'), name='ivrprofile_name_unique_in_tenant'),
                ),
                migrations.AddConstraint(
                    model_name='ivrassignment',
                    constraint=models.UniqueConstraint(fields=('profile', 'certificate'), name='ivrassignment_once_per_profile'),
                ),
                migrations.AddConstraint(
                    model_name='assignmentrequest',
                    constraint=models.UniqueConstraint(condition=models.Q(('status', 'open')), fields=('profile', 'certificate'), name='assignmentrequest_one_open_per_pair'),
                ),
            ],
            database_operations=[],
        ),
    ]
