from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.debug import sensitive_post_parameters

from portal.audit.log import Actor, record
from portal.web.paging import page_links

from .access import Cap, can, find_tenant, tenant_view, tenants_for, user_view
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


HOME_PAGE_SIZE = 50
FIND_MAX_LENGTH = 100  # longer than any identifier or name worth searching for


@user_view()
def home(request: HttpRequest) -> HttpResponse:
    """Send each role where its work is: a user of one tenant to it; anyone else to the list of their tenants,
    which ``q`` narrows to those whose identifier or name contains it."""
    find = request.GET.get("q", "").strip()[:FIND_MAX_LENGTH]
    tenants = tenants_for(request.user).order_by("slug")
    if not find and not can(request.user, Cap.VIEW_ALL_TENANTS):
        first_two = list(tenants[:2])
        if len(first_two) == 1:
            return redirect("tenant-home", tenant=first_two[0].slug)
    if find:
        tenants = tenants.filter(Q(slug__icontains=find) | Q(name__icontains=find))
    page = Paginator(tenants, HOME_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/home.html",
        {"page": page, "find": find, "page_links": page_links(request.GET, page), "find_max": FIND_MAX_LENGTH},
    )


@user_view()
def switch_tenant(request: HttpRequest) -> HttpResponse:
    """The tenant switcher's target (works without JavaScript: it is a GET form). An identifier this user may reach
    opens that tenant; any other text lists the tenants it names (an unknown or foreign one among none)."""
    typed = request.GET.get("tenant", "").strip()[:FIND_MAX_LENGTH]
    if typed and find_tenant(request.user, typed) is not None:
        return redirect("tenant-home", tenant=typed)
    if not typed:
        return redirect("home")
    return redirect(f"{reverse('home')}?{urlencode({'q': typed})}")


@tenant_view(Cap.VIEW_CERTIFICATES)
def tenant_home(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    return render(request, "accounts/tenant_home.html", {"tenant": tenant})
