"""Keypairs: made when Genesys Cloud asks, on the page or on schedule; shown as the contract shows them; and used to
unwrap Genesys Cloud's data keys. Every private-key operation is the keystore's."""

import base64
import binascii
import logging
import uuid
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from keystore.api import (
    KeystoreEntry,
    KeystoreError,
    SessionKeyError,
    SessionKeyOpener,
    SessionKeyPadding,
    generate_key,
)
from portal.accounts.models import Tenant
from portal.audit.log import Actor, record

from . import schedule
from .actors import actor_name
from .memo import Memo
from .models import MAX_NAME_LENGTH, Keypair, Origin
from .wrapping import alias_for, public_key_pkcs1, wrapper_for

logger = logging.getLogger(__name__)

KEYPAIR_BITS = 3072  # what Genesys Cloud requires of a local key
PKCS1 = "pkcs1"
MAX_BODY_CHARACTERS = 2048  # base64 of the largest RSA block we hold (8,192 bits) is 1,368

# Milliseconds since then are counted in integers: a float timestamp times 1000 can fall a millisecond short.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

FIELDS_REQUIRED = "Decrypt body and keypairId must be filled out"
UNKNOWN_DECRYPT_TYPE = 'If provided, decryptType must be either "pkcs1" or null'
UNKNOWN_KEYPAIR = "No key pair found with the id provided"
NOT_BASE64 = "The body is not base64"
DOES_NOT_DECRYPT = "The body does not decrypt with this keypair"
UNUSABLE_KEYPAIR = "The keypair cannot be used: its stored private key does not open"


# A worker keeps the keypairs it decrypted with, and one key opener per tenant (the keystore's: the opened keys stay
# inside it), for a few minutes: a keypair never changes and is never deleted, so they are never stale; the time
# only bounds how long an opened key stays in a worker's memory.
KEYS_KEPT_SECONDS = 300
_keypairs: Memo[Keypair] = Memo(size=256, seconds=KEYS_KEPT_SECONDS)
_openers: Memo[SessionKeyOpener] = Memo(size=64, seconds=KEYS_KEPT_SECONDS)


class LkmError(Exception):
    """A request the contract answers with 400. The message is for the client and never names key material."""


def keypair_json(keypair: Keypair) -> dict[str, Any]:
    """The contract's keypair: never anything of the private key."""
    return {
        "id": str(keypair.id),
        "publicKey": base64.b64encode(bytes(keypair.public_key_der)).decode("ascii"),
        "dateCreated": (keypair.date_created - EPOCH) // timedelta(milliseconds=1),
    }


def find_keypair(tenant: Tenant, keypair_id: object) -> Keypair | None:
    """The tenant's keypair with this id; another tenant's is unknown, like one that does not exist."""
    try:
        pk = uuid.UUID(str(keypair_id))
    except ValueError:
        return None
    return Keypair.objects.of_tenant(tenant).select_related("entry").filter(pk=pk).first()


def _decrypting_keypair(tenant: Tenant, keypair_id: str) -> Keypair | None:
    try:
        pk = uuid.UUID(keypair_id)
    except ValueError:
        return None
    return _keypairs.get_or_make((tenant.pk, pk), lambda: find_keypair(tenant, pk))


@lru_cache(maxsize=1)
def _count_use_sql() -> str:
    quote = connection.ops.quote_name
    return (
        f"UPDATE {quote(Keypair._meta.db_table)} SET {quote('decrypt_count')} = {quote('decrypt_count')} + 1, "  # noqa: S608 - names from the model, values as parameters
        f"{quote('last_used')} = %s WHERE {quote('id')} = %s"
    )


def _count_use(keypair: Keypair, when: datetime) -> None:
    """One more decrypt and when, in one statement: it runs on every decrypt (the ORM's update costs more)."""
    parameters = [
        Keypair._meta.get_field("last_used").get_db_prep_value(when, connection),
        Keypair._meta.get_field("id").get_db_prep_value(keypair.pk, connection),
    ]
    with connection.cursor() as cursor:
        cursor.execute(_count_use_sql(), parameters)


def _opener(tenant: Tenant) -> SessionKeyOpener:
    opener = _openers.get_or_make(tenant.pk, lambda: SessionKeyOpener(tenant))
    assert opener is not None  # made whenever missing
    return opener


def _created_by(origin: Origin, by: Actor, genesys_user_id: str) -> str:
    if origin == Origin.GENESYS:
        # the user id alone may fill the column already
        return f"Genesys Cloud user {genesys_user_id}"[:MAX_NAME_LENGTH] if genesys_user_id else "Genesys Cloud"
    if origin in (Origin.SCHEDULE, Origin.IMPORT, Origin.RESTORE):
        return Origin(origin).label
    return actor_name(by)


def keypair_of_entry(
    tenant: Tenant,
    entry: KeystoreEntry,
    *,
    keypair_id: uuid.UUID,
    date_created: datetime,
    origin: Origin,
    by: Actor,
    genesys_user_id: str = "",
) -> Keypair:
    """The keypair whose private key is the keystore entry ``entry`` (made, imported or restored), inside the
    caller's transaction."""
    return Keypair.objects.create(
        id=keypair_id,
        tenant=tenant,
        entry=entry,
        public_key_der=public_key_pkcs1(bytes(entry.certificate_der)),
        date_created=date_created,
        origin=origin,
        created_by=by.user,
        created_by_name=_created_by(origin, by, genesys_user_id),
        genesys_user_id=genesys_user_id,
    )


def create_keypair(
    tenant: Tenant, *, origin: Origin, by: Actor, genesys_user_id: str = "", credential_id: str = ""
) -> Keypair:
    """A new RSA-3072 keypair, its private key generated and sealed inside the keystore, audited."""
    keypair_id = uuid.uuid4()
    created = timezone.now().replace(microsecond=0)  # whole seconds: its wrapping certificate keeps it exactly
    with transaction.atomic():
        entry = generate_key(
            tenant, alias=alias_for(keypair_id), bits=KEYPAIR_BITS, certificate=wrapper_for(keypair_id, created)
        )
        keypair = keypair_of_entry(
            tenant,
            entry,
            keypair_id=keypair_id,
            date_created=created,
            origin=origin,
            by=by,
            genesys_user_id=genesys_user_id,
        )
        schedule.restart_after(tenant, created)
        record(
            "lkm-keypair-created",
            by=by,
            tenant=tenant,
            obj=keypair,
            details={
                "keypair": str(keypair_id),
                "origin": str(origin),
                "genesys_user": genesys_user_id,
                "credential": credential_id,
            },
        )
    return keypair


def _padding(decrypt_type: object) -> SessionKeyPadding:
    if decrypt_type is None:
        return SessionKeyPadding.OAEP_SHA1
    if decrypt_type == PKCS1:
        return SessionKeyPadding.PKCS1V15
    raise LkmError(UNKNOWN_DECRYPT_TYPE)


def _ciphertext(body: str) -> bytes:
    if len(body) > MAX_BODY_CHARACTERS:
        raise LkmError(DOES_NOT_DECRYPT)
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise LkmError(NOT_BASE64) from None


def decrypt(
    tenant: Tenant,
    *,
    keypair_id: object,
    body: object,
    decrypt_type: object,
    by: Actor,
    genesys_user_id: str = "",
    credential_id: str = "",
) -> str:
    """The data key Genesys Cloud wrapped with the keypair's public key, base64, as the contract answers it.
    ``LkmError`` for anything the client sent wrong. Every attempt that reaches a keypair is audited.

    PKCS#1 v1.5 is answered under implicit rejection: a body that was not encrypted to this keypair gives random
    bytes rather than an error, because an error there would be a padding oracle (Bleichenbacher's attack)."""
    if not isinstance(keypair_id, str) or not keypair_id or not isinstance(body, str) or not body:
        raise LkmError(FIELDS_REQUIRED)
    padding = _padding(decrypt_type)
    keypair = _decrypting_keypair(tenant, keypair_id)
    if keypair is None:
        raise LkmError(UNKNOWN_KEYPAIR)
    ciphertext = _ciphertext(body)
    failure = ""
    try:
        data_key = _opener(tenant).unwrap(keypair.entry, ciphertext, padding)
    except SessionKeyError:
        failure = DOES_NOT_DECRYPT
    except KeystoreError as error:
        logger.error("LKM keypair %s of tenant %s: %s", keypair.id, tenant.slug, error)
        failure = UNUSABLE_KEYPAIR
    now = timezone.now()
    with transaction.atomic(savepoint=False):  # in the request's transaction: no savepoint to pay for
        if not failure:
            _count_use(keypair, now)
        record(
            "lkm-decrypted" if not failure else "lkm-decrypt-refused",
            by=by,
            tenant=tenant,
            obj=keypair,
            details={
                "keypair": str(keypair.id),
                "decrypt_type": PKCS1 if padding is SessionKeyPadding.PKCS1V15 else "oaep",
                "genesys_user": genesys_user_id,
                "credential": credential_id,
                **({"reason": failure} if failure else {}),
            },
        )
    if failure:
        raise LkmError(failure)
    return base64.b64encode(data_key).decode("ascii")
