"""The limit on re-entered passwords before a private key leaves the keystore: after ``REAUTH_LIMIT`` wrong ones in
a row the session ends, so a borrowed or stolen session is no way to guess the password.

Each attempt takes its number from a counter row in the database *before* the password is checked, in one atomic
update; parallel requests of one session each get their own number, so however many arrive at once, at most
``REAUTH_LIMIT`` passwords are checked. (A count kept in the session would not hold: every request reads the session
when it starts and saves it when it ends.)
"""

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from .models import ReauthAttempts

REAUTH_LIMIT = 5


@dataclass(frozen=True)
class Attempt:
    number: int  # 1 for the first attempt since the last correct password

    @property
    def may_check(self) -> bool:
        """Whether this attempt's password may be checked at all: the limit is reached by earlier ones otherwise."""
        return self.number <= REAUTH_LIMIT

    @property
    def is_last(self) -> bool:
        return self.number >= REAUTH_LIMIT


def _counter(request: HttpRequest) -> tuple[Any, str]:
    session_key = request.session.session_key or ""
    digest = hashlib.sha256(session_key.encode()).hexdigest()
    return request.user, digest


def begin(request: HttpRequest) -> Attempt:
    """Count an attempt of the signed-in user's session, before its password is checked."""
    user, digest = _counter(request)
    rows = ReauthAttempts.objects.filter(user=user, session_digest=digest)
    with transaction.atomic():
        if not rows.update(attempts=F("attempts") + 1, updated=timezone.now()):
            try:
                with transaction.atomic():
                    ReauthAttempts.objects.create(user=user, session_digest=digest, attempts=1)
            except IntegrityError:  # a parallel attempt made the row first
                rows.update(attempts=F("attempts") + 1, updated=timezone.now())
            else:
                _forget_old_sessions()
                return Attempt(1)
        return Attempt(rows.values_list("attempts", flat=True).get())


def passed(request: HttpRequest) -> None:
    """The password was correct: the count starts again."""
    user, digest = _counter(request)
    ReauthAttempts.objects.filter(user=user, session_digest=digest).update(attempts=0, updated=timezone.now())


def _forget_old_sessions() -> None:
    # Rows of sessions that have ended by now; cleared when a new session starts counting, so the table stays small.
    ended = timezone.now() - timedelta(seconds=settings.SESSION_COOKIE_AGE)
    ReauthAttempts.objects.filter(updated__lt=ended).delete()
