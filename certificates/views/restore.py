"""Restore recording certificates and their keys from a keystore backup (PKCS#12), as the keystore exports it or
as keytool and OpenSSL write it."""

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables

from keystore.api import ImportFileError, ImportReport, ImportTooLarge
from portal.accounts.access import Cap, tenant_view
from portal.accounts.models import Tenant
from portal.audit.log import Actor

from .. import restore as restores
from .. import upload as uploads
from ..forms import RestoreForm

BACKUP_FIELD = "backup_file"


@sensitive_post_parameters("password")
@tenant_view(Cap.MANAGE_KEYS, methods=("GET", "POST"))
@never_cache
def certificate_restore(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    error = ""
    report: ImportReport | None = None
    if request.method == "POST":
        report, error = _restore(request, tenant, RestoreForm(request.POST, request.FILES))
        if report is not None:
            messages.success(request, report.summary)
    return render(
        request,
        "certificates/restore.html",
        {
            "tenant": tenant,
            "form": RestoreForm(),
            "error": error,
            "report": report,
            "max_kb": settings.PORTAL_MAX_UPLOAD_BYTES // 1024,
        },
    )


@sensitive_variables("password", "data")
def _restore(request: HttpRequest, tenant: Tenant, form: RestoreForm) -> tuple[ImportReport | None, str]:
    """(the report, "") or (None, the message): all or nothing."""
    upload = form.cleaned_data.get(BACKUP_FIELD) if form.is_valid() else None
    if not upload:
        return None, "Choose the keystore backup file (.p12 or .pfx)."
    try:
        data = uploads.read_upload(upload, field_name=BACKUP_FIELD, what="backup file")
    except uploads.UploadInvalid as invalid:
        return None, invalid.first.message
    password = form.cleaned_data.get("password") or ""
    by = Actor.of(request)
    try:
        report = restores.restore_backup(tenant, data, password, by=by)
    except ImportTooLarge as error:
        return None, restores.too_large_for_the_web(str(error), tenant.slug)
    except ImportFileError as error:
        return None, str(error)
    except restores.RestoreRefused as refused:
        return None, f"Nothing was restored. {refused}"
    return report, ""
