"""A Genesys Cloud stand-in for the key-management/v1 contract: requests signed by mohawk (a Hawk client that is not
ours) and sent through Django's test client.

Every answer is kept in ``answers``, so a test can check all of them at once (for instance that none mentions a
private key)."""

import base64
import json
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.test import Client
from mohawk import Sender  # type: ignore[import-untyped]  # no stubs published
from mohawk.base import EmptyValue  # type: ignore[import-untyped]

from lkm.credentials import issue_credential
from lkm.sample_export import SampleKeypair
from lkm.sample_import import import_sample_keypairs
from portal.accounts.models import Tenant
from portal.audit.log import COMMAND

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Answer  # the test client's response, as typed
else:
    Answer = Any

API = "/key-management/v1"
TEST_ORIGIN = "http://testserver"  # what Django's test client addresses: host testserver, port 80
USER_HEADER = "PureCloud-User-Id"
JSON = "application/json"


def new_credentials(tenant: Tenant) -> dict[str, str]:
    """A credential issued to ``tenant`` as the portal hands it over: ``{"id", "authKey", "algorithm"}``."""
    return issue_credential(tenant, by=COMMAND).as_json()


def refusal(answer: Answer, status: int = 400) -> str:
    """The message of a JSON error answer, after checking its shape."""
    assert answer.status_code == status, answer.content
    assert answer["Content-Type"] == "application/json"
    data = answer.json()
    assert set(data) == {"message", "status"} and data["status"] == status
    assert isinstance(data["message"], str) and data["message"]
    return str(data["message"])


def oaep_sha1() -> padding.OAEP:
    return padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA1()), algorithm=hashes.SHA1(), label=None)


def encrypt_to(public_key_b64: str, data_key: bytes, *, pkcs1: bool = False) -> str:
    """``data_key`` encrypted to a contract ``publicKey`` (base64 PKCS#1 DER) as Genesys Cloud does it, base64."""
    public_key = serialization.load_der_public_key(base64.b64decode(public_key_b64))
    assert isinstance(public_key, rsa.RSAPublicKey)
    scheme = padding.PKCS1v15() if pkcs1 else oaep_sha1()
    return base64.b64encode(public_key.encrypt(data_key, scheme)).decode("ascii")


@dataclass
class LkmClient:
    """Signs and sends contract requests with one credential."""

    credentials: dict[str, str] = field(repr=False)  # as issued: {"id", "authKey", "algorithm"}
    origin: str = TEST_ORIGIN  # the scheme, host and port the MAC covers
    client: Client = field(default_factory=Client)
    answers: list[Answer] = field(default_factory=list)
    last_authorization: str = ""

    def __repr__(self) -> str:
        # test reports (pytest's and hypothesis's) show the credential's id, never its key
        return f"<LkmClient {self.credentials['id']} at {self.origin}>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))

    def sign(
        self,
        method: str,
        url: str,
        *,
        content: bytes | None,
        content_type: str,
        ts: int | None = None,
        nonce: str | None = None,
        ext: str | None = None,
    ) -> str:
        """The Authorization header for ``url``; without payload hash when ``content`` is None."""
        if content is None:
            options: dict[str, Any] = {
                "content": EmptyValue,
                "content_type": EmptyValue,
                "always_hash_content": False,
            }
        else:
            options = {"content": content, "content_type": content_type}
        mohawk_credentials = {
            "id": self.credentials["id"],
            "key": self.credentials["authKey"],
            "algorithm": self.credentials["algorithm"],
        }
        sender = Sender(
            mohawk_credentials,
            url,
            method,
            nonce=nonce or secrets.token_urlsafe(12),
            ext=ext,
            _timestamp=int(time.time()) if ts is None else ts,
            **options,
        )
        return str(sender.request_header)

    def request(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, str] | None = None,
        body: bytes | str | dict[str, Any] | list[Any] | None = None,
        content_type: str = JSON,
        user_id: str | None = None,
        ts: int | None = None,
        nonce: str | None = None,
        hash_payload: bool = True,
        signed_url: str | None = None,
        signed_body: bytes | None = None,
        authorization: str | None = None,
        unsigned: bool = False,
        headers: dict[str, str] | None = None,
        ext: str | None = None,
        secure: bool = False,
    ) -> Answer:
        """Sends ``method`` to ``API + path``. A dict or list body is sent as JSON. ``signed_url`` and
        ``signed_body`` sign something other than what is sent; ``authorization`` sends that header as it is."""
        full_path = API + path + (f"?{urlencode(query)}" if query else "")
        if isinstance(body, dict | list):
            data = json.dumps(body).encode()
        elif isinstance(body, str):
            data = body.encode()
        else:
            data = body or b""
        # Django's test client sends no Content-Type with an empty body; the MAC has to see what is sent.
        sent_type = content_type if data else ""
        sent_headers = dict(headers or {})
        if user_id is not None:
            sent_headers[USER_HEADER] = user_id
        if authorization is None and not unsigned:
            authorization = self.sign(
                method,
                signed_url or self.origin + full_path,
                content=(signed_body if signed_body is not None else data) if hash_payload else None,
                content_type=sent_type,
                ts=ts,
                nonce=nonce,
                ext=ext,
            )
        if authorization is not None:
            sent_headers["Authorization"] = authorization
            self.last_authorization = authorization
        answer = self.client.generic(
            method, full_path, data=data, content_type=sent_type, headers=sent_headers, secure=secure
        )
        self.answers.append(answer)
        return answer

    def get(self, path: str, **options: Any) -> Answer:
        return self.request("GET", path, **options)

    def post(self, path: str, body: bytes | str | dict[str, Any] | list[Any] | None = None, **options: Any) -> Answer:
        return self.request("POST", path, body=body, **options)

    def options(self, path: str, **options: Any) -> Answer:
        return self.request("OPTIONS", path, **options)

    def create_keypair(self, user_id: str | None = None) -> dict[str, Any]:
        """A new keypair as the contract answers it."""
        answer = self.post("/keypair", user_id=user_id)
        assert answer.status_code == 200, answer.content
        created: dict[str, Any] = answer.json()
        return created

    def decrypt(
        self,
        keypair_id: str,
        body: str,
        *,
        decrypt_type: str | None = None,
        query_type: str | None = None,
        user_id: str | None = None,
        **options: Any,
    ) -> Answer:
        """POST /decrypt; ``decrypt_type`` goes in the body, ``query_type`` in the query."""
        payload: dict[str, Any] = {"keypairId": keypair_id, "body": body}
        if decrypt_type is not None:
            payload["decryptType"] = decrypt_type
        query = {"decryptType": query_type} if query_type is not None else None
        return self.post("/decrypt", payload, query=query, user_id=user_id, **options)


def import_keypair(tenant: Tenant, private_key_der: bytes, date_created: datetime | None = None) -> str:
    """A keypair holding this bare PKCS#1 private key, brought in as the sample's export is; its id."""
    private_key = serialization.load_der_private_key(private_key_der, password=None)
    assert isinstance(private_key, rsa.RSAPrivateKey)
    row = SampleKeypair(
        id=uuid.uuid4(),
        date_created=date_created or datetime.now(UTC).replace(microsecond=0),
        private_key_der=private_key_der,
        public_key_der=private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.PKCS1
        ),
        line=2,
    )
    (keypair,) = import_sample_keypairs(tenant, [row], by=COMMAND)
    return str(keypair.id)


def pkcs1_der(private_key: rsa.RSAPrivateKey) -> bytes:
    """A private key as the sample stores it: bare PKCS#1 DER."""
    return private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
