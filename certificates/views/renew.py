"""Renew a certificate: a new key and certificate that succeed it, the form filled in from the certificate.

A self-signed certificate is followed by a generated one at once; one issued by a CA by a key waiting for the CA's
certificate (its CSR), which becomes the successor when the certificate arrives. The predecessor stays as it is:
older recordings need it, and it keeps encrypting until the successor takes its place. What else the renewal may do
(the follow-ups the upper apps register, such as asking for the successor's assignment) is offered as checkboxes.
"""

import uuid

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from portal.accounts.access import Cap, tenant_view
from portal.accounts.models import Tenant
from portal.audit.log import Actor

from .. import followups, renewal
from ..forms import NewKeyForm
from ..lookups import get_certificate
from ..models import Certificate
from ..upload import UploadInvalid
from .generate import checked_new_key, field_errors, outcome_redirect, shown_fields


def _page(
    request: HttpRequest, tenant: Tenant, cert: Certificate, form: NewKeyForm, errors: dict[str, str]
) -> HttpResponse:
    return render(
        request,
        "certificates/renew.html",
        {
            "tenant": tenant,
            "cert": cert,
            "form": form,
            "fields": shown_fields(form, errors),
            "errors": errors,
        },
    )


@tenant_view(Cap.MANAGE_KEYS, methods=("GET", "POST"))
@never_cache
def certificate_renew(request: HttpRequest, tenant: Tenant, certificate: uuid.UUID) -> HttpResponse:
    cert = get_certificate(tenant, certificate)
    offered = followups.offered(cert)
    # A CA decides the validity of what it issues: the days are asked only for a self-signed successor.
    with_days = cert.is_self_signed
    if request.method == "GET":
        form = NewKeyForm(initial=renewal.renewal_defaults(cert), with_days=with_days, follow_ups=offered)
        return _page(request, tenant, cert, form, {})
    form = NewKeyForm(request.POST, with_days=with_days, follow_ups=offered)
    try:
        new = checked_new_key(tenant, form, with_days=with_days)
        outcome = renewal.renew(cert, new, by=Actor.of(request), follow_ups=form.cleaned_data.get("follow_ups") or [])
    except UploadInvalid as invalid:
        return _page(request, tenant, cert, form, field_errors(form, invalid.problems))
    if outcome.certificate is not None:
        done = (
            f"Certificate '{cert.alias}' was renewed: '{outcome.certificate.alias}' "
            f"({outcome.certificate.subject_name}) succeeds it. '{cert.alias}' stays active."
        )
    else:
        done = (
            f"A new key to renew '{cert.alias}' was generated; it waits for the CA's certificate. "
            "Download the CSR and send it to your CA."
        )
    return outcome_redirect(request, tenant, outcome, done)
