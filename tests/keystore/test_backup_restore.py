"""Backup to one PKCS#12 file and restore from it (or from keytool's and openssl's), all or nothing."""

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from keystore import pfx
from keystore.backup import ImportFileError, export_keystore, export_private_key_pem, import_pkcs12
from keystore.models import KeystoreEntry
from keystore.sealing import open_private_key
from portal.audit.log import COMMAND, Actor
from portal.audit.models import AuditEntry
from tests.certificates import pki
from tests.keystore.helpers import certificate, der, keytool, rsa_key, store

PASSWORD = "backup password 123"


def keys_of(tenant):
    return {
        e.alias: open_private_key(e).private_numbers()
        for e in KeystoreEntry.objects.filter(tenant=tenant).select_related("tenant")
    }


def test_backup_holds_every_entry_expired_ones_included_and_is_audited(world):
    store(world.acme, "current", 0)
    store(world.acme, "old-2019", 1, expired=True)
    data, count = export_keystore(world.acme, PASSWORD, by=Actor(world.alice, "192.0.2.7"))
    assert count == 2
    contents = pfx.read_pfx(data, PASSWORD)
    assert sorted(k.alias for k in contents.keys) == ["current", "old-2019"]
    audit = AuditEntry.objects.get(action="keystore-exported")
    assert audit.tenant == world.acme and audit.details == {"entries": 2, "format": "PKCS#12", "via": "web"}
    assert (audit.actor, audit.actor_username, audit.ip) == (world.alice, "alice", "192.0.2.7")


def test_backup_password_must_be_long_enough(world):
    store(world.acme, "current", 0)
    with pytest.raises(ValueError, match="at least 12 characters"):
        export_keystore(world.acme, "short", by=COMMAND)
    assert not AuditEntry.objects.filter(action="keystore-exported").exists()


def test_restore_into_another_tenant_round_trips_every_key(world):
    store(world.acme, "one", 0)
    store(world.acme, "two", 1, expired=True)
    data, _ = export_keystore(world.acme, PASSWORD, by=COMMAND)
    seen: list[KeystoreEntry] = []
    report = import_pkcs12(world.globex, data, PASSWORD, on_entry=seen.append, by=Actor(world.bob))
    assert sorted(report.imported) == ["one", "two"] and report.skipped == [] and report.renamed == []
    assert [e.tenant for e in seen] == [world.globex, world.globex]
    assert keys_of(world.globex) == keys_of(world.acme)
    audit = AuditEntry.objects.get(action="keystore-imported")
    assert audit.tenant == world.globex and sorted(audit.details["imported"]) == ["one", "two"]


def test_a_restore_unwraps_the_tenant_key_once_for_all_its_keys(world, monkeypatch):
    from keystore.masterkey import current_master_key

    for index, alias in enumerate(("one", "two", "three")):
        store(world.acme, alias, index)
    store(world.globex, "already-there", 3)  # so the tenant key exists and is opened rather than made
    data, _ = export_keystore(world.acme, PASSWORD, by=COMMAND)
    provider = type(current_master_key())
    unwraps = []
    real_unwrap = provider.unwrap

    def counted_unwrap(*args):
        unwraps.append(1)
        return real_unwrap(*args)

    monkeypatch.setattr(provider, "unwrap", counted_unwrap)
    report = import_pkcs12(world.globex, data, PASSWORD, on_entry=lambda e: None, by=COMMAND)
    assert sorted(report.imported) == ["one", "three", "two"]
    assert len(unwraps) == 1  # one request to a token or KMS, not one per key


def test_restore_skips_keys_already_present_and_renames_alias_clashes(world):
    store(world.acme, "one", 0)
    data, _ = export_keystore(world.acme, PASSWORD, by=COMMAND)
    # globex already has this certificate under another alias, and another certificate under "two"
    globex_cert = KeystoreEntry.objects.get(tenant=world.acme).certificate_der
    from keystore.api import store_private_key

    store_private_key(world.globex, alias="renamed", certificate_der=bytes(globex_cert), private_key=rsa_key(0))
    report = import_pkcs12(world.globex, data, PASSWORD, on_entry=lambda e: None, by=COMMAND)
    assert report.imported == [] and report.skipped == [("one", "already in the keystore")]

    key = rsa_key(2)
    clash = pfx.build_pfx([pfx.PfxEntry("Renamed", der(certificate(key, "Other")), key)], PASSWORD)
    report = import_pkcs12(world.globex, clash, PASSWORD, on_entry=lambda e: None, by=COMMAND)
    assert report.imported == ["Renamed-2"] and report.renamed == [
        (
            "Renamed",
            "Renamed-2",
            "'Renamed' is already taken in this keystore (aliases ignore case), so it was numbered",
        )
    ]
    assert "1 under a new alias" in report.summary
    assert set(KeystoreEntry.objects.filter(tenant=world.globex).values_list("alias", flat=True)) == {
        "renamed",
        "Renamed-2",
    }


def test_restore_rolls_back_everything_when_on_entry_fails(world):
    store(world.acme, "one", 0)
    store(world.acme, "two", 1)
    data, _ = export_keystore(world.acme, PASSWORD, by=COMMAND)
    calls = []

    def refuse_second(entry):
        calls.append(entry.alias)
        if len(calls) == 2:
            raise ValueError(f"The certificate of {entry.alias} is refused.")

    with pytest.raises(ValueError, match="refused"):
        import_pkcs12(world.globex, data, PASSWORD, on_entry=refuse_second, by=COMMAND)
    assert len(calls) == 2
    assert not KeystoreEntry.objects.filter(tenant=world.globex).exists()
    assert not AuditEntry.objects.filter(action="keystore-imported").exists()


@pytest.mark.parametrize("password,message", [("wrong password!", "password is wrong"), ("", "Enter the keystore")])
def test_wrong_or_missing_password_imports_nothing(world, password, message):
    store(world.acme, "one", 0)
    data, _ = export_keystore(world.acme, PASSWORD, by=COMMAND)
    with pytest.raises(ImportFileError, match=message):
        import_pkcs12(world.globex, data, password, on_entry=lambda e: None, by=COMMAND)
    assert not KeystoreEntry.objects.filter(tenant=world.globex).exists()


def test_damaged_file_imports_nothing(world):
    store(world.acme, "one", 0)
    data, _ = export_keystore(world.acme, PASSWORD, by=COMMAND)
    with pytest.raises(ImportFileError, match="damaged"):
        import_pkcs12(world.globex, data[: len(data) // 2], PASSWORD, on_entry=lambda e: None, by=COMMAND)
    assert not KeystoreEntry.objects.filter(tenant=world.globex).exists()


def test_unusable_keys_are_skipped_with_a_reason(world):
    small = rsa_key(0, bits=1024)
    ec_key = pki.make_ec_key()
    good = rsa_key(4)
    data = pfx.build_pfx(
        [
            pfx.PfxEntry("small", der(certificate(small, "Small")), small),
            pfx.PfxEntry("tls", der(certificate(ec_key, "TLS")), ec_key),
            pfx.PfxEntry("good", der(certificate(good, "Good")), good),
        ],
        PASSWORD,
    )
    report = import_pkcs12(world.acme, data, PASSWORD, on_entry=lambda e: None, by=COMMAND)
    assert report.imported == ["good"]
    assert dict(report.skipped) == {
        "small": "The RSA key is 1024 bits; at least 2048 are required.",
        "tls": "not an RSA key (EC)",
    }


def test_key_without_its_certificate_is_skipped(world):
    key, other = rsa_key(0), rsa_key(1)
    data = pkcs12.serialize_key_and_certificates(
        b"lonely",
        key,
        None,
        [certificate(other, "Unrelated")],
        serialization.BestAvailableEncryption(PASSWORD.encode()),
    )
    report = import_pkcs12(world.acme, data, PASSWORD, on_entry=lambda e: None, by=COMMAND)
    assert report.imported == []
    assert ("lonely", "no certificate for this key in the file") in report.skipped
    assert any(name == "Unrelated" and "without a private key" in reason for name, reason in report.skipped)


def test_keytool_keystore_restores_every_key(world, tmp_path):
    path = tmp_path / "java.p12"
    for alias in ("alpha", "bravo"):
        made = keytool(
            "-genkeypair", "-alias", alias, "-keyalg", "RSA", "-keysize", "2048", "-dname", f"CN={alias}",
            "-storetype", "PKCS12", "-keystore", str(path), "-storepass", PASSWORD,
        )  # fmt: skip
        assert made.returncode == 0
    report = import_pkcs12(world.acme, path.read_bytes(), PASSWORD, on_entry=lambda e: None, by=COMMAND)
    assert sorted(report.imported) == ["alpha", "bravo"]
    assert len(keys_of(world.acme)) == 2


def test_key_download_unencrypted_and_encrypted_are_audited(world):
    entry, key, _ = store(world.acme, "one", 0)
    entry = KeystoreEntry.objects.select_related("tenant").get(pk=entry.pk)
    plain = export_private_key_pem(entry, None, by=COMMAND)
    assert plain.startswith(b"-----BEGIN PRIVATE KEY-----")
    assert pki.load_rsa_key(plain).private_numbers() == key.private_numbers()
    encrypted = export_private_key_pem(entry, "key password 1234", by=COMMAND)
    assert encrypted.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    opened = pki.load_rsa_key(encrypted, b"key password 1234")
    assert opened.private_numbers() == key.private_numbers()
    formats = [a.details["format"] for a in AuditEntry.objects.filter(action="private-key-downloaded").order_by("id")]
    assert formats == ["PKCS#8", "encrypted PKCS#8"]
