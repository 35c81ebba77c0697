import time
from collections.abc import Callable

from django.contrib.auth.middleware import get_user
from django.http import HttpRequest, HttpResponse

from portal.web import errors

RENEW_AFTER_SECONDS = 60
_RENEWED = "_session_renewed_at"


class IdleSessionMiddleware:
    """Sessions end after SESSION_COOKIE_AGE of inactivity. Renewing a session means writing it; doing that at most
    once a minute, instead of on every request (SESSION_SAVE_EVERY_REQUEST), keeps the idle limit to within a minute
    and spares every page a database write and commit.

    Every request needs the user here, so the user is loaded now and ``request.user`` becomes the user itself rather
    than the lazy stand-in AuthenticationMiddleware put there, which every later use had to go through."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.user = get_user(request)  # the user AuthenticationMiddleware's stand-in loads, loaded once
        if request.user.is_authenticated:
            now = int(time.time())
            if now - int(request.session.get(_RENEWED, 0)) >= RENEW_AFTER_SECONDS:
                request.session[_RENEWED] = now  # marks the session modified: saved with a fresh expiry
        return self.get_response(request)


class RejectNulBytesMiddleware:
    """A NUL byte has no place in a query string, and PostgreSQL refuses it in text: answer 400 here, once, rather
    than let any view that filters on a query parameter fail with a server error. (Forms already refuse NUL in
    posted fields.)"""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if any("\x00" in key or "\x00" in value for key, values in request.GET.lists() for value in values):
            return errors.bad_request(request)
        return self.get_response(request)
