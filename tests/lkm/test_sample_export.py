"""Reading the sample Local Key Manager's keypair table as ``mysql --batch`` exports it."""

import base64
import traceback
import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lkm import sample_export
from lkm.sample_export import SampleExportError, read_sample_export
from tests.lkm.sample_lkm import (
    COLUMNS,
    ExportBytes,
    KeypairRow,
    mysql_batch_export,
    private_key_der,
    public_key_der,
    sample_keypair_row,
    sample_private_key,
)

UUID_A = "0b5c1e2a-3d4f-4a6b-8c7d-9e0f1a2b3c4d"
UUID_B = "f47ac10b-58cc-4372-a567-0e02b2c3d479"


def tsv(*lines: str) -> ExportBytes:
    return ExportBytes("".join(line + "\n" for line in lines).encode())


def changed(row: dict, **values: str | None) -> KeypairRow:
    return KeypairRow({**row, **values})


def row_line(row: dict[str, str], columns=COLUMNS) -> str:
    return "\t".join(row[column] for column in columns)


def line_of(export: bytes, keypair_id: str) -> int:
    """The 1-based line of ``export`` holding ``keypair_id`` (mysql orders rows by primary key, not insertion)."""
    return next(n for n, line in enumerate(export.split(b"\n"), 1) if keypair_id.encode() in line)


def refusal(data: bytes, **kwargs) -> str:
    with pytest.raises(SampleExportError) as raised:
        read_sample_export(data, **kwargs)
    message = str(raised.value)
    assert "\n" not in message
    return message


def assert_no_key_material(text: str, row: dict[str, str]) -> None:
    """No 12-character stretch of either key's base64 appears in ``text``; a failure reports counts only."""
    __tracebackhide__ = True  # the frame's arguments hold the text and the keys
    for column in ("private_key", "public_key"):
        encoded = row[column]
        leaked = sum(encoded[i : i + 12] in text for i in range(len(encoded) - 11))
        if leaked:
            pytest.fail(f"{leaked} stretches of the {column} appear in the text", pytrace=False)


# Round trips of real mysql --batch exports.


def test_a_real_export_of_several_keypairs_reads_back_exactly():
    rows = [sample_keypair_row() for _ in range(3)]
    rows[0]["date_created"] = "2019-03-04 05:06:07.891011"
    export = mysql_batch_export(rows)

    keypairs = read_sample_export(export)

    assert len(keypairs) == 3
    by_id = {str(keypair.id): keypair for keypair in keypairs}
    assert set(by_id) == {row["id"] for row in rows}
    for row in rows:
        keypair = by_id[row["id"]]
        assert keypair.private_key_der == base64.b64decode(row["private_key"])
        assert keypair.public_key_der == base64.b64decode(row["public_key"])
        assert keypair.date_created == datetime.fromisoformat(row["date_created"]).replace(tzinfo=UTC)
        assert keypair.line == line_of(export, row["id"])
    assert by_id[rows[0]["id"]].date_created == datetime(2019, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)
    assert sorted(keypair.line for keypair in keypairs) == [2, 3, 4]


def test_the_keys_are_the_der_pkcs1_the_sample_writes():
    key = sample_private_key(index=0)
    row = sample_keypair_row(private_key=key)

    (keypair,) = read_sample_export(mysql_batch_export([row]))

    assert keypair.private_key_der == private_key_der(key)
    assert keypair.public_key_der == public_key_der(key)


def test_columns_in_another_order_and_extra_columns_are_read_by_name():
    rows = [changed(sample_keypair_row(), note="tab\there\\back\nnew"), changed(sample_keypair_row(), note=None)]
    columns = ("public_key", "note", "date_created", "id", "private_key")
    export = mysql_batch_export(rows, columns)
    assert export.startswith(b"public_key\tnote\tdate_created\tid\tprivate_key\n")
    assert b"tab\\there\\\\back\\nnew" in export  # mysql's own escaping, which the reader must get past

    keypairs = read_sample_export(export)

    assert {str(k.id): k.private_key_der for k in keypairs} == {
        row["id"]: base64.b64decode(row["private_key"]) for row in rows
    }


def test_select_star_with_an_extra_column_in_the_table():
    row = changed(sample_keypair_row(), tenant_name="Acme")
    export = mysql_batch_export([row], ("*",))

    (keypair,) = read_sample_export(export)

    assert str(keypair.id) == row["id"]
    assert keypair.public_key_der == base64.b64decode(row["public_key"])


def test_a_null_private_key_in_a_real_export_is_refused_naming_line_and_id():
    rows = [sample_keypair_row(), changed(sample_keypair_row(), private_key=None)]
    export = mysql_batch_export(rows)

    message = refusal(export)

    assert message == f"line {line_of(export, rows[1]['id'])} (keypair {rows[1]['id']}): private_key is NULL"


def test_epoch_milliseconds_read_as_the_same_instant():
    row = sample_keypair_row(date_created="2024-06-30 23:59:58.123000")
    # TIMESTAMPDIFF rather than UNIX_TIMESTAMP: the latter reads the DATETIME in the server's time zone.
    milliseconds = "TIMESTAMPDIFF(MICROSECOND, '1970-01-01', date_created) DIV 1000 AS date_created"
    export = mysql_batch_export([row], ("id", milliseconds, "private_key", "public_key"))
    assert b"\t1719791998123\t" in export

    (keypair,) = read_sample_export(export)

    assert keypair.date_created == datetime(2024, 6, 30, 23, 59, 58, 123000, tzinfo=UTC)


def test_a_datetime_without_zone_is_read_in_the_zone_given():
    row = sample_keypair_row(date_created="2024-01-15 12:00:00.000000")
    export = mysql_batch_export([row])

    (in_utc,) = read_sample_export(export)
    (in_berlin,) = read_sample_export(export, tz=ZoneInfo("Europe/Berlin"))

    assert in_utc.date_created == datetime(2024, 1, 15, 12, tzinfo=UTC)
    assert in_berlin.date_created == datetime(2024, 1, 15, 11, tzinfo=UTC)
    assert in_berlin.date_created.utcoffset() is not None


def test_crlf_line_ends_and_datetimes_without_or_with_short_fractions():
    row = sample_keypair_row()
    data = ExportBytes(
        tsv(
            "\t".join(COLUMNS),
            row_line({**row, "id": UUID_A, "date_created": "2020-01-02 03:04:05"}),
            row_line({**row, "id": UUID_B.upper(), "date_created": "2020-01-02 03:04:05.5"}),
        ).replace(b"\n", b"\r\n")
    )

    first, second = read_sample_export(data)

    assert first.date_created == datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert second.date_created == datetime(2020, 1, 2, 3, 4, 5, 500000, tzinfo=UTC)
    assert second.id == uuid.UUID(UUID_B)
    assert first.private_key_der == base64.b64decode(row["private_key"])


def test_the_last_line_needs_no_line_end():
    row = sample_keypair_row(id=UUID_A)
    data = ExportBytes(tsv("\t".join(COLUMNS), row_line(row)).rstrip(b"\n"))
    (keypair,) = read_sample_export(data)
    assert keypair.public_key_der == base64.b64decode(row["public_key"])


def test_the_private_key_stays_out_of_the_keypair_repr():
    row = sample_keypair_row(id=UUID_A)
    data = tsv("\t".join(COLUMNS), row_line(row))
    (keypair,) = read_sample_export(data)
    assert "private_key_der" not in repr(keypair)
    assert_no_key_material(repr(keypair), {**row, "public_key": ""})


# Refusals, each one line naming the line and, once known, the keypair.

HEADER = "\t".join(COLUMNS)


@pytest.fixture(scope="module")
def row():
    return sample_keypair_row(id=UUID_A, date_created="2021-05-06 07:08:09.000000")


def test_an_export_past_the_size_limit_is_refused_before_it_is_read(monkeypatch):
    monkeypatch.setattr(sample_export, "MAX_EXPORT_BYTES", 1000)
    assert refusal(b"\xff" * 1001) == "the export is 1001 bytes; at most 1000 bytes are accepted"


def test_the_real_size_limit_is_64_mib():
    assert sample_export.MAX_EXPORT_BYTES == 64 * 1024 * 1024
    too_big = b"\xff" * (64 * 1024 * 1024 + 1)
    assert refusal(too_big) == "the export is 67108865 bytes; at most 67108864 bytes are accepted"


def test_rows_past_the_limit_are_refused_as_they_come(monkeypatch, row):
    monkeypatch.setattr(sample_export, "MAX_ROWS", 2)
    lines = [row_line({**row, "id": str(uuid.UUID(int=n))}) for n in range(2)]
    # The third row is malformed too: the count is what stops the reading, before the row is looked at.
    data = tsv(HEADER, *lines, "garbage")
    assert refusal(data) == "line 4: the export holds more than 2 keypairs"


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("id\tdate_created\tpublic_key", "line 1: the header lacks the column private_key"),
        ("id\tdate_created", "line 1: the header lacks the columns private_key, public_key"),
        ("", "line 1: the header lacks the columns id, date_created, private_key, public_key"),
        (HEADER + "\tid", "line 1: the header names the column id more than once"),
    ],
)
def test_a_header_without_the_required_columns_is_refused(row, header, message):
    data = tsv(header, row_line(row))
    assert refusal(data) == message


def test_header_names_match_whatever_their_case(row):
    data = tsv(HEADER.upper(), row_line(row))
    (keypair,) = read_sample_export(data)
    assert str(keypair.id) == UUID_A


def test_a_row_with_the_wrong_number_of_fields_is_refused(row):
    data = tsv(HEADER, row_line(row) + "\textra")
    assert refusal(data) == f"line 2 (keypair {UUID_A}): 5 fields where the header names 4 columns"
    data = tsv(HEADER, row_line(row), "only-one-field")
    assert refusal(data) == "line 3: 1 field where the header names 4 columns"


def test_an_empty_line_between_rows_is_refused(row):
    data = tsv(HEADER, "", row_line(row))
    assert refusal(data) == "line 2 is empty"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("not-a-uuid", "line 2: the id is not a UUID"),
        ("0b5c1e2a3d4f4a6b8c7d9e0f1a2b3c4d", "line 2: the id is not a UUID"),
        ("{0b5c1e2a-3d4f-4a6b-8c7d-9e0f1a2b3c4d}", "line 2: the id is not a UUID"),
        ("NULL", "line 2: the id is NULL"),
        ("", "line 2: the id is empty"),
    ],
)
def test_an_id_that_is_not_a_uuid_is_refused_without_quoting_it(row, value, message):
    data = tsv(HEADER, row_line({**row, "id": value}))
    assert refusal(data) == message


def test_a_duplicate_id_is_refused_naming_both_lines(row):
    other = sample_keypair_row(id=UUID_B)
    data = tsv(HEADER, row_line(row), row_line(other), row_line({**other, "id": UUID_A.upper()}))
    assert refusal(data) == f"line 4 (keypair {UUID_A}): the id is already on line 2"


@pytest.mark.parametrize(
    ("column", "value", "problem"),
    [
        ("private_key", "NULL", "private_key is NULL"),
        ("private_key", "", "private_key is empty"),
        ("private_key", "not base64!", "private_key is not valid base64"),
        ("private_key", "QUJD\\nREVG", "private_key is not valid base64"),
        ("private_key", "QUJ", "private_key is not valid base64"),
        ("private_key", "QUJDé", "private_key is not valid base64"),
        ("private_key", "QUJD\\x", "private_key holds a backslash escape that mysql --batch does not write"),
        ("public_key", "NULL", "public_key is NULL"),
        ("public_key", "", "public_key is empty"),
        ("public_key", "QUJD=QUJD", "public_key is not valid base64"),
        ("date_created", "NULL", "date_created is NULL"),
    ],
)
def test_a_missing_or_undecodable_key_is_refused(row, column, value, problem):
    data = tsv(HEADER, row_line({**row, column: value}))
    assert refusal(data) == f"line 2 (keypair {UUID_A}): {problem}"


@pytest.mark.parametrize(
    "value",
    [
        "2021-05-06T07:08:09",
        "2021-05-06 07:08",
        "2021-05-06 07:08:09.1234567",
        "2021-02-30 00:00:00",
        "0000-00-00 00:00:00",
        "2021-05-06 07:08:09+02:00",
        "1719791998123.5",
        "-1",
        "9" * 15,
        "9" * 5000,
        "١٧١٩٧٩١٩٩٨١٢٣",  # Arabic-Indic digits, which int() would accept
        "",
    ],
)
def test_a_date_in_neither_form_is_refused_without_quoting_it(row, value):
    data = tsv(HEADER, row_line({**row, "date_created": value}))
    assert refusal(data) == (
        f"line 2 (keypair {UUID_A}): date_created is neither a date YYYY-MM-DD HH:MM:SS[.ffffff]"
        " nor an integer of epoch milliseconds"
    )


def test_an_export_without_rows_is_refused():
    assert refusal(tsv(HEADER)) == "line 2: the export holds no keypairs; only the header line is present"
    assert refusal(b"") == (
        "the export is empty: mysql --batch prints nothing, not even the header, when the keypair table is empty"
    )


def test_a_real_export_of_an_empty_table_is_refused():
    assert refusal(mysql_batch_export([])).startswith("the export is empty:")


def test_an_export_that_is_not_utf8_is_refused_naming_the_line(row):
    data = ExportBytes(tsv(HEADER, row_line(row)) + b"caf\xe9\n")
    assert refusal(data) == "line 3: the export is not UTF-8 text"


# Key material never reaches a message.


def mislabelled_exports(row):
    """Exports whose header puts the private key where another column's value is expected."""
    key = row["private_key"]
    yield tsv("private_key\tid\tdate_created\tpublic_key", row_line(row))
    yield tsv("id\tprivate_key\tdate_created\tpublic_key", row_line(row))
    yield tsv(HEADER, "\t".join([key, key, key, key]))
    yield tsv(HEADER, "\t".join([key, key, key]))
    yield tsv(HEADER, row_line({**row, "private_key": key + "\\x"}))
    yield tsv(HEADER, row_line({**row, "private_key": key + "!"}))
    yield tsv(HEADER, row_line(row), row_line(row))
    yield ExportBytes(tsv(HEADER, row_line(row)) + key.encode() + b"\xff\n")


def test_no_refusal_carries_key_material(row):
    for data in mislabelled_exports(row):
        with pytest.raises(SampleExportError) as raised:
            read_sample_export(data)
        assert_no_key_material(str(raised.value), row)
        assert_no_key_material("".join(traceback.format_exception(raised.value)), row)


# Hostile input.


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_raise_only_sample_export_error(data):
    try:
        keypairs = read_sample_export(data)
    except SampleExportError as error:
        assert "\n" not in str(error)
    else:
        assert keypairs


export_text = st.text(alphabet=st.sampled_from("\t\n\r\\0ntxNUL-: .9aQ=é\x00\u2028"), max_size=300)


@settings(max_examples=300, deadline=None)
@given(header=st.sampled_from([HEADER, "public_key\tid\tx\tprivate_key\tdate_created"]), body=export_text)
def test_text_shaped_like_an_export_raises_only_sample_export_error(header, body):
    try:
        keypairs = read_sample_export((header + "\n" + body).encode())
    except SampleExportError as error:
        assert "\n" not in str(error)
    else:
        assert all(keypair.date_created.tzinfo is not None for keypair in keypairs)
