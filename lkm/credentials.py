"""Hawk credentials: issued to a tenant administrator once, kept only sealed by the keystore, revoked but never
deleted (the audit trail names them)."""

import secrets
import uuid
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from keystore.api import KeystoreError, open_secret, seal_secret
from portal.accounts.models import Tenant
from portal.audit.log import Actor, record

from . import hawk
from .actors import actor_name
from .memo import Memo
from .models import Credential

SEALED_AS = "lkm-hawk-key"
# Opened Hawk keys a worker keeps: revocation does not wait for them (the nonce is claimed only for a credential
# that is not revoked, on every request), so they only spare each request a query and an unsealing.
KNOWN_FOR_SECONDS = 60
AUTH_KEY_BYTES = 32
ALGORITHM = "sha256"


@dataclass(frozen=True)
class IssuedCredential:
    """A credential as it is handed over, the only time its key is shown."""

    credential: Credential
    auth_key: str

    def as_json(self) -> dict[str, str]:
        return {"id": str(self.credential.id), "authKey": self.auth_key, "algorithm": ALGORITHM}


def issue_credential(tenant: Tenant, *, by: Actor, label: str = "") -> IssuedCredential:
    auth_key = secrets.token_urlsafe(AUTH_KEY_BYTES)
    credential = Credential(tenant=tenant, label=label, created_by_name=actor_name(by))
    credential.sealed_auth_key = seal_secret(
        tenant, purpose=SEALED_AS, name=str(credential.id), secret=auth_key.encode("ascii")
    )
    with transaction.atomic():
        credential.save()
        record(
            "lkm-credential-issued",
            by=by,
            tenant=tenant,
            obj=credential,
            details={"credential": str(credential.id), "label": label},
        )
    return IssuedCredential(credential, auth_key)


class CredentialRevoked(ValueError):
    """The credential was revoked already."""


@dataclass(frozen=True)
class KnownCredential:
    """A credential as requests use it: its tenant and its Hawk key."""

    id: uuid.UUID
    tenant: Tenant
    hawk: hawk.Credentials


_known: Memo[KnownCredential] = Memo(size=256, seconds=KNOWN_FOR_SECONDS)


def revoke_credential(credential: Credential, *, by: Actor) -> Credential:
    """From now on, requests signed with it are refused (401) on every node: a request's nonce is stored only for a
    credential that is not revoked, in the database, whatever a worker remembers of the key."""
    with transaction.atomic():
        locked = Credential.objects.select_for_update().get(pk=credential.pk)
        if locked.revoked is not None:
            raise CredentialRevoked(f"Credential {locked.id} was revoked already.")
        locked.revoked = timezone.now()
        locked.revoked_by_name = actor_name(by)
        locked.save(update_fields=["revoked", "revoked_by_name"])
        _known.forget(str(locked.id))
        record(
            "lkm-credential-revoked",
            by=by,
            tenant=locked.tenant,
            obj=locked,
            details={"credential": str(locked.id), "label": locked.label},
        )
    return locked


def known_credential(credential_id: str) -> KnownCredential | None:
    """The credential a request names, with its Hawk key, unless it is unknown or was revoked when it was read."""
    return _known.get_or_make(credential_id, lambda: _read_credential(credential_id))


def _read_credential(credential_id: str) -> KnownCredential | None:
    try:
        pk = uuid.UUID(credential_id)
    except ValueError:
        return None
    credential = Credential.objects.active().select_related("tenant__data_key").filter(pk=pk).first()
    if credential is None:
        return None
    try:
        key = open_secret(
            credential.tenant, purpose=SEALED_AS, name=str(credential.id), sealed=bytes(credential.sealed_auth_key)
        )
    except KeystoreError:
        return None  # altered or moved: it authenticates nobody
    return KnownCredential(credential.id, credential.tenant, hawk.Credentials(id=credential_id, key=key))


def forget_credential(credential_id: uuid.UUID) -> None:
    """A request found it revoked: this worker stops remembering it too."""
    _known.forget(str(credential_id))
