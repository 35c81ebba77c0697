"""decrypt_recordings as an operator meets it: files, folders and archives in, decrypted files out, resumable."""

import io
import os
import zipfile
from pathlib import Path

import pytest
from cryptography import x509
from django.core.management import CommandError, call_command

from portal.audit.models import AuditEntry
from recordings.decrypting import Decryptor
from tests.certificates import pki
from tests.conftest import World
from tests.factories import make_certificate
from tests.recordings.envelopes import builder_recording, openssl_encrypt

pytestmark = pytest.mark.django_db


def _certificate(world: World, alias: str = "recording-2026", key_index: int = 0) -> x509.Certificate:
    stored = make_certificate(world.acme, alias, key_index=key_index)
    return x509.load_der_x509_certificate(bytes(stored.entry.certificate_der))


def _encrypt(content: bytes, cert: x509.Certificate) -> bytes:
    return builder_recording(content, cert)


def _openssl_encrypt(content: bytes, cert: x509.Certificate, folder: Path) -> bytes:
    return openssl_encrypt(content, [cert], folder, "-aes256", tool="smime")


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _run(out: Path, *inputs: Path, tenant: str = "acme") -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = 0
    try:
        call_command("decrypt_recordings", "--tenant", tenant, "--out", str(out), *map(str, inputs), stdout=stdout,
                     stderr=stderr)  # fmt: skip
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    return code, stdout.getvalue(), stderr.getvalue()


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def test_files_folders_and_archives_decrypt_under_their_relative_paths(world: World, tmp_path: Path) -> None:
    cert = _certificate(world)
    plain = {name: os.urandom(size) for name, size in [("a", 5000), ("b", 70_000), ("c", 1), ("d", 0), ("e", 300)]}
    (tmp_path / "single.wav.bin").write_bytes(_openssl_encrypt(plain["a"], cert, tmp_path))
    folder = tmp_path / "calls"
    (folder / "2026/11").mkdir(parents=True)
    (folder / "2026/11/b.bin").write_bytes(_encrypt(plain["b"], cert))
    (folder / "top.BIN").write_bytes(_encrypt(plain["c"], cert))
    (folder / "2026/day.zip").write_bytes(_zip({"agent-7/e.bin": _encrypt(plain["e"], cert)}))
    (tmp_path / "backup.zip").write_bytes(_zip({"x/": b"", "x/d.bin": _encrypt(plain["d"], cert)}))
    out = tmp_path / "out"

    code, stdout, stderr = _run(out, tmp_path / "single.wav.bin", folder, tmp_path / "backup.zip")

    assert (code, stderr) == (0, "")
    assert _tree(out) == {
        "single.wav": plain["a"],
        "2026/11/b": plain["b"],
        "2026/agent-7/e": plain["e"],  # an archive's members take the archive's place
        "top": plain["c"],
        "x/d": plain["d"],
    }
    assert stdout == f"Decrypted 5, skipped 0, failed 0 of 5 recordings (0.1 MB) into {out}\n"
    assert all((out / name).stat().st_mode & 0o777 == 0o600 for name in _tree(out))
    audited = AuditEntry.objects.filter(action="recording-decrypted")
    assert sorted(entry.details["file"] for entry in audited) == [
        "2026/11/b.bin", "2026/agent-7/e.bin", "single.wav.bin", "top.BIN", "x/d.bin",
    ]  # fmt: skip
    assert {entry.details["alias"] for entry in audited} == {"recording-2026"}


def test_a_second_run_skips_what_is_done_and_leaves_it_alone(world: World, tmp_path: Path) -> None:
    cert = _certificate(world)
    for name in ("a.bin", "b.bin"):
        (tmp_path / "in").mkdir(exist_ok=True)
        (tmp_path / "in" / name).write_bytes(_encrypt(name.encode(), cert))
    out = tmp_path / "out"
    assert _run(out, tmp_path / "in")[0] == 0
    (out / "a").write_bytes(b"kept")
    (out / ".b.partial").write_bytes(b"left by an interrupted run")
    (out / "b").unlink()

    code, stdout, _ = _run(out, tmp_path / "in")

    assert code == 0 and stdout.startswith("Decrypted 1, skipped 1, failed 0 of 2 recordings")
    assert _tree(out) == {"a": b"kept", "b": b"b.bin"}


def test_failed_files_are_named_with_why_and_leave_no_output(world: World, tmp_path: Path) -> None:
    cert = _certificate(world)
    stranger = pki.make_self_signed(pki.make_key(2048, 5), "Other tenant's recording")[0]
    good = _encrypt(b"fine", cert)
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "good.bin").write_bytes(good)
    (inputs / "notes.txt").write_bytes(b"not an envelope at all")
    (inputs / "cut.bin").write_bytes(_encrypt(os.urandom(5000), cert)[:-100])
    (inputs / "theirs.bin").write_bytes(_encrypt(b"secret", stranger))
    (inputs / "slip.zip").write_bytes(_zip({"../../escape.bin": good}))
    out = tmp_path / "out"

    code, stdout, stderr = _run(out, inputs)

    assert code == 1
    lines = stderr.splitlines()
    assert len(lines) == 4 and "Traceback" not in stderr
    assert lines[0].startswith(f"{inputs / 'cut.bin'}: ")
    assert lines[1].startswith(f"{inputs / 'notes.txt'}: ")
    assert (
        lines[2] == f'{inputs / "slip.zip"}: The archive member "../../escape.bin" climbs out of its folder with "..".'
    )
    assert lines[3].startswith(f"{inputs / 'theirs.bin'}: ") and "not in the keystore" in lines[3]
    assert stdout.startswith("Decrypted 1, skipped 0, failed 4 of 5 recordings")
    assert os.listdir(out) == ["good"]  # no partial output, no temporary file
    assert not (tmp_path / "escape.bin").exists()


def test_inputs_that_map_to_one_output_get_numbered_names(world: World, tmp_path: Path) -> None:
    cert = _certificate(world)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.bin").write_bytes(_encrypt(b"first", cert))
    (tmp_path / "in" / "a").write_bytes(_encrypt(b"second", cert))
    out = tmp_path / "out"
    assert _run(out, tmp_path / "in")[0] == 0
    assert _tree(out) == {"a": b"second", "a (2)": b"first"}  # sorted input order: "a" before "a.bin"
    assert _run(out, tmp_path / "in")[1].startswith("Decrypted 0, skipped 2")


def test_the_output_folder_inside_an_input_folder_is_not_read_back(world: World, tmp_path: Path) -> None:
    cert = _certificate(world)
    (tmp_path / "call.bin").write_bytes(_encrypt(b"x", cert))
    assert _run(tmp_path / "out", tmp_path)[1].startswith("Decrypted 1, skipped 0, failed 0 of 1")
    assert _run(tmp_path / "out", tmp_path)[1].startswith("Decrypted 0, skipped 1, failed 0 of 1")


def test_no_progress_bar_without_a_terminal(world: World, tmp_path: Path) -> None:
    (tmp_path / "call.bin").write_bytes(_encrypt(b"x" * 100_000, _certificate(world)))
    code, _, stderr = _run(tmp_path / "out", tmp_path / "call.bin")
    assert code == 0 and stderr == ""


def test_an_interrupted_run_leaves_no_partial_file(world: World, tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "call.bin").write_bytes(_encrypt(b"x" * 1000, _certificate(world)))

    def interrupted(self, name, size, stream, write):
        write(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(Decryptor, "decrypt", interrupted)
    with pytest.raises(
        CommandError, match=r"^Interrupted\. Decrypted 0, skipped 0, failed 0 of 1 .*run again to resume"
    ):
        _run(tmp_path / "out", tmp_path / "call.bin")
    assert os.listdir(tmp_path / "out") == []


@pytest.mark.parametrize(
    "tenant,make_input,make_out,message",
    [
        ("nope", None, None, "No tenant with the identifier 'nope'."),
        ("acme", "missing", None, "Cannot read .*missing: No such file or directory."),
        ("acme", None, "file", "Cannot create the output folder .*out: File exists."),
    ],
)
def test_bad_arguments_are_one_line_errors(world: World, tmp_path: Path, tenant, make_input, make_out, message) -> None:
    given = tmp_path / "call.bin"
    given.write_bytes(b"whatever")
    if make_input == "missing":
        given = tmp_path / "missing"
    out = tmp_path / "out"
    if make_out == "file":
        out.write_bytes(b"a file, not a folder")
    with pytest.raises(CommandError, match=message) as error:
        _run(out, given, tenant=tenant)
    assert "\n" not in str(error.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_an_unwritable_output_folder_is_refused(world: World, tmp_path: Path) -> None:
    (tmp_path / "call.bin").write_bytes(b"whatever")
    (tmp_path / "out").mkdir(mode=0o500)
    with pytest.raises(CommandError, match="is not writable"):
        _run(tmp_path / "out", tmp_path / "call.bin")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_progress_bar_runs_on_a_terminal(world: World, tmp_path: Path) -> None:
    (tmp_path / "call.bin").write_bytes(_encrypt(b"x" * 100_000, _certificate(world)))
    terminal = _Terminal()
    call_command("decrypt_recordings", "--tenant", "acme", "--out", str(tmp_path / "out"), str(tmp_path / "call.bin"),
                 stdout=io.StringIO(), stderr=terminal)  # fmt: skip
    assert "100%" in terminal.getvalue()


def test_refused_archives_and_damaged_members_are_named_and_audited(world: World, tmp_path: Path) -> None:
    cert = _certificate(world)
    (tmp_path / "bomb.zip").write_bytes(_zip({"a.bin": b"", "../up.bin": b""}))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("ok.bin", _encrypt(b"fine", cert))
        archive.writestr("flipped.bin", _encrypt(os.urandom(50_000), cert))
    damaged = bytearray(buffer.getvalue())
    damaged[damaged.find(b"flipped.bin") + 30_000] ^= 0x01  # inside the member's data: its CRC no longer matches
    (tmp_path / "damaged.zip").write_bytes(bytes(damaged))

    code, stdout, stderr = _run(tmp_path / "out", tmp_path / "bomb.zip", tmp_path / "damaged.zip")

    assert code == 1
    assert stderr.splitlines() == [
        f'{tmp_path / "bomb.zip"}: The archive member "../up.bin" climbs out of its folder with "..".',
        f'{tmp_path / "damaged.zip"}/flipped.bin: The archive member "flipped.bin" is damaged.',
    ]
    assert stdout.startswith("Decrypted 1, skipped 0, failed 2 of 3 recordings")
    assert _tree(tmp_path / "out") == {"ok": b"fine"}
    refused = AuditEntry.objects.filter(action="recording-not-decrypted")
    assert sorted((entry.details["file"], entry.details["outcome"]) for entry in refused) == [
        ("bomb.zip", 'The archive member "../up.bin" climbs out of its folder with "..".'),
        ("flipped.bin", 'The archive member "flipped.bin" is damaged.'),
    ]


def test_file_names_that_are_not_utf8_keep_their_bytes_and_print_escaped(world: World, tmp_path: Path) -> None:
    cert = _certificate(world)
    inputs = tmp_path / "in"
    inputs.mkdir()
    with open(os.path.join(os.fsencode(inputs), b"call-\xff.bin"), "wb") as stream:
        stream.write(_encrypt(b"latin-1 name", cert))
    with open(os.path.join(os.fsencode(inputs), b"junk-\xfe\n.bin"), "wb") as stream:
        stream.write(b"not an envelope")

    code, _, stderr = _run(tmp_path / "out", inputs)

    assert code == 1
    assert stderr.startswith(f"{inputs}/junk-\\xfe\\0A.bin: ")
    assert os.listdir(os.fsencode(tmp_path / "out")) == [b"call-\xff"]
    assert {entry.details["file"] for entry in AuditEntry.objects.all() if "file" in entry.details} == {
        "call-\\xff.bin",
        "junk-\\xfe\\0A.bin",
    }
