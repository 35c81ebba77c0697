"""System checks for the Local Key Manager's settings."""

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks


def public_url_problem(value: str) -> str:
    """Why LKM_PUBLIC_URL cannot name the scheme, host and port Genesys Cloud signs, or "" when it can."""
    if not value:
        return ""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        return f"LKM_PUBLIC_URL '{value}' is not a URL."
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return f"LKM_PUBLIC_URL '{value}' must be an http or https URL with a host, e.g. https://lkm.example.com"
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        return f"LKM_PUBLIC_URL '{value}' must name only the scheme, host and port, e.g. https://lkm.example.com"
    return ""


@checks.register("lkm")
def check_public_url(app_configs: Any, **kwargs: Any) -> list[checks.CheckMessage]:
    problem = public_url_problem(getattr(settings, "LKM_PUBLIC_URL", ""))
    return [checks.Error(problem, id="lkm.E001")] if problem else []
