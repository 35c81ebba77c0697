"""The key drill: prove that each key of the keystore still plays recordings back, by doing what a recording does.
A random challenge is encrypted to the entry's certificate as the recording platform encrypts a recording (a PKCS#7
envelope, RSA key transport, AES-256), and then decrypted through ``Decryptor``, the path recordings take."""

import io
import os
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.serialization import pkcs7
from django.db import transaction
from django.db.models import F

from keystore.api import KeystoreEntry, record_proof
from portal.accounts.models import Tenant
from portal.audit.log import Actor, record

from .decrypting import Decryptor
from .models import KeyDrillClaim

CHALLENGE_BYTES = 32


@dataclass(frozen=True)
class Proof:
    alias: str
    failure: str  # "" when the key opened the challenge

    @property
    def ok(self) -> bool:
        return not self.failure


def _challenge_for(certificate_der: bytes) -> tuple[bytes, bytes]:
    """A fresh challenge and its envelope, encrypted to the certificate's public key."""
    challenge = os.urandom(CHALLENGE_BYTES)
    envelope = (
        pkcs7.PKCS7EnvelopeBuilder()
        .set_data(challenge)
        .add_recipient(x509.load_der_x509_certificate(certificate_der))
        .set_content_encryption_algorithm(algorithms.AES256)
        .encrypt(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])
    )
    return challenge, envelope


def _prove(decryptor: Decryptor, entry: KeystoreEntry) -> str:
    """Why the entry's key does not play a recording back, or "" when it does."""
    try:
        challenge, envelope = _challenge_for(bytes(entry.certificate_der))
    except ValueError as exc:
        return f"nothing can be encrypted to its certificate: {exc}"
    received = bytearray()
    outcome = decryptor.decrypt(entry.alias, len(envelope), io.BytesIO(envelope), received.extend)
    if not outcome.ok:
        return outcome.error
    if outcome.alias != entry.alias:
        return (
            f"recordings for its certificate are opened by '{outcome.alias}', another entry with the same issuer "
            "and serial number"
        )
    if bytes(received) != challenge:
        return "the challenge did not come back intact"
    return ""


def entries_to_prove(tenant: Tenant, limit: int | None = None) -> list[KeystoreEntry]:
    """Every entry, active and archived, the longest unchecked first, so bounded runs cover them all in turn."""
    entries = KeystoreEntry.objects.of_tenant(tenant).order_by(F("proof_checked_at").asc(nulls_first=True), "alias")
    return list(entries if limit is None else entries[:limit])


def count_entries(tenant: Tenant) -> int:
    return KeystoreEntry.objects.of_tenant(tenant).count()


def claim_drill(tenant: Tenant, now: datetime, within: timedelta) -> datetime | None:
    """Claim the tenant for this run's drill: None when the claim is this run's, else when another run started on
    the tenant, within ``within`` of ``now``. One conditional update, so of runs on several nodes at once exactly one
    proves each tenant's keys."""
    if KeyDrillClaim.objects.filter(tenant=tenant, started__lte=now - within).update(started=now):
        return None
    claim, created = KeyDrillClaim.objects.get_or_create(tenant=tenant, defaults={"started": now})
    return None if created else claim.started


def prove_keys(tenant: Tenant, *, by: Actor, limit: int | None = None) -> list[Proof]:
    """Prove up to ``limit`` of the tenant's keys (all by default), remember each outcome on its entry, and audit
    the run."""
    entries = entries_to_prove(tenant, limit)
    decryptor = Decryptor(tenant, by=by, source="key drill", audit=False)
    proofs = []
    for entry in entries:
        proof = Proof(entry.alias, _prove(decryptor, entry))
        record_proof(entry, failure=proof.failure)
        proofs.append(proof)
    with transaction.atomic():
        record(
            "keys-verified",
            by=by,
            tenant=tenant,
            details={"keys": len(proofs), "failed": [proof.alias for proof in proofs if not proof.ok]},
        )
    return proofs
