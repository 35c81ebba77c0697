"""A WSGI application that does nothing: the least any page served by gunicorn can cost. The scale benchmark serves it
beside the portal, the same way, so the portal's cheapest page is reported as a multiple of it."""

from collections.abc import Callable, Iterable
from typing import Any

BODY = b"ok\n"


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(BODY)))])
    return [BODY]
