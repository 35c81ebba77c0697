"""Keys made in the keystore: Generate (a key and its self-signed certificate), Request from a CA (a key waiting for
the CA's certificate, and its CSR), the waiting key's page, its CSR download and the CA's certificate arriving.

The forms only carry what was typed; ``generation.check_new_key`` says what is wrong, one message per field, and
the services save everything or nothing. The Renew page (renew.py) shares the form and its drawing.
"""

import uuid
from dataclasses import dataclass

from django.contrib import messages
from django.forms import BoundField
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from portal.accounts.access import Cap, can, tenant_view
from portal.accounts.models import Tenant
from portal.audit.log import Actor

from .. import generation
from .. import requests as ca_requests
from .. import upload as uploads
from ..forms import FOLLOW_UPS, NewKeyForm, ReplyForm
from ..generation import BITS, DAYS, NewKey, Outcome
from ..lookups import get_waiting
from ..models import CertificateRequest
from ..subject import DN_FIELDS
from ..upload import CERTIFICATE_FILE, UploadInvalid, UploadProblem
from .upload import refused_upload

GENERAL = "form"  # where a message that belongs to no field of the form is shown: above the fields
SUBJECT_NAMES = {dn.key for dn in DN_FIELDS}


@dataclass(frozen=True)
class Mode:
    """What differs between the Generate and the Request from a CA pages."""

    url_name: str
    title: str
    button: str
    with_days: bool


GENERATE = Mode("certificate-generate", "Generate Key and Certificate", "Generate", with_days=True)
REQUEST = Mode("certificate-request", "Request a Certificate from a CA", "Generate key and CSR", with_days=False)


def form_problems(form: NewKeyForm) -> list[UploadProblem]:
    """What Django's own field checks refused (an over-long alias, a follow-up not offered), in the services'
    terms."""
    return [UploadProblem(name, str(errors[0])) for name, errors in form.errors.items() if errors]


def checked_new_key(tenant: Tenant, form: NewKeyForm, *, with_days: bool) -> NewKey:
    """The new key as typed, checked; ``UploadInvalid`` with every problem, the form's own included."""
    problems = form_problems(form) if not form.is_valid() else []
    data = form.cleaned_data
    try:
        new = generation.check_new_key(
            tenant,
            subject=form.subject(),
            bits=data.get(BITS),
            days=data.get(DAYS) if with_days else None,
            alias=data.get("alias") or "",
            needs_days=with_days,
        )
    except UploadInvalid as invalid:
        problems += invalid.problems
    if problems:
        raise UploadInvalid(problems)
    return new


def field_errors(form: NewKeyForm, problems: list[UploadProblem]) -> dict[str, str]:
    """The first message for each field; one for no field of this form goes above the fields."""
    errors: dict[str, str] = {}
    for problem in problems:
        errors.setdefault(problem.field if problem.field in form.fields else GENERAL, problem.message)
    return errors


def shown_fields(form: NewKeyForm, errors: dict[str, str]) -> dict[str, list[tuple[BoundField, str]]]:
    """(field, its message) in the form's order, the subject apart from the key, each input tied to its message for
    screen readers. The follow-up checkboxes are drawn apart, as a group."""
    shown: dict[str, list[tuple[BoundField, str]]] = {"subject": [], "key": []}
    for name in form.fields:
        if name == FOLLOW_UPS:
            continue
        attrs = form.fields[name].widget.attrs
        help_id = f"{name}-help " if form.fields[name].help_text else ""
        attrs["aria-describedby"] = f"{help_id}{name}-errors"
        if name in errors:
            attrs["aria-invalid"] = "true"
        shown["subject" if name in SUBJECT_NAMES else "key"].append((form[name], errors.get(name, "")))
    return shown


def outcome_redirect(request: HttpRequest, tenant: Tenant, outcome: Outcome, done: str) -> HttpResponse:
    """To the new certificate, or to the key now waiting for its certificate, with what happened."""
    messages.success(request, done)
    for note in outcome.notes:
        messages.info(request, note)
    if outcome.certificate is not None:
        return redirect("certificate-detail", tenant=tenant.slug, certificate=outcome.certificate.pk)
    assert outcome.waiting is not None, "a new key has a certificate or waits for one"
    return redirect("certificate-waiting", tenant=tenant.slug, waiting=outcome.waiting.pk)


def _page(request: HttpRequest, tenant: Tenant, mode: Mode, form: NewKeyForm, errors: dict[str, str]) -> HttpResponse:
    return render(
        request,
        "certificates/generate.html",
        {
            "tenant": tenant,
            "mode": mode,
            "form": form,
            "fields": shown_fields(form, errors),
            "errors": errors,
        },
    )


def _new_key(request: HttpRequest, tenant: Tenant, mode: Mode) -> HttpResponse:
    if request.method == "GET":
        return _page(request, tenant, mode, NewKeyForm(with_days=mode.with_days), {})
    form = NewKeyForm(request.POST, with_days=mode.with_days)
    by = Actor.of(request)
    try:
        new = checked_new_key(tenant, form, with_days=mode.with_days)
        if mode.with_days:
            outcome = generation.generate_certificate(tenant, new, by=by)
        else:
            outcome = ca_requests.request_certificate(tenant, new, by=by)
    except UploadInvalid as invalid:
        # The form again as typed, refused values included: only the wrong field is typed again.
        return _page(request, tenant, mode, form, field_errors(form, invalid.problems))
    if outcome.certificate is not None:
        done = (
            f"Key and self-signed certificate '{outcome.certificate.alias}' "
            f"({outcome.certificate.subject_name}) were generated."
        )
    else:
        done = "The key was generated; it waits for the CA's certificate. Download the CSR and send it to your CA."
    return outcome_redirect(request, tenant, outcome, done)


@tenant_view(Cap.MANAGE_KEYS, methods=("GET", "POST"))
@never_cache
def certificate_generate(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    return _new_key(request, tenant, GENERATE)


@tenant_view(Cap.MANAGE_KEYS, methods=("GET", "POST"))
@never_cache
def certificate_request(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    return _new_key(request, tenant, REQUEST)


# --- The key waiting for its certificate -------------------------------------------------------------------------


def _waiting_page(
    request: HttpRequest, tenant: Tenant, waiting: CertificateRequest, error: str = "", status: int = 200
) -> HttpResponse:
    form = ReplyForm(initial={"waiting": waiting.pk})
    attrs = form.fields[CERTIFICATE_FILE].widget.attrs
    attrs["aria-describedby"] = f"{CERTIFICATE_FILE}-errors"
    if error:
        attrs["aria-invalid"] = "true"
    return render(
        request,
        "certificates/waiting.html",
        {
            "tenant": tenant,
            "waiting": waiting,
            "csr_pem": ca_requests.csr_pem(waiting),
            "form": form,
            "error": error,
            "can_reply": can(request.user, Cap.MANAGE_KEYS),
        },
        status=status,
    )


@tenant_view(Cap.VIEW_CERTIFICATES)
@never_cache
def certificate_waiting(request: HttpRequest, tenant: Tenant, waiting: uuid.UUID) -> HttpResponse:
    return _waiting_page(request, tenant, get_waiting(tenant, waiting))


@tenant_view(Cap.VIEW_CERTIFICATES)
def certificate_waiting_csr(request: HttpRequest, tenant: Tenant, waiting: uuid.UUID) -> HttpResponse:
    """The CSR (public data: a public key and a name) as the PEM file a CA expects."""
    found = get_waiting(tenant, waiting)
    response = HttpResponse(ca_requests.csr_pem(found).encode("ascii"), content_type="application/pkcs10")
    response["Content-Disposition"] = f'attachment; filename="{ca_requests.csr_download_name(found)}"'
    return response


def _sent_from(tenant: Tenant, waiting: uuid.UUID | None) -> CertificateRequest | None:
    """The waiting key whose page sent the reply, if it still waits (it may have been answered meanwhile)."""
    if waiting is None:
        return None
    try:
        return get_waiting(tenant, waiting)
    except Http404:
        return None


@tenant_view(Cap.MANAGE_KEYS, methods=("POST",))
@never_cache
def certificate_reply(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    """The CA's certificate: it finds its waiting key by public key, whichever page it was sent from."""
    form = ReplyForm(request.POST, request.FILES)
    form.is_valid()
    page = _sent_from(tenant, form.cleaned_data.get("waiting"))
    try:
        upload = form.cleaned_data.get("certificate_file")
        if not upload:
            raise uploads.refusal(CERTIFICATE_FILE, "Choose the certificate file the CA sent (PEM or DER).")
        data = uploads.read_upload(upload, field_name=CERTIFICATE_FILE, what="certificate file")
        outcome = ca_requests.accept_reply(tenant, data, by=Actor.of(request))
    except UploadInvalid as invalid:
        if page is None:
            return refused_upload(request, tenant, invalid.problems)
        return _waiting_page(request, tenant, page, invalid.first.message)
    assert outcome.certificate is not None, "an accepted reply is a certificate"
    done = (
        f"The CA's certificate '{outcome.certificate.alias}' ({outcome.certificate.subject_name}) was matched to "
        "its key; the certificate is ready for use."
    )
    return outcome_redirect(request, tenant, outcome, done)
