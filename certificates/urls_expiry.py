"""Certificate expiry: the cross-tenant dashboard (support) and each tenant's own, with their CSV exports."""

from django.urls import path

from . import views_expiry

urlpatterns = [
    path("expiry/", views_expiry.expiry_dashboard, name="expiry-dashboard"),
    path("expiry/export.csv", views_expiry.expiry_dashboard_csv, name="expiry-dashboard-csv"),
    path("t/<slug:tenant>/expiry/", views_expiry.expiry_tenant, name="expiry-tenant"),
    path("t/<slug:tenant>/expiry/export.csv", views_expiry.expiry_tenant_csv, name="expiry-tenant-csv"),
]
