from django.urls import path

from . import views

urlpatterns = [
    path("", views.page_view, name="lkm-page"),
    path("credentials/", views.issue_credential, name="lkm-credential-issue"),
    path("credentials/<uuid:credential>/revoke/", views.revoke_credential, name="lkm-credential-revoke"),
    path("keypairs/", views.create_keypair, name="lkm-keypair-create"),
    path("schedule/", views.set_schedule, name="lkm-schedule"),
]
