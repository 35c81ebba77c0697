"""Helpers of the Local Key Manager page tests."""

import html
import json
import re
import uuid
from datetime import datetime

from cryptography.hazmat.primitives import serialization
from django.apps import apps
from django.db import models
from django.test import Client
from django.urls import reverse
from mohawk import Sender  # type: ignore[import-untyped]  # no stubs published

from lkm.models import Credential, Keypair, Origin, RotationSchedule
from portal.audit.models import AuditEntry
from tests.keystore.helpers import rsa_key

DECRYPT_PATH = "/key-management/v1/decrypt"
KEYPAIR_LIST_URL = "http://testserver/key-management/v1/keypair"


def page_url(slug: str = "acme") -> str:
    return reverse("lkm-page", args=[slug])


def text_of(response) -> str:
    """The page as a reader sees its text: entities decoded (JSON in <code> blocks is HTML-escaped)."""
    return html.unescape(response.content.decode())


def messages_of(response) -> list[str]:
    return [
        html.unescape(m).strip() for m in re.findall(r'<li class="message[^"]*">(.*?)</li>', response.content.decode())
    ]


def issue(client: Client, label: str = "Genesys Cloud production"):
    return client.post(reverse("lkm-credential-issue", args=["acme"]), {"label": label})


def issued_json(response) -> dict[str, str]:
    match = re.search(r'\{"id": "[^"]*", "authKey": "[^"]*", "algorithm": "sha256"\}', text_of(response))
    assert match, "the answer shows no credential"
    return json.loads(match.group(0))


def json_blocks_after(text: str, request_line: str) -> list[dict]:
    """Every JSON body shown under ``request_line`` (e.g. POST /api/v2/recording/localkeys)."""
    return [json.loads(body) for body in re.findall(re.escape(request_line) + r"\n(\{.*?\})</code>", text, re.DOTALL)]


def hawk_get(client: Client, credentials: dict[str, str]):
    """GET /key-management/v1/keypair signed with ``credentials``, as Genesys Cloud signs it."""
    hawk = {"id": credentials["id"], "key": credentials["authKey"], "algorithm": "sha256"}
    sender = Sender(hawk, KEYPAIR_LIST_URL, "GET", content="", content_type="", always_hash_content=False)
    return client.get(KEYPAIR_LIST_URL, HTTP_AUTHORIZATION=sender.request_header)


def stored_text_holding(secret: str) -> list[str]:
    """Every model.field, text, JSON or bytes, of any table that holds ``secret`` in some row."""
    found = []
    needle = secret.encode()
    for model in apps.get_models():
        stored = [
            f
            for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField | models.JSONField | models.BinaryField)
        ]
        if not stored:
            continue
        for row in model._default_manager.values_list(*[f.attname for f in stored]):
            for field, value in zip(stored, row, strict=True):
                if isinstance(value, bytes | memoryview):
                    raw = bytes(value)
                else:
                    raw = json.dumps(value).encode() if isinstance(field, models.JSONField) else str(value).encode()
                if needle in raw:
                    found.append(f"{model._meta.label}.{field.name}")
    return found


def keypair_of(tenant, when: datetime, index: int = 0) -> Keypair:
    """A keypair made ``when``, its key a cached 2048-bit test key (the schedule only reads the date)."""
    from keystore.api import store_private_key
    from tests.keystore.helpers import certificate, der

    key = rsa_key(index)
    keypair_id = uuid.uuid4()
    entry = store_private_key(tenant, alias=f"lkm-{keypair_id}", certificate_der=der(certificate(key)), private_key=key)
    return Keypair.objects.create(
        id=keypair_id,
        tenant=tenant,
        entry=entry,
        public_key_der=key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1),
        date_created=when,
        origin=Origin.PORTAL,
        created_by_name="alice",
    )


# Who reaches the page ---------------------------------------------------------------------------------------------


def lkm_state() -> tuple:
    """What an action may change: audit entries, credentials (and revoked ones), keypairs, schedules."""
    return (
        AuditEntry.objects.count(),
        Credential.objects.count(),
        Credential.objects.filter(revoked__isnull=False).count(),
        Keypair.objects.count(),
        RotationSchedule.objects.count(),
    )
