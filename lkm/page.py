"""What the Local Key Manager page shows: the URL and JSON to give Genesys Cloud, and each keypair's summary."""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.http import HttpRequest

from .keypairs import keypair_json
from .models import Keypair

DECRYPT_PATH = "/key-management/v1/decrypt"
GENESYS_CONFIGURATION = "CONFIGURATION_ID"  # the id Genesys Cloud answers the key configuration with


def decrypt_url(request: HttpRequest) -> str:
    """The URL to paste into Genesys Cloud: under LKM_PUBLIC_URL behind a TLS proxy, else this site's own."""
    if settings.LKM_PUBLIC_URL:
        return settings.LKM_PUBLIC_URL.rstrip("/") + DECRYPT_PATH
    return request.build_absolute_uri(DECRYPT_PATH)


def key_configuration_json(url: str, credential_id: str, auth_key: str) -> str:
    """The body of POST /api/v2/recording/keyconfigurations."""
    body = {"url": url, "apiId": credential_id, "apiKey": auth_key, "keyConfigurationType": "LocalKeyManager"}
    return json.dumps(body, indent=2)


def local_key_json(keypair: Keypair) -> str:
    """The body of POST /api/v2/recording/localkeys for one keypair."""
    shown = keypair_json(keypair)
    body = {"configId": GENESYS_CONFIGURATION, "publicKey": shown["publicKey"], "keypairId": shown["id"]}
    return json.dumps(body, indent=2)


@dataclass(frozen=True)
class KeypairRow:
    id: str
    date_created: datetime
    created_by: str
    public_key: str  # "RSA 3072, SHA-256 1a2b 3c4d …"
    last_used: datetime | None
    decrypt_count: int
    local_key_json: str


def public_key_summary(public_key_der: bytes) -> str:
    key = serialization.load_der_public_key(public_key_der)
    bits = key.key_size if isinstance(key, rsa.RSAPublicKey) else 0
    digest = hashlib.sha256(public_key_der).hexdigest()[:16]
    return f"RSA {bits}, SHA-256 {' '.join(digest[i : i + 4] for i in range(0, 16, 4))}…"


def keypair_row(keypair: Keypair) -> KeypairRow:
    return KeypairRow(
        id=str(keypair.id),
        date_created=keypair.date_created,
        created_by=keypair.created_by_name,
        public_key=public_key_summary(bytes(keypair.public_key_der)),
        last_used=keypair.last_used,
        decrypt_count=keypair.decrypt_count,
        local_key_json=local_key_json(keypair),
    )
