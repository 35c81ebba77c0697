from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from portal.audit.log import Actor, client_ip, record


@receiver(user_logged_in)
def _signed_in(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    record("sign-in", by=Actor(user, client_ip(request)))


@receiver(user_logged_out)
def _signed_out(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    if user is not None:
        record("sign-out", by=Actor(user, client_ip(request)))


@receiver(user_login_failed)
def _sign_in_failed(sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kw: Any) -> None:
    # Only the name that was tried; the credentials also hold the password.
    record(
        "sign-in-failed",
        by=Actor(address=client_ip(request)),
        details={"username": str(credentials.get("username", ""))[:150]},
    )


@receiver(user_locked_out)
def _locked_out(sender: Any, request: HttpRequest, username: str | None = None, **kwargs: Any) -> None:
    record("sign-in-locked-out", by=Actor(address=client_ip(request)), details={"username": (username or "")[:150]})
