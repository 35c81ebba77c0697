"""Hawk on the key-management/v1 contract, as a client not of ours (mohawk) signs it: what passes, every 401, and
no hostile request that gets a 500."""

import base64
import hashlib
import hmac
import json
import os
import re
import time
import uuid
from typing import Any

import pytest
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lkm.credentials import revoke_credential
from lkm.models import Credential
from portal.audit.log import COMMAND
from portal.audit.models import AuditEntry
from tests.conftest import World
from tests.lkm.kit import API, Answer, LkmClient, encrypt_to, new_credentials

ENDPOINTS = [
    ("GET", "/keypair"),
    ("POST", "/keypair"),
    ("GET", "/keypair/11111111-1111-1111-1111-111111111111"),
    ("POST", "/decrypt"),
    ("OPTIONS", "/decrypt"),
]


def unauthorized(answer: Answer) -> dict[str, str]:
    """The attributes of a 401's WWW-Authenticate, after checking the answer is the contract's JSON error."""
    assert answer.status_code == 401, answer.content
    assert answer["Content-Type"] == "application/json"
    data = answer.json()
    assert set(data) == {"message", "status"} and data["status"] == 401 and data["message"]
    challenge = answer["WWW-Authenticate"]
    assert challenge.split(" ", 1)[0] == "Hawk"
    return dict(re.findall(r'(\w+)="([^"]*)"', challenge))


def json_bytes(data: object) -> bytes:
    return json.dumps(data).encode()


def decrypt_body(keypair: tuple[str, str]) -> dict[str, str]:
    return {"keypairId": keypair[0], "body": encrypt_to(keypair[1], os.urandom(32))}


# --- what passes ---


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_unsigned_request_is_refused(lkm: LkmClient, method: str, path: str) -> None:
    assert unauthorized(lkm.request(method, path, body={"keypairId": "x", "body": "y"}, unsigned=True)) == {}


def test_signed_without_payload_hash_passes(lkm: LkmClient, keypair: tuple[str, str]) -> None:
    answer = lkm.post("/decrypt", decrypt_body(keypair), hash_payload=False)
    assert answer.status_code == 200, answer.content
    assert ' hash="' not in lkm.last_authorization


def test_signed_with_payload_hash_passes(lkm: LkmClient, keypair: tuple[str, str]) -> None:
    answer = lkm.post("/decrypt", decrypt_body(keypair))
    assert answer.status_code == 200, answer.content
    assert ' hash="' in lkm.last_authorization


def test_mac_over_the_path_alone_passes_with_a_query(lkm: LkmClient, keypair: tuple[str, str]) -> None:
    """The sample Local Key Manager verifies the MAC over the path only; clients that worked with it work here."""
    body = {"keypairId": keypair[0], "body": encrypt_to(keypair[1], data_key := os.urandom(32), pkcs1=True)}
    answer = lkm.post("/decrypt", body, query={"decryptType": "pkcs1"}, signed_url=f"http://testserver{API}/decrypt")
    assert answer.status_code == 200, answer.content
    assert answer.json() == {"body": base64.b64encode(data_key).decode()}


def test_mac_over_another_query_fails(lkm: LkmClient, keypair: tuple[str, str]) -> None:
    signed = f"http://testserver{API}/decrypt?decryptType=oaep"
    unauthorized(lkm.post("/decrypt", decrypt_body(keypair), query={"decryptType": "pkcs1"}, signed_url=signed))


def test_mac_over_the_path_as_sent_behind_gunicorn(lkm: LkmClient) -> None:
    """A path the client percent-encoded its own way is verified as sent: gunicorn hands it over as RAW_URI."""
    path = f"{API}/keypair/%7babc%7d"  # Django itself would spell it %7B...%7D
    authorization = lkm.sign("GET", f"http://testserver{path}", content=b"", content_type="")
    answer = lkm.client.get(path, headers={"Authorization": authorization}, RAW_URI=path)
    assert answer.status_code == 400 and answer.json()["message"] == "No key pair found with the id provided"
    authorization = lkm.sign("GET", f"http://testserver{path}", content=b"", content_type="")
    unauthorized(lkm.client.get(path, headers={"Authorization": authorization}))  # without RAW_URI: not as sent


def test_mac_over_another_path_fails(lkm: LkmClient) -> None:
    unauthorized(lkm.get("/keypair", signed_url=f"http://testserver{API}/decrypt"))


def test_mac_over_another_method_fails(lkm: LkmClient) -> None:
    authorization = lkm.sign("GET", f"http://testserver{API}/keypair", content=b"", content_type="")
    unauthorized(lkm.post("/keypair", authorization=authorization))


# --- 401s ---


def test_wrong_auth_key(lkm: LkmClient) -> None:
    lkm.credentials = {**lkm.credentials, "authKey": lkm.credentials["authKey"][:-2] + "xx"}
    assert unauthorized(lkm.get("/keypair"))["error"] == "Bad MAC"


@pytest.mark.parametrize("credential_id", [str(uuid.uuid4()), "not-a-uuid"])
def test_unknown_credential_id(lkm: LkmClient, credential_id: str) -> None:
    lkm.credentials = {**lkm.credentials, "id": credential_id}
    assert unauthorized(lkm.get("/keypair"))["error"] == "Unknown credentials"


def test_replayed_request(lkm: LkmClient) -> None:
    assert lkm.get("/keypair").status_code == 200
    assert unauthorized(lkm.get("/keypair", authorization=lkm.last_authorization))["error"] == "Replayed request"


def test_same_nonce_in_a_new_request_is_refused(lkm: LkmClient) -> None:
    assert lkm.get("/keypair", nonce="once-only").status_code == 200
    unauthorized(lkm.post("/keypair", nonce="once-only"))


def test_same_nonce_for_another_credential_passes(lkm: LkmClient, world: World) -> None:
    other = LkmClient(new_credentials(world.acme))
    assert lkm.get("/keypair", nonce="shared-nonce").status_code == 200
    assert other.get("/keypair", nonce="shared-nonce").status_code == 200


@pytest.mark.parametrize("offset", [-61, 61, -3600, 86400])
def test_stale_timestamp_tells_the_server_time(lkm: LkmClient, offset: int) -> None:
    before = int(time.time())
    challenge = unauthorized(lkm.get("/keypair", ts=before + offset))
    after = int(time.time())
    assert challenge["error"] == "Stale timestamp"
    assert before <= int(challenge["ts"]) <= after
    key = lkm.credentials["authKey"].encode()
    expected = hmac.new(key, f"hawk.1.ts\n{challenge['ts']}\n".encode(), hashlib.sha256).digest()
    assert base64.b64decode(challenge["tsm"]) == expected


@pytest.mark.parametrize("offset", [-55, 55])
def test_timestamp_within_a_minute_passes(lkm: LkmClient, offset: int) -> None:
    assert lkm.get("/keypair", ts=int(time.time()) + offset).status_code == 200


def test_stale_timestamp_does_not_use_up_the_nonce(lkm: LkmClient) -> None:
    unauthorized(lkm.get("/keypair", ts=int(time.time()) - 120, nonce="retried"))
    assert lkm.get("/keypair", nonce="retried").status_code == 200


def test_revoked_credential(lkm: LkmClient) -> None:
    assert lkm.get("/keypair").status_code == 200
    revoke_credential(Credential.objects.get(pk=lkm.credentials["id"]), by=COMMAND)
    assert unauthorized(lkm.get("/keypair"))["error"] == "Unknown credentials"


def test_tampered_body_with_payload_hash(lkm: LkmClient, keypair: tuple[str, str]) -> None:
    signed = decrypt_body(keypair)
    sent = {**signed, "keypairId": str(uuid.uuid4())}
    answer = lkm.post("/decrypt", sent, signed_body=json_bytes(signed))
    assert unauthorized(answer)["error"] == "Bad payload hash"


def test_content_type_is_covered_by_the_payload_hash(lkm: LkmClient, keypair: tuple[str, str]) -> None:
    body = decrypt_body(keypair)
    authorization = lkm.sign(
        "POST", f"http://testserver{API}/decrypt", content=json_bytes(body), content_type="text/plain"
    )
    unauthorized(lkm.post("/decrypt", body, authorization=authorization))


@pytest.mark.parametrize(
    "origin", ["http://testserver:8080", "http://other.example", "https://testserver", "http://testserver:443"]
)
def test_mac_for_another_host_or_port(lkm: LkmClient, origin: str) -> None:
    lkm.origin = origin
    assert unauthorized(lkm.get("/keypair"))["error"] == "Bad MAC"


@override_settings(LKM_PUBLIC_URL="https://lkm.example.com")
def test_public_url_is_what_the_mac_covers(lkm: LkmClient, keypair: tuple[str, str]) -> None:
    lkm.origin = "https://lkm.example.com"
    assert lkm.get("/keypair").status_code == 200
    assert lkm.post("/decrypt", decrypt_body(keypair)).status_code == 200
    lkm.origin = "https://lkm.example.com:443"  # the same port, spelt out
    assert lkm.get("/keypair").status_code == 200

    for origin in ("http://testserver", "http://lkm.example.com", "https://lkm.example.com:8443"):
        lkm.origin = origin
        assert unauthorized(lkm.get("/keypair"))["error"] == "Bad MAC"


def test_a_credential_sees_only_its_tenant(world: World) -> None:
    acme = LkmClient(new_credentials(world.acme))
    globex = LkmClient(new_credentials(world.globex))
    created = acme.create_keypair()
    assert globex.get("/keypair").json() == []
    assert globex.get(f"/keypair/{created['id']}").status_code == 400


def test_ext_is_covered_by_the_mac(lkm: LkmClient) -> None:
    assert lkm.get("/keypair", ext="app-data with spaces, commas; and symbols!").status_code == 200
    signed = lkm.sign("GET", f"http://testserver{API}/keypair", content=b"", content_type="", ext="original")
    unauthorized(lkm.get("/keypair", authorization=signed.replace('ext="original"', 'ext="altered"')))


def test_host_header_with_a_port(lkm: LkmClient) -> None:
    lkm.origin = "http://localhost:8000"
    assert lkm.get("/keypair", headers={"Host": "localhost:8000"}).status_code == 200
    unauthorized(lkm.get("/keypair", headers={"Host": "localhost:8001"}))


def test_https_request_is_port_443(lkm: LkmClient) -> None:
    lkm.origin = "https://testserver"
    assert lkm.get("/keypair", secure=True).status_code == 200
    unauthorized(lkm.get("/keypair"))  # the same MAC for plain http (port 80) does not hold


# A host outside ALLOWED_HOSTS and a NUL in the query are refused by the portal's middleware before the contract's
# view runs; the portal's error answers speak the contract's JSON on its paths all the same.


def test_host_not_served_is_a_400(lkm: LkmClient) -> None:
    lkm.origin = "http://evil.example"
    assert lkm.get("/keypair", headers={"Host": "evil.example"}).status_code == 400


def test_nul_in_the_query_is_a_400(lkm: LkmClient) -> None:
    assert lkm.get("/keypair", query={"decryptType": "\x00"}).status_code == 400


def test_host_not_served_answers_contract_json(lkm: LkmClient) -> None:
    lkm.origin = "http://evil.example"
    answer = lkm.get("/keypair", headers={"Host": "evil.example"})
    assert answer["Content-Type"] == "application/json" and set(answer.json()) == {"message", "status"}


def test_nul_in_the_query_answers_contract_json(lkm: LkmClient) -> None:
    answer = lkm.get("/keypair", query={"decryptType": "\x00"})
    assert answer["Content-Type"] == "application/json" and set(answer.json()) == {"message", "status"}


# Header values as a WSGI server hands them over: Latin-1, control characters included.
@pytest.mark.parametrize("user_id", ["\x00", "\x1b[2J", "a\x85b", "\xff\xfe", "x" * 5000, "line\nbreak"], ids=repr)
def test_hostile_user_id_is_audited_as_text(
    lkm: LkmClient, world: World, keypair: tuple[str, str], user_id: str
) -> None:
    assert lkm.decrypt(keypair[0], encrypt_to(keypair[1], os.urandom(32)), user_id=user_id).status_code == 200
    created = lkm.create_keypair(user_id=user_id)
    entry = AuditEntry.objects.get(action="lkm-keypair-created", tenant=world.acme)
    assert entry.details["keypair"] == created["id"]
    recorded = entry.details["genesys_user"]
    assert recorded and all(character.isprintable() for character in recorded) and len(recorded) < 5000
    decrypted = AuditEntry.objects.get(action="lkm-decrypted", tenant=world.acme)
    assert decrypted.details["genesys_user"] == recorded


# --- never a 500 ---

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
field_values = json_values | st.just("pkcs1") | st.sampled_from(["", "QUJD", "A" * 600, "\u0000", "=" * 8])
decrypt_bodies = (
    st.fixed_dictionaries(
        {},
        optional={"keypairId": field_values, "body": field_values, "decryptType": field_values},
    )
    | json_values
)
header_text = st.text(max_size=200)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=decrypt_bodies,
    user_id=st.none() | header_text,
    content_type=st.sampled_from(["application/json", "text/plain; charset=utf-8", "application/JSON ; x=y"]),
    query_type=st.none() | st.text(max_size=12),
    known_keypair=st.booleans(),
)
def test_hostile_signed_decrypt_requests_never_fail(
    lkm: LkmClient,
    keypair: tuple[str, str],
    body: Any,
    user_id: str | None,
    content_type: str,
    query_type: str | None,
    known_keypair: bool,
) -> None:
    if known_keypair and isinstance(body, dict):
        body["keypairId"] = keypair[0]
    query = {"decryptType": query_type} if query_type is not None else None
    answer = lkm.post("/decrypt", json_bytes(body), query=query, user_id=user_id, content_type=content_type)
    assert answer.status_code in (200, 400), answer.content
    assert set(answer.json()) == ({"body"} if answer.status_code == 200 else {"message", "status"})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    authorization=st.one_of(
        header_text,
        st.builds(lambda rest: "Hawk " + rest, header_text),
        st.builds(
            lambda attrs: "Hawk " + ", ".join(f'{name}="{value}"' for name, value in attrs.items()),
            st.dictionaries(
                st.sampled_from(["id", "ts", "nonce", "mac", "hash", "ext", "app", "dlg", "x"]),
                st.text(max_size=30),
                max_size=6,
            ),
        ),
    ),
    user_id=st.none() | header_text,
    raw_body=st.binary(max_size=300),
)
def test_hostile_authorization_headers_never_fail(
    lkm: LkmClient, authorization: str, user_id: str | None, raw_body: bytes
) -> None:
    answer = lkm.post("/decrypt", raw_body, authorization=authorization, user_id=user_id)
    assert answer.status_code == 401, answer.content
    assert set(answer.json()) == {"message", "status"}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw_body=st.binary(max_size=400), user_id=st.none() | header_text)
def test_hostile_signed_raw_bodies_never_fail(
    lkm: LkmClient, keypair: tuple[str, str], raw_body: bytes, user_id: str | None
) -> None:
    answer = lkm.post("/decrypt", raw_body, user_id=user_id)
    assert answer.status_code == 400, answer.content
    assert set(answer.json()) == {"message", "status"}
