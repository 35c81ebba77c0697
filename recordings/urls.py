from django.urls import path

from . import views

urlpatterns = [
    path("", views.decrypt, name="recordings-decrypt"),
    path("<uuid:batch>/", views.batch, name="recordings-batch"),
    path("<uuid:batch>/download/", views.download, name="recordings-download"),
    path("verify-keys/", views.verify_keys, name="recordings-verify-keys"),
]
