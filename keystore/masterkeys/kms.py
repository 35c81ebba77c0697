"""A master key in AWS KMS: the customer's symmetric KMS key wraps the tenants' data keys and never leaves KMS.

Wrapping is ``kms:Encrypt`` and unwrapping ``kms:Decrypt``, both with an encryption context built from the tenant's
associated data, so a wrapped key moved to another tenant does not decrypt; decryption also names the key, so a blob
of another KMS key is refused. A wrapped key is ``FORMAT (1 byte) || KMS ciphertext blob``.

Credentials come from the standard AWS chain (environment, profile, instance or task role), never from the portal's
settings. Short timeouts and few retries make a KMS that is down fail in seconds with one line.
"""

import base64
import hashlib
import os
import threading
from dataclasses import dataclass
from typing import Any

import boto3
import boto3.session
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ReadTimeoutError,
)
from django.views.decorators.debug import sensitive_variables

from .. import envelope
from .base import ID_LENGTH, MasterKeyError, MasterKeyUnavailable, one_line

FORMAT = 3  # envelope.seal's blobs start with 1, a PKCS#11 token's with 2
CONTEXT_KEY = "recording-portal"
CLIENT_CONFIG = Config(
    connect_timeout=3, read_timeout=5, retries={"max_attempts": 2, "mode": "standard"}, user_agent_extra="portal"
)
# Ciphertext of another key, another context, or altered.
_NOT_AUTHENTIC = {"InvalidCiphertextException", "IncorrectKeyException"}


@dataclass(frozen=True)
class KmsSettings:
    key: str  # key id, ARN, alias name or alias ARN
    region: str = ""
    endpoint_url: str = ""
    prefix: str = "PORTAL_MASTER_KEY"


def encryption_context(aad: bytes) -> dict[str, str]:
    try:
        text = aad.decode("ascii")
    except UnicodeDecodeError:
        text = "base64:" + base64.b64encode(aad).decode()
    return {CONTEXT_KEY: text}


class KmsMasterKey:
    def __init__(self, settings: KmsSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._client, self._pid = self._new_client(), os.getpid()
        self.arn = self._describe()
        self._key_id = hashlib.sha256(b"aws-kms:" + self.arn.encode()).hexdigest()[:ID_LENGTH]

    @property
    def key_id(self) -> str:
        return self._key_id

    @sensitive_variables("data_key")
    def wrap(self, data_key: bytes, aad: bytes) -> bytes:
        answer = self._call("Encrypt", KeyId=self.arn, Plaintext=data_key, EncryptionContext=encryption_context(aad))
        return bytes([FORMAT]) + bytes(answer["CiphertextBlob"])

    def unwrap(self, wrapped: bytes, aad: bytes) -> bytes:
        if len(wrapped) < 2 or wrapped[0] != FORMAT:
            raise envelope.TamperedError("wrapped key is truncated or not from AWS KMS")
        answer = self._call(
            "Decrypt", KeyId=self.arn, CiphertextBlob=wrapped[1:], EncryptionContext=encryption_context(aad)
        )
        return bytes(answer["Plaintext"])

    def describe(self) -> str:
        return f"AWS KMS key {self.arn}"

    def probe(self) -> str:
        """The key is enabled, and this role may encrypt and decrypt with it (a round trip of a random value)."""
        self._describe()
        sample = os.urandom(16)
        try:
            if self.unwrap(self.wrap(sample, b"health probe"), b"health probe") != sample:
                raise MasterKeyUnavailable(f"AWS KMS key {self.arn}: a round trip gave another value")
        except envelope.TamperedError:
            raise MasterKeyUnavailable(f"AWS KMS key {self.arn}: a round trip does not decrypt") from None
        return "AWS KMS: ok"

    def close(self) -> None:
        pass

    def _describe(self) -> str:
        """The key's ARN; MasterKeyUnavailable unless the key exists, is enabled and encrypts."""
        metadata = self._call("DescribeKey", KeyId=self.settings.key)["KeyMetadata"]
        arn = str(metadata["Arn"])
        state = str(metadata.get("KeyState", "Enabled"))
        if state != "Enabled":
            words = {"Disabled": "disabled", "PendingDeletion": "pending deletion", "PendingImport": "pending import"}
            raise MasterKeyUnavailable(f"AWS KMS key {arn} is {words.get(state, state)}")
        if metadata.get("KeyUsage", "ENCRYPT_DECRYPT") != "ENCRYPT_DECRYPT" or metadata.get("KeySpec", "") not in (
            "",
            "SYMMETRIC_DEFAULT",
        ):
            raise MasterKeyError(f"AWS KMS key {arn} is not a symmetric encryption key (SYMMETRIC_DEFAULT)")
        return arn

    def _new_client(self) -> Any:
        settings = self.settings
        try:
            return boto3.session.Session().client(
                "kms",
                region_name=settings.region or None,
                endpoint_url=settings.endpoint_url or None,
                config=CLIENT_CONFIG,
            )
        except NoRegionError:
            raise MasterKeyError(
                f"AWS KMS: no region: set {settings.prefix}_KMS_REGION or AWS_REGION / AWS_DEFAULT_REGION"
            ) from None
        except (BotoCoreError, ValueError) as exc:
            raise MasterKeyError(f"AWS KMS: {one_line(str(exc))}") from None

    def _client_here(self) -> Any:
        """This process's client: a forked worker must not share the parent's pooled TLS connections."""
        with self._lock:
            if self._pid != os.getpid():
                self._client, self._pid = self._new_client(), os.getpid()
            return self._client

    def _call(self, operation: str, **parameters: Any) -> dict[str, Any]:
        method = {"Encrypt": "encrypt", "Decrypt": "decrypt", "DescribeKey": "describe_key"}[operation]
        where = f"AWS KMS key {self.settings.key}"
        client = self._client_here()
        try:
            answer: dict[str, Any] = getattr(client, method)(**parameters)
            return answer
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if operation == "Decrypt" and code in _NOT_AUTHENTIC:
                raise envelope.TamperedError("wrapped key does not decrypt with this KMS key and context") from None
            reason = {
                "NotFoundException": "not found",
                "DisabledException": "disabled",
                "KMSInvalidStateException": "not in a usable state",
                "AccessDeniedException": f"access denied ({operation})",
                "UnrecognizedClientException": "the AWS credentials are not valid",
                "InvalidSignatureException": "the AWS credentials are not valid",
                "ExpiredTokenException": "the AWS credentials have expired",
            }.get(code, f"{operation} failed: {code or one_line(str(exc))}")
            raise MasterKeyUnavailable(f"{where}: {reason}") from None
        except NoCredentialsError:
            raise MasterKeyUnavailable(f"{where}: no AWS credentials (environment, profile or instance role)") from None
        except (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError) as exc:
            endpoint = self.settings.endpoint_url or getattr(client.meta, "endpoint_url", "")
            kind = "does not answer" if isinstance(exc, ReadTimeoutError) else "is unreachable"
            raise MasterKeyUnavailable(f"{where}: the KMS endpoint {endpoint} {kind}") from None
        except BotoCoreError as exc:
            raise MasterKeyUnavailable(f"{where}: {one_line(str(exc))}") from None
