"""Certificate expiry: the cross-tenant dashboard (support) and each tenant's own, with their CSV exports."""

from django.urls import path

from . import views

urlpatterns = [
    path("expiry/", views.expiry_dashboard, name="expiry-dashboard"),
    path("expiry/export.csv", views.expiry_dashboard_csv, name="expiry-dashboard-csv"),
    path("t/<slug:tenant>/expiry/", views.expiry_tenant, name="expiry-tenant"),
    path("t/<slug:tenant>/expiry/export.csv", views.expiry_tenant_csv, name="expiry-tenant-csv"),
]
