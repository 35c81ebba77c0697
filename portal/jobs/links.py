from dataclasses import dataclass

from django.urls import reverse

from portal.accounts.models import Tenant, User

from .models import Job

RECENT_SHOWN = 5


def job_url(job: Job) -> str:
    """The job's page: under its tenant, or among the pages over every tenant."""
    if job.tenant is None:
        return reverse("global-job", args=[job.id])
    return reverse("job", args=[job.tenant.slug, job.id])


@dataclass(frozen=True)
class RecentJob:
    job: Job
    url: str


def recent_jobs(tenant: Tenant, user: User, kind: str) -> list[RecentJob]:
    """The user's latest jobs of ``kind`` in ``tenant``, for the page that starts them: a job left running is found
    again there."""
    jobs = Job.objects.filter(tenant=tenant, created_by=user, kind=kind).select_related("tenant")
    return [RecentJob(job, job_url(job)) for job in jobs.order_by("-created")[:RECENT_SHOWN]]
