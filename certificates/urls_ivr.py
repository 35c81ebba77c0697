"""IVR profiles and assignment requests, under /t/<tenant>/ivr-profiles/."""

from django.urls import path

from . import views_ivr

urlpatterns = [
    path("", views_ivr.ivr_profile_list, name="ivr-profile-list"),
    path("add/", views_ivr.ivr_profile_add, name="ivr-profile-add"),
    path("requests/", views_ivr.ivr_request_list, name="ivr-request-list"),
    path(
        "requests/<uuid:assignment_request>/fulfil/",
        views_ivr.ivr_request_fulfil,
        name="ivr-request-fulfil",
    ),
    path(
        "requests/<uuid:assignment_request>/decline/",
        views_ivr.ivr_request_decline,
        name="ivr-request-decline",
    ),
    path("<uuid:profile>/", views_ivr.ivr_profile_detail, name="ivr-profile-detail"),
    path("<uuid:profile>/edit/", views_ivr.ivr_profile_edit, name="ivr-profile-edit"),
    path("<uuid:profile>/annex.txt", views_ivr.ivr_profile_annex, name="ivr-profile-annex"),
    path("<uuid:profile>/assign/", views_ivr.ivr_profile_assign, name="ivr-profile-assign"),
    path(
        "<uuid:profile>/assignments/<uuid:assignment>/unassign/",
        views_ivr.ivr_profile_unassign,
        name="ivr-profile-unassign",
    ),
    path("<uuid:profile>/request/", views_ivr.ivr_request_create, name="ivr-request-create"),
]
