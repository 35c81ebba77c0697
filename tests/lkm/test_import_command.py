"""`manage.py import_lkm_keypairs`: the sample Local Key Manager's keypairs, exported with real `mysql --batch`,
become this portal's keypairs under the same ids, or nothing is imported and one line says which keypair stopped it."""

import base64
import io
import json
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from django.core.management import CommandError, call_command

from keystore.models import KeystoreEntry
from lkm import keypairs
from lkm.models import Keypair, Origin
from portal.audit.log import COMMAND
from portal.audit.models import AuditEntry
from tests.conftest import World
from tests.lkm.sample_lkm import (
    KeypairRow,
    mysql_batch_export,
    public_key_der,
    sample_keypair_row,
    sample_private_key,
)

# mysql prints rows in primary-key order: these ids put the good rows first and the bad one last.
FIRST = "00000000-1111-4111-8111-000000000001"
SECOND = "00000000-2222-4222-8222-000000000002"
LAST = "ffffffff-9999-4999-8999-00000000000f"


def import_file(path: Path, *options: str, tenant: str = "acme") -> str:
    out = io.StringIO()
    call_command("import_lkm_keypairs", "--tenant", tenant, *options, str(path), stdout=out)
    return out.getvalue()


def write(tmp_path: Path, data: bytes, name: str = "keypairs.tsv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def refusal(path: Path, *options: str, tenant: str = "acme") -> str:
    with pytest.raises(CommandError) as raised:
        import_file(path, *options, tenant=tenant)
    message = str(raised.value)
    assert "\n" not in message
    return message


def assert_no_key_material(text: str, *rows: dict[str, str]) -> None:
    """No 16-character stretch of any row's key base64 is in ``text``; a failure reports counts only."""
    __tracebackhide__ = True
    for row in rows:
        for column in ("private_key", "public_key"):
            encoded = row[column]
            leaked = sum(encoded[i : i + 16] in text for i in range(0, len(encoded) - 15, 4))
            if leaked:
                pytest.fail(f"{leaked} stretches of a {column} appear in the text", pytrace=False)


def assert_nothing_imported() -> None:
    assert not Keypair.objects.exists()
    assert not KeystoreEntry.objects.exists()
    assert not AuditEntry.objects.filter(action="lkm-keypairs-imported").exists()


def good_rows() -> list[dict[str, str]]:
    return [
        sample_keypair_row(
            id=FIRST, date_created="2019-03-04 05:06:07.891011", private_key=sample_private_key(index=0)
        ),
        sample_keypair_row(
            id=SECOND, date_created="2023-11-28 23:59:59.000000", private_key=sample_private_key(index=1)
        ),
    ]


def unwrap(tenant, keypair_id: str, public_key_b64: str, *, pkcs1: bool = False) -> bool:
    """Genesys Cloud's round trip: a data key wrapped to the row's public key comes back from the keypair."""
    public_key = serialization.load_der_public_key(base64.b64decode(public_key_b64))
    assert isinstance(public_key, rsa.RSAPublicKey)
    data_key = os.urandom(32)
    scheme = padding.PKCS1v15() if pkcs1 else padding.OAEP(padding.MGF1(hashes.SHA1()), hashes.SHA1(), None)
    body = base64.b64encode(public_key.encrypt(data_key, scheme)).decode()
    answer = keypairs.decrypt(
        tenant, keypair_id=keypair_id, body=body, decrypt_type="pkcs1" if pkcs1 else None, by=COMMAND
    )
    return base64.b64decode(answer) == data_key


# Imports that succeed ---------------------------------------------------------------------------------------------


def test_keypairs_keep_their_ids_and_dates_and_decrypt(world: World, tmp_path: Path) -> None:
    rows = good_rows()
    output = import_file(write(tmp_path, mysql_batch_export(rows)))
    assert output.splitlines() == [
        f"Imported keypair {FIRST} (created 2019-03-04 05:06:07 UTC)",
        f"Imported keypair {SECOND} (created 2023-11-28 23:59:59 UTC)",
        "Imported 2 keypairs into acme.",
    ]
    assert_no_key_material(output, *rows)
    first, second = (Keypair.objects.get(pk=row["id"]) for row in rows)
    assert first.tenant == second.tenant == world.acme
    assert first.date_created == datetime(2019, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)
    assert second.date_created == datetime(2023, 11, 28, 23, 59, 59, tzinfo=UTC)
    assert first.origin == second.origin == Origin.IMPORT
    # Genesys Cloud has the sample's public keys: the portal's are the same bytes.
    for keypair, row in ((first, rows[0]), (second, rows[1])):
        assert base64.b64encode(bytes(keypair.public_key_der)).decode() == row["public_key"]
        assert keypairs.keypair_json(keypair)["publicKey"] == row["public_key"]
    assert unwrap(world.acme, FIRST, rows[0]["public_key"])
    assert unwrap(world.acme, SECOND, rows[1]["public_key"], pkcs1=True)
    # Another tenant's credentials do not reach them.
    assert keypairs.find_keypair(world.globex, FIRST) is None


def test_the_import_is_audited_without_key_material(world: World, tmp_path: Path) -> None:
    rows = good_rows()
    import_file(write(tmp_path, mysql_batch_export(rows)))
    entry = AuditEntry.objects.get(action="lkm-keypairs-imported")
    assert entry.tenant == world.acme and entry.actor is None
    assert entry.details == {"keypairs": [FIRST, SECOND]}
    assert_no_key_material(json.dumps(entry.details) + entry.object_repr, *rows)


def test_select_star_of_a_table_in_another_column_order(world: World, tmp_path: Path) -> None:
    rows = good_rows()
    data = mysql_batch_export(rows, columns=("public_key", "id", "private_key", "date_created"))
    import_file(write(tmp_path, data))
    assert unwrap(world.acme, SECOND, rows[1]["public_key"])


def test_a_pkcs8_private_key_is_accepted(world: World, tmp_path: Path) -> None:
    key = sample_private_key(index=2)
    row = sample_keypair_row(id=FIRST, private_key=key)
    row["private_key"] = base64.b64encode(
        key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    ).decode()
    import_file(write(tmp_path, mysql_batch_export([row])))
    assert unwrap(world.acme, FIRST, row["public_key"])


@pytest.mark.parametrize(
    "written,utc",
    [
        ("2024-01-15 10:00:00.000000", datetime(2024, 1, 15, 9, 0, tzinfo=UTC)),  # CET, UTC+1
        ("2024-07-15 10:00:00.000000", datetime(2024, 7, 15, 8, 0, tzinfo=UTC)),  # CEST, UTC+2
    ],
)
def test_a_time_zone_shifts_date_created(world: World, tmp_path: Path, written: str, utc: datetime) -> None:
    row = sample_keypair_row(id=FIRST, date_created=written)
    output = import_file(write(tmp_path, mysql_batch_export([row])), "--time-zone", "Europe/Paris")
    assert Keypair.objects.get(pk=FIRST).date_created == utc
    assert f"(created {utc:%Y-%m-%d %H:%M:%S} UTC)" in output
    assert keypairs.keypair_json(Keypair.objects.get(pk=FIRST))["dateCreated"] == int(utc.timestamp() * 1000)


def test_epoch_milliseconds_ignore_the_time_zone(world: World, tmp_path: Path) -> None:
    row = sample_keypair_row(id=FIRST, date_created="2024-06-30 23:59:58.123000")
    milliseconds = "TIMESTAMPDIFF(MICROSECOND, '1970-01-01', date_created) DIV 1000 AS date_created"
    data = mysql_batch_export([row], columns=("id", milliseconds, "private_key", "public_key"))
    output = import_file(write(tmp_path, data), "--time-zone", "Europe/Paris")
    assert Keypair.objects.get(pk=FIRST).date_created == datetime(2024, 6, 30, 23, 59, 58, 123000, tzinfo=UTC)
    assert "(created 2024-06-30 23:59:58 UTC)" in output


# Refusals ---------------------------------------------------------------------------------------------------------


def test_a_private_key_that_does_not_match_its_public_key(world: World, tmp_path: Path) -> None:
    bad = sample_keypair_row(id=LAST, private_key=sample_private_key(index=2))
    bad["public_key"] = base64.b64encode(public_key_der(sample_private_key(index=3))).decode()
    rows = [*good_rows(), bad]
    message = refusal(write(tmp_path, mysql_batch_export(rows)))
    assert message == (f"Nothing was imported: line 4 (keypair {LAST}): The private key does not match its public key.")
    assert_no_key_material(message, *rows)
    assert_nothing_imported()


def test_a_duplicate_id_within_the_file(world: World, tmp_path: Path) -> None:
    # Two tables' exports put end to end (mysql's own primary key keeps one table free of duplicates).
    rows = good_rows()
    again = sample_keypair_row(id=FIRST, private_key=sample_private_key(index=2))
    second_export = mysql_batch_export([again]).split(b"\n", 1)[1]  # its rows, without its header
    message = refusal(write(tmp_path, mysql_batch_export(rows) + second_export))
    assert message == f"Nothing was imported: line 4 (keypair {FIRST}): the id is already on line 2"
    assert_nothing_imported()


def test_an_id_already_in_the_portal(world: World, tmp_path: Path) -> None:
    import_file(write(tmp_path, mysql_batch_export([good_rows()[1]]), "earlier.tsv"))
    before = (Keypair.objects.count(), KeystoreEntry.objects.count(), AuditEntry.objects.count())
    message = refusal(write(tmp_path, mysql_batch_export(good_rows())))
    assert message == (
        f"Nothing was imported: line 3 (keypair {SECOND}): a keypair with this id is already in the portal."
    )
    assert (Keypair.objects.count(), KeystoreEntry.objects.count(), AuditEntry.objects.count()) == before
    assert not Keypair.objects.filter(pk=FIRST).exists()


def test_an_id_another_tenant_holds_is_refused(world: World, tmp_path: Path) -> None:
    import_file(write(tmp_path, mysql_batch_export([good_rows()[0]]), "globex.tsv"), tenant="globex")
    message = refusal(write(tmp_path, mysql_batch_export(good_rows())))
    assert f"line 2 (keypair {FIRST}): a keypair with this id is already in the portal." in message
    assert Keypair.objects.get(pk=FIRST).tenant == world.globex
    assert not Keypair.objects.filter(tenant=world.acme).exists()


def test_a_row_with_the_wrong_number_of_fields(world: World, tmp_path: Path) -> None:
    rows = [*good_rows(), sample_keypair_row(id=LAST)]
    lines = mysql_batch_export(rows).split(b"\n")
    lines[3] = lines[3].rsplit(b"\t", 1)[0]  # the last row lost its public key
    message = refusal(write(tmp_path, b"\n".join(lines)))
    assert message == f"Nothing was imported: line 4 (keypair {LAST}): 3 fields where the header names 4 columns"
    assert_nothing_imported()


@pytest.mark.parametrize("column", ["private_key", "public_key"])
def test_a_key_that_is_not_base64(world: World, tmp_path: Path, column: str) -> None:
    rows = [*good_rows(), KeypairRow({**sample_keypair_row(id=LAST), column: "not base64!"})]
    message = refusal(write(tmp_path, mysql_batch_export(rows)))
    assert message == f"Nothing was imported: line 4 (keypair {LAST}): {column} is not valid base64"
    assert_no_key_material(message, *rows[:2])
    assert_nothing_imported()


def test_a_key_that_is_not_rsa(world: World, tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    bad = KeypairRow(
        {
            "id": LAST,
            "date_created": "2024-01-01 00:00:00.000000",
            "private_key": base64.b64encode(
                key.private_bytes(
                    serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
                )
            ).decode(),
            "public_key": base64.b64encode(
                key.public_key().public_bytes(
                    serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
                )
            ).decode(),
        }
    )
    message = refusal(write(tmp_path, mysql_batch_export([*good_rows(), bad])))
    assert message.startswith(f"Nothing was imported: line 4 (keypair {LAST}): The private key is ")
    assert message.endswith("only RSA keys are accepted.")
    assert_nothing_imported()


def test_a_key_that_is_too_small(world: World, tmp_path: Path) -> None:
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    bad = sample_keypair_row(id=LAST, private_key=small)
    message = refusal(write(tmp_path, mysql_batch_export([*good_rows(), bad])))
    assert message == (
        f"Nothing was imported: line 4 (keypair {LAST}): The RSA key is 1024 bits; at least 2048 are required."
    )
    assert_nothing_imported()


def test_a_private_key_that_is_not_a_key(world: World, tmp_path: Path) -> None:
    bad = KeypairRow({**sample_keypair_row(id=LAST), "private_key": base64.b64encode(b"\x30\x03\x02\x01\x00").decode()})
    message = refusal(write(tmp_path, mysql_batch_export([*good_rows(), bad])))
    assert message == (
        f"Nothing was imported: line 4 (keypair {LAST}): "
        "The private key is not a DER RSA private key (PKCS#1 or PKCS#8)."
    )
    assert_nothing_imported()


def test_an_unknown_tenant(world: World, tmp_path: Path) -> None:
    path = write(tmp_path, mysql_batch_export(good_rows()))
    assert refusal(path, tenant="initech") == "No tenant with the identifier 'initech'."
    assert_nothing_imported()


def test_a_missing_file(world: World, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-export.tsv"
    assert refusal(missing) == f"{missing}: No such file or directory."
    assert_nothing_imported()


def test_a_directory_instead_of_a_file(world: World, tmp_path: Path) -> None:
    assert refusal(tmp_path) == f"{tmp_path}: Is a directory."


def test_an_unknown_time_zone(world: World, tmp_path: Path) -> None:
    path = write(tmp_path, mysql_batch_export(good_rows()))
    assert refusal(path, "--time-zone", "Europe/Atlantis") == "Unknown time zone 'Europe/Atlantis'."
    assert refusal(path, "--time-zone", "../../etc/passwd") == "Unknown time zone '../../etc/passwd'."
    assert_nothing_imported()


def test_an_empty_table(world: World, tmp_path: Path) -> None:
    message = refusal(write(tmp_path, mysql_batch_export([])))
    assert message.startswith("Nothing was imported: the export is empty")
    assert_nothing_imported()


def test_a_refused_import_leaves_the_ids_free_for_a_corrected_file(world: World, tmp_path: Path) -> None:
    bad = sample_keypair_row(id=LAST, private_key=rsa.generate_private_key(public_exponent=65537, key_size=1024))
    refusal(write(tmp_path, mysql_batch_export([*good_rows(), bad])))
    fixed = sample_keypair_row(id=LAST, private_key=sample_private_key(index=3))
    import_file(write(tmp_path, mysql_batch_export([*good_rows(), fixed]), "fixed.tsv"))
    assert sorted(str(pk) for pk in Keypair.objects.values_list("pk", flat=True)) == sorted(
        [FIRST, SECOND, str(uuid.UUID(LAST))]
    )
