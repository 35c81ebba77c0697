"""IVR profiles and assignment requests, under /t/<tenant>/ivr-profiles/, and the professionals' queue of open
requests across their tenants at /ivr-requests/."""

from django.urls import include, path

from . import views

tenant_patterns = [
    path("", views.ivr_profile_list, name="ivr-profile-list"),
    path("add/", views.ivr_profile_add, name="ivr-profile-add"),
    path("requests/", views.ivr_request_list, name="ivr-request-list"),
    path(
        "requests/<uuid:assignment_request>/fulfil/",
        views.ivr_request_fulfil,
        name="ivr-request-fulfil",
    ),
    path(
        "requests/<uuid:assignment_request>/decline/",
        views.ivr_request_decline,
        name="ivr-request-decline",
    ),
    path("<uuid:profile>/", views.ivr_profile_detail, name="ivr-profile-detail"),
    path("<uuid:profile>/edit/", views.ivr_profile_edit, name="ivr-profile-edit"),
    path("<uuid:profile>/annex.txt", views.ivr_profile_annex, name="ivr-profile-annex"),
    path("<uuid:profile>/assign/", views.ivr_profile_assign, name="ivr-profile-assign"),
    path(
        "<uuid:profile>/assignments/<uuid:assignment>/unassign/",
        views.ivr_profile_unassign,
        name="ivr-profile-unassign",
    ),
    path("<uuid:profile>/request/", views.ivr_request_create, name="ivr-request-create"),
]

urlpatterns = [
    path("t/<slug:tenant>/ivr-profiles/", include(tenant_patterns)),
    path("ivr-requests/", views.ivr_request_queue, name="ivr-request-queue"),
]
