"""Hawk for the Local Key Manager's requests: the request as Genesys Cloud signed it, the credential it names, and
its nonce, accepted once across every worker and node because it is kept in the database."""

import time
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.http.request import split_domain_port
from django.utils import timezone

from portal.accounts.models import Tenant

from . import hawk
from .credentials import active_credential
from .models import Credential, Nonce

# A nonce can come back only with its own timestamp, accepted for SKEW_SECONDS either side of the clock: after twice
# that it is refused as stale anyway. The margin covers clocks that differ between nodes.
NONCE_KEPT = timedelta(seconds=2 * hawk.SKEW_SECONDS + 180)
PURGE_EVERY = 256  # nonces: old ones are deleted by the request that stores every 256th
DEFAULT_PORTS = {"http": 80, "https": 443}
REPLAYED = "Replayed request: this nonce was used already"


class Unauthenticated(Exception):
    """401: ``str()`` says why, ``www_authenticate`` is the header."""

    def __init__(self, reason: str, www_authenticate: str = "Hawk") -> None:
        super().__init__(reason)
        self.www_authenticate = www_authenticate


@dataclass(frozen=True)
class Client:
    """Genesys Cloud, as one credential of one tenant."""

    credential: Credential
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


def _claim_nonce(credential: Credential, nonce: str) -> None:
    now = timezone.now()
    try:
        with transaction.atomic():
            stored = Nonce.objects.create(credential=credential, nonce=nonce, seen=now)
    except IntegrityError:
        raise Unauthenticated(REPLAYED, 'Hawk error="Replayed request"') from None
    if stored.pk % PURGE_EVERY == 0:
        Nonce.objects.filter(seen__lt=now - NONCE_KEPT).delete()


def authenticate(request: HttpRequest, body: bytes) -> Client:
    """The client that signed this request, or ``Unauthenticated``."""
    found: dict[str, Credential] = {}

    def lookup(credential_id: str) -> hawk.Credentials | None:
        active = active_credential(credential_id)
        if active is None:
            return None
        found["credential"] = active[0]
        return active[1]

    host, port = signed_origin(request)
    signed = hawk.Request(
        method=request.method or "",
        resources=signed_resources(request),
        host=host,
        port=port,
        content_type=request.META.get("CONTENT_TYPE", ""),
        body=body,
    )
    try:
        verified = hawk.verify(request.headers.get("Authorization"), signed, lookup=lookup, now=time.time())
    except hawk.HawkError as error:
        raise Unauthenticated(str(error), error.www_authenticate) from None
    credential = found["credential"]
    _claim_nonce(credential, verified.nonce)
    return Client(credential=credential, tenant=credential.tenant)
