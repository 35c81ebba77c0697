from django.urls import path

from . import views

urlpatterns = [
    path("t/<slug:tenant>/jobs/<uuid:job>/", views.page, name="job"),
    path("t/<slug:tenant>/jobs/<uuid:job>/progress/", views.progress, name="job-progress"),
    path("t/<slug:tenant>/jobs/<uuid:job>/download/", views.download, name="job-download"),
    path("jobs/<uuid:job>/", views.global_page, name="global-job"),
    path("jobs/<uuid:job>/progress/", views.global_progress, name="global-job-progress"),
]
