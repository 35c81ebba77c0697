"""Bounded work per request: the CPU time of the worst files a key-file preview or a keystore restore accepts, and of
refusing the ones it does not, beside `openssl` on the same file.

Every file is made here with the openssl command (or rewritten with asn1crypto where openssl would not write it).
Times are process CPU seconds (the openssl command's are its child CPU time), the median of 3 runs. Through
``keystore.api`` as the requests use it: key files are described or opened, and a restore is ``import_pkcs12`` into
a tenant of a throwaway SQLite database (keys sealed and saved, then rolled back for the next run).

    .venv/bin/python benchmarks/kdf_bench.py
"""

import contextlib
import os
import resource
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
TEMP = tempfile.mkdtemp(prefix="kdf-bench-")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{TEMP}/bench.sqlite3")

import django  # noqa: E402

django.setup()

from common import log  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from keystore import api  # noqa: E402
from portal.accounts.models import Tenant  # noqa: E402
from portal.audit.log import COMMAND  # noqa: E402
from tests.certificates import pki  # noqa: E402
from tests.keystore.helpers import (  # noqa: E402
    certificate,
    der,
    pbkdf2_iterations,
    rewritten,
    rsa_key,
    scrypt_cost,
)
from tests.keystore.test_restore_budget import shrouded_bags  # noqa: E402

PASSWORD = "benchmark password 1"
RUNS = 3


def cpu(work: Callable[[], object]) -> float:
    """Median CPU seconds of ``work``; an exception (a refusal) ends the run as it ends a request."""
    times = []
    for _ in range(RUNS):
        start = time.process_time()
        with contextlib.suppress(ValueError):
            work()
        times.append(time.process_time() - start)
    return statistics.median(times)


def openssl_cpu(*args: str, cwd: Path) -> tuple[float, bool]:
    """Median child CPU seconds of one openssl command, and whether it succeeded."""
    times, ok = [], True
    for _ in range(RUNS):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        result = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        times.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        ok = ok and result.returncode == 0
    return statistics.median(times), ok


def openssl_make(*args: str, cwd: Path) -> None:
    result = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True)
    assert result.returncode == 0, result.stderr.decode()


def restored(data: bytes, budget: api.Budget | None) -> None:
    """A restore as the page runs it, into a tenant of its own, rolled back so the next run finds it empty."""
    with transaction.atomic():
        tenant = Tenant.objects.create(slug="restored", name="Restored")
        api.import_pkcs12(tenant, data, PASSWORD, on_entry=lambda entry: None, by=COMMAND, budget=budget)
        transaction.set_rollback(True)


def backup_of(keys: list) -> bytes:
    """The portal's own backup of ``keys``, each with a certificate of its own, made as the Keystore page makes it."""
    with transaction.atomic():
        tenant = Tenant.objects.create(slug=f"source-{Tenant.objects.count()}", name="Source")
        for index, key in enumerate(keys):
            api.store_private_key(
                tenant, alias=f"rec-{index}", certificate_der=der(certificate(key, f"Rec {index}")), private_key=key
            )
        data, _ = api.export_keystore(tenant, PASSWORD, by=COMMAND, via="command")
        transaction.set_rollback(True)
    return data


def main() -> int:
    connection.settings_dict["TEST"]["NAME"] = f"{TEMP}/bench-test.sqlite3"
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        return measure()
    finally:
        connection.creation.destroy_test_db(f"{TEMP}/bench-test.sqlite3", verbosity=0)


def measure() -> int:
    folder = Path(tempfile.mkdtemp(prefix="kdf-bench-"))
    secret = f"pass:{PASSWORD}"
    openssl_make("genrsa", "-out", "k.pem", "2048", cwd=folder)
    openssl_make(
        "req", "-new", "-x509", "-key", "k.pem", "-out", "c.pem", "-subj", "/CN=Bench", "-days", "2", cwd=folder
    )
    rows: list[tuple[str, float, str]] = []

    def key_file(name: str, data: bytes, password: str | None, openssl_args: list[str] | None) -> None:
        (folder / name).write_bytes(data)
        ours = cpu(lambda: api.open_key_file(data, password) if password else api.describe_key_file(data))
        theirs = "not run"
        if openssl_args is not None:
            seconds, ok = openssl_cpu("pkey", "-in", name, "-noout", *openssl_args, cwd=folder)
            theirs = f"{seconds:.3f} s" + ("" if ok else " (refused)")
        rows.append((name, ours, theirs))
        log(f"{name}: {ours:.3f} s, openssl {theirs}")

    # Key files --------------------------------------------------------------------------------------------------
    key_file("pem-repeated-begin.txt", b"-----BEGIN X-----\n" * (250 * 1024 // 18), None, [])
    key_file("pem-distinct-labels.txt", b"".join(b"-----BEGIN L%d-----\n" % i for i in range(11_000)), None, [])
    openssl_make("pkcs8", "-topk8", "-in", "k.pem", "-v2", "aes-256-cbc", "-iter", str(api.MAX_KDF_ROUNDS), "-passout",
                 secret, "-out", "pbkdf2-at-cap.pem", cwd=folder)  # fmt: skip
    at_cap = (folder / "pbkdf2-at-cap.pem").read_bytes()
    key_file("pbkdf2-at-cap.pem", at_cap, PASSWORD, ["-passin", secret])
    key_file("pbkdf2-over-cap.pem", rewritten(at_cap, pbkdf2_iterations(5_000_000)), PASSWORD, ["-passin", secret])
    openssl_make("pkcs8", "-topk8", "-in", "k.pem", "-v2", "aes-256-cbc", "-scrypt", "-passout", secret, "-out",
                 "scrypt-default.pem", cwd=folder)  # fmt: skip
    scrypt_default = (folder / "scrypt-default.pem").read_bytes()
    # OpenSSL refuses to go past 32 MiB of scrypt memory, so files at this portal's cap are rewritten, not written:
    # the derivation runs in full, then the password fails to open the ciphertext.
    key_file("scrypt-at-cap.pem", rewritten(scrypt_default, scrypt_cost(65536, 8, 1)), PASSWORD, ["-passin", secret])
    key_file("scrypt-2^20.pem", rewritten(scrypt_default, scrypt_cost(1 << 20, 8, 1)), PASSWORD, ["-passin", secret])

    # A key at the size cap: describing it checks it once (one RSA decryption); openssl's -check tests primality.
    key_file("rsa-8192.pem", pki.key_pem_traditional(rsa_key(0, api.MAX_RSA_BITS)), None, ["-check"])

    # PKCS#12 restores -----------------------------------------------------------------------------------------------
    def restore(name: str, data: bytes, openssl_too: bool, budget: api.Budget | None = None) -> None:
        (folder / name).write_bytes(data)
        ours = cpu(lambda: restored(data, budget))
        theirs = "not run"
        if openssl_too:
            seconds, ok = openssl_cpu(
                "pkcs12", "-in", name, "-passin", secret, "-nodes", "-out", os.devnull, cwd=folder
            )
            theirs = f"{seconds:.3f} s" + ("" if ok else " (refused)")
        rows.append((name, ours, theirs))
        log(f"{name}: {ours:.3f} s, openssl {theirs}")

    # PKCS#12 PBE with 3DES: the slowest derivation (the RFC 7292 KDF, three blocks), up to the web budget.
    iterations = api.WEB_RESTORE.rounds // 7
    openssl_make("pkcs12", "-export", "-in", "c.pem", "-inkey", "k.pem", "-passout", secret, "-iter", str(iterations),
                 "-keypbe", "PBE-SHA1-3DES", "-certpbe", "PBE-SHA1-3DES", "-macalg", "sha1", "-out", "3des.p12",
                 cwd=folder)  # fmt: skip
    restore("3des-at-web-budget.p12", (folder / "3des.p12").read_bytes(), True)
    restore("portal-backup-10-entries.p12", backup_of([rsa_key(i) for i in range(10)]), True)
    # The web budget's key checks: a full backup of 64 keys of 4,096 bits (128 bags).
    restore("portal-backup-64-entries-4096-bits.p12", backup_of([rsa_key(i, 4096) for i in range(64)]), True)
    restore("360-bags-at-cap.p12", shrouded_bags([api.MAX_KDF_ROUNDS] * 360, shared_salt=False), False)
    restore("360-bags-at-cap.p12 (command)", shrouded_bags([api.MAX_KDF_ROUNDS] * 360, shared_salt=False), False,
            api.COMMAND_RESTORE)  # fmt: skip

    log("")
    log("| File | This portal, CPU | openssl, CPU | Ratio |")
    log("|---|---|---|---|")
    for name, ours, theirs in rows:
        comparable = theirs[0].isdigit() and "refused" not in theirs  # both read the file
        ratio = f"{ours / float(theirs.split()[0]):.1f}x" if comparable else ""
        log(f"| {name} | {ours:.3f} s | {theirs} | {ratio} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
