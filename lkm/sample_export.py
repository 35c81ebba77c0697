"""Reads the keypair table of Genesys' sample Local Key Manager as ``mysql --batch`` prints it.

The sample (MyPureCloud/local-key-manager) keeps each keypair in a MySQL table ``keypair``: ``id`` (a UUID),
``date_created`` (a DATETIME), and ``private_key`` / ``public_key`` (base64 of DER PKCS#1). Operators export it with
``mysql --batch -e 'SELECT * FROM keypair' DBNAME > keypairs.tsv``: a header line of column names, then one
tab-separated line per row, with tab, newline, NUL and backslash escaped and SQL NULL printed as ``NULL``.

The private key is only base64-decoded here; it stays opaque bytes until the keystore takes it. Error messages name
the line and, once it is known, the keypair id, and never quote a field's value: a misnamed column could put key
material where an id or a date was expected.
"""

import base64
import binascii
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo

MAX_EXPORT_BYTES = 64 * 1024 * 1024
MAX_ROWS = 100_000
REQUIRED_COLUMNS = ("id", "date_created", "private_key", "public_key")

# What mysql prints for SQL NULL in batch mode (a stored string "NULL" prints the same; no real value here is one).
_NULL = "NULL"
_ESCAPES = {"\\": "\\", "t": "\t", "n": "\n", "0": "\0"}
_ESCAPE = re.compile(r"\\(.?)", re.DOTALL)
# The sample's ids come from Hibernate's uuid2 generator: the canonical 8-4-4-4-12 form. [0-9a-f] rather than \d
# because \d also matches other scripts' digits.
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_DATETIME = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2}) ([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,6}))?")
# 15 digits reach past the year 9999, the last a datetime holds.
_EPOCH_MILLISECONDS = re.compile(r"[0-9]{1,15}")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class SampleKeypair:
    id: uuid.UUID
    date_created: datetime  # timezone-aware
    private_key_der: bytes = field(repr=False)  # base64-decoded, not parsed; kept out of reprs and test output
    public_key_der: bytes  # base64-decoded
    line: int  # 1-based line number in the export


class SampleExportError(ValueError):
    """One line for the operator: names the line and, when known, the keypair id. Never contains key material."""


def read_sample_export(data: bytes, *, tz: tzinfo = UTC) -> list[SampleKeypair]:
    """The keypairs in ``data``, in file order; a ``date_created`` without a zone is read in ``tz``."""
    if len(data) > MAX_EXPORT_BYTES:
        raise SampleExportError(f"the export is {len(data)} bytes; at most {MAX_EXPORT_BYTES} bytes are accepted")
    text = _decode(data)
    if not text:
        raise SampleExportError(
            "the export is empty: mysql --batch prints nothing, not even the header, when the keypair table is empty"
        )
    lines = _lines(text)
    _, header = next(lines)
    positions = _column_positions(header)
    keypairs: list[SampleKeypair] = []
    first_line_of: dict[uuid.UUID, int] = {}
    for number, line in lines:
        if len(keypairs) == MAX_ROWS:
            raise SampleExportError(f"line {number}: the export holds more than {MAX_ROWS} keypairs")
        keypair = _read_row(number, line, positions, header.count("\t") + 1, tz)
        if keypair.id in first_line_of:
            raise SampleExportError(
                f"line {number} (keypair {keypair.id}): the id is already on line {first_line_of[keypair.id]}"
            )
        first_line_of[keypair.id] = number
        keypairs.append(keypair)
    if not keypairs:
        raise SampleExportError("line 2: the export holds no keypairs; only the header line is present")
    return keypairs


def _decode(data: bytes) -> str:
    try:
        # utf-8-sig: an editor may have added a byte order mark; mysql itself writes none.
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise SampleExportError(f"line {line}: the export is not UTF-8 text") from None


def _lines(text: str) -> Iterator[tuple[int, str]]:
    """Numbered lines split at \\n alone (mysql escapes \\n inside values but not other line breaks); a trailing \\r
    is dropped so that \\r\\n files read the same."""
    start = 0
    number = 0
    while start < len(text):
        end = text.find("\n", start)
        if end == -1:
            end = len(text)
        number += 1
        line = text[start:end]
        yield number, line[:-1] if line.endswith("\r") else line
        start = end + 1


def _column_positions(header: str) -> dict[str, int]:
    # mysql prints column names as written in the query, so "SELECT ID ..." heads its column "ID".
    names = [name.strip().lower() for name in header.split("\t")]
    missing = [column for column in REQUIRED_COLUMNS if column not in names]
    if missing:
        noun = "column" if len(missing) == 1 else "columns"
        raise SampleExportError(f"line 1: the header lacks the {noun} {', '.join(missing)}")
    for column in REQUIRED_COLUMNS:
        if names.count(column) > 1:
            raise SampleExportError(f"line 1: the header names the column {column} more than once")
    return {column: names.index(column) for column in REQUIRED_COLUMNS}


def _read_row(number: int, line: str, positions: dict[str, int], width: int, tz: tzinfo) -> SampleKeypair:
    if not line:
        raise SampleExportError(f"line {number} is empty")
    fields = line.split("\t")
    raw_id = fields[positions["id"]] if positions["id"] < len(fields) else None
    keypair_id = _uuid_or_none(raw_id)
    where = f"line {number}" if keypair_id is None else f"line {number} (keypair {keypair_id})"
    if len(fields) != width:
        noun = "field" if len(fields) == 1 else "fields"
        raise SampleExportError(f"{where}: {len(fields)} {noun} where the header names {width} columns")
    if keypair_id is None:
        problem = "is NULL" if raw_id == _NULL else "is empty" if raw_id == "" else "is not a UUID"
        raise SampleExportError(f"{where}: the id {problem}")
    return SampleKeypair(
        id=keypair_id,
        date_created=_date_created(where, fields[positions["date_created"]], tz),
        private_key_der=_key(where, "private_key", fields[positions["private_key"]]),
        public_key_der=_key(where, "public_key", fields[positions["public_key"]]),
        line=number,
    )


def _unescape(where: str, column: str, value: str) -> str:
    if "\\" not in value:
        return value

    def replace(match: re.Match[str]) -> str:
        escaped = _ESCAPES.get(match.group(1))
        if escaped is None:
            raise SampleExportError(f"{where}: {column} holds a backslash escape that mysql --batch does not write")
        return escaped

    return _ESCAPE.sub(replace, value)


def _uuid_or_none(raw: str | None) -> uuid.UUID | None:
    # A UUID holds no backslash, so the raw field needs no unescaping to be recognised.
    if raw is None or not _UUID.fullmatch(raw):
        return None
    return uuid.UUID(raw)


def _date_created(where: str, raw: str, tz: tzinfo) -> datetime:
    if raw == _NULL:
        raise SampleExportError(f"{where}: date_created is NULL")
    value = _unescape(where, "date_created", raw)
    try:
        if match := _DATETIME.fullmatch(value):
            year, month, day, hour, minute, second, fraction = match.groups()
            microsecond = int((fraction or "0").ljust(6, "0"))
            parts = (int(year), int(month), int(day), int(hour), int(minute), int(second), microsecond)
            return datetime(*parts, tzinfo=tz)
        if _EPOCH_MILLISECONDS.fullmatch(value):
            return _EPOCH + timedelta(milliseconds=int(value))
    except (ValueError, OverflowError):
        pass  # in the expected shape but no real instant, e.g. MySQL's zero date 0000-00-00 00:00:00
    raise SampleExportError(
        f"{where}: date_created is neither a date YYYY-MM-DD HH:MM:SS[.ffffff] nor an integer of epoch milliseconds"
    )


def _key(where: str, column: str, raw: str) -> bytes:
    if raw == _NULL:
        raise SampleExportError(f"{where}: {column} is NULL")
    value = _unescape(where, column, raw)
    if not value:
        raise SampleExportError(f"{where}: {column} is empty")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        # ValueError: b64decode refuses a str holding non-ASCII characters before it looks at the alphabet.
        raise SampleExportError(f"{where}: {column} is not valid base64") from None
