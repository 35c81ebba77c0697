"""Django's ModelBackend, loading the signed-in user of each request with one statement written once per database
(portal/accounts/reading.py) instead of a query built and compiled on every request. The user is refused when
inactive, as Django's backend does; signing in, passwords and permissions are Django's."""

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError

from .models import User
from .reading import RowReader

# Sessions signed in before this backend name Django's; they are read as naming this one (portal/accounts/sessions.py).
DJANGO_MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
USER_BACKEND = "portal.accounts.backends.UserBackend"

_by_pk = RowReader(
    User,
    lambda quote: f"WHERE {quote(User._meta.db_table)}.{quote(User._meta.pk.get_attname_column()[1] or 'id')} = %s",
)


class UserBackend(ModelBackend):
    def get_user(self, user_id: Any) -> User | None:
        try:
            pk = User._meta.pk.to_python(user_id)
        except ValidationError:
            return None
        user = _by_pk.get([pk])
        return user if user is not None and self.user_can_authenticate(user) else None
