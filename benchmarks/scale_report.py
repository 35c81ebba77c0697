"""The scale benchmark's table and targets."""

from typing import Any

PAGE_RATIO_TARGET = 3.0  # a page's p95 under load, as a multiple of the floor's
AFTER_WRITE_TARGET = 3.0  # a page's first request after a write, as a multiple of its warm request
FLOOR_TO_WSGI_TARGET = 8.0  # the floor's p95, as a multiple of the do-nothing WSGI application's


def report(results: dict[str, Any]) -> list[str]:
    """Print the table; return the targets missed."""
    floor, pages, config = results["floor"], results["pages"], results["config"]
    missed = []
    print()
    print(
        f"Data: {config['tenants']:,} tenants, {config['certificates']:,} certificates, {config['audit']:,} audit "
        f"entries. {config['writes_per_second']} background writes a second during the wrk runs. Machine: "
        f"{config['cpus']} CPUs, load average {config['load_average_start'][0]:.2f} at the start, "
        f"{config['load_average_end'][0]:.2f} / {config['load_average_end'][1]:.2f} / "
        f"{config['load_average_end'][2]:.2f} at the end."
    )
    print(
        f"gunicorn {config['workers']} sync workers; wrk 1 thread, {config['connections']} connections, up to "
        f"{config['requests']} requests or {config['seconds']} s per page after a warm-up; {config['trials']} "
        "sequential requests and write-then-request trials per page, background writer stopped."
    )
    print()
    floor_met = floor["ratio_to_wsgi"] <= FLOOR_TO_WSGI_TARGET and floor["non_200"] == 0
    if not floor_met:
        missed.append(f"floor: p95 {floor['ratio_to_wsgi']:.2f} x WSGI (target <= {FLOOR_TO_WSGI_TARGET})")
    print(
        f"Floor (tenant home `{floor['path']}`): p95 {floor['ratio_to_wsgi']:.2f} x the do-nothing WSGI app "
        f"(target <= {FLOOR_TO_WSGI_TARGET:g}: {'met' if floor_met else '**not met**'}); p50 {floor['p50_ms']} ms, "
        f"p95 {floor['p95_ms']} ms; WSGI p50 {floor['wsgi_p50_ms']} ms, p95 {floor['wsgi_p95_ms']} ms; "
        f"warm {floor['warm_ms']} ms, first after a write {floor['first_after_write_ms']} ms"
    )
    print()
    print(
        "| Page | p95 / floor p95 | first after write / warm | met | p50 | p95 | warm | first after write | "
        "writes during | non-200 |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, r in pages.items():
        after_ratio = r["first_after_write_ms"] / max(r["warm_ms"], 0.001)
        problems = []
        if r["ratio_p95"] > PAGE_RATIO_TARGET:
            problems.append(f"p95 {r['ratio_p95']:.2f} x floor (target <= {PAGE_RATIO_TARGET:g})")
        if after_ratio > AFTER_WRITE_TARGET:
            problems.append(f"first after write {after_ratio:.2f} x warm (target <= {AFTER_WRITE_TARGET:g})")
        if r["non_200"] or r["sequential_non_200"] or r["socket_errors"]:
            problems.append("answers other than 200 or socket errors")
        missed.extend(f"{name}: {problem}" for problem in problems)
        print(
            f"| {name} | {r['ratio_p95']:.2f} | {after_ratio:.2f} | {'met' if not problems else '**not met**'} | "
            f"{r['p50_ms']} ms | {r['p95_ms']} ms | {r['warm_ms']} ms | {r['first_after_write_ms']} ms | "
            f"{r.get('writes_during', 0)} | {r['non_200'] + r['sequential_non_200']} |"
        )
    writer = results["writer"]
    if writer["errors"]:
        missed.append(f"writer: {writer['errors']} failed writes")
    print()
    print(
        f"Writes: {writer['writes']} in the background ({writer.get('kinds', {})}), write p50 "
        f"{writer.get('write_ms_p50')} ms, p95 {writer.get('write_ms_p95')} ms; {writer['sequential_writes']} "
        f"before requests; failed: {writer['errors']}"
    )
    for sample in writer.get("error_samples", []):
        print(f"  failed write: {sample}")
    if results.get("verify_audit_seconds") is not None:
        print(f"verify_audit over {config['audit']:,} entries: {results['verify_audit_seconds']:.1f} s")
    return missed
