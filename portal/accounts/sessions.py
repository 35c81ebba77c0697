"""Django's database session engine, reading the session with one statement written once per process.

Every signed-in request reads its session. Through the ORM that read cost several times the statement itself (the
query built and compiled anew each time), for a statement that never changes. The read is the same one
(``session_key`` and ``expire_date`` still in the future, else no session); writing, expiry, sign-out and
``clearsessions`` are Django's own.
"""

from functools import cache
from typing import Any

from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.db import connections, router
from django.utils import timezone

from .backends import DJANGO_MODEL_BACKEND, USER_BACKEND


@cache
def _select(alias: str) -> str:
    """The read, with the table and columns named from the model."""
    ops = connections[alias].ops
    meta = Session._meta
    column = {field.name: ops.quote_name(field.get_attname_column()[1] or field.name) for field in meta.fields}
    # Names from the model, quoted; the values are parameters.
    return (
        f"SELECT {column['session_data']} FROM {ops.quote_name(meta.db_table)} "  # noqa: S608
        f"WHERE {column['session_key']} = %s AND {column['expire_date']} > %s"
    )


class SessionStore(db.SessionStore):
    def load(self) -> dict[str, Any]:
        data = super().load()
        if data.get(BACKEND_SESSION_KEY) == DJANGO_MODEL_BACKEND:
            # Signed in before the portal's backend replaced Django's, which it extends; saved so at the next renewal.
            data[BACKEND_SESSION_KEY] = USER_BACKEND
        return data

    def _get_session_from_db(self) -> Session | None:
        key = self.session_key
        if key is None:
            return None
        connection = connections[router.db_for_read(self.model)]
        with connection.cursor() as cursor:
            cursor.execute(_select(connection.alias), [key, timezone.now()])
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        return Session(session_key=key, session_data=row[0])
