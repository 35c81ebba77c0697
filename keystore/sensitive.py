"""Error reports that never show secrets, not even on a developer's DEBUG page.

Django hides ``sensitive_variables`` and ``sensitive_post_parameters`` only when DEBUG is off; a DEBUG error page would
print a password or a data key from the frames. Views that handle keys or passwords are wrapped with
``protect_secrets``, which installs a filter that is always active for their requests.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.debug import SafeExceptionReporterFilter
from django.views.decorators.debug import sensitive_post_parameters


class AlwaysSafeExceptionReporterFilter(SafeExceptionReporterFilter):
    def is_active(self, request: HttpRequest | None) -> bool:
        return True


_FILTER = AlwaysSafeExceptionReporterFilter()


def protect_secrets(*post_parameters: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Mark these POST fields sensitive and filter the request's error reports even with DEBUG on. Outermost."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            request.exception_reporter_filter = _FILTER
            return view(request, *args, **kwargs)

        return sensitive_post_parameters(*post_parameters)(wrapper)

    return decorate
