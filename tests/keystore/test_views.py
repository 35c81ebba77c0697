"""The keystore pages: who may use them, re-entering the password, and what the downloads hold."""

import re

import pytest
from django.urls import reverse

from keystore import pfx
from portal.audit.models import AuditEntry
from tests.certificates import pki
from tests.conftest import PASSWORD
from tests.keystore.helpers import store

BACKUP_PASSWORD = "offsite backup 2026"


def backup_url(tenant):
    return reverse("keystore-backup", args=[tenant.slug])


def download_url(tenant, entry):
    return reverse("keystore-key-download", args=[tenant.slug, entry.pk])


def backup_post(**overrides):
    data = {
        "your_password": PASSWORD,
        "backup_password": BACKUP_PASSWORD,
        "backup_password_confirm": BACKUP_PASSWORD,
    }
    return {**data, **overrides}


# keystore-home ------------------------------------------------------------------------------------------------------


def test_home_lists_entries_with_the_loss_warning(world, client_for):
    store(world.acme, "acme-2026", 0)
    store(world.acme, "acme-2019", 1, expired=True)
    response = client_for(world.alice).get(reverse("keystore-home", args=["acme"]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "loss of the keystore and private key would result in loss of recording files" in html.lower()
    assert "2 entries, 1 expired" in html
    assert "acme-2026" in html and "acme-2019" in html
    assert 'name="your_password"' in html and 'name="backup_password"' in html
    assert response["Cache-Control"] == "no-store, private"


def test_home_requires_the_right_role(world, client_for):
    for user in (world.pat, world.sam):
        assert client_for(user).get(reverse("keystore-home", args=["acme"])).status_code == 403


def test_home_checks_ownership(world, client_for):
    assert client_for(world.alice).get(reverse("keystore-home", args=["globex"])).status_code == 404


def test_home_appears_in_the_tenant_navigation(world, client_for):
    html = client_for(world.alice).get(reverse("keystore-home", args=["acme"])).content.decode()
    assert f'href="{reverse("keystore-home", args=["acme"])}"' in html


# keystore-backup ----------------------------------------------------------------------------------------------------


def test_backup_downloads_one_pkcs12_with_every_entry(world, client_for):
    store(world.acme, "acme-2026", 0)
    store(world.acme, "acme-2019", 1, expired=True)
    response = client_for(world.alice).post(backup_url(world.acme), backup_post())
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-pkcs12"
    assert re.fullmatch(r'attachment; filename="acme-keystore-\d{8}\.p12"', response["Content-Disposition"])
    assert response["Cache-Control"] == "no-store, private"
    contents = pfx.read_pfx(response.content, BACKUP_PASSWORD)
    assert sorted(k.alias for k in contents.keys) == ["acme-2019", "acme-2026"]
    audit = AuditEntry.objects.get(action="keystore-exported")
    assert audit.actor == world.alice and audit.details["entries"] == 2
    assert BACKUP_PASSWORD not in str(audit.details) and PASSWORD not in str(audit.details)


def test_backup_rejects_get(world, client_for):
    assert client_for(world.alice).get(backup_url(world.acme)).status_code == 405


def test_backup_requires_the_right_role(world, client_for):
    store(world.acme, "acme-2026", 0)
    for user in (world.pat, world.sam):
        assert client_for(user).post(backup_url(world.acme), backup_post()).status_code == 403
    assert not AuditEntry.objects.filter(action="keystore-exported").exists()


def test_backup_checks_ownership(world, client_for):
    assert client_for(world.alice).post(backup_url(world.globex), backup_post()).status_code == 404


@pytest.mark.parametrize(
    "overrides,field,message",
    [
        ({"your_password": "not my password"}, "your_password", "Your password is not correct."),
        ({"backup_password": "short", "backup_password_confirm": "short"}, "backup_password", "at least 12"),
        ({"backup_password_confirm": "something else entirely"}, "backup_password_confirm", "do not match"),
    ],
)
def test_backup_form_errors_are_shown_by_their_field(world, client_for, overrides, field, message):
    store(world.acme, "acme-2026", 0)
    response = client_for(world.alice).post(backup_url(world.acme), backup_post(**overrides))
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert message in " ".join(response.context["form"].errors[field])
    assert not AuditEntry.objects.filter(action="keystore-exported").exists()
    html = response.content.decode()
    assert BACKUP_PASSWORD not in html and PASSWORD not in html


def test_repeated_wrong_passwords_sign_the_user_out(world, client_for):
    client = client_for(world.alice)
    for attempt in range(4):
        response = client.post(backup_url(world.acme), backup_post(your_password=f"guess {attempt}"))
        assert response.status_code == 400
    response = client.post(backup_url(world.acme), backup_post(your_password="guess 5"))
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert AuditEntry.objects.filter(action="keystore-reauth-limit", tenant=world.acme).count() == 1
    # signed out: the next request goes to sign-in
    response = client.get(reverse("keystore-home", args=["acme"]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_correct_password_resets_the_count(world, client_for):
    client = client_for(world.alice)
    for _ in range(2):
        for attempt in range(4):
            client.post(backup_url(world.acme), backup_post(your_password=f"guess {attempt}"))
        assert client.post(backup_url(world.acme), backup_post()).status_code == 200


# keystore-key-download ----------------------------------------------------------------------------------------------


def test_key_download_form_shows_the_entry(world, client_for):
    entry, _, _ = store(world.acme, "acme-2026", 0)
    response = client_for(world.alice).get(download_url(world.acme, entry))
    assert response.status_code == 200
    html = response.content.decode()
    assert "acme-2026" in html and "Unencrypted PKCS#8 (private.pem)" in html and "Encrypted PKCS#8" in html


def test_key_download_unencrypted_is_private_pem(world, client_for):
    entry, key, _ = store(world.acme, "acme-2026", 0)
    response = client_for(world.alice).post(
        download_url(world.acme, entry), {"your_password": PASSWORD, "key_format": "pkcs8"}
    )
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="private.pem"'
    assert response.content.startswith(b"-----BEGIN PRIVATE KEY-----")
    assert pki.load_rsa_key(response.content).private_numbers() == key.private_numbers()
    audit = AuditEntry.objects.get(action="private-key-downloaded")
    assert audit.details == {"alias": "acme-2026", "format": "PKCS#8"} and audit.object_id == str(entry.pk)


def test_key_download_encrypted_needs_its_password_twice(world, client_for):
    entry, key, _ = store(world.acme, "acme-2026", 0)
    client = client_for(world.alice)
    form = {"your_password": PASSWORD, "key_format": "pkcs8-encrypted", "key_password": "key password 1234"}
    response = client.post(download_url(world.acme, entry), {**form, "key_password_confirm": "different pass"})
    assert response.status_code == 400 and "do not match" in response.content.decode()
    response = client.post(download_url(world.acme, entry), {**form, "key_password_confirm": "key password 1234"})
    assert response.status_code == 200
    assert response.content.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    opened = pki.load_rsa_key(response.content, b"key password 1234")
    assert opened.private_numbers() == key.private_numbers()


def test_key_download_encrypted_without_a_password_is_refused(world, client_for):
    entry, _, _ = store(world.acme, "acme-2026", 0)
    response = client_for(world.alice).post(
        download_url(world.acme, entry), {"your_password": PASSWORD, "key_format": "pkcs8-encrypted"}
    )
    assert response.status_code == 400 and "Enter a password to encrypt the key with." in response.content.decode()
    assert not AuditEntry.objects.filter(action="private-key-downloaded").exists()


def test_key_download_wrong_password_is_refused(world, client_for):
    entry, _, _ = store(world.acme, "acme-2026", 0)
    response = client_for(world.alice).post(
        download_url(world.acme, entry), {"your_password": "nope", "key_format": "pkcs8"}
    )
    assert response.status_code == 400 and "Your password is not correct." in response.content.decode()
    assert not AuditEntry.objects.filter(action="private-key-downloaded").exists()


def test_key_download_checks_ownership(world, client_for):
    entry, _, _ = store(world.globex, "globex-2026", 0)
    client = client_for(world.alice)
    assert client.get(download_url(world.acme, entry)).status_code == 404  # globex's entry under acme's URL
    assert client.get(download_url(world.globex, entry)).status_code == 404


def test_key_download_requires_the_right_role(world, client_for):
    entry, _, _ = store(world.acme, "acme-2026", 0)
    for user in (world.pat, world.sam):
        client = client_for(user)
        assert client.get(download_url(world.acme, entry)).status_code == 403
        response = client.post(download_url(world.acme, entry), {"your_password": PASSWORD, "key_format": "pkcs8"})
        assert response.status_code == 403
    assert not AuditEntry.objects.filter(action="private-key-downloaded").exists()


def test_tenant_home_links_to_the_keystore_for_tenant_admins_only(world, client_for):
    home = reverse("tenant-home", args=["acme"])
    keystore = reverse("keystore-home", args=["acme"])
    assert f'<h2><a href="{keystore}">Keystore</a></h2>' in client_for(world.alice).get(home).content.decode()
    assert f'<h2><a href="{keystore}">Keystore</a></h2>' not in client_for(world.pat).get(home).content.decode()
