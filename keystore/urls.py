from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="keystore-home"),
    path("backup/", views.backup, name="keystore-backup"),
    path("entries/<uuid:entry>/download/", views.key_download, name="keystore-key-download"),
]
