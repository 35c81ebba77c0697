"""Keypair rows as Genesys' sample Local Key Manager stores them, and real ``mysql --batch`` exports of them.

The sample's ``KeyManagementService`` stores ``Base64.encodeBase64String`` of DER PKCS#1 (``RSAPrivateKey`` and
``RSAPublicKey``) and a ``java.util.Date`` that Hibernate writes to a ``datetime(6)`` column.
"""

import base64
import itertools
import os
import secrets
import subprocess
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.certificates import pki

MYSQL = ("/usr/bin/mysql", "--no-defaults", "--protocol=TCP", "-h", "127.0.0.1", "-P", "3306", "-u", "root")
COLUMNS = ("id", "date_created", "private_key", "public_key")
# Rows made without a key cycle through this many cached keys, so a test's first few rows hold distinct keys while
# the whole run generates at most this many per key size.
KEY_POOL_SIZE = 4
_next_pool_index = itertools.count()


class KeypairRow(dict[str, Any]):
    """A keypair row whose repr names its id only, so that a failing test's report shows no key material."""

    def __repr__(self) -> str:
        return f"<keypair row {self.get('id')}>"


class ExportBytes(bytes):
    """An export whose repr gives its size only, so that a failing test's report shows no key material."""

    def __repr__(self) -> str:
        return f"<export of {len(self)} bytes>"


def sample_private_key(bits: int = 3072, index: int | None = None) -> rsa.RSAPrivateKey:
    """A cached RSA key: pool key ``index``, or the next one in turn."""
    if index is None:
        index = next(_next_pool_index) % KEY_POOL_SIZE
    return pki.make_key(bits, index)


def private_key_der(key: rsa.RSAPrivateKey) -> bytes:
    """DER PKCS#1 RSAPrivateKey, as the sample's getDEREncodingFromPrivateKey writes it."""
    return key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )


def public_key_der(key: rsa.RSAPrivateKey) -> bytes:
    """DER PKCS#1 RSAPublicKey, as the sample's getDEREncodingFromPublicKey writes it."""
    return key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)


def sample_keypair_row(
    *,
    id: str | None = None,
    date_created: str | None = None,
    bits: int = 3072,
    private_key: rsa.RSAPrivateKey | None = None,
) -> dict[str, str]:
    """A keypair row as the sample stores it; a new UUID, now (UTC) and a cached key unless given."""
    key = private_key if private_key is not None else sample_private_key(bits)
    if date_created is None:
        date_created = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return KeypairRow(
        {
            "id": id if id is not None else str(uuid.uuid4()),
            "date_created": date_created,
            "private_key": base64.b64encode(private_key_der(key)).decode("ascii"),
            "public_key": base64.b64encode(public_key_der(key)).decode("ascii"),
        }
    )


def mysql_batch_export(rows: Sequence[Mapping[str, str | None]], columns: Sequence[str] = COLUMNS) -> bytes:
    """What ``mysql --batch -e 'SELECT <columns> FROM keypair'`` prints for ``rows`` stored in a throwaway database.

    The table is the sample's Hibernate schema; a row key beyond the four becomes an extra text column, and a None
    value is stored as NULL. ``columns`` are select-list items, so an expression such as
    ``"UNIX_TIMESTAMP(date_created) * 1000 AS date_created"`` works too.
    """
    suffix = os.environ.get("TEST_DB_SUFFIX", "")
    database = f"lkm_sample_{''.join(c for c in suffix if c.isalnum())}_{secrets.token_hex(6)}"
    extra_columns = sorted({name for row in rows for name in row} - set(COLUMNS))
    # Hibernate 6 on MySQL: a String @Id is varchar(255), java.util.Date is datetime(6), and the key columns
    # (@Column(length = 100000)) are text columns too long for varchar.
    table = (
        "CREATE TABLE keypair (id varchar(255) NOT NULL PRIMARY KEY, date_created datetime(6),"
        " private_key longtext, public_key longtext" + "".join(f", `{name}` longtext" for name in extra_columns) + ")"
    )
    inserts = [_insert(row, (*COLUMNS, *extra_columns)) for row in rows]
    _mysql(f"CREATE DATABASE `{database}`")
    try:
        _mysql(";\n".join([table, *inserts]) + ";", database=database)
        return ExportBytes(_mysql(execute=f"SELECT {', '.join(columns)} FROM keypair", database=database))
    finally:
        _mysql(f"DROP DATABASE IF EXISTS `{database}`")


def _insert(row: Mapping[str, str | None], names: Sequence[str]) -> str:
    present = [name for name in names if name in row]
    values = [_sql_literal(row[name]) for name in present]
    return f"INSERT INTO keypair ({', '.join(f'`{name}`' for name in present)}) VALUES ({', '.join(values)})"


def _sql_literal(value: str | None) -> str:
    # A hex literal needs no quoting whatever the value holds (tabs, newlines, backslashes, quotes).
    if value is None:
        return "NULL"
    return f"CONVERT(X'{value.encode().hex()}' USING utf8mb4)" if value else "''"


def _mysql(sql: str = "", *, execute: str | None = None, database: str | None = None) -> bytes:
    """Runs ``sql`` from standard input, or ``execute`` as ``mysql --batch -e`` does; returns what mysql printed."""
    command = [*MYSQL, "--batch"]
    if execute is not None:
        command += ["-e", execute]
    if database is not None:
        command.append(database)
    completed = subprocess.run(command, input=sql.encode(), capture_output=True, timeout=60, check=False)
    if completed.returncode != 0:
        # mysql may quote part of the statement, which holds key material: its first 120 characters say enough.
        complaint = completed.stderr.decode(errors="replace").splitlines()[0][:120] if completed.stderr else ""
        raise RuntimeError(f"mysql failed ({completed.returncode}): {complaint}")
    return completed.stdout
