"""The contract tests' Genesys Cloud: acme's signed client, which checks afterwards that no answer it received
mentions a private key, and a keypair of acme holding a cached test key (quicker than generating one)."""

import base64
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives import serialization

from tests.certificates import pki
from tests.conftest import World
from tests.lkm.kit import LkmClient, import_keypair, new_credentials, pkcs1_der


@pytest.fixture
def lkm(world: World) -> Iterator[LkmClient]:
    client = LkmClient(new_credentials(world.acme))
    yield client
    for answer in client.answers:
        assert b"private" not in answer.content.lower(), answer.content[:200]


@pytest.fixture
def keypair(world: World) -> tuple[str, str]:
    """(id, publicKey) of an acme keypair."""
    key = pki.make_key(3072, 0)
    public_der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    return import_keypair(world.acme, pkcs1_der(key)), base64.b64encode(public_der).decode()
