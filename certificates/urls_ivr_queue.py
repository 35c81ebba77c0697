"""The cross-tenant queue of open assignment requests for Genesys professionals, at /ivr-requests/ (included at the
site root, like the other pages that span tenants)."""

from django.urls import path

from . import views_ivr

urlpatterns = [
    path("ivr-requests/", views_ivr.ivr_request_queue, name="ivr-request-queue"),
]
