"""Keys that wait for a certificate authority: made and sealed here beside a placeholder self-signed certificate (an
entry is a certificate and its key, so backups and restores carry a waiting key like any other), with the PKCS#10
request the CA signs; and the CA's certificate put in the placeholder's place once it comes back."""

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.views.decorators.debug import sensitive_variables

from portal.accounts.models import Tenant

from . import envelope
from .generation import SelfSigned, new_rsa_key, self_signed_certificate
from .keyfiles import check_pair, spki_sha256
from .models import KeystoreEntry
from .sealing import entry_aad, open_private_key, store_private_key, tenant_data_key


def _request_der(private_key: rsa.RSAPrivateKey, subject: x509.Name) -> bytes:
    request = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(private_key, hashes.SHA256())
    return request.public_bytes(serialization.Encoding.DER)


@sensitive_variables("private_key")
def generate_for_request(
    tenant: Tenant, *, alias: str, bits: int, placeholder: SelfSigned
) -> tuple[KeystoreEntry, bytes]:
    """A new RSA key sealed under ``alias`` with the ``placeholder`` certificate, inside the caller's transaction, and
    the DER CSR for it (the placeholder's subject, SHA-256)."""
    private_key = new_rsa_key(bits)
    entry = store_private_key(
        tenant, alias=alias, certificate_der=self_signed_certificate(private_key, placeholder), private_key=private_key
    )
    return entry, _request_der(private_key, placeholder.subject)


@sensitive_variables("private_key")
def signing_request(entry: KeystoreEntry) -> bytes:
    """The DER CSR for the entry's key, naming its certificate's subject: for a waiting key brought back by a
    restore, whose request was not in the backup."""
    subject = x509.load_der_x509_certificate(bytes(entry.certificate_der)).subject
    return _request_der(open_private_key(entry), subject)


@sensitive_variables("plaintext", "data_key")
def attach_certificate(entry: KeystoreEntry, certificate_der: bytes) -> KeystoreEntry:
    """Put ``certificate_der`` in place of the entry's certificate, inside the caller's transaction: the key is the
    same, sealed again because its seal names the certificate. ``KeyFileError`` when the certificate is for another
    key. The row is locked first, so two replies for one key cannot both land."""
    locked = KeystoreEntry.objects.select_for_update().select_related("tenant").get(pk=entry.pk)
    data_key = tenant_data_key(locked.tenant)
    private_key = open_private_key(locked, data_key=data_key)
    check_pair(spki_sha256(private_key.public_key()), certificate_der)
    plaintext = private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    locked.certificate_der = certificate_der
    locked.sealed_private_key = envelope.seal(
        data_key, plaintext, entry_aad(locked.tenant_id, locked.pk, certificate_der)
    )
    locked.save(update_fields=["certificate_der", "certificate_sha256", "sealed_private_key"])
    return locked
