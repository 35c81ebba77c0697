"""The one way tests make each stored object.

Recording certificates are saved as an upload saves them: the real parser reads the certificate, the tenant's checks
(duplicates, chain to a trusted root) run, and the keystore seals the key. Root CAs are added as the Root CAs page adds
them. Assignment and request rows are made directly: their own tests go through the IVR and screen-recording pages.
Keys and certificate files come from ``tests/certificates/pki.py``.
"""

import html
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from certificates import upload as uploads
from certificates.models import Certificate, RootCA
from certificates.rootcas import add_root_ca
from ivr.models import AssignmentRequest, IvrAssignment, IvrProfile
from portal.accounts.models import Tenant, User
from portal.audit.log import COMMAND
from screenrecording.models import ScreenRecordingCertificate
from tests.certificates import pki

# --- Recording certificates -------------------------------------------------------------------------------------------


def save_certificate(
    tenant: Tenant,
    cert: x509.Certificate | None = None,
    key: PrivateKeyTypes | None = None,
    *,
    alias: str | None = None,
    at: datetime | None = None,
) -> Certificate:
    """``cert`` and its ``key`` (by default a certificate like the seed's) saved through the upload's checks and
    save, as of ``at`` (now by default); without an alias, the one the upload screen proposes."""
    if cert is None:
        cert, key = pki.make_self_signed()
    assert key is not None, "a certificate is saved with its private key"
    key_data = pki.key_pem_pkcs8(key)
    validated = uploads.validate_upload(
        tenant, certificate_data=pki.pem(cert), key_data=key_data, password=None, alias=alias, at=at
    )
    return uploads.save_upload(tenant, validated, by=COMMAND)


def _period(
    not_before: datetime | None = None, not_after: datetime | None = None, days: float | None = None
) -> tuple[datetime, datetime]:
    """Ending at ``not_after``, or ``days`` from now (ten years by default); starting at ``not_before``, else a minute
    ago, or a year before the end when that is earlier."""
    now = timezone.now()
    end = not_after or now + timedelta(days=3650 if days is None else days)
    start = not_before or min(now - timedelta(minutes=1), end - timedelta(days=365))
    return start.astimezone(UTC), end.astimezone(UTC)


def make_certificate(
    tenant: Tenant,
    alias: str,
    *,
    cn: str | None = None,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    days: float | None = None,
    key_index: int = 0,
    archived: bool = False,
) -> Certificate:
    """A self-signed recording certificate like the seed's, named ``cn`` (the alias by default), valid for the
    period ``_period`` gives; ``archived`` moves it to the archive at once."""
    start, end = _period(not_before, not_after, days)
    cert, key = pki.make_self_signed(pki.make_key(2048, key_index), cn or alias, not_before=start, not_after=end)
    certificate = save_certificate(tenant, cert, key, alias=alias)
    return archive(certificate) if archived else certificate


def expired_certificate(tenant: Tenant, alias: str, *, ended: datetime | None = None) -> Certificate:
    ended = ended or datetime(2025, 1, 31, 12, 0, tzinfo=UTC)
    return make_certificate(tenant, alias, not_before=ended - timedelta(days=365), not_after=ended)


def future_certificate(tenant: Tenant, alias: str, *, starts: datetime) -> Certificate:
    return make_certificate(tenant, alias, not_before=starts, not_after=starts + timedelta(days=365))


def ca_issued_certificate(tenant: Tenant, alias: str) -> tuple[Certificate, RootCA]:
    """A certificate issued by a root CA the tenant trusts (until the test removes the root)."""
    ca_cert, ca_key = pki.make_ca("Acme Root CA")
    root = add_root(tenant, ca_cert)
    cert, key = pki.issue(ca_cert, ca_key, "Acme Recording")
    return save_certificate(tenant, cert, key, alias=alias), root


def archive(certificate: Certificate, *, at: datetime | None = None) -> Certificate:
    """The row as the archive step leaves it (that step's checks and audit entry are the archive tests' business)."""
    certificate.archived_at = at or timezone.now()
    certificate.save(update_fields=["archived_at"])
    return certificate


# --- Root CAs ---------------------------------------------------------------------------------------------------------


def add_root(tenant: Tenant, ca_cert: x509.Certificate) -> RootCA:
    return add_root_ca(tenant, pki.pem(ca_cert), by=COMMAND)


# --- Where certificates are used --------------------------------------------------------------------------------------


def record_profile(tenant: Tenant) -> IvrProfile:
    """The IVR profile every tenant starts with."""
    return IvrProfile.objects.get(tenant=tenant, name="record")


def assign_to_ivr(certificate: Certificate, profile_name: str = "record", dbid: int = 101) -> IvrAssignment:
    """Assigned on the named IVR profile, made with ``dbid`` if the tenant has no profile of that name."""
    profile, _ = IvrProfile.objects.get_or_create(tenant=certificate.tenant, name=profile_name, defaults={"dbid": dbid})
    return IvrAssignment.objects.create(tenant=certificate.tenant, profile=profile, certificate=certificate)


def assigned_to_record(tenant: Tenant, alias: str = "assigned-cert") -> IvrAssignment:
    """A new certificate assigned on the tenant's "record" profile."""
    return assign_to_ivr(make_certificate(tenant, alias))


def assign_to_screen_recording(certificate: Certificate) -> ScreenRecordingCertificate:
    return ScreenRecordingCertificate.objects.create(tenant=certificate.tenant, certificate=certificate)


def open_request(tenant: Tenant, user: User, alias: str = "requested-cert", comment: str = "") -> AssignmentRequest:
    """``user`` asks for a new certificate to be assigned on the "record" profile."""
    certificate = make_certificate(tenant, alias)
    return AssignmentRequest.objects.create(
        tenant=tenant,
        profile=record_profile(tenant),
        certificate=certificate,
        certificate_alias=certificate.alias,
        comment=comment,
        requested_by=user,
    )


# --- Uploads as a browser posts them ----------------------------------------------------------------------------------


def seed_files(cn: str = "Genesys Recording", *, key_index: int = 0, **kwargs: Any) -> tuple[bytes, bytes]:
    """A self-signed certificate like the seed's and its key, as PEM files."""
    cert, key = pki.make_self_signed(pki.make_key(2048, key_index), cn, **kwargs)
    return pki.pem(cert), pki.key_pem_traditional(key)


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


def errors(response: Any) -> dict[str, str]:
    """The messages the upload page shows under each field, by field name."""
    text = response.content.decode()
    found = {}
    for name, body in re.findall(r'<div id="([a-z_]+)-errors"[^>]*>(.*?)</div>', text, re.S):
        messages = re.findall(r'<p class="field-error" role="alert">(.*?)</p>', body, re.S)
        if messages:
            found[name] = html.unescape(messages[0])
    return found


def post_upload(client: Client, tenant_slug: str, cert: bytes | None, key: bytes | None, **kwargs: Any) -> Any:
    return client.post(reverse("certificate-upload", args=[tenant_slug]), upload_data(cert, key, **kwargs))


def post_preview(client: Client, tenant_slug: str, cert: bytes | None, key: bytes | None, **kwargs: Any) -> Any:
    return client.post(
        reverse("certificate-preview", args=[tenant_slug]),
        upload_data(cert, key, **kwargs),
        headers={"Accept": "application/json"},
    )
