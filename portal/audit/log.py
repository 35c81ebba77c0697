"""Record state changes. Every feature calls ``record``; nothing else writes audit entries."""

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
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
    with transaction.atomic():
        head, _ = AuditHead.objects.select_for_update().get_or_create(pk=1)
        entry = AuditEntry(
            created=timezone.now(),
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
            prev_hash=head.last_hash,
        )
        entry.entry_hash = entry.compute_hash()
        entry.save()
        AuditHead.objects.filter(pk=1).update(last_hash=entry.entry_hash, count=models.F("count") + 1)
    return entry
