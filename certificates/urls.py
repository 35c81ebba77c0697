"""Recording certificates (uploaded, generated, requested from a CA, renewed), root CAs, the archive of deleted
certificates and restore from a backup, under /t/<tenant>/."""

from django.urls import path

from .views import archive, browse, generate, renew, restore, rootcas, upload

urlpatterns = [
    path("certificates/", browse.certificate_list, name="certificate-list"),
    path("certificates/upload/", upload.certificate_upload, name="certificate-upload"),
    path("certificates/upload/preview/", upload.certificate_preview, name="certificate-preview"),
    path("certificates/generate/", generate.certificate_generate, name="certificate-generate"),
    path("certificates/request/", generate.certificate_request, name="certificate-request"),
    path("certificates/waiting/<uuid:waiting>/", generate.certificate_waiting, name="certificate-waiting"),
    path("certificates/waiting/<uuid:waiting>/csr/", generate.certificate_waiting_csr, name="certificate-waiting-csr"),
    path("certificates/reply/", generate.certificate_reply, name="certificate-reply"),
    path("certificates/restore/", restore.certificate_restore, name="certificate-restore"),
    path("certificates/<uuid:certificate>/", browse.certificate_detail, name="certificate-detail"),
    path("certificates/<uuid:certificate>/download/", browse.certificate_download, name="certificate-download"),
    path("certificates/<uuid:certificate>/renew/", renew.certificate_renew, name="certificate-renew"),
    path("root-cas/", rootcas.rootca_list, name="rootca-list"),
    path("root-cas/add/", rootcas.rootca_add, name="rootca-add"),
    path("root-cas/<uuid:rootca>/remove/", rootcas.rootca_remove, name="rootca-remove"),
    path("certificates/<uuid:certificate>/delete/", archive.certificate_delete, name="certificate-delete"),
    path("archive/", archive.certificate_archive, name="certificate-archive"),
    path(
        "archive/<uuid:certificate>/restore/",
        archive.certificate_restore_archived,
        name="certificate-restore-archived",
    ),
    path("archive/<uuid:certificate>/purge/", archive.certificate_purge, name="certificate-purge"),
]
