"""Guarded delete, the archive of deleted certificates, restore and purge, under /t/<tenant>/."""

from django.urls import path

from . import views_archive

urlpatterns = [
    path("certificates/<uuid:certificate>/delete/", views_archive.certificate_delete, name="certificate-delete"),
    path("archive/", views_archive.certificate_archive, name="certificate-archive"),
    path(
        "archive/<uuid:certificate>/restore/",
        views_archive.certificate_restore_archived,
        name="certificate-restore-archived",
    ),
    path("archive/<uuid:certificate>/purge/", views_archive.certificate_purge, name="certificate-purge"),
]
