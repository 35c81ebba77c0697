"""A database too busy to answer in time (SQLite's single writer, waited on for its whole timeout) is a moment's
wait for the user, not a server error: they get a 503 page that says so, and nothing half-done, because the
request's transaction was rolled back."""

import sys
from collections.abc import Callable

from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import requires_csrf_token

RETRY_AFTER_SECONDS = 5
_BUSY_MESSAGES = ("database is locked", "database table is locked", "database is busy")


def is_database_busy(error: BaseException | None) -> bool:
    return isinstance(error, OperationalError) and any(text in str(error).lower() for text in _BUSY_MESSAGES)


def busy_response(request: HttpRequest) -> HttpResponse:
    response = render(request, "503.html", status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseBusyMiddleware:
    """A view that found the database busy answers 503 (this runs even with DEBUG on)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        return busy_response(request) if is_database_busy(exception) else None


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 handler, which also sees errors raised outside views (saving the session, in a middleware): the busy
    database gets its 503 page there too."""
    if is_database_busy(sys.exc_info()[1]):
        return busy_response(request)
    return render(request, "500.html", status=500)
