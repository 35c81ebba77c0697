"""The scale benchmark's table and targets."""

from typing import Any

PAGE_RATIO_TARGET = 3.0  # a page's p95 under load, as a multiple of the floor's
AFTER_WRITE_TARGET = 3.0  # a page's first request after a write, as a multiple of its warm request
FLOOR_TO_WSGI_TARGET = 8.0  # the floor's p95, as a multiple of the do-nothing WSGI application's


def after_write_ratio(page: dict[str, Any], key: str = "first_after_write_ms") -> float:
    return float(page[key]) / max(page["warm_ms"], 0.001)


def report_configuration(floor: dict[str, Any], pages: dict[str, Any]) -> list[str]:
    """Print one configuration's floor and table; return the targets it missed."""
    missed = []
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
        after_ratio = after_write_ratio(r)
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
    return missed


def compare(configurations: dict[str, Any]) -> None:
    """The configurations side by side, values in the order of the header, the last as a multiple of the first."""
    names = list(configurations)
    first = configurations[names[0]]
    print()
    print(f"Side by side ({' / '.join(names)}); last / first: {names[-1]} as a multiple of {names[0]}")
    print()
    print(
        "| Page | p95 / floor p95 | first after write / warm | second after write / warm | p95 (ms) | "
        "first after write (ms) | p95 / floor, last / first | first after write, last / first |"
    )
    print("|---|---|---|---|---|---|---|---|")

    def joined(values: list[float]) -> str:
        return " / ".join(f"{value:.2f}" for value in values)

    measured = [configurations[name] for name in names]
    floor_row = ["floor", *[{**m["floor"], "ratio_p95": 1.0} for m in measured]]
    rows = [floor_row, *([page, *[m["pages"][page] for m in measured]] for page in first["pages"])]
    for page, *figures in rows:
        print(
            f"| {page} | {joined([f['ratio_p95'] for f in figures])} | "
            f"{joined([after_write_ratio(f) for f in figures])} | "
            f"{joined([after_write_ratio(f, 'second_after_write_ms') for f in figures])} | "
            f"{joined([f['p95_ms'] for f in figures])} | {joined([f['first_after_write_ms'] for f in figures])} | "
            f"{figures[-1]['ratio_p95'] / max(figures[0]['ratio_p95'], 0.001):.2f} | "
            f"{figures[-1]['first_after_write_ms'] / max(figures[0]['first_after_write_ms'], 0.001):.2f} |"
        )
    print(
        f"\nFloor / WSGI p95: {joined([m['floor']['ratio_to_wsgi'] for m in measured])}; WSGI p95 (ms): "
        f"{joined([m['floor']['wsgi_p95_ms'] for m in measured])}; floor p95 (ms): "
        f"{joined([m['floor']['p95_ms'] for m in measured])}"
    )


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
        f"gunicorn {config['workers']} sync workers a node; wrk 1 thread a node, {config['connections']} connections, "
        f"up to {config['requests']} requests or {config['seconds']} s per page after a warm-up; {config['trials']} "
        "sequential requests and write-then-request trials per page, background writer stopped."
    )
    configurations = results.get("configurations") or {"one_node": {"floor": floor, "pages": pages}}
    several = len(configurations) > 1
    for name, measured in configurations.items():
        if several:
            described = measured["config"]
            print()
            print(
                f"### {described['label']}: {described['nodes']} gunicorn x {described['workers_per_node']} workers, "
                f"cache {described['cache']}"
            )
        found = report_configuration(measured["floor"], measured["pages"])
        missed.extend(f"{name}: {line}" if several else line for line in found)
    if several:
        compare(configurations)
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
