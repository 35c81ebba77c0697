"""Decrypt Recordings as a tenant administrator meets it: upload, the key that opened each file, the download."""

import io
import json
import os
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import padding
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portal.accounts.models import Role
from portal.audit.models import AuditEntry
from recordings.batches import batch_dir
from recordings.cms import open_envelope
from recordings.models import DecryptionBatch
from tests.certificates import pki
from tests.conftest import World, make_user
from tests.factories import make_certificate
from tests.recordings.envelopes import certificate_of, recording

pytestmark = pytest.mark.django_db


def _post(client: Client, slug: str, *files: tuple[str, bytes]) -> Any:
    uploads = [SimpleUploadedFile(name, data, content_type="application/octet-stream") for name, data in files]
    return client.post(reverse("recordings-decrypt", args=[slug]), {"recordings": uploads})


def _batch_page(client: Client, response: Any) -> str:
    assert response.status_code == 302, response.content[:2000]
    page = client.get(response["Location"])
    assert page.status_code == 200
    return page.content.decode()


def _download(client: Client, slug: str) -> tuple[str, bytes]:
    batch = DecryptionBatch.objects.latest("created")
    response = client.get(reverse("recordings-download", args=[slug, batch.id]))
    assert response.status_code == 200
    return response["Content-Disposition"], b"".join(response.streaming_content)  # type: ignore[attr-defined]


def test_one_recording_is_decrypted_with_the_key_that_opens_it(world: World, client_for, tmp_path: Path) -> None:
    certificate = make_certificate(world.acme, "recording-2026")
    content = os.urandom(40_000)
    client = client_for(world.alice)
    page = _batch_page(client, _post(client, "acme", ("call-17.bin", recording(content, certificate, tmp_path))))
    assert "recording-2026" in page and "1 of 1 recording decrypted" in page
    disposition, data = _download(client, "acme")
    assert data == content
    assert 'filename="call-17"' in disposition  # named like its input without ".bin"


def test_several_recordings_download_as_a_zip(world: World, client_for, tmp_path: Path) -> None:
    first = make_certificate(world.acme, "first-key", key_index=1)
    second = make_certificate(world.acme, "second-key", key_index=2)
    contents = {"a.bin": os.urandom(1000), "b.bin": os.urandom(2000), "notes.p7m": os.urandom(10)}
    files = [
        ("a.bin", recording(contents["a.bin"], first, tmp_path / "a")),
        ("b.bin", recording(contents["b.bin"], second, tmp_path / "b")),
        ("notes.p7m", recording(contents["notes.p7m"], first, tmp_path / "c")),
    ]
    client = client_for(world.alice)
    page = _batch_page(client, _post(client, "acme", *files))
    assert "first-key" in page and "second-key" in page and "3 of 3 recordings decrypted" in page
    _, data = _download(client, "acme")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert {name: archive.read(name) for name in archive.namelist()} == {
            "a": contents["a.bin"],
            "b": contents["b.bin"],
            "notes.p7m": contents["notes.p7m"],  # a name without ".bin" is kept as it is
        }


def test_a_zip_archive_keeps_its_members_paths(world: World, client_for, tmp_path: Path) -> None:
    certificate = make_certificate(world.acme, "archive-key")
    contents = {"2026/11/call-1.bin": os.urandom(500), "2026/12/call-2.bin": os.urandom(700)}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for number, (name, content) in enumerate(contents.items()):
            archive.writestr(name, recording(content, certificate, tmp_path / str(number)))
    client = client_for(world.alice)
    _batch_page(client, _post(client, "acme", ("backup.zip", buffer.getvalue())))
    _, data = _download(client, "acme")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.read("2026/11/call-1") == contents["2026/11/call-1.bin"]
        assert archive.read("2026/12/call-2") == contents["2026/12/call-2.bin"]


def test_an_archived_certificates_recordings_still_play(world: World, client_for, tmp_path: Path) -> None:
    certificate = make_certificate(world.acme, "retired-2024", archived=True)
    content = os.urandom(3000)
    client = client_for(world.alice)
    page = _batch_page(client, _post(client, "acme", ("old.bin", recording(content, certificate, tmp_path))))
    assert "retired-2024" in page
    assert _download(client, "acme")[1] == content


def test_a_recording_for_a_key_elsewhere_names_its_recipient(world: World, client_for, tmp_path: Path) -> None:
    make_certificate(world.acme, "ours")
    foreign = make_certificate(world.globex, "theirs", key_index=5)
    client = client_for(world.alice)
    page = _batch_page(client, _post(client, "acme", ("x.bin", recording(b"secret call", foreign, tmp_path))))
    serial = format(certificate_of(foreign).serial_number, "X")
    assert "not in the keystore" in page and serial in page.upper()
    assert "0 of 1 recording decrypted" in page
    assert "Download" not in page.split("Results")[1].split("Decrypt more")[0]


def test_damaged_files_are_reported_and_the_rest_still_download(world: World, client_for, tmp_path: Path) -> None:
    certificate = make_certificate(world.acme, "main-key")
    good = os.urandom(5000)
    damaged = bytearray(recording(os.urandom(5000), certificate, tmp_path / "d"))
    damaged[-5] ^= 0x01  # the last block: its padding no longer checks
    client = client_for(world.alice)
    page = _batch_page(
        client,
        _post(
            client,
            "acme",
            ("good.bin", recording(good, certificate, tmp_path / "g")),
            ("damaged.bin", bytes(damaged)),
            ("notes.txt", b"just some text, not a recording"),
        ),
    )
    assert "1 of 3 recordings decrypted" in page
    disposition, data = _download(client, "acme")
    assert data == good and "good" in disposition


def test_every_decryption_is_audited_without_its_session_key(world: World, client_for, tmp_path: Path) -> None:
    certificate = make_certificate(world.acme, "audited-key")
    encrypted = recording(os.urandom(100), certificate, tmp_path)
    client = client_for(world.alice)
    _batch_page(client, _post(client, "acme", ("call.bin", encrypted), ("junk.bin", b"junk")))
    entries = {entry.details["file"]: entry for entry in AuditEntry.objects.filter(action__startswith="recording-")}
    done, refused = entries["call.bin"], entries["junk.bin"]
    assert (done.action, done.actor, done.details["alias"], done.details["size"]) == (
        "recording-decrypted",
        world.alice,
        "audited-key",
        len(encrypted),
    )
    assert done.details["outcome"] == "decrypted"
    assert refused.action == "recording-not-decrypted" and refused.details["outcome"]
    key = pki.make_key(2048, 0)
    session_key = key.decrypt(open_envelope(io.BytesIO(encrypted)).recipients[0].encrypted_key, padding.PKCS1v15())
    trail = json.dumps([entry.details for entry in AuditEntry.objects.all()])
    assert session_key.hex() not in trail.lower() and session_key.hex().upper() not in trail


def test_an_upload_over_the_limit_is_refused_before_it_is_read(world: World, client_for, settings) -> None:
    settings.PORTAL_RECORDINGS_MAX_UPLOAD_BYTES = 10_000
    client = client_for(world.alice)
    response = _post(client, "acme", ("big.bin", os.urandom(20_000)))
    assert response.status_code == 413
    assert "decrypt_recordings --tenant acme" in response.content.decode()
    assert not DecryptionBatch.objects.exists()


def test_nothing_chosen_says_so(world: World, client_for) -> None:
    response = client_for(world.alice).post(reverse("recordings-decrypt", args=["acme"]), {})
    assert response.status_code == 400
    assert "Choose one or more recording files" in response.content.decode()


def test_the_upload_needs_the_csrf_token(world: World) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.alice)
    upload = SimpleUploadedFile("x.bin", b"data")
    response = client.post(reverse("recordings-decrypt", args=["acme"]), {"recordings": [upload]})
    assert response.status_code == 403
    assert not DecryptionBatch.objects.exists()


def test_a_batch_belongs_to_the_administrator_who_uploaded_it(world: World, client_for, tmp_path: Path) -> None:
    certificate = make_certificate(world.acme, "key")
    alice = client_for(world.alice)
    _batch_page(alice, _post(alice, "acme", ("c.bin", recording(b"hello", certificate, tmp_path))))
    batch = DecryptionBatch.objects.get()
    colleague = client_for(make_user("ada", Role.TENANT_ADMIN, world.acme))
    assert colleague.get(reverse("recordings-batch", args=["acme", batch.id])).status_code == 404
    assert colleague.get(reverse("recordings-download", args=["acme", batch.id])).status_code == 404


def test_an_expired_batch_is_forgotten_with_its_files(world: World, client_for, tmp_path: Path) -> None:
    certificate = make_certificate(world.acme, "key")
    client = client_for(world.alice)
    _batch_page(client, _post(client, "acme", ("c.bin", recording(b"hello", certificate, tmp_path))))
    batch = DecryptionBatch.objects.get()
    assert batch_dir(batch.id).is_dir()
    DecryptionBatch.objects.filter(pk=batch.pk).update(expires=timezone.now() - timedelta(seconds=1))
    _post(client, "acme", ("d.bin", b"not a recording"))
    assert not DecryptionBatch.objects.filter(pk=batch.pk).exists()
    assert not batch_dir(batch.id).exists()
    assert client.get(reverse("recordings-download", args=["acme", batch.id])).status_code == 404


@pytest.mark.parametrize("who,status", [("pat", 403), ("sam", 403), ("charlie", 404), ("bob", 404)])
def test_only_the_tenants_administrators_decrypt(world: World, client_for, who: str, status: int) -> None:
    client = client_for(getattr(world, who))
    assert client.get(reverse("recordings-decrypt", args=["acme"])).status_code == status
    assert _post(client, "acme", ("x.bin", b"x")).status_code == status
    assert not DecryptionBatch.objects.exists()


def test_the_navigation_links_the_page_for_administrators_only(world: World, client_for) -> None:
    page = reverse("recordings-decrypt", args=["acme"])
    assert page in client_for(world.alice).get(reverse("tenant-home", args=["acme"])).content.decode()
    assert page not in client_for(world.pat).get(reverse("tenant-home", args=["acme"])).content.decode()


def test_a_zip_of_one_recording_downloads_as_that_recording(world: World, client_for, tmp_path: Path) -> None:
    certificate = make_certificate(world.acme, "single-key")
    content = os.urandom(12_345)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("calls/only.bin", recording(content, certificate, tmp_path))
    client = client_for(world.alice)
    _batch_page(client, _post(client, "acme", ("one.zip", buffer.getvalue())))
    disposition, data = _download(client, "acme")
    assert data == content and 'filename="only"' in disposition


def test_a_file_name_the_name_rule_refuses_is_reported_and_the_rest_decrypt(
    world: World, client_for, tmp_path: Path
) -> None:
    # Django drops control characters from upload names itself; 200 two-byte letters pass it and break the 255-byte
    # limit on a file name.
    certificate = make_certificate(world.acme, "key")
    client = client_for(world.alice)
    page = _batch_page(
        client,
        _post(
            client,
            "acme",
            ("é" * 200 + ".bin", recording(b"x" * 100, certificate, tmp_path / "e")),
            ("fine.bin", recording(b"y" * 100, certificate, tmp_path / "f")),
        ),
    )
    assert "1 of 2 recordings decrypted" in page and "longer than 255 bytes" in page
    assert _download(client, "acme")[1] == b"y" * 100


def test_only_decrypted_files_take_output_names(world: World, client_for, tmp_path: Path) -> None:
    certificate = make_certificate(world.acme, "key")
    content = os.urandom(2000)
    client = client_for(world.alice)
    _batch_page(
        client,
        _post(client, "acme", ("a.bin", b"not a recording"), ("a", recording(content, certificate, tmp_path))),
    )
    disposition, data = _download(client, "acme")
    assert data == content and 'filename="a"' in disposition
