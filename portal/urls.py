"""The project's URLs: the only module that sees every app."""

from django.urls import include, path

urlpatterns = [
    path("", include("portal.accounts.urls")),
]
