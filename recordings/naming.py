"""Names of recordings and of their decrypted files: what an upload or an archive member may be called, and what the
decrypted file is called. The page, the command and the zip reader share these rules; names in messages are
escaped as every page escapes text."""

import re
import unicodedata
from collections.abc import Iterable
from pathlib import PurePosixPath

from portal.web.text import visible

MAX_COMPONENT_BYTES = 255  # NAME_MAX of Linux, macOS and Windows file systems
MAX_PATH_BYTES = 1024  # PATH_MAX of macOS, the smallest of the systems a download is unpacked on
SHOWN_CHARACTERS = 120  # a refused name is quoted in messages up to this length

_ENCRYPTED_SUFFIX = ".bin"
_DRIVE = re.compile(r"[A-Za-z]:")


class NameRefused(ValueError):
    """A name that cannot be written under an output folder or into an output zip; str() is a complete sentence."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        super().__init__(f'The name "{shown(name)}" {reason}.')


def shown(name: str) -> str:
    """The name as a message may quote it: control and direction characters escaped as every page shows them
    (portal.web.text.visible), long names shortened."""
    if len(name) > SHOWN_CHARACTERS:
        return visible(name[:SHOWN_CHARACTERS]) + "…"
    return visible(name)


def output_name(name: str) -> str:
    """The decrypted file's name: the input's name without a final ".bin" (any case). Only the last component of a
    relative path changes; a name without the suffix, or that would become empty, is kept as it is."""
    folder, _, base = name.rpartition("/")
    if base.lower().endswith(_ENCRYPTED_SUFFIX) and len(base) > len(_ENCRYPTED_SUFFIX):
        base = base[: -len(_ENCRYPTED_SUFFIX)]
    return f"{folder}/{base}" if folder else base


def _byte_length(text: str) -> int:
    # Names read from a Linux file system may carry undecodable bytes as surrogates; they count as one byte each.
    return len(text.encode("utf-8", "surrogateescape"))


def safe_relative_path(name: str) -> PurePosixPath:
    """An archive member's or uploaded file's name as a relative path that stays inside any output folder or zip.
    Backslashes count as separators (archives made on Windows); empty and "." components are dropped. Raises
    NameRefused for absolute paths, drive letters, "..", control characters and over-long names."""
    if any(unicodedata.category(character) == "Cc" for character in name):
        raise NameRefused(name, "holds a control character")
    normalised = name.replace("\\", "/")
    if normalised.startswith("/"):
        raise NameRefused(name, "is an absolute path; only relative paths can be written")
    parts = [part for part in normalised.split("/") if part not in ("", ".")]
    if parts and _DRIVE.match(parts[0]):
        raise NameRefused(name, "starts with a drive letter; only relative paths can be written")
    if ".." in parts:
        raise NameRefused(name, 'climbs out of its folder with ".."')
    if not parts:
        raise NameRefused(name, "names no file")
    if any(_byte_length(part) > MAX_COMPONENT_BYTES for part in parts):
        raise NameRefused(name, f"has a component longer than {MAX_COMPONENT_BYTES} bytes")
    path = PurePosixPath(*parts)
    if _byte_length(str(path)) > MAX_PATH_BYTES:
        raise NameRefused(name, f"is longer than {MAX_PATH_BYTES} bytes")
    return path


def upload_name(name: str) -> str:
    """An uploaded file's name: browsers send a base name, some old ones the whole client path ("C:\\calls\\a.bin");
    only its last component is kept, under the rules of safe_relative_path."""
    base = name.replace("\\", "/").rstrip("/").rpartition("/")[2]
    if base in ("", ".", ".."):
        raise NameRefused(name, "names no file")
    return str(safe_relative_path(base))


class UniqueNames:
    """Hands out output paths so that no two outputs overwrite each other, in one folder or one zip: the first comer
    keeps its path, later ones get " (2)", " (3)"... before the extension ("a.wav", "a (2).wav"). Paths that differ only
    in case count as the same (Windows and macOS unpack them onto one file), and a file never takes a folder's path
    or the other way round. The same names in the same order always get the same answers, so a rerun finds its
    earlier output."""

    def __init__(self) -> None:
        self._files: set[str] = set()  # casefolded paths handed out for files
        self._folders: dict[str, str] = {}  # casefolded path of a folder asked for -> the folder path handed out
        self._folder_paths: set[str] = set()  # casefolded folder paths handed out

    def take(self, path: str) -> str:
        """A unique path for ``path``, a relative posix path (as safe_relative_path gives)."""
        parts = PurePosixPath(path).parts
        if not parts:
            raise ValueError("An empty path cannot be made unique.")
        folder = ""
        for part in parts[:-1]:
            asked = f"{folder}/{part}".casefold()
            given = self._folders.get(asked)
            if given is None:
                given = self._free(folder, part, is_folder=True)
                self._folders[asked] = given
                self._folder_paths.add(given.casefold())
            folder = given
        given = self._free(folder, parts[-1], is_folder=False)
        self._files.add(given.casefold())
        return given

    def _free(self, folder: str, name: str, *, is_folder: bool) -> str:
        stem, extension = (name, "") if is_folder else _split_extension(name)
        number = 1
        while True:
            candidate_name = name if number == 1 else _numbered(stem, extension, number)
            candidate = f"{folder}/{candidate_name}" if folder else candidate_name
            key = candidate.casefold()
            if key not in self._files and (is_folder or key not in self._folder_paths):
                return candidate
            number += 1


def _split_extension(name: str) -> tuple[str, str]:
    suffix = PurePosixPath(name).suffix
    return (name[: -len(suffix)], suffix) if suffix else (name, "")


def _numbered(stem: str, extension: str, number: int) -> str:
    tag = f" ({number})"
    # Keep the component within the file system's limit by shortening the stem, never the number or extension.
    while stem and _byte_length(stem + tag + extension) > MAX_COMPONENT_BYTES:
        stem = stem[:-1]
    return stem + tag + extension


def unique_names(paths: Iterable[str]) -> list[str]:
    """UniqueNames.take for each path, in order."""
    names = UniqueNames()
    return [names.take(path) for path in paths]
