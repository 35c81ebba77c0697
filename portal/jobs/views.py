"""The job page: where a job stands, its progress as JSON for the page's script, and its result file."""

import uuid
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from portal.accounts.access import check, scoped_get, tenant_for
from portal.accounts.models import Tenant
from portal.audit.log import Actor, record

from . import kinds
from .models import Job, JobState
from .progress import result_file

ITEMS_SHOWN = 500

JobView = Callable[[HttpRequest, Job, kinds.Kind], HttpResponseBase]


def _no_store(response: HttpResponseBase) -> HttpResponseBase:
    response["Cache-Control"] = "no-store, private"
    return response


def _visible(request: HttpRequest, job: Job) -> kinds.Kind:
    """The job's kind, once the user may see the job: 403 without the kind's capability, 404 for a job started by
    someone else when what it shows is its starter's alone."""
    try:
        kind = kinds.get(job.kind)
    except KeyError:
        raise Http404 from None
    check(request.user, kind.cap)
    if kind.owner_only and job.created_by_id != request.user.pk:
        raise Http404
    return kind


def tenant_job_view(view: JobView) -> Callable[..., HttpResponseBase]:
    """A view of one job of ``/t/<tenant>/``: the tenant as the user reaches it (404 otherwise), then the job loaded
    through a query filtered by that tenant, so another tenant's job is a 404."""

    @wraps(view)
    def wrapper(request: HttpRequest, tenant: str, job: uuid.UUID) -> HttpResponseBase:
        tenant_obj: Tenant = tenant_for(request.user, tenant)  # type: ignore[arg-type]
        request.tenant = tenant_obj  # type: ignore[attr-defined]
        loaded = scoped_get(Job.objects.all(), tenant_obj, pk=job)
        return _no_store(view(request, loaded, _visible(request, loaded)))

    return login_required(require_GET(wrapper))


def global_job_view(view: JobView) -> Callable[..., HttpResponseBase]:
    """A view of one job over every tenant (none of its own)."""

    @wraps(view)
    def wrapper(request: HttpRequest, job: uuid.UUID) -> HttpResponseBase:
        loaded = get_object_or_404(Job, pk=job, tenant__isnull=True)
        return _no_store(view(request, loaded, _visible(request, loaded)))

    return login_required(require_GET(wrapper))


def _progress(job: Job) -> dict[str, Any]:
    return {
        "state": job.state,
        "state_text": job.get_state_display(),
        "done": job.done_count,
        "total": job.total,
        "message": job.message,
        "finished": job.is_finished,
    }


def _page(request: HttpRequest, job: Job, kind: kinds.Kind) -> HttpResponse:
    items = list(job.items.all()[:ITEMS_SHOWN]) if job.is_finished else []
    context = {
        "job": job,
        "kind": kind,
        "tenant": job.tenant,
        "progress": _progress(job),
        "items": items,
        "more_items": max(0, job.total - len(items)),
        "has_file": job.state == JobState.DONE and result_file(job) is not None,
        "result_url": kind.result_url(job) if kind.result_url is not None and job.state == JobState.DONE else "",
        "keep_until": job.finished + timedelta(minutes=settings.PORTAL_JOBS_KEEP_MINUTES) if job.finished else None,
        "progress_url": request.path + "progress/",
        "download_url": request.path + "download/",
    }
    return render(request, "jobs/job.html", context)


def _progress_json(request: HttpRequest, job: Job, kind: kinds.Kind) -> JsonResponse:
    return JsonResponse(_progress(job))


def _download(request: HttpRequest, job: Job, kind: kinds.Kind) -> HttpResponseBase:
    """The result file, once: it is deleted as it is handed over (a backup of private keys should not linger)."""
    with transaction.atomic():
        locked = Job.objects.select_for_update().filter(pk=job.pk, state=JobState.DONE).exclude(result_path="").first()
        path = result_file(locked) if locked is not None else None
        if locked is None or path is None:
            raise Http404
        record(
            "job-result-downloaded",
            by=Actor.of(request),
            tenant=job.tenant,
            details={"job": str(job.id), "kind": job.kind, "file": locked.result_name},
        )
        Job.objects.filter(pk=job.pk).update(result_path="")
        handle = path.open("rb")
        path.unlink()  # last: whatever failed before it leaves the file to be downloaded again
    response = FileResponse(handle, content_type=locked.result_type or "application/octet-stream")
    response["Content-Disposition"] = (
        content_disposition_header(as_attachment=True, filename=locked.result_name) or "attachment"
    )
    return response


page = tenant_job_view(_page)
progress = tenant_job_view(_progress_json)
download = tenant_job_view(_download)
global_page = global_job_view(_page)
global_progress = global_job_view(_progress_json)
