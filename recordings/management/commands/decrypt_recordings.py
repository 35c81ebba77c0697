"""Decrypt recordings in bulk into a folder, with the tenant's keys: files, folders of them and zip archives of them.
Each output is written under a temporary name and renamed when complete, so a run that stopped resumes where it was:
files whose output exists are skipped."""

import hashlib
import os
import stat
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from portal.audit.log import COMMAND
from portal.cli import tenant_by_slug
from portal.web.text import visible
from recordings.decrypting import Decryptor
from recordings.naming import UniqueNames, output_name
from recordings.zips import MAX_MEMBERS, Archive, ArchiveRefused, is_zip, open_archive

# The command line may read larger archives than an upload: the caps still stop a zip bomb before work starts.
ARCHIVE_MEMBERS = 10 * MAX_MEMBERS
ARCHIVE_BYTES = 256 * 1024**3
PARTIAL_SUFFIX = ".partial"


@dataclass(frozen=True)
class Source:
    """A file to read: a recording, or an archive of them (whose members were counted when planning)."""

    path: Path
    folder: str  # where its output goes, relative to the output folder
    archive: bool
    count: int  # recordings in it
    size: int  # their bytes


@dataclass(frozen=True)
class Refused:
    """An input file that cannot be read, or an archive that is refused as a whole."""

    path: Path
    reason: str
    count: int = 1
    name: str | None = None  # an archive refused as a whole, audited under this name
    size: int = 0


@dataclass(frozen=True)
class Recording:
    shown: str  # how a failure line names it: the path, or "archive.zip/member" for a member
    name: str  # its path relative to its input, for the output name and the audit
    size: int
    open: Callable[[], BinaryIO]


class Command(BaseCommand):
    help = (
        "Decrypt recordings (PKCS#7/CMS, DER, PEM or S/MIME) with the keys of a tenant into DIR. Each INPUT is a "
        "recording, a folder (read recursively) or a zip archive; outputs keep their paths relative to their INPUT "
        "(an archive's members take the archive's place), without the .bin suffix. Files whose output exists are "
        "skipped, so running again resumes. Exits 1 if any file failed, after a line naming each and why."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="the tenant's identifier (slug)")
        parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="the folder for decrypted files")
        parser.add_argument("inputs", nargs="+", type=Path, metavar="INPUT", help="a recording, folder or .zip")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = tenant_by_slug(options["tenant"])
        out: Path = options["out"]
        inputs: list[Path] = options["inputs"]
        for path in inputs:
            _check_input(path)
        _prepare_output(out)
        try:
            plan = list(_plan(inputs, out))
        except KeyboardInterrupt:
            raise CommandError("Interrupted before any recording was decrypted.") from None
        total = sum(item.count for item in plan)
        run = Run(Decryptor(tenant, by=COMMAND, source="command"), out)
        with tqdm(
            total=sum(item.size for item in plan if isinstance(item, Source)),
            unit="B",
            unit_scale=True,
            disable=not self.stderr.isatty(),
            file=self.stderr._out,
        ) as bar:
            run.progress = bar.update
            try:
                for item in plan:
                    run.source(item)
            except KeyboardInterrupt:
                bar.close()
                raise CommandError(f"Interrupted. {run.summary(total)}; run again to resume.") from None
        for shown, reason in run.failures:
            self.stderr.write(f"{shown}: {reason}")
        self.stdout.write(run.summary(total))
        if run.failed:
            sys.exit(1)


class Run:
    """Decrypts one recording after another into ``out``, counting what was done."""

    def __init__(self, decryptor: Decryptor, out: Path) -> None:
        self.decryptor = decryptor
        self.out = out
        self.names = UniqueNames()
        self.decrypted = self.skipped = self.failed = self.plaintext_bytes = 0
        self.failures: list[tuple[str, str]] = []
        self.progress: Callable[[int], object] = lambda _: None

    def summary(self, total: int) -> str:
        return (
            f"Decrypted {self.decrypted}, skipped {self.skipped}, failed {self.failed} of {total} recordings "
            f"({self.plaintext_bytes / 1e6:.1f} MB) into {_printable(str(self.out))}"
        )

    def fail(self, shown: str, reason: str, count: int = 1) -> None:
        self.failures.append((_printable(shown), reason))
        self.failed += count

    def source(self, item: "Source | Refused") -> None:
        if isinstance(item, Refused):
            if item.name is not None:
                self.decryptor.refused(_printable(item.name), item.size, item.reason)
            self.fail(str(item.path), item.reason, item.count)
            return
        prefix = f"{item.folder}/" if item.folder else ""
        if not item.archive:
            path = item.path
            self.one(Recording(str(path), prefix + path.name, item.size, lambda: path.open("rb")))
            return
        with ExitStack() as stack:
            try:
                stream = stack.enter_context(item.path.open("rb"))
                archive = stack.enter_context(_open_archive(stream))
            except (OSError, ArchiveRefused) as problem:  # the archive changed since it was counted
                self.fail(str(item.path), _reason(problem), item.count)
                return
            for member in archive.members():
                name = str(member.name)
                self.one(Recording(f"{item.path}/{name}", prefix + name, member.size, member.open))

    def one(self, item: Recording) -> None:
        target = self.out / self.names.take(output_name(item.name))
        if os.path.lexists(target):
            self.skipped += 1
            self.progress(item.size)
            return
        written = 0

        def count(data: bytes | memoryview) -> None:
            nonlocal written
            written += len(data)
            self.progress(len(data))

        try:
            error = self._decrypt(item, target, count)
        except OSError as problem:
            error = _reason(problem)
        except ArchiveRefused as refused:  # a member whose data turned out damaged while it was read
            error = str(refused)
            self.decryptor.refused(_printable(item.name), item.size, error)
        self.progress(max(0, item.size - written))
        if error:
            self.fail(item.shown, error)
        else:
            self.decrypted += 1
            self.plaintext_bytes += written

    def _decrypt(self, item: Recording, target: Path, progress: Callable[[bytes | memoryview], None]) -> str:
        """Decrypt into a temporary file beside ``target`` and rename it; the reason it failed, or ""."""
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.parent / _partial_name(target.name)
        with ExitStack() as cleanup:
            output = _create(partial)
            cleanup.callback(partial.unlink, missing_ok=True)  # unless it is renamed below
            with output, item.open() as source:

                def write(data: bytes | memoryview) -> None:
                    output.write(data)
                    progress(data)

                outcome = self.decryptor.decrypt(_printable(item.name), item.size, source, write)
                if not outcome.ok:
                    return outcome.error
                output.flush()
                os.fsync(output.fileno())  # the final name must not outlive the data in a crash
            os.replace(partial, target)
            cleanup.pop_all()
        return ""


def _open_archive(stream: BinaryIO) -> Archive:
    return open_archive(stream, max_members=ARCHIVE_MEMBERS, max_total_bytes=ARCHIVE_BYTES)


def _check_input(path: Path) -> None:
    try:
        mode = path.stat().st_mode
    except OSError as error:
        raise CommandError(f"Cannot read {_printable(str(path))}: {_reason(error)}.") from None
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise CommandError(f"{_printable(str(path))} is neither a file nor a folder.")
    if not os.access(path, os.R_OK | (os.X_OK if stat.S_ISDIR(mode) else 0)):
        raise CommandError(f"Cannot read {_printable(str(path))}: permission denied.")


def _prepare_output(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CommandError(f"Cannot create the output folder {_printable(str(out))}: {_reason(error)}.") from None
    if not out.is_dir():
        raise CommandError(f"The output {_printable(str(out))} is not a folder.")
    if not os.access(out, os.W_OK | os.X_OK):
        raise CommandError(f"The output folder {_printable(str(out))} is not writable.")


def _plan(inputs: list[Path], out: Path) -> Iterator["Source | Refused"]:
    """Every file of the inputs in a stable order, so the same command line gives the same output names. A folder's
    files keep their paths relative to it; an archive's members take the archive's place."""
    skip = out.resolve()
    for path in inputs:
        if path.is_dir():
            for file, folder in _walk(path, skip):
                yield _source(file, folder)
        else:
            yield _source(path, "")


def _walk(top: Path, skip: Path) -> Iterator[tuple[Path, str]]:
    """(file, its folder relative to ``top``) for the regular files under ``top``, sorted; never into ``skip``."""
    for root, folders, files in os.walk(top):
        folders[:] = sorted(folder for folder in folders if (Path(root) / folder).resolve() != skip)
        relative = os.path.relpath(root, top)
        for name in sorted(files):
            file = Path(root) / name
            try:
                regular = stat.S_ISREG(file.stat().st_mode)
            except OSError:
                regular = True  # a broken link: named as a failure when it is opened
            if regular:
                yield file, "" if relative == "." else relative


def _source(path: Path, folder: str) -> "Source | Refused":
    try:
        with path.open("rb") as stream:
            if not is_zip(stream):
                return Source(path, folder, False, 1, os.fstat(stream.fileno()).st_size)
            with _open_archive(stream) as archive:
                return Source(path, folder, True, len(archive), archive.total_size)
    except OSError as problem:
        return Refused(path, _reason(problem))
    except ArchiveRefused as refused:
        return Refused(path, str(refused), name=f"{folder}/{path.name}" if folder else path.name, size=_size(path))


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _partial_name(name: str) -> str:
    # Hidden beside the final file; a long name is replaced by its digest to stay within the file system's limit.
    if len(name.encode("utf-8", "surrogateescape")) > 200:
        name = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()
    return f".{name}{PARTIAL_SUFFIX}"


def _create(partial: Path) -> BinaryIO:
    """A new file only this user can read; one left by an interrupted run is replaced."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    try:
        descriptor = os.open(partial, flags, 0o600)
    except FileExistsError:
        partial.unlink()
        descriptor = os.open(partial, flags, 0o600)
    return os.fdopen(descriptor, "wb")


def _reason(problem: Exception) -> str:
    if isinstance(problem, OSError):
        return f"{problem.strerror}." if problem.strerror else f"{type(problem).__name__}."
    return str(problem)


def _printable(text: str) -> str:
    """A path as a terminal line or the audit may show it: control and direction characters escaped as every page
    escapes them (portal.web.text.visible), and the bytes of a name that is not UTF-8 (which Python keeps as lone
    surrogates) written as \\xNN."""
    return visible("".join(f"\\x{ord(c) & 0xFF:02x}" if "\udc80" <= c <= "\udcff" else c for c in text))
