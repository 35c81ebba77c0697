"""The project's URLs plus the cross-tenant request queue, for the tests of that page."""

from django.urls import include, path

from portal.urls import urlpatterns as project_urlpatterns

urlpatterns = [*project_urlpatterns]
if not any(getattr(p, "urlconf_name", None) == "certificates.urls_ivr_queue" for p in project_urlpatterns):
    urlpatterns.append(path("", include("certificates.urls_ivr_queue")))
