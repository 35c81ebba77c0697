"""The project's URLs: the only module that sees every app. Tenant pages live under /t/<tenant slug>/."""

from django.urls import include, path

urlpatterns = [
    path("", include("portal.accounts.urls")),
    path("", include("portal.audit.urls")),
    path("t/<slug:tenant>/keystore/", include("keystore.urls")),
    path("t/<slug:tenant>/", include("certificates.urls")),
    path("t/<slug:tenant>/", include("certificates.urls_archive")),
    path("t/<slug:tenant>/ivr-profiles/", include("certificates.urls_ivr")),
    path("", include("certificates.urls_expiry")),
    path("", include("certificates.urls_ivr_queue")),
    path("t/<slug:tenant>/screen-recording/", include("screenrecording.urls")),
]
