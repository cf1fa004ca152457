"""Paper-scale notebook 05 wall time: its 10 training runs serially against the sweep runner.

Run: ``python benchmarks/bench_notebook05.py`` (or ``make bench``; about 15 min on 2 cores).
The workload is what ``make figures PROFILE=full`` computes for notebook 05: the 10 runs
``midnn.experiments.generative_run(family, seed=...)`` (family in {relu, hardtanh}, seeds
0-4; 20,000 samples, 100 epochs, I of 4 USV layers every 2 epochs), each an independent
task. Two ways are timed, in one process, one after the other:

* ``serial``: ``sweep(..., client="serial")``, a plain loop in this process (torch with all
  its intra-op threads);
* ``runner``: ``sweep(...)`` on an embedded LocalCluster of one single-threaded worker
  process per CPU, started by the call (its start-up is included).

The table gives the wall time of each, the per-run times (min-max), and whether the two
produce the same records (every checkpoint's I(X;T_l), I(Y;T_l), H and MMSE): torch's
reductions may order their sums differently with one thread and with several, so equality
is reported, not assumed. ``--epochs`` and ``--n-samples`` give a shorter proxy.
"""

from __future__ import annotations

import argparse
import functools
import os
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from midnn import experiments as E
from midnn.sweeps import sweep

GRID = {"family": ["relu", "hardtanh"], "seed": [0, 1, 2, 3, 4]}
QUANTITIES = ("mutual_information_x", "mutual_information", "entropy", "mmse")


def _timed(client, outdir: Path, epochs: int, n_samples: int):
    task = functools.partial(E.generative_run, outdir=str(outdir), epochs=epochs,
                             n_samples=n_samples)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # distributed's port/thread notices
        table = sweep(task, GRID, client=client, batch_size=1, progress=False,
                      name="bench_notebook05")
    wall = time.perf_counter() - t0
    if table.error.values.any():
        raise RuntimeError(f"failed runs: {table.error.values}")
    return wall, table


def _same_records(a: Path, b: Path) -> bool:
    ra, rb = E.load_runs(a, "*_seed*.jsonl"), E.load_runs(b, "*_seed*.jsonl")
    return ra.keys() == rb.keys() and all(
        np.array_equal(ra[k].checkpoints[q], rb[k].checkpoints[q])
        for k in ra for q in QUANTITIES)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--n-samples", type=int, default=20000)
    args = p.parse_args(argv)
    scale = ("paper scale" if (args.epochs, args.n_samples) == (100, 20000)
             else "short proxy, not paper scale")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"notebook 05, {scale}: 10 runs ({args.n_samples} samples, {args.epochs} epochs); "
          f"{os.cpu_count()} CPU(s), load average {load:.2f} at start")
    print(f"{'mode':8s} {'wall s':>8s} {'per run s (min-max)':>20s} {'sum of runs s':>14s}")
    tmp = Path(tempfile.mkdtemp(prefix="bench_notebook05_"))
    walls = {}
    for mode, client in (("serial", "serial"), ("runner", None)):
        out = tmp / mode
        wall, table = _timed(client, out, args.epochs, args.n_samples)
        walls[mode] = wall
        t = table.time.values
        print(f"{mode:8s} {wall:8.1f} {t.min():9.1f} - {t.max():8.1f} {t.sum():14.1f}",
              flush=True)
    same = _same_records(tmp / "serial", tmp / "runner")
    print(f"speed-up of the runner: {walls['serial'] / walls['runner']:.2f}x; records "
          f"{'bitwise equal' if same else 'differ in the last bits (thread count)'}")


if __name__ == "__main__":
    main()
