"""The Local Key Manager page, for tenant administrators: credentials for Genesys Cloud, keypairs, the rotation
schedule, and the steps that connect Genesys Cloud to this portal."""

import uuid

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache

from keystore.api import KeystoreError
from portal.accounts.access import Cap, scoped_get, tenant_view
from portal.accounts.models import Tenant
from portal.audit.log import Actor

from . import credentials, keypairs, page, rotation, schedule
from .forms import CredentialForm, ScheduleForm
from .models import Credential, Keypair, Origin, Period

KEYPAIRS_PER_PAGE = 50


def _render(
    request: HttpRequest,
    tenant: Tenant,
    *,
    issued: credentials.IssuedCredential | None = None,
    credential_form: CredentialForm | None = None,
    status: int = 200,
) -> HttpResponse:
    url = page.decrypt_url(request)
    listed = Paginator(Keypair.objects.of_tenant(tenant), KEYPAIRS_PER_PAGE).get_page(request.GET.get("page"))
    current = schedule.schedule_of(tenant)
    context = {
        "tenant": tenant,
        "decrypt_url": url,
        "credentials": Credential.objects.of_tenant(tenant),
        "credential_form": credential_form or CredentialForm(),
        "issued": issued,
        "issued_configuration": (
            page.key_configuration_json(url, str(issued.credential.id), issued.auth_key) if issued else ""
        ),
        "example_configuration": page.key_configuration_json(url, "CREDENTIAL_ID", "AUTH_KEY"),
        "keypairs": [page.keypair_row(keypair) for keypair in listed],
        "keypair_page": listed,
        "schedule": current,
        "schedule_form": ScheduleForm(initial={"period": current.period}),
    }
    return render(request, "lkm/page.html", context, status=status)


@tenant_view(Cap.MANAGE_LKM)
def page_view(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    return _render(request, tenant)


@tenant_view(Cap.MANAGE_LKM, methods=("POST",))
@never_cache
def issue_credential(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    """The new credential's key is in this answer only: it is not stored in the clear, so it cannot be shown again."""
    form = CredentialForm(request.POST)
    if not form.is_valid():
        return _render(request, tenant, credential_form=form, status=400)
    try:
        issued = credentials.issue_credential(tenant, by=Actor.of(request), label=form.cleaned_data["label"])
    except KeystoreError as error:
        messages.error(request, f"No credential was issued: {error}.")
        return redirect("lkm-page", tenant.slug)
    return _render(request, tenant, issued=issued)


@tenant_view(Cap.MANAGE_LKM, methods=("POST",))
def revoke_credential(request: HttpRequest, tenant: Tenant, credential: uuid.UUID) -> HttpResponse:
    found = scoped_get(Credential.objects.all(), tenant, pk=credential)
    try:
        credentials.revoke_credential(found, by=Actor.of(request))
    except credentials.CredentialRevoked as already:
        messages.info(request, str(already))
    else:
        messages.success(request, f"Credential {found.id} is revoked: requests signed with it are refused.")
    return redirect(reverse("lkm-page", args=[tenant.slug]) + "#credentials")


@tenant_view(Cap.MANAGE_LKM, methods=("POST",))
def create_keypair(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    try:
        keypair = keypairs.create_keypair(tenant, origin=Origin.PORTAL, by=Actor.of(request))
    except KeystoreError as error:
        messages.error(request, f"No keypair was created: {error}.")
    else:
        messages.success(
            request,
            f"Keypair {keypair.id} was created. Send its public key to Genesys Cloud (POST "
            "/api/v2/recording/localkeys, shown under the keypair) so that new recordings use it.",
        )
    return redirect(reverse("lkm-page", args=[tenant.slug]) + "#keypairs")


@tenant_view(Cap.MANAGE_LKM, methods=("POST",))
def set_schedule(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    form = ScheduleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the rotation periods.")
    else:
        chosen = rotation.set_period(tenant, Period(form.cleaned_data["period"]), by=Actor.of(request))
        if chosen.next_due is None:
            messages.success(request, "Scheduled rotation is off. Keypairs are made only when asked for.")
        else:
            messages.success(
                request,
                f"Rotation is {chosen.get_period_display().lower()}; the next keypair is due "
                f"{chosen.next_due:%Y-%m-%d %H:%M} UTC.",
            )
    return redirect(reverse("lkm-page", args=[tenant.slug]) + "#rotation")
