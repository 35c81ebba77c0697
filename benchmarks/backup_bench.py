"""Backup and restore of a tenant's whole keystore on the command line, at 200 and 1,000 keys, beside openssl and
keytool on the same files in the same run.

For each size, a tenant holds N RSA-2048 keys with self-signed certificates (made once, not measured). Measured,
wall-clock, the median of --runs:

- ``export_keystore`` of the tenant (the portal's own backup: one salt and round count for every bag), beside the
  floor of any such file, ``export_keystore`` of an empty tenant (its two derivations of 600,000 rounds: PBKDF2 for
  the bags, the RFC 7292 KDF for the MAC);
- ``restore_keystore`` of that file into an empty tenant, with the key derivations it reports (``-v 2``), beside
  the floor of reading the file, ``openssl pkcs12 -noout`` (the MAC and the certificates, no key decrypted), and
  ``keytool -list`` of it;
- ``restore_keystore`` of the same keys as keytool writes them (``keytool -importkeystore``: a salt of its own for
  every bag, the JDK's 10,000 rounds), beside ``openssl pkcs12 -nodes`` decrypting every key of that file.

Runs on a database of its own: SQLite in a temporary file by default, or the server named by DATABASE_URL (a
database "portal_backup_bench" is created on it and dropped afterwards).

    .venv/bin/python benchmarks/backup_bench.py --keys 200,1000 --runs 3
"""

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
TEMP = Path(tempfile.mkdtemp(prefix="backup-bench-"))
os.environ.setdefault("DATABASE_URL", f"sqlite:///{TEMP}/bench.sqlite3")

import django  # noqa: E402

django.setup()

from common import log, self_signed_der  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from keystore.api import BACKUP_PASSWORD_VARIABLE, store_private_key  # noqa: E402
from portal.accounts.models import Tenant  # noqa: E402
from tests.keystore.helpers import keytool_entries, portal_pkcs12  # noqa: E402

PASSWORD = "benchmark backup password"
JDK_ROUNDS = 10_000  # what keytool writes into a PKCS#12 file by default (JDK 12 and later)


def median_seconds(work: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run_tool(*args: str) -> None:
    done = subprocess.run(args, capture_output=True, env={**os.environ, BACKUP_PASSWORD_VARIABLE: PASSWORD})
    assert done.returncode == 0, done.stderr.decode(errors="replace")


def made_keys(count: int) -> list[tuple[rsa.RSAPrivateKey, bytes]]:
    log(f"Making {count} RSA-2048 keys and certificates (not measured)...")
    keys = []
    for index in range(count):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        keys.append((key, self_signed_der(key, f"Recording {index}")))
    return keys


def source_tenant(count: int, keys: list[tuple[rsa.RSAPrivateKey, bytes]]) -> Tenant:
    with transaction.atomic():
        tenant = Tenant.objects.create(slug=f"source-{count}", name=f"Source of {count}")
        for index, (key, certificate_der) in enumerate(keys[:count]):
            store_private_key(tenant, alias=f"recording-{index}", certificate_der=certificate_der, private_key=key)
    return tenant


def restore(path: Path, slug: str) -> int:
    """Restore ``path`` into a new empty tenant as an operator would; the key derivations it reports."""
    Tenant.objects.create(slug=slug, name=slug)
    out, err = io.StringIO(), io.StringIO()
    call_command("restore_keystore", "--tenant", slug, str(path), verbosity=2, stdout=out, stderr=err)
    assert "Imported" in out.getvalue(), out.getvalue()
    return int(err.getvalue().rsplit("Key derivations from the password: ", 1)[1])


def export(slug: str, out: Path) -> None:
    call_command("export_keystore", "--tenant", slug, "--out", str(out), "--overwrite", stdout=io.StringIO())


def restored(path: Path, label: str, runs: int) -> tuple[float, int]:
    """Median seconds of restoring ``path`` into an empty tenant, and the derivations it took."""
    derived: list[int] = []
    seconds = median_seconds(lambda: derived.append(restore(path, f"{label}-{len(derived)}")), runs)
    return seconds, derived[0]


def measure(count: int, keys: list[tuple[rsa.RSAPrivateKey, bytes]], runs: int) -> dict[str, float]:
    tenant = source_tenant(count, keys)
    empty = Tenant.objects.get_or_create(slug="empty", name="Empty")[0]
    ours = TEMP / f"portal-{count}.p12"
    figures: dict[str, float] = {}
    figures["export"] = median_seconds(lambda: export(tenant.slug, ours), runs)
    figures["empty"] = median_seconds(lambda: export(empty.slug, TEMP / "empty.p12"), runs)
    log(f"{count} keys: export {figures['export']:.2f} s, an empty tenant's {figures['empty']:.2f} s")

    listed = keytool_entries(ours, PASSWORD)
    assert len(listed) == count and set(listed.values()) == {"PrivateKeyEntry"}, listed
    passin = ("-passin", f"env:{BACKUP_PASSWORD_VARIABLE}")
    figures["openssl_noout"] = median_seconds(
        lambda: run_tool("openssl", "pkcs12", "-in", str(ours), "-noout", *passin), runs
    )
    figures["keytool_list"] = median_seconds(
        lambda: run_tool("keytool", "-list", "-storetype", "PKCS12", "-keystore", str(ours), "-storepass:env",
                         BACKUP_PASSWORD_VARIABLE),
        runs,
    )  # fmt: skip
    figures["restore"], figures["restore_derivations"] = restored(ours, f"ours-{count}", runs)
    log(f"{count} keys: restore {figures['restore']:.2f} s ({figures['restore_derivations']:.0f} derivations), "
        f"openssl -noout {figures['openssl_noout']:.2f} s, keytool -list {figures['keytool_list']:.2f} s")  # fmt: skip

    # keytool's own file of the same keys, every bag with a salt of its own. keytool reads them from a file of ours
    # written at its own round count: at 600,000 rounds a bag, reading ours costs it one derivation a key.
    cheap = TEMP / f"portal-{count}-jdk-rounds.p12"
    cheap.write_bytes(portal_pkcs12(keys[:count], PASSWORD, iterations=JDK_ROUNDS))
    theirs = TEMP / f"keytool-{count}.p12"
    theirs.unlink(missing_ok=True)
    run_tool(
        "keytool", "-importkeystore", "-noprompt", "-srcstoretype", "PKCS12", "-srckeystore", str(cheap),
        "-srcstorepass:env", BACKUP_PASSWORD_VARIABLE, "-deststoretype", "PKCS12", "-destkeystore", str(theirs),
        "-deststorepass:env", BACKUP_PASSWORD_VARIABLE,
    )  # fmt: skip
    figures["openssl_nodes_keytool"] = median_seconds(
        lambda: run_tool("openssl", "pkcs12", "-in", str(theirs), "-nodes", "-out", os.devnull, *passin), runs
    )
    figures["restore_keytool"], figures["restore_keytool_derivations"] = restored(theirs, f"keytool-{count}", runs)
    log(f"{count} keys: restore of keytool's file {figures['restore_keytool']:.2f} s "
        f"({figures['restore_keytool_derivations']:.0f} derivations), "
        f"openssl -nodes {figures['openssl_nodes_keytool']:.2f} s")  # fmt: skip
    return figures


def report(results: dict[int, dict[str, float]]) -> None:
    print()
    print("| Keys | export_keystore | An empty tenant's | Export beyond it, a key | restore_keystore of it "
          "| Derivations | openssl -noout / keytool -list | Restore / openssl -noout |")  # fmt: skip
    print("|" + "---|" * 8)
    for count, f in results.items():
        print(
            f"| {count:,} | {f['export']:.2f} s | {f['empty']:.2f} s | "
            f"{(f['export'] - f['empty']) / count * 1000:.2f} ms | {f['restore']:.2f} s | "
            f"{f['restore_derivations']:.0f} | {f['openssl_noout']:.2f} / {f['keytool_list']:.2f} s | "
            f"{f['restore'] / f['openssl_noout']:.1f}x |"
        )
    print()
    print("| Keys | restore_keystore of keytool's file | Derivations | openssl -nodes of it | Restore / openssl |")
    print("|" + "---|" * 5)
    for count, f in results.items():
        print(
            f"| {count:,} | {f['restore_keytool']:.2f} s | {f['restore_keytool_derivations']:.0f} | "
            f"{f['openssl_nodes_keytool']:.2f} s | {f['restore_keytool'] / f['openssl_nodes_keytool']:.2f}x |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keys", default="200,1000", help="comma-separated tenant sizes (default 200,1000)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each measurement (default 3)")
    args = parser.parse_args()
    sizes = sorted(int(size) for size in args.keys.split(","))
    os.environ[BACKUP_PASSWORD_VARIABLE] = PASSWORD
    vendor = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    test_name = f"{TEMP}/bench-test.sqlite3" if vendor == "sqlite3" else "portal_backup_bench"
    connection.settings_dict["TEST"]["NAME"] = test_name
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        log(f"Database: {connection.vendor}; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f}")
        keys = made_keys(sizes[-1])
        results = {count: measure(count, keys, args.runs) for count in sizes}
        log(f"Load average at the end: {os.getloadavg()[0]:.2f}")
        report(results)
    finally:
        connection.creation.destroy_test_db(test_name, verbosity=0)


if __name__ == "__main__":
    main()
