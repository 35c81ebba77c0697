"""The recordings app's background jobs: the key drill over every tenant, and bulk decryption (recordings/bulk.py)."""

from portal.accounts.access import Cap
from portal.accounts.models import Tenant
from portal.jobs import kinds
from portal.jobs.models import Job, JobItem
from portal.jobs.progress import Outcome, Progress

from . import bulk
from .drill import prove_keys

VERIFY_KEYS = "recordings.verify_keys"


def _verify_tenant(job: Job, item: JobItem) -> Outcome:
    tenant = Tenant.objects.filter(pk=item.key).first()
    if tenant is None:
        return Outcome("The tenant was deleted meanwhile.")
    # The proofs, their audit entry and the item's mark commit together (Progress.each): a tenant is proven once.
    proofs = prove_keys(tenant, by=job.actor)
    failed = [proof for proof in proofs if not proof.ok]
    text = f"{len(proofs) - len(failed)} OK, {len(failed)} failed"
    if failed:
        text += ": " + ", ".join(f"'{proof.alias}'" for proof in failed)
    return Outcome(text, failed=bool(failed))


def run_verify_keys(job: Job, progress: Progress) -> None:
    progress.plan((str(pk), slug) for pk, slug in Tenant.objects.order_by("slug").values_list("pk", "slug"))
    progress.each(lambda item: _verify_tenant(job, item))
    failed = job.items.filter(failed=True).count()
    progress.say(f"{failed} tenant{'s' if failed != 1 else ''} with a key that failed." if failed else "Every key OK.")


def register() -> None:
    kinds.register(
        kinds.Kind(
            name=VERIFY_KEYS,
            title="Verify keys of every tenant",
            cap=Cap.VIEW_ALL_TENANTS,
            run=run_verify_keys,
        )
    )
    kinds.register(
        kinds.Kind(
            name=bulk.DECRYPT,
            title="Decrypt recordings",
            cap=Cap.DECRYPT_RECORDINGS,
            run=bulk.run_decrypt,
            owner_only=True,
            result_url=bulk.result_url,
        )
    )
