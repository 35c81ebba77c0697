from django.urls import reverse

from .models import Job


def job_url(job: Job) -> str:
    """The job's page: under its tenant, or among the pages over every tenant."""
    if job.tenant is None:
        return reverse("global-job", args=[job.id])
    return reverse("job", args=[job.tenant.slug, job.id])
