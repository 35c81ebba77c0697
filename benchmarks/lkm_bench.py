"""Local Key Manager: POST /key-management/v1/decrypt served by gunicorn, beside its floor (the bare RSA-3072
private-key operation) measured in the same run.

The floor is the RSA-3072 private-key operation, measured two ways in the same run:
- as openssl performs it: ``openssl speed rsa3072`` sign/s on one core, and with ``-multi`` on all cores; the
  targets are judged against this one;
- as the portal performs it: ``private_key.decrypt(ciphertext, OAEP(MGF1(SHA-1), SHA-1))`` with cryptography on a
  loaded key, each operation timed on one core (p50/p95 of --floor-ops), and one process per core for
  --floor-seconds. cryptography bundles its own, newer OpenSSL, whose RSA can be much faster than the system's:
  ratios to it are shown as well, as the stricter measure.

The portal: a PostgreSQL database of its own (lkm_bench_<pid> on 127.0.0.1:5432, user postgres; dropped at the
end), production settings, set up with the operator's commands (init_master_key, migrate, create_tenant,
create_lkm_credential), served by ``gunicorn portal.wsgi`` with sync workers (--workers, default 2 per CPU). A
keypair is made with POST /keypair and 32-byte keys are encrypted to its public key with RSA-OAEP SHA-1. Requests
are signed with Hawk (mohawk) just before each phase, each with its own nonce, and sent over plain sockets from
this process, so that signing does not take the cores being measured:
1. one client, --requests decrypts one after the other: p50/p95 latency;
2. --clients clients at once for --seconds: decrypts per second.
Every answer must be 200 with the right key; any other answer fails the run.

Targets, judged on ratios from the same run (the machine's other load moves the absolute figures):
- --clients throughput >= 0.5 x openssl's rate on all cores;
- one-client p95 < 4 x openssl's time for one operation on one core.
The CPU time the gunicorn processes, the database backends and this client used in each phase (from /proc), per
request, shows where the time goes.

    .venv/bin/python benchmarks/lkm_bench.py [--workers N] [--clients 10] [--seconds 10] [--requests 1000]
        [--floor-ops 2000] [--floor-seconds 5] [--json FILE]

Exit status: 0 when both targets are met, 3 when one is missed, 1 when the run fails (2: bad arguments).
"""

import argparse
import contextlib
import json
import multiprocessing
import os
import platform
import queue
import re
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

from cryptography.hazmat.backends.openssl import backend
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lkm_setup import (
    DEK_POOL,
    Client,
    CpuUse,
    Gunicorn,
    Signed,
    concurrent,
    database_backends,
    lkm_env,
    oaep_sha1,
    percentile,
    sequential,
    set_up_lkm,
    throwaway_database,
    wrong_answers,
)
from recordings_setup import BenchError, check

THROUGHPUT_TARGET = 0.5  # x openssl's rate on all cores
LATENCY_TARGET = 4.0  # x openssl's time for one operation on one core
BATCH = 250  # phase 1 signs this many at a time: a batch must end well within the 60 s a timestamp is valid
WARM_UP_PER_WORKER = 5
# Phase 2 signs as many requests as the floor's rate on all cores could serve in its time: every request costs at
# least that operation on the same cores. Should they run out early, the rate is taken over the shorter time.
PRESIGN_MARGIN = 1.0
MAX_PRESIGNED = 200_000


def floor_one_core(key: rsa.RSAPrivateKey, ciphertext: bytes, operations: int) -> list[float]:
    padding = oaep_sha1()
    for _ in range(20):
        key.decrypt(ciphertext, padding)
    times = []
    for _ in range(operations):
        start = time.perf_counter()
        key.decrypt(ciphertext, padding)
        times.append(time.perf_counter() - start)
    return times


def spin(pem: bytes, ciphertext: bytes, seconds: float, barrier: Barrier, results: Any) -> None:
    """One core's share of the floor: as many decryptions as fit in ``seconds``, started with the others."""
    key = serialization.load_pem_private_key(pem, None)
    assert isinstance(key, rsa.RSAPrivateKey)
    padding = oaep_sha1()
    for _ in range(20):
        key.decrypt(ciphertext, padding)
    barrier.wait()
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        key.decrypt(ciphertext, padding)
        count += 1
    results.put(count / (time.perf_counter() - start))


def floor_all_cores(key: rsa.RSAPrivateKey, ciphertext: bytes, seconds: float, processes: int) -> float:
    """Decryptions per second, one process per core, all at once."""
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )  # a key made for this run only, handed to its own child processes
    # Forked (this process has no other thread by now): spawning would import the caller's main module again.
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(processes), context.Queue()
    spinners = [
        context.Process(target=spin, args=(pem, ciphertext, seconds, barrier, results)) for _ in range(processes)
    ]
    for process in spinners:
        process.start()
    rates: list[float] = []
    deadline = time.monotonic() + seconds + 60
    try:
        while len(rates) < processes:
            if time.monotonic() > deadline or any(process.exitcode not in (None, 0) for process in spinners):
                raise BenchError("the floor's processes did not all report")
            with contextlib.suppress(queue.Empty):
                rates.append(results.get(timeout=1))
        return sum(rates)
    finally:
        for process in spinners:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()


def openssl_speed(processes: int = 1) -> float:
    """openssl's own RSA-3072 private-key operations per second (sign/s), on one core or with one process per
    core."""
    text = check(
        ["openssl", "speed", "-seconds", "3", *(["-multi", str(processes)] if processes > 1 else []), "rsa3072"]
    )
    found = re.search(r"^rsa\s+3072\s+bits\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)\s*$", text, re.M)
    if found is None:
        raise BenchError(f"cannot read openssl speed's output: {text.strip()[-300:]}")
    return float(found.group(1))


def ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def per_request(used: CpuUse, requests: int, elapsed: float, floor_op: float) -> dict[str, float]:
    """CPU milliseconds per answered request, the server side's in floor operations (CPU time moves less with the
    machine's other load than latency does), and what everything else on the machine took (other users)."""
    others = used.machine - used.server - used.database - used.client
    return {
        "server_and_database_x_floor_op": round((used.server + used.database) / requests / floor_op, 1),
        "server_ms": ms(used.server / requests),
        "database_ms": ms(used.database / requests),
        "client_ms": ms(used.client / requests),
        "other_processes_cpu_s": round(others, 2),
        "machine_busy": round(used.machine / (elapsed * (os.cpu_count() or 1)), 3),
    }


def require_right(label: str, sent: Sequence[Signed], answers: Sequence[bytes]) -> None:
    wrong, examples = wrong_answers(sent, answers)
    if wrong:
        raise BenchError(f"{label}: {wrong} of {len(answers)} answers wrong, e.g. {'; '.join(examples)}")


def bench(args: argparse.Namespace, root: Path) -> dict[str, Any]:
    cpus = os.cpu_count() or 1
    with throwaway_database() as database_url:
        env = lkm_env(root, database_url)
        credentials = set_up_lkm(env)
        with Gunicorn("portal.wsgi", args.workers, env=env, log=root / "gunicorn.log") as server:
            server.wait_until_answering()
            client = Client(server.port, credentials)
            client.create_keypair()
            warm_up = client.presign(args.workers * WARM_UP_PER_WORKER)  # each worker's first requests
            sent, answers, _, _ = concurrent(server.port, warm_up, args.clients, 60.0)
            require_right("warm-up", sent, answers)
            return measure(args, server, client, database_backends(database_url), cpus)


def measure(
    args: argparse.Namespace, server: Gunicorn, client: Client, backends: list[int], cpus: int
) -> dict[str, Any]:
    load_before = os.getloadavg()
    floor_key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    floor_ciphertext = floor_key.public_key().encrypt(os.urandom(32), oaep_sha1())
    one_core = floor_one_core(floor_key, floor_ciphertext, args.floor_ops)
    all_cores = floor_all_cores(floor_key, floor_ciphertext, args.floor_seconds, cpus)
    openssl_one, openssl_all = openssl_speed(), openssl_speed(cpus)
    processes = server.processes()

    # 1. One client: latency. Signing happens between batches, outside every request's own time.
    latencies: list[float] = []
    first_used = CpuUse(0, 0, 0, 0)
    first_elapsed = 0.0
    for start in range(0, args.requests, BATCH):
        batch = client.presign(min(BATCH, args.requests - start))
        before, began = CpuUse.now(processes, backends), time.perf_counter()
        answers, times = sequential(server.port, batch)
        first_elapsed += time.perf_counter() - began
        first_used = first_used + (CpuUse.now(processes, backends) - before)
        require_right("one client", batch, answers)
        latencies += times

    # 2. Several clients for a fixed time: throughput, from requests all signed beforehand.
    budget = min(MAX_PRESIGNED, int(all_cores * args.seconds * PRESIGN_MARGIN) + 10 * args.clients)
    signed = client.presign(budget)
    before = CpuUse.now(processes, backends)
    sent, answers, second_latencies, elapsed = concurrent(server.port, signed, args.clients, args.seconds)
    second_used = CpuUse.now(processes, backends) - before
    require_right(f"{args.clients} clients", sent, answers)
    throughput = len(answers) / elapsed

    floor_p50, floor_p95 = percentile(one_core, 50), percentile(one_core, 95)
    p95 = percentile(latencies, 95)
    throughput_ratio = throughput / openssl_all
    latency_ratio = p95 / (1 / openssl_one)
    return {
        "machine": {
            "cpus": cpus,
            "openssl": check(["openssl", "version"]).strip(),
            "cryptography_openssl": backend.openssl_version_text(),
            "python": platform.python_version(),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
        },
        "settings": {
            "workers": args.workers,
            "clients": args.clients,
            "seconds": args.seconds,
            "requests": args.requests,
            "floor_ops": args.floor_ops,
            "floor_seconds": args.floor_seconds,
            "distinct_keys": DEK_POOL,
        },
        "targets": {
            "throughput_ratio": {
                "value": round(throughput_ratio, 3),
                "target": f">= {THROUGHPUT_TARGET}",
                "met": throughput_ratio >= THROUGHPUT_TARGET,
            },
            "latency_p95_ratio": {
                "value": round(latency_ratio, 3),
                "target": f"< {LATENCY_TARGET}",
                "met": latency_ratio < LATENCY_TARGET,
            },
        },
        "latency_p50_ratio": round(percentile(latencies, 50) * openssl_one, 3),
        "strict_ratios": {
            "throughput_to_cryptography_all_cores": round(throughput / all_cores, 3),
            "p95_to_cryptography_one_core_p95": round(p95 / floor_p95, 3),
        },
        "floor": {
            "one_core_p50_ms": ms(floor_p50),
            "one_core_p95_ms": ms(floor_p95),
            "one_core_ops_per_s": round(len(one_core) / sum(one_core), 1),
            "all_cores_ops_per_s": round(all_cores, 1),
            "openssl_one_core_sign_per_s": openssl_one,
            "openssl_all_cores_sign_per_s": openssl_all,
        },
        "one_client": {
            "requests": len(latencies),
            "p50_ms": ms(percentile(latencies, 50)),
            "p95_ms": ms(p95),
            "p99_ms": ms(percentile(latencies, 99)),
            "cpu_per_request": per_request(first_used, len(latencies), first_elapsed, floor_p50),
        },
        "concurrent": {
            "clients": args.clients,
            "requests": len(answers),
            "seconds": round(elapsed, 3),
            "decrypts_per_s": round(throughput, 1),
            "p50_ms": ms(percentile(second_latencies, 50)),
            "p95_ms": ms(percentile(second_latencies, 95)),
            "ran_out_of_signed_requests": len(answers) == len(signed),
            "cpu_per_request": per_request(second_used, len(answers), elapsed, floor_p50),
        },
        "errors": 0,
    }


def verdict(met: bool) -> str:
    return "PASS" if met else "FAIL"


def report(results: dict[str, Any]) -> None:
    floor, one, many, targets = results["floor"], results["one_client"], results["concurrent"], results["targets"]
    machine, settings = results["machine"], results["settings"]
    throughput, latency = targets["throughput_ratio"], targets["latency_p95_ratio"]
    print(
        f"\n{machine['cpus']} CPUs, load average {machine['load_average_before'][0]} before, "
        f"{machine['load_average_after'][0]} after; gunicorn {settings['workers']} sync workers; the portal's RSA on "
        f"cryptography's {machine['cryptography_openssl']}, openssl speed on {machine['openssl']}\n"
    )
    rows = [
        ("Measure", "Value", "Target", ""),
        ("---", "---", "---", "---"),
        (f"{many['clients']} clients' decrypts/s ÷ openssl's sign/s on all cores", f"{throughput['value']:.2f}",
         throughput["target"], verdict(throughput["met"])),
        ("One client's p95 ÷ openssl's time per sign on one core", f"{latency['value']:.2f}", latency["target"],
         verdict(latency["met"])),
        ("One client's p50 ÷ the same", f"{results['latency_p50_ratio']:.2f}", "", ""),
        (f"{many['clients']} clients' decrypts/s ÷ cryptography's decrypts/s on all cores",
         f"{results['strict_ratios']['throughput_to_cryptography_all_cores']:.2f}", "", ""),
        ("One client's p95 ÷ cryptography's one-core p95",
         f"{results['strict_ratios']['p95_to_cryptography_one_core_p95']:.2f}", "", ""),
        (f"{many['clients']} clients, {many['seconds']:.1f} s", f"{many['decrypts_per_s']:.0f} decrypts/s "
         f"({many['requests']} requests, p50 {many['p50_ms']:.1f} ms, p95 {many['p95_ms']:.1f} ms)", "", ""),
        (f"One client, {one['requests']} requests", f"p50 {one['p50_ms']:.2f} ms, p95 {one['p95_ms']:.2f} ms, "
         f"p99 {one['p99_ms']:.2f} ms", "", ""),
        ("cryptography: RSA-3072 OAEP-SHA1 decrypt, all cores", f"{floor['all_cores_ops_per_s']:.0f} ops/s", "", ""),
        ("cryptography: the same on one core", f"p50 {floor['one_core_p50_ms']:.2f} ms, "
         f"p95 {floor['one_core_p95_ms']:.2f} ms ({floor['one_core_ops_per_s']:.0f} ops/s)", "", ""),
        ("openssl speed rsa3072, one core / all cores", f"{floor['openssl_one_core_sign_per_s']:.0f} / "
         f"{floor['openssl_all_cores_sign_per_s']:.0f} sign/s", "", ""),
    ]  # fmt: skip
    for label, phase in (("one client", one), (f"{many['clients']} clients", many)):
        cpu = phase["cpu_per_request"]
        rows.append((
            f"CPU per request, {label}",
            f"gunicorn + PostgreSQL {cpu['server_and_database_x_floor_op']:.1f} x a floor operation (gunicorn "
            f"{cpu['server_ms']:.2f} ms, PostgreSQL {cpu['database_ms']:.2f} ms), client {cpu['client_ms']:.2f} ms; "
            f"machine {cpu['machine_busy']:.0%} busy, "
            f"{cpu['other_processes_cpu_s']:.1f} CPU-s by other processes", "", ""))  # fmt: skip
    for row in rows:
        print("| " + " | ".join(row) + " |")


def main() -> int:
    cpus = os.cpu_count() or 1
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2 * cpus, help=f"gunicorn workers (default {2 * cpus})")
    parser.add_argument("--clients", type=int, default=10, help="concurrent clients in phase 2 (default 10)")
    parser.add_argument("--seconds", type=float, default=10.0, help="phase 2's length, s (default 10)")
    parser.add_argument("--requests", type=int, default=1000, help="phase 1's sequential requests (default 1000)")
    parser.add_argument("--floor-ops", type=int, default=2000, help="floor operations timed on one core")
    parser.add_argument("--floor-seconds", type=float, default=5.0, help="the floor's all-core run, s (default 5)")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args()
    if not 1 <= args.workers <= 64:
        parser.error("--workers must be between 1 and 64")
    if not 1 <= args.clients <= 64:
        parser.error("--clients must be between 1 and 64")
    if not 2 <= args.seconds <= 30:
        parser.error("--seconds must be between 2 and 30 (the Hawk timestamps signed beforehand last 60 s)")
    if not 20 <= args.requests <= 10_000:
        parser.error("--requests must be between 20 and 10000")
    if not 100 <= args.floor_ops <= 20_000:
        parser.error("--floor-ops must be between 100 and 20000")
    if not 1 <= args.floor_seconds <= 60:
        parser.error("--floor-seconds must be between 1 and 60")
    # A stop by signal still drops the database and stops gunicorn (the finally blocks run on SystemExit).
    signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(1))
    print(f"Local Key Manager decrypt beside the bare RSA-3072 operation; {cpus} CPUs", flush=True)
    with tempfile.TemporaryDirectory(prefix="lkm-bench-") as folder:
        try:
            results = bench(args, Path(folder))
        except BenchError as error:
            print(f"Failed: {error}", file=sys.stderr)
            if args.json:
                args.json.write_text(json.dumps({"failed": str(error)}, indent=2) + "\n")
            return 1
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0 if all(target["met"] for target in results["targets"].values()) else 3


if __name__ == "__main__":
    sys.exit(main())
