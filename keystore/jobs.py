"""Keystore backups made by a background job, for tenants with many keys.

The backup password reaches the worker sealed under the tenant's data key (AES-GCM, bound to the job's id) in the
job's ``sealed_input``, which the job runner erases when the job ends. So it is never in the database in the clear,
nor in the queue's arguments (those hold the job's id alone). Private keys stay inside this app: the job writes only
the PKCS#12 file, encrypted with that password."""

import logging
import uuid
from collections.abc import Callable

from django.conf import settings
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from portal.accounts.access import Cap
from portal.accounts.models import Tenant
from portal.audit.log import Actor
from portal.jobs import kinds, runner
from portal.jobs.models import Job, JobItem
from portal.jobs.progress import JobFailed, Outcome, Progress

from . import envelope
from .backup import export_keystore
from .models import KeystoreEntry
from .sealing import KeystoreError, tenant_data_key

logger = logging.getLogger(__name__)

BACKUP = "keystore.backup"


def _aad(job_id: uuid.UUID) -> bytes:
    return b"portal job input " + job_id.bytes


def wants_job(tenant: Tenant) -> bool:
    """Whether the tenant has keys enough that its backup is made by a job rather than in the request."""
    keys: int = KeystoreEntry.objects.of_tenant(tenant).count()
    return keys >= int(settings.PORTAL_BACKUP_JOB_MIN_KEYS)


@sensitive_variables("password")
def start_backup(tenant: Tenant, password: str, *, by: Actor) -> Job:
    """Queue the backup of the tenant's keystore, encrypted with ``password``."""

    @sensitive_variables("password")
    def seal(job_id: uuid.UUID) -> bytes:
        return envelope.seal(tenant_data_key(tenant, create=True), password.encode(), _aad(job_id))

    return runner.start(BACKUP, tenant=tenant, by=by, seal=seal)


@sensitive_variables("password")
def _opened_password(job: Job, tenant: Tenant) -> str:
    if not job.sealed_input:
        raise JobFailed("The backup password is no longer here: start the backup again.")
    try:
        return envelope.open_sealed(tenant_data_key(tenant), bytes(job.sealed_input), _aad(job.id)).decode()
    except (envelope.TamperedError, KeystoreError):
        raise JobFailed("The backup password could not be opened: start the backup again.") from None


@sensitive_variables("password", "data")
def _back_up(job: Job, tenant: Tenant, password: str, progress: Progress) -> Outcome:
    try:
        # Its audit entry commits with the item, when the file is in place (Progress.each).
        data, count = export_keystore(tenant, password, by=job.actor)
    except KeystoreError as exc:
        logger.error("keystore: backup job %s of tenant %s failed: %s", job.id, tenant.slug, exc)
        raise JobFailed(
            "The keystore could not be read; the administrators have been told. Nothing was exported."
        ) from None
    progress.write_result(
        data, name=f"{tenant.slug}-keystore-{timezone.now():%Y%m%d}.p12", content_type="application/x-pkcs12"
    )
    return Outcome(f"{count} key{'s' if count != 1 else ''} with their certificates in one PKCS#12 file")


@sensitive_variables("password")
def run_backup(job: Job, progress: Progress) -> None:
    tenant = job.tenant
    if tenant is None:
        raise JobFailed("A backup belongs to one tenant.")
    password = _opened_password(job, tenant)
    progress.plan([("backup", f"Keystore of {tenant.name}")])
    step: Callable[[JobItem], Outcome] = lambda item: _back_up(job, tenant, password, progress)  # noqa: E731
    progress.each(step)
    progress.say("The backup is ready: it downloads once.")


def register() -> None:
    # The starter's alone: the file opens with the password they chose, and it downloads once.
    kinds.register(
        kinds.Kind(name=BACKUP, title="Keystore backup", cap=Cap.MANAGE_KEYS, run=run_backup, owner_only=True)
    )
