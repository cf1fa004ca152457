#!/usr/bin/env python
"""Run every ``benchmarks/bench_*.py`` in its own process and print its table.

Usage: ``python benchmarks/run_all.py [PATTERN ...]`` runs the benchmarks whose file name
contains one of the patterns (all of them by default); ``--list`` only lists them.
Each benchmark runs with the repository root as cwd and the same interpreter; its output
is streamed as it comes. Exit status 1 if any benchmark fails, 0 otherwise (also when there
is no benchmark yet).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def discover(patterns: list[str]) -> list[Path]:
    benches = sorted(HERE.glob("bench_*.py"))
    if patterns:
        benches = [b for b in benches if any(p in b.name for p in patterns)]
    return benches


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("patterns", nargs="*", help="substrings of benchmark file names")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)

    benches = discover(args.patterns)
    if args.list:
        print("\n".join(str(b.relative_to(ROOT)) for b in benches))
        return 0
    if not benches:
        print("run_all: no benchmarks/bench_*.py" + (" matching " + " ".join(args.patterns)
                                                      if args.patterns else ""))
        return 0

    print(f"python {platform.python_version()} on {platform.machine()}, "
          f"{os.cpu_count()} CPU(s), {platform.platform(terse=True)}", flush=True)
    env = dict(os.environ, MPLBACKEND=os.environ.get("MPLBACKEND", "Agg"))
    results: list[tuple[str, int, float]] = []
    for bench in benches:
        name = str(bench.relative_to(ROOT))
        print(f"\n=== {name} ===", flush=True)
        start = time.perf_counter()
        rc = subprocess.run([sys.executable, str(bench)], cwd=ROOT, env=env).returncode
        results.append((name, rc, time.perf_counter() - start))

    width = max(len(name) for name, _, _ in results)
    print(f"\n{'benchmark':<{width}}  {'status':>6}  {'wall (s)':>8}")
    for name, rc, seconds in results:
        print(f"{name:<{width}}  {'ok' if rc == 0 else f'rc={rc}':>6}  {seconds:8.1f}")
    return 1 if any(rc for _, rc, _ in results) else 0


if __name__ == "__main__":
    sys.exit(main())
