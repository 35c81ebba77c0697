"""Record state changes. Every feature calls ``record``; nothing else writes audit entries."""

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import connection, models, transaction
from django.http import HttpRequest
from django.utils import timezone

from portal.accounts.models import User

from .models import AuditEntry, AuditHead

GENESIS_HASH = "0" * 64
_FORBIDDEN_KEYS = ("password", "passphrase", "secret", "private_key", "master_key")
_FORBIDDEN_TEXT = ("PRIVATE KEY", "ENCRYPTED PRIVATE")


def _check_no_secrets(value: Any, path: str = "details") -> None:
    """Refuse, loudly, details that could carry key material or passwords: a bug must not become a leak."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            if any(word in str(key).lower() for word in _FORBIDDEN_KEYS):
                raise ValueError(f"audit {path}.{key}: secrets must not be recorded")
            _check_no_secrets(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for item in value:
            _check_no_secrets(item, path)
    elif isinstance(value, str):
        if any(marker in value for marker in _FORBIDDEN_TEXT):
            raise ValueError(f"audit {path}: key material must not be recorded")
    elif not isinstance(value, int | bool | type(None)):
        raise TypeError(f"audit {path}: only text, numbers, booleans, lists and mappings are recorded")


def _signed_in_user(request: HttpRequest) -> User | None:
    """The signed-in user making the change (views that change anything are behind sign-in)."""
    return request.user if isinstance(request.user, User) else None


@dataclass(frozen=True)
class Actor:
    """Who makes a change and from where, as services take it: the signed-in user and their address, or neither
    for a management command. Services never see the ``HttpRequest``."""

    user: User | None = None
    address: str | None = None

    @classmethod
    def of(cls, request: HttpRequest) -> "Actor":
        return cls(_signed_in_user(request), client_ip(request))


COMMAND = Actor()  # a management command: no signed-in user, no address


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    address = request.META.get("REMOTE_ADDR") or ""
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


_HEAD = AuditHead._meta.db_table
_READ_HEAD = f"SELECT last_hash FROM {_HEAD} WHERE id = 1 FOR UPDATE"  # noqa: S608 - the model's table name
_MOVE_HEAD = f"UPDATE {_HEAD} SET last_hash = %s, count = count + 1 WHERE id = 1"  # noqa: S608 - the same


def _locked_head_hash() -> str:
    """The newest entry's hash, with the head locked until the transaction ends. The row is made by a migration,
    and again here when a database was emptied."""
    with connection.cursor() as cursor:
        cursor.execute(_READ_HEAD if connection.features.has_select_for_update else _READ_HEAD[: -len(" FOR UPDATE")])
        row = cursor.fetchone()
    if row is None:
        return str(AuditHead.objects.select_for_update().get_or_create(pk=1)[0].last_hash)
    return str(row[0])


def record(
    action: str,
    *,
    by: Actor,
    tenant: Any = None,
    obj: models.Model | None = None,
    details: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry, inside the caller's transaction: if the change rolls back, so does its record. ``by`` says
    who made the change and from where."""
    details = dict(details or {})
    _check_no_secrets(details)
    user = by.user
    entry = AuditEntry(
        actor=user if getattr(user, "pk", None) else None,
        recorded_actor_id=getattr(user, "pk", None),
        actor_username=user.username if user is not None else "",
        tenant=tenant,
        tenant_slug=tenant.slug if tenant is not None else "",
        action=action,
        object_type=obj._meta.model_name or "" if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:300] if obj is not None else "",
        details=details,
        ip=by.address,
    )
    # Without a savepoint of its own: inside a caller's transaction, a failure here rolls the whole change back,
    # which is what the caller wants, and a savepoint costs two round trips on every change. The head stays locked
    # until the caller commits, so the entry is made before the lock and the head is read and moved in plain SQL.
    with transaction.atomic(savepoint=False):
        entry.prev_hash = _locked_head_hash()
        entry.created = timezone.now()  # under the lock: the chain's order is the order of time
        entry.entry_hash = entry.compute_hash()
        entry.save()
        with connection.cursor() as cursor:
            cursor.execute(_MOVE_HEAD, [entry.entry_hash])
    return entry
