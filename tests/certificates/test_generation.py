"""Generating a key and its certificate inside the keystore, requesting one from a CA, and renewing: the services
the pages and commands share."""

from datetime import timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtensionOID, NameOID
from django.utils import timezone

from certificates import followups, generation, renewal, requests
from certificates.models import Certificate, CertificateRequest
from certificates.subject import SubjectFields
from certificates.upload import UploadInvalid
from keystore.api import KeystoreEntry
from keystore.models import TenantKey
from portal.accounts.models import Tenant
from portal.audit.log import COMMAND
from portal.audit.models import AuditEntry
from tests.certificates import pki
from tests.factories import add_root, ca_issued_certificate, save_certificate

pytestmark = pytest.mark.django_db

SEED = {"common_name": "Genesys Recording", "country": "US", "state": "California", "organization": "Genesys"}


def new_key(tenant: Any, **overrides: Any) -> generation.NewKey:
    fields = {"subject": SEED, "bits": 2048, "days": 3650, **overrides}
    return generation.check_new_key(tenant, **fields)


def stored_counts() -> tuple[int, int, int, int]:
    return (
        KeystoreEntry.objects.count(),
        Certificate.objects.count(),
        CertificateRequest.objects.count(),
        AuditEntry.objects.count(),
    )


def problems(tenant: Any, **overrides: Any) -> dict[str, str]:
    with pytest.raises(UploadInvalid) as refused:
        new_key(tenant, **overrides)
    return {problem.field: problem.message for problem in refused.value.problems}


# --- What is asked for ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"subject": {**SEED, "country": "USA"}}, "country", "Country (C) is a two-letter country code, such as US."),
        ({"subject": {**SEED, "country": "U1"}}, "country", "Country (C) is a two-letter country code, such as US."),
        ({"subject": {**SEED, "common_name": ""}}, "common_name", "Enter the Common Name (CN)"),
        ({"subject": {**SEED, "common_name": "   "}}, "common_name", "Enter the Common Name (CN)"),
        ({"subject": {**SEED, "common_name": "x" * 5000}}, "common_name", "at most 64 characters; this one has 5,000"),
        ({"subject": {**SEED, "common_name": "a\nb"}}, "common_name", "cannot hold line breaks"),
        ({"subject": {**SEED, "organization": "Acme\u202egnp.exe"}}, "organization", "text-direction characters"),
        ({"subject": {**SEED, "locality": "Daly \udcff City"}}, "locality", "control characters"),
        ({"subject": {**SEED, "email": "not an address"}}, "email", "E-mail is an address"),
        ({"subject": {**SEED, "state": "s" * 129}}, "state", "at most 128 characters"),
        ({"days": 0}, "days", "The validity is 1 to 9,125 days (25 years); 0 is outside that."),
        ({"days": 100_000}, "days", "The validity is 1 to 9,125 days (25 years); 100000 is outside that."),
        ({"days": "9126"}, "days", "9126 is outside that"),
        ({"days": "-1"}, "days", "-1 is outside that"),
        ({"days": "1e5"}, "days", "1e5 is outside that"),
        ({"days": ""}, "days", "nothing is outside that"),
        ({"bits": 1024}, "bits", "Keys are RSA 2048, 3072 or 4096 bits; 1024 is not one of them."),
        ({"bits": "8192"}, "bits", "8192 is not one of them"),
        ({"bits": "many"}, "bits", "many is not one of them"),
        ({"alias": "bad/alias"}, "alias", ""),
    ],
)
def test_each_bad_field_has_its_own_message_and_nothing_is_made(
    world: Any, overrides: dict[str, Any], field: str, message: str
) -> None:
    before = stored_counts()
    found = problems(world.acme, **overrides)
    assert list(found) == [field]
    assert message in found[field]
    assert stored_counts() == before


def test_every_bad_field_is_reported_together(world: Any) -> None:
    found = problems(world.acme, subject={"common_name": "", "country": "USA"}, days=0, bits=1024)
    assert set(found) == {"common_name", "country", "days", "bits"}


def test_the_limits_themselves_are_accepted(world: Any) -> None:
    assert new_key(world.acme, days=1).days == 1
    assert new_key(world.acme, days="9,125").days == 9125
    assert new_key(world.acme, subject={"common_name": "x" * 64}).subject.common_name == "x" * 64
    assert new_key(world.acme, bits=None).bits == 3072  # the default
    assert new_key(world.acme, subject={**SEED, "country": "us"}).subject.country == "US"


def test_an_alias_taken_in_the_tenant_is_refused(world: Any) -> None:
    save_certificate(world.acme, alias="recording")
    assert "alias" in problems(world.acme, alias="Recording")


# --- Generate ---------------------------------------------------------------------------------------------------------


def test_generated_certificate_has_the_shape_openssl_req_x509_gives(world: Any) -> None:
    made = generation.generate_certificate(world.acme, new_key(world.acme), by=COMMAND).certificate
    assert made is not None
    cert = x509.load_der_x509_certificate(made.certificate_der)
    assert cert.version == x509.Version.v3
    assert [attribute.rfc4514_attribute_name for attribute in cert.subject] == ["CN", "C", "ST", "O"]
    assert cert.subject == cert.issuer
    assert isinstance(cert.signature_hash_algorithm, hashes.SHA256)
    assert cert.extensions.get_extension_for_oid(ExtensionOID.BASIC_CONSTRAINTS).critical
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    assert (cert.not_valid_after_utc - cert.not_valid_before_utc) == timedelta(days=3650)
    assert made.key_size == 2048 and made.is_self_signed and made.chain_ok
    assert made.alias.lower().startswith("genesys")
    entry = KeystoreEntry.objects.get(pk=made.entry_id)
    assert b"PRIVATE KEY" not in bytes(entry.sealed_private_key)
    audit = AuditEntry.objects.get(action="certificate-generated")
    assert audit.details["bits"] == 2048 and audit.details["days"] == 3650


def test_two_generations_of_one_subject_get_their_own_keys_and_aliases(world: Any) -> None:
    first = generation.generate_certificate(world.acme, new_key(world.acme), by=COMMAND).certificate
    second = generation.generate_certificate(world.acme, new_key(world.acme), by=COMMAND).certificate
    assert first is not None and second is not None
    assert first.alias != second.alias
    assert first.serial_number != second.serial_number
    keys = [x509.load_der_x509_certificate(c.certificate_der).public_key() for c in (first, second)]
    assert keys[0] != keys[1]


# --- Request from a CA ------------------------------------------------------------------------------------------------


def ca_signs(waiting: CertificateRequest, ca_cert: x509.Certificate, ca_key: Any, days: int = 365) -> bytes:
    csr = x509.load_der_x509_csr(bytes(waiting.csr_der))
    now = timezone.now()
    issued = (
        x509.CertificateBuilder()
        .subject_name(csr.subject)
        .issuer_name(ca_cert.subject)
        .public_key(csr.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(days=days))
        .sign(ca_key, hashes.SHA256())
    )
    return pki.pem(issued)


def request(tenant: Any) -> CertificateRequest:
    asked = generation.check_new_key(tenant, subject=SEED, bits=2048, needs_days=False)
    assert asked.days is None
    waiting = requests.request_certificate(tenant, asked, by=COMMAND).waiting
    assert waiting is not None
    return waiting


def test_a_request_waits_with_a_csr_signed_by_its_key(world: Any) -> None:
    waiting = request(world.acme)
    csr = x509.load_der_x509_csr(bytes(waiting.csr_der))
    assert csr.is_signature_valid
    assert csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Genesys Recording"
    assert isinstance(csr.signature_hash_algorithm, hashes.SHA256)
    assert waiting.subject_dn.startswith("CN=Genesys Recording")
    assert not Certificate.objects.exists()  # waiting is not a recording certificate yet
    assert requests.csr_pem(waiting).startswith("-----BEGIN CERTIFICATE REQUEST-----")


def test_the_ca_reply_activates_its_waiting_key(world: Any) -> None:
    ca_cert, ca_key = pki.make_ca()
    add_root(world.acme, ca_cert)
    waiting = request(world.acme)
    outcome = requests.accept_reply(world.acme, ca_signs(waiting, ca_cert, ca_key), by=COMMAND)
    assert outcome.certificate is not None
    assert outcome.certificate.entry_id == waiting.entry_id
    assert not outcome.certificate.is_self_signed and outcome.certificate.chain_ok
    assert not CertificateRequest.objects.exists()
    assert AuditEntry.objects.filter(action="certificate-issued").count() == 1


@pytest.mark.parametrize("case", ["no waiting key", "another tenant's key", "chain fails"])
def test_replies_that_cannot_be_accepted_change_nothing(world: Any, case: str) -> None:
    ca_cert, ca_key = pki.make_ca()
    waiting = request(world.globex if case == "another tenant's key" else world.acme)
    if case != "chain fails":
        add_root(world.acme, ca_cert)
    reply = ca_signs(waiting, ca_cert, ca_key)
    if case == "no waiting key":
        CertificateRequest.objects.all().delete()
    before = stored_counts()
    with pytest.raises(UploadInvalid) as refused:
        requests.accept_reply(world.acme, reply, by=COMMAND)
    if case == "chain fails":
        assert "root" in refused.value.first.message.lower() or "trust" in refused.value.first.message.lower()
    else:
        assert refused.value.first.message == requests.NO_MATCH
    assert stored_counts() == before


def test_a_reply_accepted_twice_is_refused_the_second_time(world: Any) -> None:
    ca_cert, ca_key = pki.make_ca()
    add_root(world.acme, ca_cert)
    waiting = request(world.acme)
    reply = ca_signs(waiting, ca_cert, ca_key)
    requests.accept_reply(world.acme, reply, by=COMMAND)
    with pytest.raises(UploadInvalid):
        requests.accept_reply(world.acme, reply, by=COMMAND)
    assert Certificate.objects.count() == 1


# --- Renew ------------------------------------------------------------------------------------------------------------


def test_renewal_makes_a_linked_successor_and_keeps_the_predecessor(world: Any) -> None:
    predecessor = save_certificate(world.acme)
    defaults = renewal.renewal_defaults(predecessor)
    assert defaults["common_name"] == "Genesys Recording" and defaults["country"] == "US"
    asked = generation.check_new_key(world.acme, subject=defaults, bits=2048, days=defaults["days"])
    successor = renewal.renew(predecessor, asked, by=COMMAND).certificate
    assert successor is not None
    predecessor.refresh_from_db()
    assert successor.renews == predecessor
    assert list(predecessor.successors.all()) == [successor]
    assert predecessor.archived_at is None
    assert successor.subject_dn == predecessor.subject_dn
    assert successor.serial_number != predecessor.serial_number
    assert successor.sha256_fingerprint != predecessor.sha256_fingerprint
    assert successor.not_valid_after > predecessor.not_valid_after
    assert AuditEntry.objects.get(action="certificate-renewed").details["renews"] == predecessor.alias


def test_a_ca_issued_certificate_renews_through_a_waiting_key(world: Any) -> None:
    predecessor, _ = ca_issued_certificate(world.acme, "issued")
    asked = generation.check_new_key(world.acme, subject=renewal.renewal_defaults(predecessor), bits=2048, days=30)
    outcome = renewal.renew(predecessor, asked, by=COMMAND)
    assert outcome.certificate is None and outcome.waiting is not None
    assert outcome.waiting.renews == predecessor


def test_follow_ups_run_with_the_renewal_and_their_notes_come_back(world: Any, monkeypatch: Any) -> None:
    seen: list[tuple[str, str]] = []

    def apply(predecessor: Certificate, successor: Certificate, by: Any) -> list[str]:
        seen.append((predecessor.alias, successor.alias))
        return [f"followed {successor.alias}"]

    monkeypatch.setattr(followups, "_follow_ups", {})
    followups.register(followups.FollowUp("test-step", offer=lambda cert: f"Also for {cert.alias}", apply=apply))
    predecessor = save_certificate(world.acme)
    assert followups.offered(predecessor) == [("test-step", f"Also for {predecessor.alias}")]
    asked = generation.check_new_key(world.acme, subject=SubjectFields("Genesys Recording"), bits=2048, days=10)
    outcome = renewal.renew(predecessor, asked, by=COMMAND, follow_ups=["test-step", "unknown-step"])
    assert outcome.certificate is not None
    assert seen == [(predecessor.alias, outcome.certificate.alias)]
    assert outcome.notes == [f"followed {outcome.certificate.alias}"]


def test_a_failing_follow_up_undoes_the_renewal(world: Any, monkeypatch: Any) -> None:
    def apply(predecessor: Certificate, successor: Certificate, by: Any) -> list[str]:
        raise RuntimeError("the other app failed")

    monkeypatch.setattr(followups, "_follow_ups", {})
    followups.register(followups.FollowUp("breaks", offer=lambda cert: "x", apply=apply))
    predecessor = save_certificate(world.acme)
    before = stored_counts()
    asked = generation.check_new_key(world.acme, subject=SubjectFields("Genesys Recording"), bits=2048, days=10)
    with pytest.raises(RuntimeError):
        renewal.renew(predecessor, asked, by=COMMAND, follow_ups=["breaks"])
    assert stored_counts() == before


def test_a_keystore_that_cannot_seal_is_a_message_and_nothing_is_made(world: Any, client_for: Any) -> None:
    save_certificate(world.acme, alias="first")  # the tenant's data key exists from here on
    TenantKey.objects.filter(tenant=world.acme).update(master_key_id="retired")  # its master key is not configured
    acme = Tenant.objects.get(pk=world.acme.pk)  # read afresh, as a request does
    before = stored_counts()
    with pytest.raises(UploadInvalid) as refused:
        generation.generate_certificate(acme, new_key(acme), by=COMMAND)
    assert refused.value.first.field == generation.KEYSTORE
    assert "the keystore cannot be used" in refused.value.first.message and "retired" in refused.value.first.message
    assert stored_counts() == before
    page = client_for(world.alice).post(
        "/t/acme/certificates/generate/", {**SEED, "days": "30", "bits": "2048"}, follow=True
    )
    assert page.status_code == 200
    assert "the keystore cannot be used" in page.content.decode()
    assert stored_counts()[:3] == before[:3]
    assert not AuditEntry.objects.filter(action="certificate-generated").exists()
