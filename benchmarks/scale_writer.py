"""Writes for the scale benchmark, made the way users make them: through the services the pages call, so every hook
the application keeps on a write (revisions, summaries, the audit chain) runs as it does in production.

Three kinds of write, in turn, each in a tenant chosen at random unless one is given:
- upload: a new self-signed RSA-2048 certificate with its private key (PEM, unencrypted), checked and saved by
  ``certificates.upload.validate_upload`` and ``save_upload`` as the Upload page does; the key is sealed under the
  master key in the environment (``PORTAL_MASTER_KEY``). Keys come from a pool made before the first write, so key
  generation does not set the pace; every certificate is new (own serial and name, validity 5 to 1,000 days);
- archive: an active certificate that nothing uses, moved to the archive by ``certificates.archive.archive``;
- IVR: one of the tenant's certificates that may encrypt recordings assigned to its "record" profile
  (``ivr.services.assign``), or, the next time, one of the tenant's assignments removed (``ivr.services.unassign``).
The seeded keystore entries carry dummy sealed keys: no write here opens one.

Run as a process (``scale_bench.py --writes-per-second R`` starts it with its own environment):

    python benchmarks/scale_writer.py --rate R --log FILE

It prints "ready" once its key pool is made, then writes R times a second until SIGTERM or SIGINT, appending one
JSON line per write to FILE (kind, tenant, ok, error, start and finish as Unix time, milliseconds), and prints a
summary line, "SUMMARY {json}", when it stops. A write that fails is counted and its error kept, never retried.
"""

import argparse
import json
import random
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from common import self_signed_der
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WRITER_USERNAME = "bench-writer"
KINDS = ("upload", "archive", "ivr")
ERRORS_KEPT = 20


@dataclass
class PooledKey:
    key: rsa.RSAPrivateKey
    pem: bytes


def key_pool(size: int) -> list[PooledKey]:
    keys = [rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(size)]
    return [
        PooledKey(
            key,
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
        )
        for key in keys
    ]


def certificate_pem(key: rsa.RSAPrivateKey, common_name: str, days: int) -> bytes:
    der = self_signed_der(key, common_name, days, organization="Genesys", since=timedelta(minutes=5))
    return x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM)


@dataclass
class Writer:
    """Makes one write at a time, rotating among the kinds; Django must be set up and the database seeded."""

    rng: random.Random
    pool_size: int = 50
    tenants: dict[str, Any] = field(default_factory=dict)
    written: int = 0
    turn: int = 0
    assign_next: bool = True

    def __post_init__(self) -> None:
        from portal.accounts.models import Role, Tenant, User
        from portal.audit.log import Actor

        self.pool = key_pool(self.pool_size)
        self.tenants = {tenant.slug: tenant for tenant in Tenant.objects.order_by("slug")}
        user, _ = User.objects.get_or_create(username=WRITER_USERNAME, defaults={"role": Role.TENANT_ADMIN})
        self.actor = Actor(user, "127.0.0.1")
        self.run_tag = f"{self.rng.getrandbits(32):08x}"  # names stay new across runs on one database

    def write(self, tenant_slug: str | None = None) -> dict[str, Any]:
        """One write of the next kind, in this tenant or a random one; what happened, as the log records it."""
        kind = KINDS[self.turn % len(KINDS)]
        self.turn += 1
        slug = tenant_slug or self.rng.choice(list(self.tenants))
        tenant = self.tenants[slug]
        started = time.time()
        error = ""
        try:
            kind = getattr(self, kind)(tenant)
        except Exception as problem:  # noqa: BLE001  (every failure is counted and reported, none is fatal)
            from django.db import close_old_connections

            error = f"{type(problem).__name__}: {problem}"[:300]
            close_old_connections()
        finished = time.time()
        return {
            "kind": kind,
            "tenant": slug,
            "ok": not error,
            "error": error,
            "started": started,
            "finished": finished,
            "ms": (finished - started) * 1000,
        }

    def upload(self, tenant: Any) -> str:
        from certificates.upload import save_upload, validate_upload

        self.written += 1
        pooled = self.rng.choice(self.pool)
        name = f"Bench Upload {self.run_tag}-{self.written:06d}"
        pem = certificate_pem(pooled.key, name, self.rng.randint(5, 1000))
        validated = validate_upload(tenant, certificate_data=pem, key_data=pooled.pem, password=None, alias=None)
        save_upload(tenant, validated, by=self.actor)
        return "upload"

    def archive(self, tenant: Any) -> str:
        from certificates.archive import archive
        from certificates.models import Certificate
        from certificates.usage import assigned_q

        candidate = (
            Certificate.objects.active()
            .filter(tenant=tenant)
            .exclude(assigned_q())
            .select_related("entry")
            .order_by("?")
            .first()
        )
        if candidate is None:
            raise LookupError(f"no active unassigned certificate left in {tenant.slug}")
        archive(tenant, candidate, typed_alias=candidate.alias, by=self.actor)
        return "archive"

    def ivr(self, tenant: Any) -> str:
        from ivr.models import IvrAssignment

        assign_now = self.assign_next
        self.assign_next = not self.assign_next
        if not assign_now:
            assignment = (
                IvrAssignment.objects.filter(tenant=tenant)
                .select_related("profile__tenant", "certificate__entry")
                .order_by("?")
                .first()
            )
            if assignment is not None:
                from ivr.services import unassign

                unassign(assignment, by=self.actor)
                return "ivr-unassign"
        return self.ivr_assign(tenant)

    def ivr_assign(self, tenant: Any) -> str:
        from django.utils import timezone

        from certificates.models import Certificate
        from ivr.services import assign, ensure_record_profile

        profile = ensure_record_profile(tenant)
        now = timezone.now()
        candidate = (
            Certificate.objects.active()
            .filter(tenant=tenant, not_valid_before__lte=now, not_valid_after__gt=now + timedelta(hours=1))
            .exclude(ivr_assignments__profile=profile)
            .select_related("entry")
            .order_by("?")
            .first()
        )
        if candidate is None:
            raise LookupError(f"no certificate of {tenant.slug} left to assign")
        assign(profile, candidate, by=self.actor)
        return "ivr-assign"


class BackgroundWriter:
    """benchmarks/scale_writer.py as a process of its own, writing at a steady rate while wrk runs."""

    def __init__(self, rate: float, env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--rate", str(rate), "--log", str(log_path)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if line.strip() != "ready":
            self.process.kill()
            raise RuntimeError(f"the background writer did not start: {line!r}")

    def writes_between(self, start: float, end: float) -> tuple[int, int]:
        """Writes (and failed writes) that finished between these Unix times."""
        done = failed = 0
        for line in self.log_path.read_text().splitlines():
            record = json.loads(line)
            if start <= record["finished"] <= end:
                done += 1
                failed += 0 if record["ok"] else 1
        return done, failed

    def stop(self) -> dict[str, Any]:
        self.process.terminate()
        output, _ = self.process.communicate(timeout=60)
        line = next((line for line in output.splitlines() if line.startswith("SUMMARY ")), None)
        if line is None:
            raise RuntimeError(f"the background writer stopped without a summary (exit {self.process.returncode})")
        return dict(json.loads(line.removeprefix("SUMMARY ")))


def summary(records: list[dict[str, Any]], *, behind: int = 0) -> dict[str, Any]:
    """Counts, errors and write durations of these log records."""
    times = sorted(r["ms"] for r in records)
    errors = [r for r in records if not r["ok"]]
    return {
        "writes": len(records),
        "errors": len(errors),
        "error_samples": [f"{r['kind']} in {r['tenant']}: {r['error']}" for r in errors[:ERRORS_KEPT]],
        "kinds": dict(Counter(r["kind"] for r in records)),
        "write_ms_p50": round(statistics.median(times), 1) if times else None,
        "write_ms_p95": round(times[int(0.95 * (len(times) - 1))], 1) if times else None,
        "write_ms_max": round(times[-1], 1) if times else None,
        "last_finished": max((r["finished"] for r in records), default=None),
        "late_restarts": behind,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, required=True, help="writes per second")
    parser.add_argument("--log", type=Path, required=True, help="append one JSON line per write here")
    parser.add_argument("--seed", type=int, default=7, help="random seed")
    parser.add_argument("--pool", type=int, default=50, help="RSA keys made before the first write (default 50)")
    args = parser.parse_args()
    stop = {"now": False}

    def ask_to_stop(signum: int, frame: object) -> None:
        stop["now"] = True

    signal.signal(signal.SIGTERM, ask_to_stop)
    signal.signal(signal.SIGINT, ask_to_stop)

    import django

    django.setup()
    writer = Writer(random.Random(args.seed), pool_size=args.pool)
    print("ready", flush=True)
    records: list[dict[str, Any]] = []
    interval = 1 / args.rate
    due = time.monotonic()
    behind = 0
    with args.log.open("a") as log:
        while not stop["now"]:
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(min(wait, 0.05))
                continue
            record = writer.write()
            records.append(record)
            log.write(json.dumps(record) + "\n")
            log.flush()
            due += interval
            if due < time.monotonic() - 1:  # more than a second late: start the schedule again, without a burst
                due = time.monotonic()
                behind += 1
    print("SUMMARY " + json.dumps(summary(records, behind=behind)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
