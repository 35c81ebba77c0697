"""The key-management/v1 contract as Genesys Cloud uses it: keypairs, decrypt, the
400s and 405s, all signed by mohawk."""

import base64
import json
import os
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from asn1crypto.core import Integer, Sequence  # type: ignore[import-untyped]
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from lkm.models import Keypair
from portal.audit.models import AuditEntry
from tests.certificates import pki
from tests.conftest import World
from tests.lkm.kit import LkmClient, encrypt_to, import_keypair, pkcs1_der, refusal

FIELDS_REQUIRED = "Decrypt body and keypairId must be filled out"
UNKNOWN_KEYPAIR = "No key pair found with the id provided"


def decrypt_request(keypair: tuple[str, str], data_key: bytes) -> dict[str, str]:
    return {"keypairId": keypair[0], "body": encrypt_to(keypair[1], data_key)}


# --- keypairs ---


def test_created_keypair_is_a_bare_pkcs1_rsa_3072_public_key(lkm: LkmClient, world: World) -> None:
    before = time.time() * 1000
    created = lkm.create_keypair(user_id="genesys-user-7")
    after = time.time() * 1000

    assert set(created) == {"id", "publicKey", "dateCreated"}
    assert str(uuid.UUID(created["id"])) == created["id"]
    der = base64.b64decode(created["publicKey"], validate=True)
    parsed = Sequence.load(der, strict=True)
    assert [type(parsed[i]) for i in range(len(parsed))] == [Integer, Integer]
    assert parsed.dump() == der
    public_key = serialization.load_der_public_key(der)
    assert isinstance(public_key, rsa.RSAPublicKey) and public_key.key_size == 3072
    assert parsed[0].native == public_key.public_numbers().n and parsed[1].native == 65537
    assert isinstance(created["dateCreated"], int)
    assert before - 1000 <= created["dateCreated"] <= after  # whole seconds: up to one second before the request

    entry = AuditEntry.objects.get(action="lkm-keypair-created", tenant=world.acme)
    assert entry.details["keypair"] == created["id"]
    assert entry.details["genesys_user"] == "genesys-user-7"
    assert entry.details["credential"] == lkm.credentials["id"]


def test_created_keypair_is_listed_and_shown(lkm: LkmClient, world: World) -> None:
    created = lkm.create_keypair()
    globex_key = pki.make_key(3072, 1)
    import_keypair(world.globex, pkcs1_der(globex_key))  # another tenant's: never listed

    listed = lkm.get("/keypair")
    assert listed.status_code == 200
    assert listed.json() == [created]

    shown = lkm.get(f"/keypair/{created['id']}")
    assert shown.status_code == 200
    assert shown.json() == created
    assert lkm.get(f"/keypair/{created['id']}/").json() == created  # a trailing slash is tolerated


@pytest.mark.parametrize(
    "date_created",
    [
        datetime(2004, 6, 28, 16, 26, 55, 699000, tzinfo=UTC),  # 1088440015.699 * 1000 is 1088440015698.99... in floats
        datetime(2021, 3, 4, 5, 6, 7, 891000, tzinfo=UTC),
        datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),  # the sample's datetime(6) may hold microseconds
    ],
)
def test_imported_keypair_keeps_its_date_to_the_millisecond(
    lkm: LkmClient, world: World, date_created: datetime
) -> None:
    keypair_id = import_keypair(world.acme, pkcs1_der(pki.make_key(3072, 0)), date_created)
    epoch_ms = (date_created - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)
    assert lkm.get(f"/keypair/{keypair_id}").json()["dateCreated"] == epoch_ms


def test_empty_list_before_any_keypair(lkm: LkmClient) -> None:
    answer = lkm.get("/keypair")
    assert answer.status_code == 200 and answer.json() == []


def test_another_tenants_keypair_is_unknown(lkm: LkmClient, world: World) -> None:
    globex_id = import_keypair(world.globex, pkcs1_der(pki.make_key(3072, 1)))
    assert refusal(lkm.get(f"/keypair/{globex_id}")) == UNKNOWN_KEYPAIR
    assert refusal(lkm.get(f"/keypair/{uuid.uuid4()}")) == UNKNOWN_KEYPAIR
    assert refusal(lkm.get("/keypair/not-a-uuid")) == UNKNOWN_KEYPAIR


# --- decrypt ---


def test_decrypt_oaep_sha1_by_default(lkm: LkmClient, world: World) -> None:
    created = lkm.create_keypair()
    data_key = os.urandom(32)
    answer = lkm.decrypt(created["id"], encrypt_to(created["publicKey"], data_key), user_id="agent-42")
    assert answer.status_code == 200, answer.content
    assert answer.json() == {"body": base64.b64encode(data_key).decode()}

    entry = AuditEntry.objects.get(action="lkm-decrypted", tenant=world.acme)
    assert entry.details["keypair"] == created["id"]
    assert entry.details["genesys_user"] == "agent-42"
    assert entry.details["decrypt_type"] == "oaep"
    keypair = Keypair.objects.get(pk=created["id"])
    assert keypair.decrypt_count == 1 and keypair.last_used is not None


@pytest.mark.parametrize("where", ["query", "body"])
def test_decrypt_pkcs1(lkm: LkmClient, world: World, keypair: tuple[str, str], where: str) -> None:
    keypair_id, public_key = keypair
    data_key = os.urandom(32)
    body = encrypt_to(public_key, data_key, pkcs1=True)
    if where == "query":
        answer = lkm.decrypt(keypair_id, body, query_type="pkcs1", user_id="agent-1")
    else:
        answer = lkm.decrypt(keypair_id, body, decrypt_type="pkcs1", user_id="agent-1")
    assert answer.status_code == 200, answer.content
    assert answer.json() == {"body": base64.b64encode(data_key).decode()}
    entry = AuditEntry.objects.get(action="lkm-decrypted", tenant=world.acme)
    assert entry.details["decrypt_type"] == "pkcs1" and entry.details["genesys_user"] == "agent-1"


def test_each_decrypt_is_counted_and_audited(lkm: LkmClient, world: World, keypair: tuple[str, str]) -> None:
    keypair_id, public_key = keypair
    assert Keypair.objects.get(pk=keypair_id).last_used is None
    for user in ("first", "second", "third"):
        assert lkm.decrypt(keypair_id, encrypt_to(public_key, os.urandom(32)), user_id=user).status_code == 200
    first_used = Keypair.objects.get(pk=keypair_id).last_used
    time.sleep(0.01)
    assert lkm.decrypt(keypair_id, encrypt_to(public_key, os.urandom(32)), user_id="fourth").status_code == 200

    used = Keypair.objects.get(pk=keypair_id)
    assert used.decrypt_count == 4
    assert first_used is not None and used.last_used is not None and used.last_used > first_used
    audited = AuditEntry.objects.filter(action="lkm-decrypted", tenant=world.acme).order_by("id")
    assert [entry.details["genesys_user"] for entry in audited] == ["first", "second", "third", "fourth"]


def test_options_decrypt(lkm: LkmClient) -> None:
    answer = lkm.options("/decrypt")
    assert answer.status_code == 200
    assert set(answer.json()) == {"encryptBody", "decryptResponse"}


# --- 400s ---


@pytest.mark.parametrize("body", ["not base64!", "QUJ", "QUJDRA=x", "QU JD", "Zm9v\x00"], ids=repr)
def test_bad_base64(lkm: LkmClient, keypair: tuple[str, str], body: str) -> None:
    assert "base64" in refusal(lkm.decrypt(keypair[0], body))


def test_deeply_nested_json(lkm: LkmClient) -> None:
    assert refusal(lkm.post("/decrypt", b"[" * 8000 + b"]" * 8000)) in ("Malformed JSON", FIELDS_REQUIRED)


@pytest.mark.parametrize("body", [b"{", b'{"keypairId": ', b"\xff\xfe", b"{'keypairId': 'x'}", b"NaN-"], ids=repr)
def test_malformed_json(lkm: LkmClient, body: bytes) -> None:
    assert refusal(lkm.post("/decrypt", body)) == "Malformed JSON"


@pytest.mark.parametrize("decrypt_type", ["oaep", "PKCS1", "", "pkcs1 ", "null"])
@pytest.mark.parametrize("where", ["query", "body"])
def test_unknown_decrypt_type(lkm: LkmClient, keypair: tuple[str, str], decrypt_type: str, where: str) -> None:
    keypair_id, public_key = keypair
    options = {"query_type": decrypt_type} if where == "query" else {"decrypt_type": decrypt_type}
    message = refusal(lkm.decrypt(keypair_id, encrypt_to(public_key, os.urandom(32)), **options))
    assert message == 'If provided, decryptType must be either "pkcs1" or null'


@pytest.mark.parametrize("decrypt_type", [1, True, ["pkcs1"], {"type": "pkcs1"}], ids=repr)
def test_decrypt_type_of_another_json_type(lkm: LkmClient, keypair: tuple[str, str], decrypt_type: object) -> None:
    keypair_id, public_key = keypair
    body = {"keypairId": keypair_id, "body": encrypt_to(public_key, os.urandom(32)), "decryptType": decrypt_type}
    assert "decryptType" in refusal(lkm.post("/decrypt", body))


def test_body_encrypted_to_another_key(lkm: LkmClient, world: World, keypair: tuple[str, str]) -> None:
    keypair_id, _ = keypair
    other = (
        pki.make_key(3072, 2).public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    )
    body = encrypt_to(base64.b64encode(other).decode(), os.urandom(32))
    assert "does not decrypt" in refusal(lkm.decrypt(keypair_id, body))
    refused = AuditEntry.objects.get(action="lkm-decrypt-refused", tenant=world.acme)
    assert refused.details["keypair"] == keypair_id
    assert Keypair.objects.get(pk=keypair_id).decrypt_count == 0


def test_pkcs1_body_for_another_key_is_no_padding_oracle(lkm: LkmClient, keypair: tuple[str, str]) -> None:
    """PKCS#1 v1.5 answers a body it cannot unpad with bytes derived from it, never an error that would tell an
    attacker whether the padding held (Bleichenbacher's attack)."""
    keypair_id, public_key = keypair
    ours = serialization.load_der_public_key(base64.b64decode(public_key))
    assert isinstance(ours, rsa.RSAPublicKey)
    other = pki.make_key(3072, 2).public_key()
    data_key = os.urandom(32)
    # Encrypted to another key of the same size: below that key's modulus, but maybe not below ours. A value at or
    # above a modulus is no ciphertext for that key, whatever its padding, and is refused as such; so the body is
    # taken below both, as an attacker probing the padding would send.
    while True:
        encrypted = other.encrypt(data_key, padding.PKCS1v15())
        if int.from_bytes(encrypted, "big") < ours.public_numbers().n:
            break
    body = base64.b64encode(encrypted).decode()
    first = lkm.decrypt(keypair_id, body, query_type="pkcs1")
    assert first.status_code == 200, first.content
    assert first.json()["body"] != base64.b64encode(data_key).decode()
    assert lkm.decrypt(keypair_id, body, query_type="pkcs1").json() == first.json()  # the same every time


def test_body_too_short_for_the_key(lkm: LkmClient, keypair: tuple[str, str]) -> None:
    assert "does not decrypt" in refusal(lkm.decrypt(keypair[0], base64.b64encode(b"\x01" * 32).decode()))


def test_body_over_16_kb(lkm: LkmClient, keypair: tuple[str, str]) -> None:
    body = {"keypairId": keypair[0], "body": "A" * (16 * 1024)}
    assert "larger than 16 KB" in refusal(lkm.post("/decrypt", body))


def test_body_of_exactly_16_kb_is_read(lkm: LkmClient, keypair: tuple[str, str]) -> None:
    body = decrypt_request(keypair, data_key := os.urandom(32))
    padded = json.dumps({**body, "padding": ""}).encode()
    padded = json.dumps({**body, "padding": "x" * (16 * 1024 - len(padded))}).encode()
    assert len(padded) == 16 * 1024
    answer = lkm.post("/decrypt", padded)
    assert answer.status_code == 200 and answer.json() == {"body": base64.b64encode(data_key).decode()}
    one_byte_more = padded[:-2] + b'x"}'
    assert "larger than 16 KB" in refusal(lkm.post("/decrypt", one_byte_more))


def test_long_base64_body_does_not_decrypt(lkm: LkmClient, keypair: tuple[str, str]) -> None:
    # under 16 KB, but far longer than any RSA block the portal holds
    assert "does not decrypt" in refusal(lkm.decrypt(keypair[0], "A" * 8000))


# --- 405 ---


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/keypair"),
        ("DELETE", "/keypair"),
        ("OPTIONS", "/keypair"),
        ("POST", "/keypair/11111111-1111-1111-1111-111111111111"),
        ("DELETE", "/keypair/11111111-1111-1111-1111-111111111111"),
        ("GET", "/decrypt"),
        ("PUT", "/decrypt"),
        ("PATCH", "/decrypt"),
    ],
)
def test_other_methods(lkm: LkmClient, method: str, path: str) -> None:
    answer = lkm.request(method, path)
    assert refusal(answer, 405) == f"{method} is not allowed here"
    assert answer["Allow"]
    assert method not in answer["Allow"].split(", ")


def test_unknown_endpoint(lkm: LkmClient) -> None:
    assert refusal(lkm.get("/keypairs"), 404) == "There is no such endpoint"
