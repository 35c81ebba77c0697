"""The error answers: the page for a browser, JSON for the page scripts and API clients that ask for it.

A client that sent ``Accept: application/json`` reads the body as JSON, so an HTML error page would reach it as a
parse failure instead of the reason. Each answer names what was wrong when the request itself shows it (too large,
too many fields); none says anything about the portal's data.
"""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views import defaults
from django.views.decorators.csrf import requires_csrf_token

BAD_REQUEST = "The request could not be understood. Go back and try again."
NOT_ALLOWED = "Your role does not allow this action. If you need it, ask a tenant administrator or support."
NOT_FOUND = "There is nothing here, or it is not part of a tenant you can reach."
SERVER_ERROR = "Something went wrong on our side. Nothing was changed. Try again; if it persists, contact support."
CSRF_FAILED = "The form had expired or came from elsewhere. Reload the page and try again."


def wants_json(request: HttpRequest) -> bool:
    """Asked for JSON by name: a browser's ``*/*`` does not count."""
    return "application/json" in request.headers.get("Accept", "")


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


def server_error(request: HttpRequest) -> HttpResponse:
    """No context processors and no database: whatever failed may fail again while this page is drawn."""
    if wants_json(request):
        return JsonResponse({"error": SERVER_ERROR}, status=500)
    return defaults.server_error(request)
