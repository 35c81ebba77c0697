"""The error answers: the page for a browser, JSON for the page scripts and API clients that ask for it.

A database too busy to answer in time (SQLite's single writer, waited on for its whole timeout) is a moment's wait for
the user, not a server error: a 503 that says so, with nothing half-done, because the request's transaction was rolled
back.

A client that sent ``Accept: application/json`` reads the body as JSON, so an HTML error page would reach it as a
parse failure instead of the reason. Each answer names what was wrong when the request itself shows it (too large,
too many fields); none says anything about the portal's data.
"""

import sys
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views import defaults
from django.views.decorators.csrf import requires_csrf_token

BAD_REQUEST = "The request could not be understood. Go back and try again."
NOT_ALLOWED = "Your role does not allow this action. If you need it, ask a tenant administrator or support."
NOT_FOUND = "There is nothing here, or it is not part of a tenant you can reach."
SERVER_ERROR = "Something went wrong on our side. Nothing was changed. Try again; if it persists, contact support."
CSRF_FAILED = "The form had expired or came from elsewhere. Reload the page and try again."
BUSY = (
    "The portal is busy: many changes arrived at the same moment and yours could not be finished in time. Wait a few "
    "seconds, check whether your change is there, and try again if it is not."
)
RETRY_AFTER_SECONDS = 5
_BUSY_MESSAGES = ("database is locked", "database table is locked", "database is busy")


def wants_json(request: HttpRequest) -> bool:
    """Asked for JSON by name: a browser's ``*/*`` does not count."""
    return "application/json" in request.headers.get("Accept", "")


def is_machine_api(request: HttpRequest) -> bool:
    """A path of an API that machines call (settings.MACHINE_API_PATHS, e.g. Genesys Cloud's key-management/v1):
    every answer there is JSON in that API's shape, ``{"message", "status"}``, whatever the client accepts."""
    return request.path.startswith(tuple(settings.MACHINE_API_PATHS))


def bad_request_message(exception: Exception | None) -> str:
    if isinstance(exception, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024
        return f"The request is too large: its fields other than files may hold at most {limit:,} KB in all."
    if isinstance(exception, TooManyFieldsSent):
        return f"The request has too many fields: at most {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS:,} are accepted."
    if isinstance(exception, TooManyFilesSent):
        return f"The request has too many files: at most {settings.DATA_UPLOAD_MAX_NUMBER_FILES:,} are accepted."
    return BAD_REQUEST


def _answer(request: HttpRequest, template: str, status: int, message: str) -> HttpResponse:
    if is_machine_api(request):
        return JsonResponse({"message": message, "status": status}, status=status)
    if wants_json(request):
        return JsonResponse({"error": message}, status=status)
    return render(request, template, {"message": message}, status=status)


@requires_csrf_token
def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _answer(request, "400.html", 400, bad_request_message(exception))


@requires_csrf_token
def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _answer(request, "403.html", 403, NOT_ALLOWED)


@requires_csrf_token
def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _answer(request, "404.html", 404, NOT_FOUND)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _answer(request, "403.html", 403, CSRF_FAILED)


def is_database_busy(error: BaseException | None) -> bool:
    return isinstance(error, OperationalError) and any(text in str(error).lower() for text in _BUSY_MESSAGES)


def busy_response(request: HttpRequest) -> HttpResponse:
    response = _answer(request, "503.html", 503, BUSY)
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
    """Also sees errors raised outside views (saving the session, in a middleware): a busy database gets its 503
    there too. Otherwise no context processors and no database: what failed may fail again while this is drawn."""
    if is_database_busy(sys.exc_info()[1]):
        return busy_response(request)
    if is_machine_api(request):
        return JsonResponse({"message": SERVER_ERROR, "status": 500}, status=500)
    if wants_json(request):
        return JsonResponse({"error": SERVER_ERROR}, status=500)
    return defaults.server_error(request)
