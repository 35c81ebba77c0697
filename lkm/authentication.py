"""Hawk for the Local Key Manager's requests: the request as Genesys Cloud signed it, the credential it names, and
its nonce, accepted once across every worker and node because it is kept in the database."""

import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection
from django.http import HttpRequest
from django.http.request import split_domain_port
from django.utils import timezone

from portal.accounts.models import Tenant

from . import hawk
from .credentials import KnownCredential, forget_credential, known_credential
from .models import Credential, Nonce

# A nonce can come back only with its own timestamp, accepted for SKEW_SECONDS either side of the clock: after twice
# that it is refused as stale anyway. The margin covers clocks that differ between nodes.
NONCE_KEPT = timedelta(seconds=2 * hawk.SKEW_SECONDS + 180)
PURGE_ONE_IN = 256  # requests: about one in this many also deletes the nonces past NONCE_KEPT
DEFAULT_PORTS = {"http": 80, "https": 443}
REPLAYED = "Replayed request: this nonce was used already"
REVOKED = "Unknown credentials"


class Unauthenticated(Exception):
    """401: ``str()`` says why, ``www_authenticate`` is the header."""

    def __init__(self, reason: str, www_authenticate: str = "Hawk") -> None:
        super().__init__(reason)
        self.www_authenticate = www_authenticate


@dataclass(frozen=True)
class Client:
    """Genesys Cloud, as one credential of one tenant."""

    credential_id: uuid.UUID
    tenant: Tenant


@lru_cache(maxsize=4)
def _public_origin(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return (parts.hostname or "").lower(), parts.port or DEFAULT_PORTS.get(parts.scheme, 443)


def signed_origin(request: HttpRequest) -> tuple[str, int]:
    """The host and port the client addressed: LKM_PUBLIC_URL's behind a TLS proxy, else the request's own."""
    if settings.LKM_PUBLIC_URL:
        return _public_origin(settings.LKM_PUBLIC_URL)
    host, port = split_domain_port(request.get_host())  # DisallowedHost for a host not in ALLOWED_HOSTS
    return host, int(port) if port else DEFAULT_PORTS[request.scheme or "http"]


def signed_resources(request: HttpRequest) -> tuple[str, ...]:
    """What the MAC may cover: the path and query as sent (Hawk), or the path alone, as the sample Local Key Manager
    verifies it, so that a client that worked with the sample works here."""
    raw = request.META.get("RAW_URI", "")
    candidates = [raw if raw.startswith("/") else "", request.get_full_path(), request.path]
    return tuple(dict.fromkeys(candidate for candidate in candidates if candidate))


def signed_content_types(request: HttpRequest, body: bytes) -> tuple[str, ...]:
    """The Content-Type a payload hash may cover. wsgiref (runserver) reports a request that had none as
    text/plain, so an empty body may also have been signed with no content type at all."""
    given = request.META.get("CONTENT_TYPE", "")
    return (given, "") if not body and given == "text/plain" else (given,)


def _verify(request: HttpRequest, body: bytes, lookup: Callable[[str], hawk.Credentials | None]) -> hawk.Verified:
    host, port = signed_origin(request)
    resources = signed_resources(request)
    error = hawk.HawkError("Missing Hawk authorization", "Hawk")
    for content_type in signed_content_types(request, body):
        signed = hawk.Request(
            method=request.method or "",
            resources=resources,
            host=host,
            port=port,
            content_type=content_type,
            body=body,
        )
        try:
            return hawk.verify(request.headers.get("Authorization"), signed, lookup=lookup, now=time.time())
        except hawk.HawkError as refused:
            error = refused
    raise error


@lru_cache(maxsize=1)
def _insert_nonce_sql() -> str:
    quote = connection.ops.quote_name
    credential_column = quote(Nonce._meta.get_field("credential").column)
    return (
        f"INSERT INTO {quote(Nonce._meta.db_table)} ({credential_column}, {quote('nonce')}, {quote('seen')}) "  # noqa: S608 - names from the models, values as parameters
        f"SELECT {quote('id')}, %s, %s FROM {quote(Credential._meta.db_table)} "
        f"WHERE {quote('id')} = %s AND {quote('revoked')} IS NULL "
        f"ON CONFLICT ({credential_column}, {quote('nonce')}) DO NOTHING"
    )


def _insert_nonce(credential_id: uuid.UUID, nonce: str, seen: datetime) -> bool:
    """Store the nonce if the credential is still active and has not used it: one statement, so that a replay and
    a revocation are both seen by every worker and node, at the cost of one write per request."""
    parameters = [
        nonce,
        Nonce._meta.get_field("seen").get_db_prep_value(seen, connection),
        Credential._meta.get_field("id").get_db_prep_value(credential_id, connection),
    ]
    with connection.cursor() as cursor:
        cursor.execute(_insert_nonce_sql(), parameters)
        return cursor.rowcount == 1


def _claim_nonce(known: KnownCredential, nonce: str) -> None:
    now = timezone.now()
    if _insert_nonce(known.id, nonce, now):
        if secrets.randbelow(PURGE_ONE_IN) == 0:
            Nonce.objects.filter(seen__lt=now - NONCE_KEPT).delete()
        return
    if Credential.objects.active().filter(pk=known.id).exists():
        raise Unauthenticated(REPLAYED, 'Hawk error="Replayed request"')
    forget_credential(known.id)
    raise Unauthenticated(REVOKED, f'Hawk error="{REVOKED}"')


def authenticate(request: HttpRequest, body: bytes) -> Client:
    """The client that signed this request, or ``Unauthenticated``. Inside the request's transaction: the nonce is
    stored with whatever the request changes."""
    found: dict[str, KnownCredential] = {}

    def lookup(credential_id: str) -> hawk.Credentials | None:
        known = known_credential(credential_id)
        if known is None:
            return None
        found["credential"] = known
        return known.hawk

    try:
        verified = _verify(request, body, lookup)
    except hawk.HawkError as error:
        raise Unauthenticated(str(error), error.www_authenticate) from None
    known = found["credential"]
    _claim_nonce(known, verified.nonce)
    return Client(credential_id=known.id, tenant=known.tenant)
