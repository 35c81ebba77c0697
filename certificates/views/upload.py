"""The Upload Certificate panel.

One parser, on the server: with JavaScript, choosing a file posts it to ``certificate_preview`` and the page fills
in the fields from the JSON answer; without JavaScript, the "Read file" button posts the form to
``certificate_upload``, which answers with the same page, fields filled. Save posts the form to
``certificate_upload``. The key file and its password are never sent back in a page.
"""

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables

from keystore.api import MAX_ALIAS_LENGTH
from portal.accounts.access import Cap, can, tenant_view
from portal.accounts.models import Tenant
from portal.audit.log import Actor
from portal.web.errors import wants_json

from .. import preview as previews
from .. import requests as ca_requests
from .. import upload as uploads
from ..forms import UploadForm
from ..preview import UploadPreview
from ..upload import CERTIFICATE_FILE, KEY_FILE, UploadInvalid, UploadProblem

CERTIFICATE_WORDS = "certificate file"
KEY_WORDS = "key file"


def _certificate_bytes(form: UploadForm) -> bytes | None:
    """The chosen certificate file, else the certificate carried from an earlier "Read file"."""
    upload = form.cleaned_data.get("certificate_file")
    if upload:
        return uploads.read_upload(upload, field_name=CERTIFICATE_FILE, what=CERTIFICATE_WORDS)
    carried = form.cleaned_data.get("certificate_pem") or ""
    return carried.encode("utf-8", "replace") if carried.strip() else None


@sensitive_variables("upload")
def _key_bytes(form: UploadForm) -> bytes | None:
    upload = form.cleaned_data.get("key_file")
    return uploads.read_upload(upload, field_name=KEY_FILE, what=KEY_WORDS) if upload else None


def _read_inputs(form: UploadForm) -> tuple[bytes | None, bytes | None, list[UploadProblem]]:
    """Both files, each refused on its own (too large) without stopping the other."""
    problems: list[UploadProblem] = []
    certificate = key = None
    try:
        certificate = _certificate_bytes(form)
    except UploadInvalid as invalid:
        problems += invalid.problems
    try:
        key = _key_bytes(form)
    except UploadInvalid as invalid:
        problems += invalid.problems
    return certificate, key, problems


def _form_problems(form: UploadForm) -> list[UploadProblem]:
    """What Django's own field checks refused (e.g. an over-long alias), in the services' terms."""
    return [UploadProblem(name, str(errors[0])) for name, errors in form.errors.items() if errors]


@sensitive_variables("key", "password")
def _preview(tenant: Tenant, form: UploadForm) -> UploadPreview:
    if not form.is_valid():
        return UploadPreview(problems=tuple(_form_problems(form)))
    certificate, key, problems = _read_inputs(form)
    password = form.cleaned_data.get("key_password") or None
    result = previews.preview_upload(tenant, certificate_data=certificate, key_data=key, password=password)
    return UploadPreview(
        result.parsed, result.checked, result.key, result.alias, tuple(problems) + result.problems, result.alias_note
    )


FIELDS = ("certificate_file", "key_file", "key_password", "alias")


def _page(request: HttpRequest, tenant: Tenant, form: UploadForm, preview: UploadPreview | None = None) -> HttpResponse:
    """The panel, drawn afresh: the password field is never re-filled and the key is chosen again after any round
    trip; the certificate, public, is carried when it was read and accepted."""
    preview = preview or UploadPreview()
    errors: dict[str, str] = {}
    for problem in preview.problems:
        errors.setdefault(problem.field if problem.field in FIELDS else CERTIFICATE_FILE, problem.message)
    carried = preview.parsed is not None and CERTIFICATE_FILE not in errors
    typed_alias = str(form.data.get("alias", "")).strip()[:MAX_ALIAS_LENGTH] if form.is_bound else ""
    shown = UploadForm(
        initial={
            "alias": typed_alias or preview.alias,
            "certificate_pem": preview.parsed.pem if carried and preview.parsed else "",
        }
    )
    if preview.alias:
        shown.fields["alias"].widget.attrs["data-proposed"] = preview.alias
    for name in FIELDS:
        attrs = shown.fields[name].widget.attrs
        attrs["aria-describedby"] = f"{name}-errors"
        if name in errors:
            attrs["aria-invalid"] = "true"
    return render(
        request,
        "certificates/upload.html",
        {
            "tenant": tenant,
            "form": shown,
            "preview": preview,
            "errors": errors,
            "carried": carried,
            "alias_note": preview.alias_note if not typed_alias or typed_alias == preview.alias else "",
        },
    )


@sensitive_post_parameters("key_password")
@tenant_view(Cap.MANAGE_CERTIFICATES, methods=("GET", "POST"))
@never_cache
def certificate_upload(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    if request.method == "GET":
        return _page(request, tenant, UploadForm())
    form = UploadForm(request.POST, request.FILES)
    if "preview" in request.POST:
        return _page(request, tenant, form, _preview(tenant, form))
    return _save(request, tenant, form)


@sensitive_variables("key", "password")
def _save(request: HttpRequest, tenant: Tenant, form: UploadForm) -> HttpResponse:
    if not form.is_valid():
        return _page(request, tenant, form, UploadPreview(problems=tuple(_form_problems(form))))
    certificate, key, problems = _read_inputs(form)
    if certificate is None and not any(p.field == CERTIFICATE_FILE for p in problems):
        problems.append(UploadProblem(CERTIFICATE_FILE, "Choose the certificate file (PEM or DER)."))
    # Without a key file, the certificate may be the CA's answer to a key waiting here.
    if certificate is not None and key is None and not problems and _answers_waiting_key(request, tenant, certificate):
        return _accept_reply(request, tenant, form, certificate)
    if key is None and not any(p.field == KEY_FILE for p in problems):
        problems.append(UploadProblem(KEY_FILE, "Choose the private key file that belongs to the certificate."))
    password = form.cleaned_data.get("key_password") or None
    if problems or certificate is None or key is None:
        return _failed(request, tenant, form, certificate, problems)
    try:
        validated = uploads.validate_upload(
            tenant,
            certificate_data=certificate,
            key_data=key,
            password=password,
            alias=form.cleaned_data.get("alias") or None,
        )
        saved = uploads.save_upload(tenant, validated, by=Actor.of(request))
    except UploadInvalid as invalid:
        return _failed(request, tenant, form, certificate, invalid.problems)
    messages.success(request, f"Certificate '{saved.alias}' ({saved.subject_name}) and its private key were saved.")
    for warning in validated.warnings:
        messages.warning(request, warning)
    return redirect("certificate-list", tenant=tenant.slug)


def _answers_waiting_key(request: HttpRequest, tenant: Tenant, certificate: bytes) -> bool:
    return can(request.user, Cap.MANAGE_KEYS) and ca_requests.waiting_match(tenant, certificate) is not None


def _accept_reply(request: HttpRequest, tenant: Tenant, form: UploadForm, certificate: bytes) -> HttpResponse:
    try:
        outcome = ca_requests.accept_reply(tenant, certificate, by=Actor.of(request))
    except UploadInvalid as invalid:
        return _failed(request, tenant, form, certificate, invalid.problems)
    assert outcome.certificate is not None, "an accepted reply is a certificate"
    messages.success(
        request,
        f"Certificate '{outcome.certificate.alias}' ({outcome.certificate.subject_name}) was matched to the key "
        "waiting for it; the certificate is ready for use.",
    )
    for note in outcome.notes:
        messages.info(request, note)
    return redirect("certificate-detail", tenant=tenant.slug, certificate=outcome.certificate.pk)


def refused_upload(request: HttpRequest, tenant: Tenant, problems: list[UploadProblem]) -> HttpResponse:
    """The panel with these messages, for a certificate sent from elsewhere (the CA's answer to a waiting key)."""
    return _page(request, tenant, UploadForm(), UploadPreview(problems=tuple(problems)))


def _failed(
    request: HttpRequest, tenant: Tenant, form: UploadForm, certificate: bytes | None, problems: list[UploadProblem]
) -> HttpResponse:
    """The panel again with every message where it belongs, and the certificate's fields when it could be read."""
    parsed = None
    if certificate is not None:
        try:
            parsed = uploads.parse_recording_certificate(certificate)
        except UploadInvalid:
            parsed = None
    proposed = uploads.propose_alias(tenant, parsed) if parsed is not None else None
    preview = UploadPreview(
        parsed=parsed,
        alias=proposed.alias if proposed else "",
        problems=tuple(problems),
        alias_note=proposed.note if proposed else "",
    )
    return _page(request, tenant, form, preview)


@sensitive_post_parameters("key_password")
@tenant_view(Cap.MANAGE_CERTIFICATES, methods=("POST",))
@never_cache
def certificate_preview(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    """What the chosen files are, before Save: JSON for the page's script, else the panel itself."""
    form = UploadForm(request.POST, request.FILES)
    preview = _preview(tenant, form)
    if wants_json(request):
        body: dict[str, Any] = preview.as_json()
        return JsonResponse(body)
    return _page(request, tenant, form, preview)
