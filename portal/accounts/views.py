from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.debug import sensitive_post_parameters

from portal.audit.log import Actor, record

from .access import Cap, can, tenant_view, tenants_for, user_view
from .models import Tenant


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True


login = sensitive_post_parameters("password")(LoginView.as_view())


def locked_out(request: HttpRequest, credentials: Any = None, *args: Any, **kwargs: Any) -> HttpResponse:
    """Shown by django-axes instead of checking the password once the limit of failed sign-ins is reached."""
    from django.conf import settings

    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    form = AuthenticationForm(request)
    message = (
        f"Too many failed sign-in attempts. This account is locked for {minutes} minutes from this address. "
        "Try again later or ask your administrator."
    )
    return render(request, "registration/login.html", {"form": form, "lockout_message": message}, status=429)


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "registration/password_change.html"

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        record("password-changed", by=Actor.of(self.request))
        messages.success(self.request, "Your password was changed.")
        return response

    def get_success_url(self) -> str:
        return reverse("home")


password_change = sensitive_post_parameters()(PasswordChangeView.as_view())


@user_view()
def home(request: HttpRequest) -> HttpResponse:
    """Send each role where its work is."""
    tenants = list(tenants_for(request.user)[:2])
    if can(request.user, Cap.VIEW_ALL_TENANTS) or len(tenants) != 1:
        return render(request, "accounts/home.html", {"tenants": tenants_for(request.user)})
    return redirect("tenant-home", tenant=tenants[0].slug)


@user_view()
def switch_tenant(request: HttpRequest) -> HttpResponse:
    """The tenant switcher's target (works without JavaScript: it is a GET form)."""
    slug = request.GET.get("tenant", "")
    if tenants_for(request.user).filter(slug=slug).exists():
        return redirect("tenant-home", tenant=slug)
    return redirect("home")


@tenant_view(Cap.VIEW_CERTIFICATES)
def tenant_home(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    return render(request, "accounts/tenant_home.html", {"tenant": tenant})
