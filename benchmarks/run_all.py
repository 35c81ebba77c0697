"""Run every benchmark in this folder, one after the other, and say which failed to run.

Each script prints its own measurements against its targets; copy them into RESULTS.md when they change. The scale
benchmark needs PostgreSQL and Debian's wrk, the Local Key Manager's PostgreSQL (see their docstrings); pass
--skip scale_bench or --skip lkm_bench to leave one out. A script that exits 3 ran and missed a target; that is
reported apart from the scripts that failed to run.

    .venv/bin/python benchmarks/run_all.py [--skip NAME ...]
"""

import argparse
import subprocess
import sys
from pathlib import Path

from common import MISSED_A_TARGET

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip", action="append", default=[], metavar="NAME", help="a script name without .py")
    args = parser.parse_args()
    failed, missed = [], []
    for script in sorted(HERE.glob("*_bench.py")):
        if script.stem in args.skip:
            continue
        print(f"\n=== {script.name}", flush=True)
        status = subprocess.run([sys.executable, str(script)], cwd=HERE.parent).returncode
        if status == MISSED_A_TARGET:
            missed.append(script.name)
        elif status != 0:
            failed.append(script.name)
    if missed:
        print(f"\nMissed a target: {', '.join(missed)}")
    if failed:
        print(f"\nFailed to run: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
