"""Zip archives of recordings: reading uploaded or stored archives with caps checked before any member is read, and
writing a zip of decrypted files as a stream, for a download or a file. Pure standard library.

Reading needs a seekable binary file (an upload, an open file): the central directory sits at the end."""

import io
import struct
import time
import zipfile
import zlib
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import IO, BinaryIO, cast

from recordings.naming import NameRefused, safe_relative_path, shown

MAX_MEMBERS = 10_000
MAX_TOTAL_BYTES = 4 * 1024**3  # declared uncompressed bytes of all members together
MAX_RATIO = 100  # encrypted recordings do not compress; a zip bomb compresses a thousandfold and more
RATIO_FLOOR = 1024**2  # members that expand to no more than this are too small to matter, whatever their ratio
MAX_DIRECTORY_BYTES = 16 * 1024**2  # room for MAX_MEMBERS entries with names of a kilobyte and their extra fields
CHUNK_BYTES = 256 * 1024  # stream_zip yields once this much is buffered

_ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")  # a local file header, or the end record of an empty archive
_END = struct.Struct("<4s4H2LH")
_END_SIGNATURE = b"PK\x05\x06"
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_END = struct.Struct("<4sQ2H2L4Q")
_ZIP64_END_SIGNATURE = b"PK\x06\x06"
_ENTRY = struct.Struct("<4s4B4HL2L5H2L")  # a central directory entry's fixed part
_ENTRY_SIGNATURE = b"PK\x01\x02"
_LOCAL_HEADER_BYTES = 30
_ENCRYPTED = 0x1
_UTF8_NAME = 0x800
_READ_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, zlib.error, struct.error, NotImplementedError)


class ArchiveRefused(ValueError):
    """An archive, or one of its members, that is not read; str() is a complete user-facing sentence."""

    def __init__(self, reason: str, *, member: str | None = None) -> None:
        self.member = member
        subject = "The archive" if member is None else f'The archive member "{shown(member)}"'
        super().__init__(f"{subject} {reason}.")


def is_zip(stream: BinaryIO) -> bool:
    """Whether the seekable ``stream`` starts like a zip archive; its position is left where it was."""
    position = stream.tell()
    try:
        head = stream.read(4)
    finally:
        stream.seek(position)
    return head in _ZIP_SIGNATURES


@dataclass(frozen=True)
class Member:
    name: PurePosixPath  # safe to write under a folder or into a zip (naming.safe_relative_path)
    size: int  # declared uncompressed size; open() never gives more, and refuses to end with less
    _archive: zipfile.ZipFile = field(repr=False, compare=False)
    _info: zipfile.ZipInfo = field(repr=False, compare=False)

    def open(self) -> BinaryIO:
        """The member's bytes as a stream. Reading raises ArchiveRefused, naming the member, when its data is damaged
        (bad CRC, truncated, more or fewer bytes than declared)."""
        try:
            source = self._archive.open(self._info)
        except _READ_ERRORS:
            raise ArchiveRefused("is damaged", member=str(self.name)) from None
        return io.BufferedReader(_MemberReader(source, str(self.name), self.size))


class _MemberReader(io.RawIOBase):
    def __init__(self, source: IO[bytes], name: str, declared: int) -> None:
        self._source = source
        self._name = name
        self._left = declared

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: "memoryview | bytearray") -> int:  # type: ignore[override]
        wanted = len(buffer)
        if wanted == 0:
            return 0
        try:
            # Ask for one byte beyond what is declared, so a member that holds more is noticed.
            data = self._source.read(min(wanted, self._left + 1))
        except _READ_ERRORS:
            raise ArchiveRefused("is damaged", member=self._name) from None
        if len(data) > self._left:
            raise ArchiveRefused("holds more bytes than it declares", member=self._name)
        if not data and self._left:
            raise ArchiveRefused("is truncated", member=self._name)
        self._left -= len(data)
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._source.close()
        super().close()


class Archive:
    """A zip archive whose central directory passed the caps. Use as a context manager, or close() it."""

    def __init__(self, archive: zipfile.ZipFile, members: list[Member]) -> None:
        self._archive = archive
        self._members = members

    @property
    def total_size(self) -> int:
        return sum(member.size for member in self._members)

    def __len__(self) -> int:
        return len(self._members)

    def members(self) -> Iterator[Member]:
        """The files in the archive, in the central directory's order; folders are left out."""
        return iter(self._members)

    def close(self) -> None:
        self._archive.close()

    def __enter__(self) -> "Archive":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_archive(
    stream: BinaryIO,
    *,
    max_members: int = MAX_MEMBERS,
    max_total_bytes: int = MAX_TOTAL_BYTES,
    max_ratio: int = MAX_RATIO,
) -> Archive:
    """Read the central directory of the seekable ``stream`` and check it: how many entries, their names, sizes,
    compression ratios, methods, passwords and overlaps, before any member is read. Raises ArchiveRefused."""
    start, size = _directory_extent(stream)
    _count_entries(stream, start, size, max_members)
    try:
        archive = zipfile.ZipFile(stream)
    except (*_READ_ERRORS, ValueError, OSError):
        raise ArchiveRefused("is damaged or is not a zip archive") from None
    try:
        members = _checked_members(archive, start, max_total_bytes, max_ratio)
    except BaseException:
        archive.close()
        raise
    return Archive(archive, members)


def _directory_extent(stream: BinaryIO) -> tuple[int, int]:
    """Where the central directory starts and how long it is, from the end record (zip64 when needed)."""
    end = stream.seek(0, io.SEEK_END)
    tail_bytes = min(end, _END.size + 0xFFFF)  # the end record and the longest archive comment
    stream.seek(end - tail_bytes)
    tail = stream.read(tail_bytes)
    at = tail.rfind(_END_SIGNATURE)
    if at < 0 or len(tail) - at < _END.size:
        raise ArchiveRefused("is not a zip archive (it has no central directory)")
    _, _, _, _, entries, size, offset, _ = _END.unpack_from(tail, at)
    directory_end = end - tail_bytes + at
    if entries == 0xFFFF or size == 0xFFFFFFFF or offset == 0xFFFFFFFF:
        zip64_at = directory_end - _ZIP64_LOCATOR.size - _ZIP64_END.size
        if zip64_at < 0:
            raise ArchiveRefused("is damaged (its zip64 end record is missing)")
        stream.seek(zip64_at)
        record = stream.read(_ZIP64_END.size)
        if len(record) < _ZIP64_END.size or record[:4] != _ZIP64_END_SIGNATURE:
            raise ArchiveRefused("is damaged (its zip64 end record is missing)")
        size = _ZIP64_END.unpack(record)[8]
        directory_end = zip64_at
    if size > MAX_DIRECTORY_BYTES:
        raise ArchiveRefused(f"has a table of contents larger than {MAX_DIRECTORY_BYTES // 1024**2} MiB")
    if size > directory_end:
        raise ArchiveRefused("is damaged (its table of contents does not fit in the file)")
    return directory_end - size, size


def _count_entries(stream: BinaryIO, start: int, size: int, max_members: int) -> None:
    # zipfile builds an object per entry before anyone can count them: walk the raw directory first.
    stream.seek(start)
    directory = stream.read(size)
    if len(directory) < size:
        raise ArchiveRefused("is truncated")
    position = count = 0
    while position < len(directory):
        if len(directory) - position < _ENTRY.size or directory[position : position + 4] != _ENTRY_SIGNATURE:
            raise ArchiveRefused("is damaged (its table of contents is corrupted)")
        fields = _ENTRY.unpack_from(directory, position)
        position += _ENTRY.size + fields[12] + fields[13] + fields[14]
        count += 1
        if count > max_members:
            raise ArchiveRefused(f"holds more than {max_members:,} entries")


def _checked_members(archive: zipfile.ZipFile, directory_start: int, max_total: int, max_ratio: int) -> list[Member]:
    members: list[Member] = []
    seen: set[PurePosixPath] = set()
    total = 0
    for info in archive.infolist():
        raw_name = info.orig_filename  # before zipfile cuts it at a NUL byte
        if raw_name.replace("\\", "/").endswith("/"):
            continue  # a folder: folders are made for the files in them
        try:
            name = safe_relative_path(raw_name)
        except NameRefused as refused:
            raise ArchiveRefused(refused.reason, member=raw_name) from None
        _check_member(info, str(name), max_ratio)
        if name in seen:
            raise ArchiveRefused("appears twice", member=str(name))
        seen.add(name)
        total += info.file_size
        if total > max_total:
            raise ArchiveRefused(f"expands to more than {_size_text(max_total)}")
        members.append(Member(name, info.file_size, archive, info))
    _check_overlaps(archive.infolist(), directory_start)
    return members


def _check_member(info: zipfile.ZipInfo, name: str, max_ratio: int) -> None:
    if info.flag_bits & _ENCRYPTED:
        raise ArchiveRefused("is protected by a password; zip the recordings without one", member=name)
    if info.compress_type == zipfile.ZIP_STORED:
        if info.file_size != info.compress_size:
            raise ArchiveRefused("is damaged (it is stored uncompressed but declares two sizes)", member=name)
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        if info.file_size > max(max_ratio * info.compress_size, RATIO_FLOOR):
            raise ArchiveRefused(f"expands more than {max_ratio} times (a zip bomb)", member=name)
    else:
        raise ArchiveRefused(
            f"is compressed with method {info.compress_type}; only stored and deflated members can be read", member=name
        )


def _check_overlaps(infos: list[zipfile.ZipInfo], directory_start: int) -> None:
    """Members whose data overlap let a small archive expand to a huge one (a zip bomb): each member's local header
    and data must end before the next member, or the central directory, begins."""
    ordered = sorted(infos, key=lambda info: info.header_offset)
    if not ordered:
        return
    limits = [following.header_offset for following in ordered[1:]] + [directory_start]
    for info, limit in zip(ordered, limits, strict=True):
        name_bytes = len(info.orig_filename.encode("utf-8" if info.flag_bits & _UTF8_NAME else "cp437", "replace"))
        data_end = info.header_offset + _LOCAL_HEADER_BYTES + name_bytes + info.compress_size
        if data_end > limit:
            raise ArchiveRefused("overlaps another member (a zip bomb)", member=info.orig_filename)


def _size_text(size: int) -> str:
    return f"{size / 1024**3:g} GiB" if size >= 1024**3 else f"{size / 1024**2:g} MiB"


# Writing ------------------------------------------------------------------------------------------------------------


class _Sink:
    """What zipfile writes to: it has no tell(), so zipfile writes data descriptors and never seeks back."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self.buffered = 0

    def write(self, data: bytes) -> int:
        self._chunks.append(bytes(data))
        self.buffered += len(data)
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        self.buffered = 0
        return data


def stream_zip(
    entries: Iterable[tuple[str, Iterable[bytes]]], *, chunk_bytes: int = CHUNK_BYTES
) -> Generator[bytes, None, None]:
    """A zip archive of ``entries`` as chunks of about ``chunk_bytes``, made as they are yielded: memory does not grow
    with the archive. Each entry is (path in the zip, its bytes as an iterable, pulled as the archive is). Entry
    paths must be unique (naming.UniqueNames) and pass naming.safe_relative_path. If an entry's iterable raises,
    the exception propagates and the archive ends there, unfinished."""
    sink = _Sink()
    when = time.localtime()[:6]
    used: set[str] = set()
    # Stored, not deflated: decrypted recordings are compressed audio (or G.711, which deflate shrinks little), and
    # deflating runs tens of times slower than decrypting. Stored entries of unknown size need data descriptors, so
    # the archive is read through its central directory (unzip, 7-Zip, Windows, macOS, Python, jar), not by a
    # streaming reader (funzip, Java's ZipInputStream).
    with zipfile.ZipFile(cast(BinaryIO, sink), "w", compression=zipfile.ZIP_STORED) as archive:
        for path, producer in entries:
            name = str(safe_relative_path(path))
            if name.casefold() in used:
                raise ValueError(f"Two entries of one zip are both named {name!r}.")
            used.add(name.casefold())
            info = zipfile.ZipInfo(name, date_time=when)
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o100644 << 16  # a regular file, readable by all: what unzip restores
            # Sizes are unknown until the producer is done: zip64 from the start keeps entries over 4 GiB valid.
            with archive.open(info, "w", force_zip64=True) as member:
                for chunk in _pulled(producer):
                    member.write(chunk)
                    if sink.buffered >= chunk_bytes:
                        yield sink.take()
    if sink.buffered:
        yield sink.take()


def _pulled(producer: Iterable[bytes]) -> Generator[bytes, None, None]:
    try:
        for chunk in producer:
            if chunk:
                yield chunk
    finally:
        close = getattr(producer, "close", None)
        if close is not None:
            close()  # a generator holding an open file lets go of it now, not when it is collected
