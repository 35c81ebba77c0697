"""Helpers for the upload tests: post files as a browser does, and make saved certificates directly."""

import html
import re
from datetime import datetime
from typing import Any

from cryptography import x509
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from certificates import upload as uploads
from certificates.models import Certificate, RootCA
from tests.certificates import pki


def seed_files(cn: str = "Genesys Recording", *, key_index: int = 0, **kwargs: Any) -> tuple[bytes, bytes]:
    """A self-signed certificate like the seed's and its key, as PEM files."""
    cert, key = pki.make_self_signed(pki.make_key(2048, key_index), cn, **kwargs)
    return pki.pem(cert), pki.key_pem_traditional(key)


def errors(response: Any) -> dict[str, str]:
    """The messages shown under each field, by field name."""
    text = response.content.decode()
    found = {}
    for name, body in re.findall(r'<div id="([a-z_]+)-errors"[^>]*>(.*?)</div>', text, re.S):
        messages = re.findall(r'<p class="field-error" role="alert">(.*?)</p>', body, re.S)
        if messages:
            found[name] = html.unescape(messages[0])
    return found


def upload_data(
    cert: bytes | None,
    key: bytes | None,
    *,
    password: str = "",
    alias: str = "",
    cert_name: str = "tenant.pem",
    key_name: str = "tenant.key",
    **extra: str,
) -> dict[str, Any]:
    data: dict[str, Any] = {"key_password": password, "alias": alias, **extra}
    if cert is not None:
        data["certificate_file"] = SimpleUploadedFile(cert_name, cert, content_type="application/octet-stream")
    if key is not None:
        data["key_file"] = SimpleUploadedFile(key_name, key, content_type="application/octet-stream")
    return data


def post_upload(client: Client, tenant_slug: str, cert: bytes | None, key: bytes | None, **kwargs: Any) -> Any:
    return client.post(reverse("certificate-upload", args=[tenant_slug]), upload_data(cert, key, **kwargs))


def post_preview(client: Client, tenant_slug: str, cert: bytes | None, key: bytes | None, **kwargs: Any) -> Any:
    return client.post(
        reverse("certificate-preview", args=[tenant_slug]),
        upload_data(cert, key, **kwargs),
        headers={"Accept": "application/json"},
    )


def save_certificate(
    tenant: Any,
    cert: x509.Certificate | None = None,
    key: Any = None,
    *,
    alias: str | None = None,
    at: datetime | None = None,
) -> Certificate:
    """A certificate saved through the same service as the upload screen."""
    if cert is None:
        cert, key = pki.make_self_signed()
    validated = uploads.validate_upload(
        tenant,
        certificate_data=pki.pem(cert),
        key_data=pki.key_pem_pkcs8(key),
        password=None,
        alias=alias,
        at=at,
    )
    return uploads.save_upload(tenant, validated)


def add_root(tenant: Any, ca_cert: x509.Certificate) -> RootCA:
    from certificates.rootcas import add_root_ca

    return add_root_ca(tenant, pki.pem(ca_cert))
