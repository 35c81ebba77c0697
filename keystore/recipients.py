"""Which of a tenant's keys an envelope was encrypted to: the one place that matches a recipient to a keystore entry.

An envelope names its recipient's certificate by issuer and serial number, or by subject key identifier. Every entry
of the tenant takes part, archived certificates' included: their recordings must still play.
"""

import logging

from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped]
from cryptography import x509

from portal.accounts.models import Tenant

from .models import KeystoreEntry

logger = logging.getLogger(__name__)

# Bounds what a recipient's issuer may make us parse: a real Name is a few hundred bytes.
MAX_ISSUER_BYTES = 8192


def _comparable_name(der: bytes) -> str | None:
    """The Name in RFC 5280's comparison form (case and spacing folded), None when ``der`` is not a Name."""
    if len(der) > MAX_ISSUER_BYTES:
        return None
    try:
        name = asn1_x509.Name.load(der, strict=True)
        return str(name.hashable)
    except (ValueError, TypeError, KeyError):
        return None


def _key_identifiers(certificate: x509.Certificate) -> tuple[bytes | None, bytes | None]:
    """The SubjectKeyIdentifier extension's value, and SHA-1 of the subjectPublicKey BIT STRING (RFC 5280 4.2.1.2
    method 1, what openssl writes for a certificate without the extension)."""
    try:
        declared: bytes | None = certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        declared = None
    try:
        computed: bytes | None = x509.SubjectKeyIdentifier.from_public_key(certificate.public_key()).digest
    except (ValueError, TypeError):
        computed = None
    return declared, computed


class RecipientIndex:
    """One tenant's entries by issuer and serial number and by subject key identifier. Each certificate is parsed
    once, when the index is made; make one per batch of recordings."""

    def __init__(self) -> None:
        self._by_issuer_serial: dict[tuple[bytes, int], KeystoreEntry] = {}
        self._by_name_serial: dict[tuple[str, int], KeystoreEntry] = {}
        self._by_key_id: dict[bytes, KeystoreEntry] = {}
        self._by_public_key_hash: dict[bytes, KeystoreEntry] = {}

    @classmethod
    def of_tenant(cls, tenant: Tenant) -> "RecipientIndex":
        index = cls()
        entries = KeystoreEntry.objects.of_tenant(tenant).select_related("tenant__data_key").order_by("created", "pk")
        for entry in entries:
            index._add(entry)
        return index

    def _add(self, entry: KeystoreEntry) -> None:
        der = bytes(entry.certificate_der)
        try:
            certificate = x509.load_der_x509_certificate(der)
            issuer = asn1_x509.Certificate.load(der)["tbs_certificate"]["issuer"].dump()
        except ValueError:  # stored certificates were parsed on upload: only a damaged row gets here
            logger.warning("keystore: the certificate of entry '%s' does not parse; recordings cannot find it", entry)
            return
        serial = certificate.serial_number
        # The oldest entry wins a tie: the same certificate named twice cannot be told apart by its recipients.
        self._by_issuer_serial.setdefault((issuer, serial), entry)
        name = _comparable_name(issuer)
        if name is not None:
            self._by_name_serial.setdefault((name, serial), entry)
        declared, computed = _key_identifiers(certificate)
        if declared is not None:
            self._by_key_id.setdefault(declared, entry)
        if computed is not None:
            self._by_public_key_hash.setdefault(computed, entry)

    def entry_for(
        self, *, issuer: bytes | None, serial: int | None, subject_key_id: bytes | None
    ) -> KeystoreEntry | None:
        """The entry whose certificate the recipient names, None when it is none of the tenant's.

        Issuer and serial match the certificate's issuer Name byte for byte, or compared as RFC 5280 compares names.
        A subject key identifier matches the certificate's extension, or SHA-1 of its public key, which identifies
        the same key whether the certificate declares it or not."""
        if issuer is not None and serial is not None:
            found = self._by_issuer_serial.get((bytes(issuer), serial))
            if found is None:
                name = _comparable_name(bytes(issuer))
                found = self._by_name_serial.get((name, serial)) if name is not None else None
            if found is not None:
                return found
        if subject_key_id is not None:
            key_id = bytes(subject_key_id)
            return self._by_key_id.get(key_id) or self._by_public_key_hash.get(key_id)
        return None
