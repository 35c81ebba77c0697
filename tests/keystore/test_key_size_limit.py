"""Each use of a private key costs as the cube of its size, so the keystore takes keys of at most MAX_RSA_BITS, and a
restore counts the key checks of the whole file against its budget, as it counts derivations."""

import math
import secrets
from datetime import UTC, datetime, timedelta

import pytest
from asn1crypto import keys as asn1_keys  # type: ignore[import-untyped]
from asn1crypto import pem as asn1_pem
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from keystore import keyfiles, pfx, restore_budget
from keystore.backup import import_pkcs12
from keystore.keyfiles import MAX_RSA_BITS
from keystore.models import KeystoreEntry
from portal.audit.log import COMMAND
from tests.keystore.helpers import certificate, der, rsa_key

PASSWORD = "backup password 123"


def oversized_key_der(bits: int) -> bytes:
    """An RSA private key whose numbers agree with each other, of ``bits``, made in milliseconds: its "primes" are
    random odd numbers, which no check short of a primality test tells apart."""
    odd = lambda size: secrets.randbits(size) | (1 << (size - 1)) | 1  # noqa: E731
    while True:
        p, q = odd(bits // 2), odd(bits // 2)
        order = math.lcm(p - 1, q - 1)
        if (p * q).bit_length() == bits and math.gcd(65537, order) == 1 and math.gcd(p, q) == 1:
            break
    d = pow(65537, -1, order)
    numbers = {"modulus": p * q, "public_exponent": 65537, "private_exponent": d, "prime1": p, "prime2": q}
    extra = {"exponent1": d % (p - 1), "exponent2": d % (q - 1), "coefficient": pow(q, -1, p)}
    return asn1_keys.RSAPrivateKey({"version": 0, **numbers, **extra}).dump()


@pytest.fixture
def consistency_checks(monkeypatch) -> list[int]:
    checked: list[int] = []
    real = keyfiles.check_consistent

    def counting(key: rsa.RSAPrivateKey) -> None:
        checked.append(key.key_size)
        real(key)

    monkeypatch.setattr(keyfiles, "check_consistent", counting)
    monkeypatch.setattr("keystore.pfx.read.check_consistent", counting)
    return checked


@pytest.mark.parametrize("bits", [MAX_RSA_BITS + 512, 16384])
@pytest.mark.parametrize("armor", [True, False], ids=["pem", "der"])
def test_a_key_file_over_the_size_limit_is_refused_unchecked(bits, armor, consistency_checks) -> None:
    body = oversized_key_der(bits)
    data = asn1_pem.armor("RSA PRIVATE KEY", body) if armor else body
    with pytest.raises(keyfiles.KeyFileError) as refused:
        keyfiles.describe_key_file(data)
    assert str(refused.value) == f"The RSA key is {bits:,} bits; this portal accepts keys of at most 8,192 bits."
    assert consistency_checks == []


def test_a_key_at_the_limit_is_still_checked(consistency_checks) -> None:
    with pytest.raises(keyfiles.KeyFileError, match="do not agree"):  # composite "primes": the round trip fails
        keyfiles.describe_key_file(asn1_pem.armor("RSA PRIVATE KEY", oversized_key_der(MAX_RSA_BITS)))
    assert consistency_checks == [MAX_RSA_BITS]


def _certificate_for(public_key: rsa.RSAPublicKey) -> x509.Certificate:
    issuer_key = rsa_key(0)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Oversized")])
    now = datetime.now(UTC)
    builder = x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(public_key)
    builder = builder.serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=1))
    return builder.not_valid_after(now + timedelta(days=30)).sign(issuer_key, hashes.SHA256())


@pytest.mark.django_db
def test_a_restored_key_over_the_limit_is_skipped_with_the_reason_and_unchecked(world, consistency_checks) -> None:
    big = serialization.load_der_private_key(oversized_key_der(12288), None, unsafe_skip_rsa_key_validation=True)
    assert isinstance(big, rsa.RSAPrivateKey)
    made = [
        pfx.PfxEntry("big", der(_certificate_for(big.public_key())), big),
        pfx.PfxEntry("normal", der(certificate(rsa_key(1), "Normal")), rsa_key(1)),
    ]
    report = import_pkcs12(
        world.acme, pfx.build_pfx(made, PASSWORD, iterations=2048), PASSWORD, on_entry=lambda e: None, by=COMMAND
    )
    assert report.imported == ["normal"]
    assert report.skipped == [("big", "The RSA key is 12,288 bits; this portal accepts keys of at most 8,192 bits.")]
    assert consistency_checks == [2048]
    assert list(KeystoreEntry.objects.values_list("alias", flat=True)) == ["normal"]


@pytest.mark.parametrize(("count", "allowed"), [(3, 2), (5, 4)])
def test_a_restore_counts_its_key_checks_against_the_budget(count, allowed, consistency_checks) -> None:
    made = [pfx.PfxEntry(f"k{i}", der(certificate(rsa_key(i), f"K {i}")), rsa_key(i)) for i in range(count)]
    data = pfx.build_pfx(made, PASSWORD, iterations=2048)
    budget = restore_budget.Budget(rounds=1_000_000, items=128, where="in the web page", key_checks=allowed)
    with pytest.raises(pfx.PfxTooLarge) as refused:
        pfx.read_pfx(data, PASSWORD, budget=budget)
    assert str(refused.value) == (
        f"The file holds private keys that take as long to check as {allowed + 1:,} keys of 2048 bits or more; a "
        f"restore in the web page allows at most {allowed:,}."
    )
    assert len(consistency_checks) == allowed  # refused before the key that would go over
    consistency_checks.clear()
    assert len(pfx.read_pfx(data, PASSWORD, budget=restore_budget.WEB_RESTORE).keys) == count


def test_the_web_budget_takes_a_full_backup_of_4096_bit_keys() -> None:
    """64 keys (128 bags, the web's cap) of 4096 bits: the portal's own backup of its largest usual keys."""
    cost = restore_budget.key_check_cost
    assert 64 * cost(4096) <= restore_budget.WEB_RESTORE.key_checks < 64 * cost(8192)
