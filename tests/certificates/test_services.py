"""The upload service itself: size refused before reading, all-or-nothing saving, and uploads racing each other."""

from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from certificates import upload as uploads
from certificates.models import Certificate
from keystore.models import KeystoreEntry
from portal.audit.log import COMMAND
from portal.audit.models import AuditEntry
from tests.certificates import pki


class UnreadableUpload(SimpleUploadedFile):
    """An upload whose content must not be touched."""

    def read(self, *args, **kwargs):
        raise AssertionError("the file was read")


@override_settings(PORTAL_MAX_UPLOAD_BYTES=1000)
def test_size_is_refused_before_the_file_is_read():
    upload = UnreadableUpload("big.pem", b"x" * 1001)
    with pytest.raises(uploads.UploadInvalid) as refused:
        uploads.read_upload(upload, field_name=uploads.CERTIFICATE_FILE, what="certificate file")
    assert refused.value.first == uploads.UploadProblem(
        uploads.CERTIFICATE_FILE,
        "The certificate file is larger than 0 KB; a certificate file is a few KB. Choose the right file.",
    )


@override_settings(PORTAL_MAX_UPLOAD_BYTES=1000)
def test_a_size_that_lies_is_caught_while_reading():
    upload = SimpleUploadedFile("big.pem", b"x" * 5000)
    upload.size = 10
    with pytest.raises(uploads.UploadInvalid):
        uploads.read_upload(upload, field_name=uploads.KEY_FILE, what="key file")


def _validated(tenant, cert=None, key=None, alias=None):
    if cert is None:
        cert, key = pki.make_self_signed()
    return uploads.validate_upload(
        tenant, certificate_data=pki.pem(cert), key_data=pki.key_pem_pkcs8(key), password=None, alias=alias
    )


def test_nothing_is_half_saved_when_a_later_step_fails(world):
    validated = _validated(world.acme)
    with (
        mock.patch("certificates.upload.record", side_effect=RuntimeError("audit unavailable")),
        pytest.raises(RuntimeError),
    ):
        uploads.save_upload(world.acme, validated, by=COMMAND)
    assert not KeystoreEntry.objects.exists()
    assert not Certificate.objects.exists()
    assert not AuditEntry.objects.exists()


def test_alias_taken_between_check_and_save(world):
    validated = _validated(world.acme, alias="voice")
    other = _validated(world.acme, *pki.make_self_signed(pki.make_key(2048, 3)), alias="voice")
    uploads.save_upload(world.acme, other, by=COMMAND)
    with pytest.raises(uploads.UploadInvalid) as refused:
        uploads.save_upload(world.acme, validated, by=COMMAND)
    assert refused.value.first == uploads.UploadProblem(
        "alias", "The alias 'voice' is already used in this keystore (aliases ignore case)."
    )
    assert Certificate.objects.count() == KeystoreEntry.objects.count() == 1


def test_same_certificate_saved_twice_concurrently(world):
    cert, key = pki.make_self_signed()
    first = _validated(world.acme, cert, key, alias="first")
    second = _validated(world.acme, cert, key, alias="second")
    uploads.save_upload(world.acme, first, by=COMMAND)
    with pytest.raises(uploads.UploadInvalid) as refused:
        uploads.save_upload(world.acme, second, by=COMMAND)
    assert refused.value.first.message == "This certificate is already uploaded in this tenant as 'first'."
    assert Certificate.objects.count() == KeystoreEntry.objects.count() == 1


def test_expired_certificate_from_a_root_that_has_expired_since(world):
    """Kept for playback: the root had to be valid while the certificate was, not today."""
    from datetime import UTC, datetime, timedelta

    from tests.factories import add_root

    start = datetime.now(UTC) - timedelta(days=900)
    ca, ca_key = pki.make_ca(not_before=start, days=600)
    cert, key = pki.issue(ca, ca_key, not_before=start + timedelta(days=1), days=365)
    add_root(world.acme, ca)  # an expired root can still be added: old certificates may need it
    validated = _validated(world.acme, cert, key)
    assert validated.certificate.status == "expired"
    assert validated.certificate.chain.ok
    assert "kept for playback of older recordings only" in validated.warnings[0]
