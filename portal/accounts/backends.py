"""Django's ModelBackend, loading the signed-in user of each request with one statement written once per process.

Every signed-in request loads its user by primary key. Through the ORM that cost several times the statement itself
(the query built and compiled anew each time). The user is read, converted and checked as Django's backend does it
(an inactive user is no user); signing in, passwords and permissions are Django's.
"""

from collections.abc import Callable
from functools import cache
from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError
from django.db import connections, router

from .models import User

# Sessions signed in before this backend name Django's; they are read as naming this one (portal/accounts/sessions.py).
DJANGO_MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
USER_BACKEND = "portal.accounts.backends.UserBackend"

Converter = Callable[[Any, Any, Any], Any]


@cache
def _reader(alias: str) -> tuple[str, list[str], list[tuple[int, Any, list[Converter]]]]:
    """The statement, the attribute each column fills, and the conversions the ORM would apply to each column."""
    connection = connections[alias]
    ops = connection.ops
    meta = User._meta
    fields = meta.concrete_fields
    columns = ", ".join(ops.quote_name(field.get_attname_column()[1] or field.name) for field in fields)
    pk = ops.quote_name(meta.pk.get_attname_column()[1] or meta.pk.name)
    # Names from the model, quoted; the value is a parameter.
    sql = f"SELECT {columns} FROM {ops.quote_name(meta.db_table)} WHERE {pk} = %s"  # noqa: S608
    conversions = []
    for index, field in enumerate(fields):
        column = field.get_col(meta.db_table)
        converters = ops.get_db_converters(column) + column.get_db_converters(connection)
        if converters:
            conversions.append((index, column, converters))
    return sql, [field.attname for field in fields], conversions


class UserBackend(ModelBackend):
    def get_user(self, user_id: Any) -> User | None:
        try:
            pk = User._meta.pk.to_python(user_id)
        except ValidationError:
            return None
        alias = router.db_for_read(User)
        connection = connections[alias]
        sql, names, conversions = _reader(alias)
        with connection.cursor() as cursor:
            cursor.execute(sql, [pk])
            row = cursor.fetchone()
        if row is None:
            return None
        values = list(row)
        for index, column, converters in conversions:
            for convert in converters:
                values[index] = convert(values[index], column, connection)
        user = User.from_db(alias, names, values)
        return user if self.user_can_authenticate(user) else None
