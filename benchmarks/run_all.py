"""Run every benchmark in this folder, one after the other, and say which failed to run.

Each script prints its own measurements against its targets; copy them into RESULTS.md when they change. The scale
benchmark needs PostgreSQL and Debian's wrk (see its docstring); pass --skip scale_bench to leave it out.

    .venv/bin/python benchmarks/run_all.py [--skip NAME ...]
"""

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip", action="append", default=[], metavar="NAME", help="a script name without .py")
    args = parser.parse_args()
    failed = []
    for script in sorted(HERE.glob("*_bench.py")):
        if script.stem in args.skip:
            continue
        print(f"\n=== {script.name}", flush=True)
        if subprocess.run([sys.executable, str(script)], cwd=HERE.parent).returncode != 0:
            failed.append(script.name)
    if failed:
        print(f"\nFailed to run: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
