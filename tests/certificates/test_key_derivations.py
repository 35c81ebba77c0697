"""Save opens the key file once: an encrypted key's password is derived once per Save, not once to check it and
again to store it (a file may ask for up to 2,000,000 rounds per derivation)."""

import pytest
from cryptography.hazmat.primitives import serialization

from certificates.models import Certificate
from keystore.models import KeystoreEntry
from keystore.sealing import open_private_key
from tests.certificates import pki
from tests.factories import errors, post_upload

PASSWORD = "Tr0ub4dor&3-recording"


def encrypted(key, encoding, private_format) -> bytes:
    return key.private_bytes(encoding, private_format, serialization.BestAvailableEncryption(PASSWORD.encode()))


KEY_FILES = {
    "pkcs8-pem": lambda key: encrypted(key, serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8),
    "pkcs8-der": lambda key: encrypted(key, serialization.Encoding.DER, serialization.PrivateFormat.PKCS8),
    "legacy-dek-info": lambda key: encrypted(
        key, serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL
    ),
}


@pytest.fixture
def derivations(monkeypatch) -> list[str]:
    """One item per call of cryptography's key loaders with a password: each such call derives the key."""
    calls: list[str] = []
    for name in ("load_pem_private_key", "load_der_private_key"):
        real = getattr(serialization, name)

        def counting(data, password, *args, _real=real, _name=name, **kwargs):
            if password is not None:
                calls.append(_name)
            return _real(data, password, *args, **kwargs)

        monkeypatch.setattr(serialization, name, counting)
    return calls


@pytest.mark.parametrize("key_file", sorted(KEY_FILES))
def test_an_encrypted_key_is_derived_once_per_save(world, client_for, derivations, key_file):
    cert, key = pki.make_self_signed()
    data = KEY_FILES[key_file](key)
    if key_file == "legacy-dek-info":
        assert b"DEK-Info:" in data  # OpenSSL's legacy encryption, not PKCS#8

    response = post_upload(client_for(world.alice), "acme", pki.pem(cert), data, password=PASSWORD)

    assert response.status_code == 302
    assert len(derivations) == 1
    # What was sealed is the key opened by that one derivation.
    entry = KeystoreEntry.objects.select_related("tenant").get()
    assert open_private_key(entry).private_numbers() == key.private_numbers()
    assert Certificate.objects.get().entry == entry


@pytest.mark.parametrize("key_file", sorted(KEY_FILES))
def test_a_wrong_password_still_gets_its_message_after_one_derivation(world, client_for, derivations, key_file):
    cert, key = pki.make_self_signed()
    response = post_upload(
        client_for(world.alice), "acme", pki.pem(cert), KEY_FILES[key_file](key), password="wrong-" + PASSWORD
    )

    assert response.status_code == 200
    assert errors(response) == {"key_password": "The Private Key Password is wrong, or the key file is damaged."}
    assert len(derivations) == 1
    assert not KeystoreEntry.objects.exists() and not Certificate.objects.exists()


def test_a_key_file_asking_too_much_is_refused_on_its_field_without_deriving(world, client_for, derivations):
    from keystore import kdf
    from tests.keystore.helpers import pbkdf2_iterations, rewritten

    cert, key = pki.make_self_signed()
    data = rewritten(KEY_FILES["pkcs8-pem"](key), pbkdf2_iterations(kdf.MAX_ROUNDS + 1))

    response = post_upload(client_for(world.alice), "acme", pki.pem(cert), data, password=PASSWORD)

    assert response.status_code == 200
    assert errors(response)["key_file"].startswith(
        f"The key file asks for {kdf.MAX_ROUNDS + 1:,} key-derivation rounds (PBKDF2-HMAC-SHA256"
    )
    assert derivations == []
    assert not KeystoreEntry.objects.exists()
