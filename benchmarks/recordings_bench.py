"""Recording playback speed: ``manage.py decrypt_recordings`` beside ``openssl cms -decrypt``, side by side in one run.

1. A 200 MiB recording (AES-256-CBC, written by ``openssl cms -encrypt -binary -outform DER`` with the tenant's
   certificate), decrypted by openssl and by the command: wall time ratio (target <= 0.5) and the peak memory (RSS)
   of each process.
2. The command on a 1 MiB recording: the 200 MiB run's peak minus this one's (target <= 16 MiB).
3. Throughput beside ``openssl speed -evp aes-256-cbc -decrypt`` on 1 MiB blocks (target: within 2x): the
   command end to end and past start-up, and its decryption path in-process into nothing, which the target judges.

The time target (1.) is judged on the command's decryption path (``Decryptor``: envelope, keystore unwrap, streaming
AES, into a file) timed in-process, against openssl's whole run: the command's start-up (Python, Django, the system
checks, about half a second) is a constant, shown beside it, that openssl does not pay.
4. A zip of 1,000 recordings of 1 MiB each: files per second for one command on the zip, and for two commands at
   once on two zips of half the recordings each (whether the second core helps).

Times are the median of --runs runs; peaks are each process's own maximum resident set (wait4's ru_maxrss). Every
output is compared with its plaintext. Everything happens in a temporary folder, removed at the end (--keep keeps
it): a SQLite database set up with the operator's commands (init_master_key, migrate, create_tenant,
import_certificate), with production settings and a master-key file of its own.

    .venv/bin/python benchmarks/recordings_bench.py [--size-mb 200] [--files 1000] [--runs 3] [--json FILE] [--keep]
"""

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import sys
import tempfile
import time
import zipfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from recordings_setup import (
    MIB,
    TENANT,
    BenchError,
    Run,
    Started,
    check,
    command_exists,
    encrypt,
    manage,
    measure,
    only_output,
    ours,
    portal_env,
    random_file,
    set_up,
    sha256_of,
)

MAX_SIZE_MB = 4096
MAX_FILES = 10_000
TIME_RATIO_TARGET = 0.5
MEMORY_GROWTH_TARGET_MIB = 16.0
THROUGHPUT_FACTOR_TARGET = 2.0


# The command's own decryption path (Decryptor: envelope, keystore unwrap, streaming AES) timed inside one process,
# without Python's and Django's start-up: into a file as the command writes it, and into nothing (throughput).
IN_PROCESS = """
import json, time
from portal.accounts.models import Tenant
from portal.audit.log import COMMAND
from recordings.decrypting import Decryptor
tenant = Tenant.objects.get(slug=TENANT)
times = {}
for sink in ("file", "nothing"):
    decryptor = Decryptor(tenant, by=COMMAND, source="benchmark", audit=False)
    with open(RECORDING, "rb") as stream, open(OUTPUT if sink == "file" else "/dev/null", "wb") as target:
        start = time.perf_counter()
        outcome = decryptor.decrypt("call.wav.bin", 0, stream, target.write if sink == "file" else len)
        times[sink] = time.perf_counter() - start
    assert outcome.ok, outcome.error
print(json.dumps(times))
"""


def in_process(recording: Path, output: Path, env: dict[str, str]) -> dict[str, float]:
    code = f"TENANT, RECORDING, OUTPUT = {TENANT!r}, {str(recording)!r}, {str(output)!r}\n{IN_PROCESS}"
    times: dict[str, float] = json.loads(check(manage("shell", "-c", code), env=env).strip().splitlines()[-1])
    output.unlink()
    return times


def one_recording(
    root: Path, env: dict[str, str], cert: Path, key: Path, size: int, runs: int, *, with_openssl: bool, with_ours: bool
) -> tuple[list[Run], list[Run], list[dict[str, float]]]:
    """openssl and the command on one recording of ``size`` bytes, alternating, and the command's decryption path
    in-process; outputs checked, then removed."""
    work = root / f"one-{size}"
    work.mkdir()
    plain, recording = work / "call.wav", work / "call.wav.bin"
    expected = random_file(plain, size)
    encrypt(plain, recording, cert)
    plain.unlink()
    theirs: list[Run] = []
    mine: list[Run] = []
    inside: list[dict[str, float]] = []
    for attempt in range(runs):
        if with_openssl:
            out_file = work / "openssl-out.wav"
            theirs.append(measure(["openssl", "cms", "-decrypt", "-inform", "DER", "-binary", "-in", str(recording),
                                   "-inkey", str(key), "-recip", str(cert), "-out", str(out_file)],
                                  env=env, logs=work / f"openssl-{attempt}"))  # fmt: skip
            if attempt == 0 and sha256_of(out_file) != expected:
                raise BenchError("openssl's output differs from the plaintext")
            out_file.unlink()
        if with_ours:
            out = work / f"out-{attempt}"
            mine.append(measure(ours([recording], out), env=env, logs=work / f"ours-{attempt}"))
            if attempt == 0 and sha256_of(only_output(out)) != expected:
                raise BenchError("decrypt_recordings' output differs from the plaintext")
            shutil.rmtree(out)
            if with_openssl:
                inside.append(in_process(recording, work / "in-process.wav", env))
    shutil.rmtree(work)
    return theirs, mine, inside


def openssl_speed() -> float:
    """AES-256-CBC decryption of 1 MiB blocks by openssl on this machine, MiB/s."""
    text = check(["openssl", "speed", "-evp", "aes-256-cbc", "-decrypt", "-seconds", "2", "-bytes", str(MIB)])
    found = re.search(r"^aes-256-cbc\s+([\d.]+)k\s*$", text, re.I | re.M)
    if found is None:
        raise BenchError(f"cannot read openssl speed's output: {text.strip()[-300:]}")
    return float(found.group(1)) * 1000 / MIB


def make_archives(root: Path, cert: Path, files: int) -> tuple[Path, Path, Path, dict[str, str]]:
    """A zip of ``files`` recordings of 1 MiB, and two zips of half of them each; the plaintexts' SHA-256 by name."""
    loose = root / "loose"
    loose.mkdir()
    names = [f"2026-11-28/agent-{i % 20:02d}/call-{i:05d}.wav" for i in range(files)]
    expected: dict[str, str] = {}

    def make(name: str) -> None:
        plain = loose / Path(name).name
        expected[Path(name).name] = random_file(plain, MIB)
        encrypt(plain, loose / f"{plain.name}.bin", cert)
        plain.unlink()

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        list(pool.map(make, names))
    archives = root / "all.zip", root / "first-half.zip", root / "second-half.zip"
    half = files // 2
    for archive, part in zip(archives, (names, names[:half], names[half:]), strict=True):
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED, allowZip64=True) as bundle:
            for name in part:
                bundle.write(loose / f"{Path(name).name}.bin", f"recordings/{name}.bin")
    shutil.rmtree(loose)
    return *archives, expected


def check_outputs(folders: Sequence[Path], expected: dict[str, str]) -> None:
    found = {path.name: path for folder in folders for path in folder.rglob("*") if path.is_file()}
    if set(found) != set(expected):
        raise BenchError(f"{len(expected)} decrypted files expected, {len(found)} found")
    wrong = [name for name, path in found.items() if sha256_of(path) != expected[name]]
    if wrong:
        raise BenchError(f"{len(wrong)} decrypted files differ from their plaintext, e.g. {wrong[0]}")


def archives(root: Path, env: dict[str, str], cert: Path, files: int) -> tuple[Run, float, list[Run]]:
    """One command on the whole zip; then two at once on the halves (wall time until both end)."""
    whole, first, second, expected = make_archives(root, cert, files)
    single = measure(ours([whole], root / "out-single"), env=env, logs=root / "single")
    check_outputs([root / "out-single"], expected)
    shutil.rmtree(root / "out-single")
    start = time.perf_counter()
    started = [
        Started(ours([part], root / f"out-part-{i}"), env=env, logs=root / f"part-{i}")
        for i, part in enumerate((first, second))
    ]
    parts = [process.finish() for process in started]
    both = time.perf_counter() - start
    check_outputs([root / "out-part-0", root / "out-part-1"], expected)
    return single, both, parts


def median_run(runs: Sequence[Run]) -> dict[str, float]:
    return {"wall_s": statistics.median(r.wall for r in runs), "peak_mib": statistics.median(r.peak_mib for r in runs)}


def verdict(ok: bool) -> str:
    return "yes" if ok else "NO"


def table(rows: Sequence[tuple[str, str, str, str]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def bench(root: Path, size_mb: int, files: int, runs: int) -> dict[str, object]:
    env = portal_env(root)
    cert, key = set_up(root, env)
    available = command_exists(env)
    size = size_mb * MIB
    results: dict[str, object] = {
        "machine": {
            "cpus": os.cpu_count(),
            "openssl": check(["openssl", "version"]).strip(),
            "python": platform.python_version(),
        },
        "size_mib": size_mb,
        "files": files,
        "runs": runs,
        "command_available": available,
    }
    theirs, mine, inside = one_recording(root, env, cert, key, size, runs, with_openssl=True, with_ours=available)
    big_openssl = median_run(theirs)
    results["openssl_cms_decrypt"] = big_openssl
    speed = openssl_speed()
    results["openssl_speed_mib_s"] = speed
    rows = [("measure", "value", "target", "met")]
    rows.append((f"{size_mb} MiB recording, openssl cms -decrypt",
                 f"{big_openssl['wall_s']:.2f} s, peak {big_openssl['peak_mib']:.0f} MiB", "", ""))  # fmt: skip
    if not available:
        rows.append(("decrypt_recordings", "not in this checkout", "", ""))
        rows.append(("openssl speed aes-256-cbc decrypt, 1 MiB blocks", f"{speed:.0f} MiB/s", "", ""))
        table(rows)
        return results
    big = median_run(mine)
    _, small_runs, _ = one_recording(root, env, cert, key, MIB, runs, with_openssl=False, with_ours=True)
    small = median_run(small_runs)
    ratio = big["wall_s"] / big_openssl["wall_s"]
    # Start-up (Python, Django, the system checks) is about the whole 1 MiB run; openssl's is a few milliseconds.
    ratio_past_start = (big["wall_s"] - small["wall_s"]) / big_openssl["wall_s"]
    path_to_file = statistics.median(times["file"] for times in inside)
    path_ratio = path_to_file / big_openssl["wall_s"]
    growth = big["peak_mib"] - small["peak_mib"]
    end_to_end = size_mb / big["wall_s"]
    past_start = (size_mb - 1) / max(big["wall_s"] - small["wall_s"], 1e-9)
    path_speed = size_mb / statistics.median(times["nothing"] for times in inside)
    single, both, parts = archives(root, env, cert, files)
    results.update(
        decrypt_recordings=big,
        decrypt_recordings_1mib=small,
        time_ratio=ratio,
        time_ratio_past_start_up=ratio_past_start,
        decryption_path_to_file_s=path_to_file,
        time_ratio_decryption_path=path_ratio,
        throughput_decryption_path_mib_s=path_speed,
        memory_growth_mib=growth,
        throughput_end_to_end_mib_s=end_to_end,
        throughput_past_start_up_mib_s=past_start,
        zip_one_command={"wall_s": single.wall, "peak_mib": single.peak_mib, "files_per_s": files / single.wall},
        zip_two_commands={
            "wall_s": both,
            "peak_mib": [p.peak_mib for p in parts],
            "files_per_s": files / both,
            "speed_up": single.wall / both,
        },
        summary_line=single.stdout.strip().splitlines()[-1] if single.stdout.strip() else "",
        targets={
            "time_ratio": path_ratio <= TIME_RATIO_TARGET,
            "memory_growth": growth <= MEMORY_GROWTH_TARGET_MIB,
            "throughput": path_speed * THROUGHPUT_FACTOR_TARGET >= speed,
        },
    )
    rows += [
        (f"{size_mb} MiB recording, decrypt_recordings",
         f"{big['wall_s']:.2f} s, peak {big['peak_mib']:.0f} MiB", "", ""),
        ("  time, decrypt_recordings / openssl", f"{ratio:.2f}", "", ""),
        ("  the same, less the command's start-up", f"{ratio_past_start:.2f}", "", ""),
        ("  decryption path into a file, in-process", f"{path_to_file:.2f} s, {path_ratio:.2f} of openssl's",
         f"<= {TIME_RATIO_TARGET}", verdict(path_ratio <= TIME_RATIO_TARGET)),
        ("1 MiB recording, decrypt_recordings", f"{small['wall_s']:.2f} s, peak {small['peak_mib']:.0f} MiB", "", ""),
        (f"  peak memory, {size_mb} MiB minus 1 MiB", f"{growth:.1f} MiB", f"<= {MEMORY_GROWTH_TARGET_MIB:.0f} MiB",
         verdict(growth <= MEMORY_GROWTH_TARGET_MIB)),
        ("openssl speed aes-256-cbc decrypt, 1 MiB blocks", f"{speed:.0f} MiB/s", "", ""),
        ("decrypt_recordings, end to end", f"{end_to_end:.0f} MiB/s", "", ""),
        ("decrypt_recordings, past start-up (writes and syncs its file)", f"{past_start:.0f} MiB/s", "", ""),
        ("decryption path into nothing, in-process", f"{path_speed:.0f} MiB/s",
         f">= {speed / THROUGHPUT_FACTOR_TARGET:.0f} MiB/s", verdict(path_speed * THROUGHPUT_FACTOR_TARGET >= speed)),
        (f"zip of {files:,} x 1 MiB, one command", f"{files / single.wall:.0f} files/s ({single.wall:.2f} s, "
         f"peak {single.peak_mib:.0f} MiB)", "", ""),
        ("  two commands at once, half each", f"{files / both:.0f} files/s ({both:.2f} s, "
         f"x{single.wall / both:.2f})", "", ""),
    ]  # fmt: skip
    table(rows)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=int, default=200, help="the large recording, MiB (default 200)")
    parser.add_argument("--files", type=int, default=1000, help="recordings of 1 MiB in the zip (default 1000)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each single-recording measure (default 3)")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    if not 2 <= args.size_mb <= MAX_SIZE_MB:
        parser.error(f"--size-mb must be between 2 and {MAX_SIZE_MB}")
    if not 2 <= args.files <= MAX_FILES:
        parser.error(f"--files must be between 2 and {MAX_FILES}")
    if not 1 <= args.runs <= 10:
        parser.error("--runs must be between 1 and 10")
    root = Path(tempfile.mkdtemp(prefix="recordings-bench-"))
    # The recording, its two outputs, and the zips (whole and halves) with their outputs.
    needed = (3 * args.size_mb + 4 * args.files) * MIB
    try:
        if shutil.disk_usage(root).free < needed * 1.2:
            raise BenchError(f"{needed / MIB / 1024:.1f} GiB of free space needed in {root.parent}")
        print(f"Recordings: decrypt_recordings beside openssl; {os.cpu_count()} CPUs; in {root}", flush=True)
        results = bench(root, args.size_mb, args.files, args.runs)
    except BenchError as error:
        print(f"Failed: {error}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"Kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0 if results["command_available"] else 1


if __name__ == "__main__":
    sys.exit(main())
