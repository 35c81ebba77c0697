"""Recording certificates and root CAs, under /t/<tenant>/."""

from django.urls import path

from . import views_list, views_restore, views_rootca, views_upload

urlpatterns = [
    path("certificates/", views_list.certificate_list, name="certificate-list"),
    path("certificates/upload/", views_upload.certificate_upload, name="certificate-upload"),
    path("certificates/upload/preview/", views_upload.certificate_preview, name="certificate-preview"),
    path("certificates/restore/", views_restore.certificate_restore, name="certificate-restore"),
    path("certificates/<uuid:certificate>/", views_list.certificate_detail, name="certificate-detail"),
    path("certificates/<uuid:certificate>/download/", views_list.certificate_download, name="certificate-download"),
    path("root-cas/", views_rootca.rootca_list, name="rootca-list"),
    path("root-cas/add/", views_rootca.rootca_add, name="rootca-add"),
    path("root-cas/<uuid:rootca>/remove/", views_rootca.rootca_remove, name="rootca-remove"),
]
