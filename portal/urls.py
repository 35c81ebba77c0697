"""The project's URLs: the only module that sees every app. Tenant pages live under /t/<tenant slug>/."""

from django.urls import include, path

from portal.web.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("", include("portal.accounts.urls")),
    path("", include("portal.audit.urls")),
    path("", include("portal.jobs.urls")),
    path("t/<slug:tenant>/keystore/", include("keystore.urls")),
    path("t/<slug:tenant>/recordings/", include("recordings.urls")),
    path("t/<slug:tenant>/lkm/", include("lkm.urls")),
    path("key-management/v1/", include("lkm.api_urls")),
    path("t/<slug:tenant>/", include("certificates.urls")),
    path("", include("expiry.urls")),
    path("", include("ivr.urls")),
    path("t/<slug:tenant>/screen-recording/", include("screenrecording.urls")),
]

handler400 = "portal.web.errors.bad_request"
handler403 = "portal.web.errors.permission_denied"
handler404 = "portal.web.errors.page_not_found"
handler500 = "portal.web.errors.server_error"
