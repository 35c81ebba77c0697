"""Error pages never show secrets, even with DEBUG on (a developer's machine, or a misconfigured deployment)."""

import secrets

import pytest
from django.test import override_settings

from tests.certificates import pki
from tests.conftest import World
from tests.factories import post_preview, post_upload, seed_files


def test_debug_error_page_of_an_upload_hides_the_key_password_and_the_key(
    world: World, client_for, monkeypatch
) -> None:
    cert, _ = seed_files()
    key = pki.make_key(2048, 0)
    # Made at run time: the error page quotes source lines around each frame, this file's included.
    password = secrets.token_urlsafe(16)
    key_pem = pki.key_pem_pkcs8_encrypted(key, password)

    # Fail where the key file is read; ``int`` raises from C, so no frame of this test's own holds the secrets.
    monkeypatch.setattr("keystore.keyfiles.spki_sha256", int)
    client = client_for(world.alice)
    client.raise_request_exception = False
    with override_settings(DEBUG=True):
        response = post_upload(client, "acme", cert, key_pem, password=password)
    page = response.content.decode()
    assert response.status_code == 500 and "TypeError" in page  # the technical page, with its frames
    assert password not in page
    assert "ENCRYPTED PRIVATE KEY" not in page
    assert "********************" in page


@pytest.mark.parametrize("post", [post_upload, post_preview], ids=["save", "preview"])
def test_debug_error_page_hides_an_unencrypted_key_read_deep_in_the_keystore(world, client_for, monkeypatch, post):
    cert, _ = seed_files()
    key_pem = pki.key_pem_pkcs8(pki.make_key(2048, 0))
    # Fail after the file is read, where the keystore holds the key's PEM text in a local variable.
    monkeypatch.setattr("keystore.keyfiles.check_consistent", int)
    client = client_for(world.alice)
    client.raise_request_exception = False
    with override_settings(DEBUG=True):
        response = post(client, "acme", cert, key_pem)
    page = response.content.decode()
    assert response.status_code == 500 and "check_consistent" in page  # the technical page, with its frames
    assert not [line for line in key_pem.decode().splitlines()[1:-1] if line in page]
    assert "********************" in page
