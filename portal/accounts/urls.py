from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", views.login, name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", views.password_change, name="password-change"),
    path("switch/", views.switch_tenant, name="switch-tenant"),
    path("t/<slug:tenant>/", views.tenant_home, name="tenant-home"),
]
