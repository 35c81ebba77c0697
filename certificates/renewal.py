"""Renewing a certificate ahead of its expiry: a successor with the same subject (editable), a new key, serial and
validity, linked to its predecessor. The predecessor is never archived: recordings encrypted for it still need its
key. A self-signed predecessor gets a self-signed successor at once; a CA-issued one gets a key that waits for the
CA's certificate and becomes the successor when that is imported."""

from collections.abc import Collection
from dataclasses import replace
from typing import Any

from cryptography import x509

from keystore.api import GENERATED_RSA_BITS
from portal.audit.log import Actor

from .generation import DEFAULT_BITS, MAX_DAYS, NewKey, Outcome, generate_certificate
from .models import Certificate
from .requests import request_certificate
from .subject import SubjectFields


def renewal_defaults(certificate: Certificate) -> dict[str, Any]:
    """The Renew form's starting values: the predecessor's subject, validity length and key size (at least the
    default size, and one of those offered)."""
    try:
        subject = SubjectFields.of(x509.load_der_x509_certificate(certificate.certificate_der).subject)
    except ValueError:
        subject = SubjectFields(common_name=certificate.subject_name[:64])
    days = (certificate.not_valid_after - certificate.not_valid_before).days
    bits = certificate.key_size if certificate.key_size in GENERATED_RSA_BITS else DEFAULT_BITS
    return {**subject.as_initial(), "days": min(max(days, 1), MAX_DAYS), "bits": max(bits, DEFAULT_BITS)}


def renew(certificate: Certificate, new: NewKey, *, by: Actor, follow_ups: Collection[str] = ()) -> Outcome:
    """The successor (or, for a CA-issued predecessor, its waiting key), with the follow-ups chosen."""
    tenant = certificate.tenant
    if certificate.is_self_signed:
        return generate_certificate(tenant, new, by=by, renews=certificate, follow_ups=follow_ups)
    return request_certificate(tenant, replace(new, days=None), by=by, renews=certificate, follow_ups=follow_ups)
