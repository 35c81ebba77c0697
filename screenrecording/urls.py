"""Screen Recording Certificates, under /t/<tenant>/screen-recording/."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.screenrecording, name="screenrecording"),
    path("edit/", views.screenrecording_edit, name="screenrecording-edit"),
]
