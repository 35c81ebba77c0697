"""The audit trail: across tenants for support, under /t/<tenant>/audit/ for a tenant's administrator."""

from django.urls import path

from . import views

urlpatterns = [
    path("audit/", views.audit_log, name="audit-log"),
    path("audit/export.csv", views.audit_log_csv, name="audit-log-csv"),
    path("t/<slug:tenant>/audit/", views.audit_tenant, name="audit-tenant"),
    path("t/<slug:tenant>/audit/export.csv", views.audit_tenant_csv, name="audit-tenant-csv"),
]
