"""Keys that wait for a certificate authority ("Waiting for certificate"), and the CA's certificate when it comes back.

The key is generated in the keystore beside a placeholder self-signed certificate that carries the requested subject
and a marker extension, so a backup holds the waiting key like any other and a restore recognizes it. The CA's reply
is matched to its key by public key, checked like an upload (chain to the tenant's root CAs included), and then takes
the placeholder's place: the entry becomes an active recording certificate.
"""

import hashlib
from collections.abc import Collection
from datetime import timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from keystore.api import (
    OPENSSL_REQ,
    KeystoreEntry,
    KeystoreError,
    SelfSigned,
    attach_certificate,
    generate_for_request,
    signing_request,
)
from portal.audit.log import Actor, record

from . import followups
from .generation import KEYSTORE, NewKey, Outcome, alias_for, saved_or_refused
from .models import Certificate, CertificateRequest
from .restore import RestoreRefused
from .upload import (
    CERTIFICATE_FILE,
    UploadInvalid,
    check_parsed_certificate,
    create_certificate,
    parse_recording_certificate,
    refusal,
)
from .x509.parsing import ParsedCertificate

# Names the placeholder certificate of a waiting key (an OID under 2.25, made from a UUID as X.667 allows).
WAITING_MARKER = x509.ObjectIdentifier("2.25.124773173831961429304348630086425516629")
PLACEHOLDER_DAYS = 90  # the placeholder never encrypts anything; its validity only has to be a valid one
NO_MATCH = "This certificate matches no key waiting for a certificate in this tenant."


def public_key_sha256(certificate_der: bytes) -> str:
    """Hex SHA-256 of the certificate's SubjectPublicKeyInfo: what a reply is matched to its waiting key by."""
    public_key = x509.load_der_x509_certificate(certificate_der).public_key()
    spki = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).hexdigest()


def is_placeholder(certificate_der: bytes) -> bool:
    try:
        certificate = x509.load_der_x509_certificate(certificate_der)
        certificate.extensions.get_extension_for_oid(WAITING_MARKER)
    except (ValueError, x509.ExtensionNotFound):
        return False
    return True


def _waiting_row(tenant: Any, entry: KeystoreEntry, csr_der: bytes, **extra: Any) -> CertificateRequest:
    placeholder = parse_recording_certificate(bytes(entry.certificate_der))
    return CertificateRequest.objects.create(
        tenant=tenant,
        entry=entry,
        subject_dn=placeholder.subject_dn,
        subject_name=placeholder.subject_name[:300],
        key_size=placeholder.key_size,
        csr_der=csr_der,
        public_key_sha256=public_key_sha256(placeholder.der),
        **extra,
    )


def _details(waiting: CertificateRequest) -> dict[str, Any]:
    return {"alias": waiting.alias, "subject": waiting.subject_dn, "bits": waiting.key_size}


def request_certificate(
    tenant: Any, new: NewKey, *, by: Actor, renews: Certificate | None = None, follow_ups: Collection[str] = ()
) -> Outcome:
    """Generate the key and its CSR; the key waits for the CA's certificate. All or nothing, with the audit record."""
    now = timezone.now().replace(microsecond=0)
    placeholder = SelfSigned(
        new.subject.name(), now, now + timedelta(days=PLACEHOLDER_DAYS), style=OPENSSL_REQ, marker=WAITING_MARKER
    )
    with saved_or_refused("key"), transaction.atomic():
        entry, csr_der = generate_for_request(
            tenant, alias=alias_for(tenant, new), bits=new.bits, placeholder=placeholder
        )
        waiting = _waiting_row(
            tenant, entry, csr_der, requested_by=by.user, renews=renews, follow_ups=followups.known(follow_ups)
        )
        details = _details(waiting)
        if renews is not None:
            details["renews"] = renews.alias
        record("certificate-requested", by=by, tenant=tenant, obj=waiting, details=details)
    return Outcome(waiting=waiting)


def waiting_for(tenant: Any, parsed: ParsedCertificate) -> CertificateRequest | None:
    return (
        CertificateRequest.objects.filter(tenant=tenant, public_key_sha256=public_key_sha256(parsed.der))
        .select_related("entry", "renews__entry")
        .first()
    )


def waiting_match(tenant: Any, data: bytes) -> CertificateRequest | None:
    """The waiting key this certificate file is for, if any (the upload page's key file is optional then)."""
    try:
        return waiting_for(tenant, parse_recording_certificate(data))
    except UploadInvalid:
        return None


def accept_reply(tenant: Any, data: bytes, *, by: Actor) -> Outcome:
    """The CA's certificate for a waiting key: matched by public key, checked like an upload, then active. A
    renewal's follow-ups run in the same transaction."""
    parsed = parse_recording_certificate(data)
    waiting = waiting_for(tenant, parsed)
    if waiting is None:
        raise refusal(CERTIFICATE_FILE, NO_MATCH)
    checked = check_parsed_certificate(tenant, parsed)
    answered = f"The key '{waiting.alias}' received its certificate meanwhile; see Recording Certificates."
    try:
        with transaction.atomic():
            if not CertificateRequest.objects.filter(pk=waiting.pk).delete()[0]:
                raise refusal(CERTIFICATE_FILE, answered)
            entry = attach_certificate(waiting.entry, parsed.der)
            certificate = create_certificate(tenant, entry, checked, by=by)
            predecessor = waiting.renews
            if predecessor is not None:
                certificate.renews = predecessor
                certificate.save(update_fields=["renews"])
            details = {**certificate.audit_details(), "status": checked.status}
            if predecessor is not None:
                details["renews"] = predecessor.alias
            record("certificate-issued", by=by, tenant=tenant, obj=certificate, details=details)
            notes = followups.run(waiting.follow_ups, predecessor, certificate, by) if predecessor else []
    except IntegrityError:  # the same certificate, or another for the same key, landed concurrently
        raise refusal(CERTIFICATE_FILE, answered) from None
    except KeystoreError as error:
        raise refusal(KEYSTORE, f"Nothing was saved: the keystore cannot be used: {error}.") from None
    return Outcome(certificate=certificate, notes=notes)


def csr_pem(waiting: CertificateRequest) -> str:
    request = x509.load_der_x509_csr(bytes(waiting.csr_der))
    return request.public_bytes(serialization.Encoding.PEM).decode("ascii")


def csr_download_name(waiting: CertificateRequest) -> str:
    return f"{slugify(waiting.alias) or 'request'}.csr"


def claim_waiting_key(tenant: Any, entry: KeystoreEntry, by: Actor) -> bool:
    """A keystore backup restored: a waiting key comes back waiting, with its request made again from its key."""
    if not is_placeholder(bytes(entry.certificate_der)):
        return False
    try:
        waiting = _waiting_row(tenant, entry, signing_request(entry))
    except UploadInvalid as invalid:
        raise RestoreRefused(f"'{entry.alias}': {invalid.first.message}") from None
    record("certificate-request-restored", by=by, tenant=tenant, obj=waiting, details=_details(waiting))
    return True
