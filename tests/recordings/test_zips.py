"""Reading archives of recordings with their caps, and the streamed zip of decrypted files."""

import io
import os
import shutil
import struct
import subprocess
import sys
import threading
import tracemalloc
import warnings
import zipfile
import zlib
from pathlib import PurePosixPath

import pytest

from recordings.naming import NameRefused
from recordings.zips import (
    MAX_DIRECTORY_BYTES,
    MAX_MEMBERS,
    ArchiveRefused,
    is_zip,
    open_archive,
    stream_zip,
)

RECORDING = os.urandom(70_000)  # stands in for an encrypted recording: random bytes do not compress


def make_zip(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names, on purpose in some tests
        with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
            for name, data in members.items():
                archive.writestr(zipfile.ZipInfo(name), data, compress_type=compression)
    return buffer.getvalue()


def read_all(data: bytes, **caps) -> dict[str, bytes]:
    with open_archive(io.BytesIO(data), **caps) as archive:
        return {str(member.name): member.open().read() for member in archive.members()}


def refusal(data: bytes, **caps) -> str:
    with pytest.raises(ArchiveRefused) as refused:
        read_all(data, **caps)
    return str(refused.value)


# Reading ------------------------------------------------------------------------------------------------------------


def test_members_keep_their_relative_paths_and_folders_are_skipped() -> None:
    data = make_zip({"2024/": b"", "2024/01/a.bin": RECORDING, "b.bin": b"", "win\\c.bin": b"c"})
    with open_archive(io.BytesIO(data)) as archive:
        members = list(archive.members())
        assert [(m.name, m.size) for m in members] == [
            (PurePosixPath("2024/01/a.bin"), len(RECORDING)),
            (PurePosixPath("b.bin"), 0),
            (PurePosixPath("win/c.bin"), 1),
        ]
        assert len(archive) == 3 and archive.total_size == len(RECORDING) + 1
        assert members[0].open().read() == RECORDING


def test_stored_members_and_an_empty_archive_are_read() -> None:
    assert read_all(make_zip({"a.bin": RECORDING}, zipfile.ZIP_STORED)) == {"a.bin": RECORDING}
    assert read_all(make_zip({})) == {}


def test_an_archive_behind_a_self_extracting_stub_is_read() -> None:
    assert read_all(b"MZ" + b"\0" * 5000 + make_zip({"a.bin": RECORDING})) == {"a.bin": RECORDING}


@pytest.mark.parametrize(
    "name,reason",
    [
        ("../../etc/cron.d/evil", 'climbs out of its folder with ".."'),
        ("calls/../../evil.bin", 'climbs out of its folder with ".."'),
        ("..\\..\\evil.bin", 'climbs out of its folder with ".."'),
        ("/etc/passwd", "is an absolute path"),
        ("C:/Windows/evil.bin", "starts with a drive letter"),
        ("a\nb.bin", "holds a control character"),
    ],
)
def test_an_archive_with_a_name_that_escapes_is_refused_naming_the_member(name, reason) -> None:
    message = refusal(make_zip({"good.bin": RECORDING, name: b"x"}))
    assert message.startswith('The archive member "') and reason in message
    assert "\n" not in message


def test_a_nul_byte_in_a_member_name_is_refused_not_cut_off() -> None:
    data = make_zip({"evilX../../x.bin": b"x"}).replace(b"evilX", b"evil\x00")
    assert "holds a control character" in refusal(data)
    assert '"evil\\00../../x.bin"' in refusal(data)


def test_duplicate_names_are_refused() -> None:
    assert "appears twice" in refusal(make_zip({"a.bin": b"1", "b.bin": b"2"}).replace(b"b.bin", b"a.bin"))
    assert "appears twice" in refusal(make_zip({"x/a.bin": b"1", "x\\a.bin": b"2"}))


def test_a_zip_bomb_is_refused_from_its_ratio_before_anything_is_read() -> None:
    buffer = io.BytesIO()
    zeros = bytes(1 << 20)
    with (
        zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        archive.open("bomb.bin", "w") as member,
    ):
        for _ in range(20):
            member.write(zeros)
    assert len(buffer.getvalue()) < 100_000
    assert "expands more than 100 times (a zip bomb)" in refusal(buffer.getvalue())


def test_small_members_may_compress_well() -> None:
    text = b"header " * 10_000
    assert read_all(make_zip({"notes.txt": text})) == {"notes.txt": text}


def test_the_total_declared_size_is_capped() -> None:
    data = make_zip({"a.bin": RECORDING, "b.bin": RECORDING})
    assert read_all(data, max_total_bytes=2 * len(RECORDING))
    assert "expands to more than" in refusal(data, max_total_bytes=2 * len(RECORDING) - 1)


def test_more_members_than_the_cap_are_refused() -> None:
    data = make_zip({f"{n}.bin": b"" for n in range(MAX_MEMBERS + 1)})
    assert f"holds more than {MAX_MEMBERS:,} entries" in refusal(data)
    assert len(read_all(make_zip({f"{n}.bin": b"" for n in range(MAX_MEMBERS)}))) == MAX_MEMBERS


def test_entries_are_counted_in_the_directory_whatever_the_end_record_claims() -> None:
    data = bytearray(make_zip({f"{n}.bin": b"" for n in range(10)}))
    end = data.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", data, end + 8, 1, 1)  # "one entry"
    assert "holds more than 5 entries" in refusal(bytes(data), max_members=5)


def test_a_zip64_archive_is_read_through_its_zip64_end_record() -> None:
    data = make_zip({f"{n}": b"" for n in range(0x10000)}, zipfile.ZIP_STORED)  # over 65,535 entries: zip64
    assert b"PK\x06\x06" in data[-200:]
    assert f"holds more than {MAX_MEMBERS:,} entries" in refusal(data)  # counted through the zip64 record


def test_a_huge_table_of_contents_is_refused_before_it_is_read() -> None:
    data = bytearray(make_zip({"a.bin": RECORDING}))
    end = data.rfind(b"PK\x05\x06")
    struct.pack_into("<L", data, end + 12, MAX_DIRECTORY_BYTES + 1)
    assert "table of contents larger than 16 MiB" in refusal(bytes(data))


@pytest.mark.parametrize("cut", [0.5, 0.99])
def test_a_truncated_archive_is_refused(cut) -> None:
    data = make_zip({"a.bin": RECORDING, "b.bin": RECORDING})
    assert "is not a zip archive" in refusal(data[: int(len(data) * cut)])


def test_a_file_that_is_not_a_zip_is_refused() -> None:
    assert "is not a zip archive" in refusal(b"0\x82\x01\x00" + RECORDING)
    assert "is not a zip archive" in refusal(b"")


def test_a_corrupted_member_is_refused_while_reading_naming_it() -> None:
    data = bytearray(make_zip({"a.bin": RECORDING}, zipfile.ZIP_STORED))
    data[1000] ^= 0xFF
    with open_archive(io.BytesIO(bytes(data))) as archive:
        (member,) = archive.members()
        with pytest.raises(ArchiveRefused, match='The archive member "a.bin" is damaged.'):
            member.open().read()


def _patch_sizes(data: bytes, name: bytes, size: int) -> bytes:
    """Both headers of the member declare ``size`` uncompressed bytes (with a CRC of the first ``size`` bytes)."""
    patched = bytearray(data)
    local = patched.find(b"PK\x03\x04")
    central = patched.find(b"PK\x01\x02")
    assert patched[local + 30 : local + 30 + len(name)] == name
    struct.pack_into("<L", patched, local + 22, size)
    struct.pack_into("<L", patched, central + 24, size)
    crc = zlib.crc32(RECORDING[:size])
    struct.pack_into("<L", patched, local + 14, crc)
    struct.pack_into("<L", patched, central + 16, crc)
    return bytes(patched)


def test_a_member_that_holds_more_than_it_declares_never_gives_more() -> None:
    data = _patch_sizes(make_zip({"a.bin": RECORDING}), b"a.bin", 1000)
    with open_archive(io.BytesIO(data)) as archive:
        (member,) = archive.members()
        assert member.size == 1000
        assert member.open().read() == RECORDING[:1000]


def test_a_member_that_holds_less_than_it_declares_is_refused_naming_it() -> None:
    data = make_zip({"a.bin": RECORDING})
    patched = bytearray(data)
    for offset in (patched.find(b"PK\x03\x04") + 22, patched.find(b"PK\x01\x02") + 24):
        struct.pack_into("<L", patched, offset, len(RECORDING) + 5000)
    with open_archive(io.BytesIO(bytes(patched))) as archive:
        (member,) = archive.members()
        stream = member.open()
        with pytest.raises(ArchiveRefused, match='"a.bin" is (damaged|truncated)') as refused:
            while stream.read(4096):
                pass
        assert "Traceback" not in str(refused.value)


def test_a_local_header_that_lies_about_the_name_is_refused() -> None:
    data = bytearray(make_zip({"a.bin": RECORDING}))
    local = data.find(b"PK\x03\x04")
    data[local + 30 : local + 35] = b"x.bin"
    with open_archive(io.BytesIO(bytes(data))) as archive:
        (member,) = archive.members()
        with pytest.raises(ArchiveRefused, match='"a.bin" is damaged'):
            member.open()


def test_a_stored_member_with_two_sizes_is_refused() -> None:
    data = bytearray(make_zip({"a.bin": RECORDING}, zipfile.ZIP_STORED))
    struct.pack_into("<L", data, data.find(b"PK\x01\x02") + 24, len(RECORDING) * 50)
    assert "declares two sizes" in refusal(bytes(data))


def test_overlapping_members_are_refused_before_anything_is_read() -> None:
    data = bytearray(make_zip({"a.bin": RECORDING, "b.bin": RECORDING}))
    second = data.find(b"PK\x01\x02", data.find(b"PK\x01\x02") + 4)
    struct.pack_into("<L", data, second + 42, 0)  # b.bin's data "starts" where a.bin's does
    assert "overlaps another member (a zip bomb)" in refusal(bytes(data))


def test_only_stored_and_deflated_members_are_read() -> None:
    data = make_zip({"a.bin": RECORDING}, zipfile.ZIP_BZIP2)
    assert "is compressed with method 12; only stored and deflated members can be read" in refusal(data)


@pytest.mark.skipif(shutil.which("zip") is None, reason="Info-ZIP's zip is not installed")
def test_a_password_protected_member_is_refused(tmp_path) -> None:
    (tmp_path / "a.bin").write_bytes(RECORDING)
    subprocess.run(["zip", "-q", "-P", "secret", "locked.zip", "a.bin"], cwd=tmp_path, check=True)
    message = refusal((tmp_path / "locked.zip").read_bytes())
    assert message == 'The archive member "a.bin" is protected by a password; zip the recordings without one.'


def test_is_zip_looks_at_the_signature_and_leaves_the_position() -> None:
    for data, expected in [
        (make_zip({"a.bin": b"x"}), True),
        (make_zip({}), True),
        (b"0\x82\x01\x00" + RECORDING, False),
        (b"-----BEGIN PKCS7-----", False),
        (b"PK", False),
        (b"", False),
    ]:
        stream = io.BytesIO(b"??" + data)
        stream.seek(2)
        assert is_zip(stream) is expected
        assert stream.tell() == 2


# Writing ------------------------------------------------------------------------------------------------------------


def _entries(contents: dict[str, bytes]):
    """Each entry's bytes in pieces of its own size, as a decryption produces them."""
    for number, (name, data) in enumerate(contents.items()):
        size = 7_000 + 3_000 * number
        yield name, (data[i : i + size] for i in range(0, len(data), size))


def _write_zip(path, entries) -> None:
    with path.open("wb") as stream:
        for chunk in stream_zip(entries):
            stream.write(chunk)


CONTENTS = {
    "a": RECORDING,
    "2024/01/b.wav": os.urandom(300_000),
    "2024/01/Müller 10:30.wav": b"x" * 1000,
    "empty": b"",
}


def test_a_streamed_zip_round_trips_byte_for_byte(tmp_path) -> None:
    data = b"".join(stream_zip(_entries(CONTENTS)))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        assert {info.filename: archive.read(info) for info in archive.infolist()} == CONTENTS
        assert all(info.compress_type == zipfile.ZIP_STORED for info in archive.infolist())
    assert read_all(data) == CONTENTS
    path = tmp_path / "out.zip"
    path.write_bytes(data)
    checked = subprocess.run([sys.executable, "-m", "zipfile", "-t", str(path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


@pytest.mark.skipif(shutil.which("unzip") is None, reason="Info-ZIP's unzip is not installed")
def test_unzip_tests_and_extracts_a_streamed_zip(tmp_path) -> None:
    _write_zip(tmp_path / "out.zip", _entries(CONTENTS))
    tested = subprocess.run(["unzip", "-t", "out.zip"], cwd=tmp_path, capture_output=True, text=True)
    assert tested.returncode == 0 and "No errors detected" in tested.stdout, tested.stdout + tested.stderr
    subprocess.run(
        ["unzip", "-q", "out.zip", "-d", "x"], cwd=tmp_path, check=True, env={**os.environ, "LANG": "C.UTF-8"}
    )
    assert {str(p.relative_to(tmp_path / "x")): p.read_bytes() for p in (tmp_path / "x").rglob("*") if p.is_file()} == (
        CONTENTS
    )


@pytest.mark.skipif(shutil.which("jar") is None, reason="no JDK")
def test_jar_extracts_a_streamed_zip(tmp_path) -> None:
    _write_zip(tmp_path / "out.zip", _entries({"a": RECORDING, "b/c.wav": b"c" * 5000}))
    (tmp_path / "x").mkdir()
    subprocess.run(["jar", "xf", str(tmp_path / "out.zip")], cwd=tmp_path / "x", check=True, timeout=60)
    assert (tmp_path / "x/a").read_bytes() == RECORDING
    assert (tmp_path / "x/b/c.wav").read_bytes() == b"c" * 5000


def test_200_mb_stream_through_a_few_mib_of_memory_in_bounded_chunks() -> None:
    chunk = b"\x5a" * (1 << 20)
    count = 200
    producer = (chunk for _ in range(count))
    total = biggest = 0
    tracemalloc.start()
    try:
        for piece in stream_zip([("big.wav", producer)]):
            total += len(piece)
            biggest = max(biggest, len(piece))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert total > count * len(chunk)
    assert biggest < 2 * len(chunk)
    assert peak < 4 * 1024**2, f"peak {peak / 1024**2:.1f} MiB"


def test_chunks_are_yielded_while_an_entry_is_still_being_produced() -> None:
    produced = 0

    def chunks():
        nonlocal produced
        for _ in range(100):
            produced += len(RECORDING)
            yield RECORDING

    stream = stream_zip([("a", chunks())], chunk_bytes=64 * 1024)
    next(stream)
    assert produced < 20 * len(RECORDING)
    assert b"".join(stream)


def test_abandoning_the_stream_closes_the_iterable_producer() -> None:
    closed = threading.Event()

    def chunks():
        try:
            while True:
                yield RECORDING
        finally:
            closed.set()

    producer = chunks()  # still referenced here: only an explicit close() ends it
    stream = stream_zip([("endless", producer)])
    next(stream)
    stream.close()
    assert closed.is_set()


def test_a_failing_producer_ends_the_stream_with_its_error() -> None:
    def chunks():
        yield RECORDING
        raise OSError("disk gone")

    with pytest.raises(OSError, match="disk gone"):
        b"".join(stream_zip([("ok", [b"1"]), ("bad", chunks()), ("never", [b"2"])]))


def test_entry_names_must_be_safe_and_unique() -> None:
    with pytest.raises(NameRefused):
        b"".join(stream_zip([("../evil", [b"x"])]))
    with pytest.raises(ValueError, match="both named"):
        b"".join(stream_zip([("a.wav", [b"x"]), ("A.WAV", [b"y"])]))


def test_an_empty_stream_is_an_empty_zip() -> None:
    data = b"".join(stream_zip([]))
    assert is_zip(io.BytesIO(data)) and read_all(data) == {}
