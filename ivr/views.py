"""IVR profiles: the list, a profile with its certificates and its Annex section, adding and editing profiles,
assigning and unassigning certificates (Genesys professionals), and assignment requests (tenant administrators ask,
professionals fulfil or decline).
"""

import uuid
from typing import Any

from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import slugify
from django.views.decorators.cache import never_cache

from certificates import eligibility
from certificates.models import Certificate
from portal.accounts.access import Cap, can, scoped_get, tenant_view, tenants_for, user_view
from portal.accounts.models import Tenant
from portal.audit.log import Actor

from . import services as ivr
from .forms import AssignForm, DecisionForm, IvrProfileForm, RequestForm
from .models import AssignmentRequest, IvrAssignment, IvrProfile

REQUEST_PREFIX = "request"


def _profile(tenant: Tenant, pk: uuid.UUID) -> IvrProfile:
    return scoped_get(IvrProfile.objects.select_related("tenant"), tenant, pk=pk)


def _assignment(tenant: Tenant, profile: IvrProfile, pk: uuid.UUID) -> IvrAssignment:
    rows = IvrAssignment.objects.select_related("profile__tenant", "certificate__entry")
    return scoped_get(rows, tenant, pk=pk, profile=profile)


def _assignment_request(tenant: Tenant, pk: uuid.UUID) -> AssignmentRequest:
    rows = AssignmentRequest.objects.select_related("profile__tenant", "certificate__entry")
    return scoped_get(rows, tenant, pk=pk)


def _requests(queryset: Any) -> Any:
    """Open ones first (oldest first: a queue), then the answered ones, newest first."""
    rows = queryset.select_related("profile__tenant", "requested_by", "decided_by", "certificate__entry")
    return list(rows.open().order_by("requested_at")) + list(rows.closed().order_by("-decided_at", "-requested_at"))


@tenant_view(Cap.VIEW_IVR_PROFILES)
@never_cache
def ivr_profile_list(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    profiles = IvrProfile.objects.filter(tenant=tenant).annotate(
        certificate_count=Count("assignments", distinct=True),
        open_requests=Count("requests", filter=Q(requests__status="open"), distinct=True),
    )
    return render(
        request,
        "ivr/profile_list.html",
        {
            "tenant": tenant,
            "profiles": profiles,
            "open_request_count": AssignmentRequest.objects.filter(tenant=tenant).open().count(),
            "can_assign": can(request.user, Cap.ASSIGN_IVR),
        },
    )


@tenant_view(Cap.ASSIGN_IVR, methods=("GET", "POST"))
def ivr_profile_add(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    form = IvrProfileForm(request.POST or None, tenant=tenant, initial={"dbid": ivr.next_dbid(tenant)})
    if request.method == "POST" and form.is_valid():
        profile = form.save(commit=False)
        profile.tenant = tenant
        try:
            ivr.save_profile(profile, by=Actor.of(request), created=True)
        except ivr.AssignmentRefused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, f"IVR profile '{profile.name}' (DBID {profile.dbid}) added.")
            return redirect("ivr-profile-detail", tenant=tenant.slug, profile=profile.pk)
    return render(request, "ivr/profile_form.html", {"tenant": tenant, "form": form, "profile": None})


@tenant_view(Cap.ASSIGN_IVR, methods=("GET", "POST"))
def ivr_profile_edit(request: HttpRequest, tenant: Tenant, profile: uuid.UUID) -> HttpResponse:
    obj = _profile(tenant, profile)
    form = IvrProfileForm(request.POST or None, instance=obj, tenant=tenant)
    if request.method == "POST" and form.is_valid():
        try:
            ivr.save_profile(form.save(commit=False), by=Actor.of(request), created=False)
        except ivr.AssignmentRefused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, f"IVR profile '{obj.name}' saved.")
            return redirect("ivr-profile-detail", tenant=tenant.slug, profile=obj.pk)
    return render(request, "ivr/profile_form.html", {"tenant": tenant, "form": form, "profile": obj})


def _detail(
    request: HttpRequest,
    tenant: Tenant,
    profile: IvrProfile,
    *,
    assign_form: AssignForm | None = None,
    request_form: RequestForm | None = None,
    status: int = 200,
) -> HttpResponse:
    assignments = list(profile.assignments.select_related("certificate__entry", "assigned_by").order_by("assigned_at"))
    roots = eligibility.tenant_roots(tenant.pk)
    rows = [(a, eligibility.recording_refusal(a.certificate, roots=roots)) for a in assignments]
    can_assign = can(request.user, Cap.ASSIGN_IVR)
    can_request = can(request.user, Cap.REQUEST_ASSIGNMENT)
    if can_assign and assign_form is None:
        assign_form = AssignForm(tenant=tenant, profile=profile)
    if can_request and request_form is None:
        request_form = RequestForm(tenant=tenant, profile=profile, prefix=REQUEST_PREFIX)
    return render(
        request,
        "ivr/profile_detail.html",
        {
            "tenant": tenant,
            "profile": profile,
            "rows": rows,
            "annex": ivr.annex_options(assignments),
            "annex_section": ivr.ANNEX_SECTION,
            "assign_form": assign_form if can_assign else None,
            "request_form": request_form if can_request else None,
            "requests": _requests(profile.requests.all()),
            "can_assign": can_assign,
            "back": request.path,
        },
        status=status,
    )


@tenant_view(Cap.VIEW_IVR_PROFILES)
@never_cache
def ivr_profile_detail(request: HttpRequest, tenant: Tenant, profile: uuid.UUID) -> HttpResponse:
    return _detail(request, tenant, _profile(tenant, profile))


@tenant_view(Cap.VIEW_IVR_PROFILES)
def ivr_profile_annex(request: HttpRequest, tenant: Tenant, profile: uuid.UUID) -> HttpResponse:
    """The recording-certificates section as a text file."""
    obj = _profile(tenant, profile)
    assignments = list(obj.assignments.select_related("certificate__entry").order_by("assigned_at"))
    response = HttpResponse(
        ivr.annex_text(obj, ivr.annex_options(assignments)), content_type="text/plain; charset=utf-8"
    )
    name = f"{tenant.slug}-{slugify(obj.name) or 'profile'}-{ivr.ANNEX_SECTION}.txt"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@tenant_view(Cap.ASSIGN_IVR, methods=("POST",))
def ivr_profile_assign(request: HttpRequest, tenant: Tenant, profile: uuid.UUID) -> HttpResponse:
    obj = _profile(tenant, profile)
    form = AssignForm(request.POST, tenant=tenant, profile=obj)
    if form.is_valid():
        certificate: Certificate = form.cleaned_data["certificate"]
        try:
            ivr.assign(obj, certificate, by=Actor.of(request))
        except ivr.AssignmentRefused as refused:
            form.add_error("certificate", str(refused))
        else:
            messages.success(request, f"'{certificate.alias}' assigned to the IVR profile '{obj.name}'.")
            return redirect("ivr-profile-detail", tenant=tenant.slug, profile=obj.pk)
    return _detail(request, tenant, obj, assign_form=form, status=400)


@tenant_view(Cap.ASSIGN_IVR, methods=("POST",))
def ivr_profile_unassign(
    request: HttpRequest, tenant: Tenant, profile: uuid.UUID, assignment: uuid.UUID
) -> HttpResponse:
    obj = _profile(tenant, profile)
    row = _assignment(tenant, obj, assignment)
    alias = row.certificate.alias
    try:
        ivr.unassign(row, by=Actor.of(request))
    except ivr.AssignmentRefused as refused:
        messages.error(request, str(refused))
    else:
        left = obj.assignments.count()
        tail = "" if left else " The profile has no certificate now: new voice recordings with it are not encrypted."
        messages.success(request, f"'{alias}' unassigned from the IVR profile '{obj.name}'.{tail}")
    return redirect("ivr-profile-detail", tenant=tenant.slug, profile=obj.pk)


@tenant_view(Cap.REQUEST_ASSIGNMENT, methods=("POST",))
def ivr_request_create(request: HttpRequest, tenant: Tenant, profile: uuid.UUID) -> HttpResponse:
    obj = _profile(tenant, profile)
    form = RequestForm(request.POST, tenant=tenant, profile=obj, prefix=REQUEST_PREFIX)
    if form.is_valid():
        certificate: Certificate = form.cleaned_data["certificate"]
        try:
            ivr.request_assignment(obj, certificate, comment=form.cleaned_data["comment"], by=Actor.of(request))
        except ivr.AssignmentRefused as refused:
            form.add_error("certificate", str(refused))
        else:
            messages.success(
                request,
                f"Request sent: a Genesys professional will assign '{certificate.alias}' to '{obj.name}' or reply.",
            )
            return redirect("ivr-profile-detail", tenant=tenant.slug, profile=obj.pk)
    return _detail(request, tenant, obj, request_form=form, status=400)


@tenant_view(Cap.VIEW_IVR_PROFILES)
@never_cache
def ivr_request_list(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    return render(
        request,
        "ivr/request_list.html",
        {
            "tenant": tenant,
            "requests": _requests(AssignmentRequest.objects.filter(tenant=tenant)),
            "can_assign": can(request.user, Cap.ASSIGN_IVR),
            "back": request.path,
        },
    )


def _back(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("ivr-request-list", tenant=tenant.slug)


def _decision_comment(request: HttpRequest) -> str | None:
    """The professional's comment, or None (with the message shown) when it cannot be accepted."""
    form = DecisionForm(request.POST)
    if not form.is_valid():
        problem = str(form.errors["comment"][0]) if "comment" in form.errors else "The comment cannot be accepted."
        messages.error(request, f"{problem.rstrip('.')}; nothing was changed.")
        return None
    return str(form.cleaned_data["comment"])


@tenant_view(Cap.ASSIGN_IVR, methods=("POST",))
def ivr_request_fulfil(request: HttpRequest, tenant: Tenant, assignment_request: uuid.UUID) -> HttpResponse:
    row = _assignment_request(tenant, assignment_request)
    comment = _decision_comment(request)
    if comment is None:
        return _back(request, tenant)
    try:
        ivr.fulfil(row, comment=comment, by=Actor.of(request))
    except ivr.AssignmentRefused as refused:
        messages.error(request, f"The request was not fulfilled: {refused}")
    else:
        messages.success(request, f"'{row.certificate_alias}' assigned to '{row.profile.name}'; the request is closed.")
    return _back(request, tenant)


@tenant_view(Cap.ASSIGN_IVR, methods=("POST",))
def ivr_request_decline(request: HttpRequest, tenant: Tenant, assignment_request: uuid.UUID) -> HttpResponse:
    row = _assignment_request(tenant, assignment_request)
    comment = _decision_comment(request)
    if comment is None:
        return _back(request, tenant)
    try:
        ivr.decline(row, comment=comment, by=Actor.of(request))
    except ivr.AssignmentRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, f"Request to assign '{row.certificate_alias}' to '{row.profile.name}' declined.")
    return _back(request, tenant)


@user_view(Cap.ASSIGN_IVR)
@never_cache
def ivr_request_queue(request: HttpRequest) -> HttpResponse:
    """Open requests of every tenant granted to the professional, oldest first."""
    rows = AssignmentRequest.objects.filter(tenant__in=tenants_for(request.user)).open()
    return render(
        request,
        "ivr/request_queue.html",
        {
            "requests": list(
                rows.select_related("profile__tenant", "requested_by", "certificate__entry").order_by("requested_at")
            ),
            "back": request.path,
        },
    )
