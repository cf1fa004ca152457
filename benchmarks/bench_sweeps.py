"""Sweep runner benchmark: overhead per point, and throughput of a replica phase diagram.

Run: ``python benchmarks/bench_sweeps.py`` (or ``make bench``). Prints two tables:

1. the runner's overhead per point: a trivial task (a dict of one float) over 400 points,
   as a plain loop, as a serial sweep, and on a LocalCluster of 2 single-threaded worker
   processes (already running: the cluster's start is reported on its own row), with a
   Dask task per point and in batches (the default);
2. the throughput of the paper's phase diagram, Binary(0.5) -> Linear(noise) with
   Marchenko-Pastur(alpha) weights on a 20 x 20 (alpha, noise) grid (``replica_task``),
   as a plain loop over ``replica``, serially, and on 2 workers (warm, and with an
   embedded cluster started by the call), then with a per-point store and read back from
   it; and a heavier 10 x 10 grid of two-layer ReLU chains. Every sweep's values are
   checked bitwise against the serial sweep.

The best of ``REPEAT`` runs is reported for the warm rows. On a 2-core machine the parent
process (scheduler, client, assembly) shares the cores with the 2 workers.
"""

from __future__ import annotations

import itertools
import logging
import os
import tempfile
import time
import warnings

import numpy as np

from midnn.sweeps import replica_task, sweep

REPEAT = 3
N_TRIVIAL = 400
PHASE_GRID = {"alpha": np.round(np.linspace(0.05, 0.6, 20), 6).tolist(),
              "noise": np.logspace(-4, 0, 20).tolist(),
              "prior": ["binary"]}
HEAVY_GRID = {"alpha": np.round(np.linspace(0.5, 2.0, 10), 6).tolist(),
              "noise": np.logspace(-3, -1, 10).tolist(),
              "activation": ["relu"], "depth": [2]}


def trivial(x):
    return {"y": 0.5 * x}


def best(fn, repeat=REPEAT):
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def same_values(a, b) -> bool:
    """Every output of ``a`` bitwise equal in ``b`` (``time`` and the attrs aside)."""
    names = [n for n in a.data_vars if n != "time"]
    return all(a[n].dtype == b[n].dtype and
               (a[n].values.tobytes() == b[n].values.tobytes() if a[n].dtype.kind in "biufc"
                else bool((a[n] == b[n]).all())) for n in names)


def plain_loop(grid):
    """What a notebook does without the runner: one ``replica`` call per point."""
    return [replica_task(**dict(zip(grid, combo, strict=True)))
            for combo in itertools.product(*grid.values())]


def main() -> None:
    from distributed import Client, LocalCluster

    n_cpu = os.cpu_count()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"sweep runner on {n_cpu} CPU(s) (load average {load:.1f} at the start); "
          f"LocalCluster of 2 worker processes, 1 thread each")
    warnings.simplefilter("ignore")  # a phase diagram has points that warn; none is timed out

    rows = []
    xs = list(range(N_TRIVIAL))
    dt, _ = best(lambda: [trivial(x) for x in xs])
    rows.append(("plain loop", dt))
    dt, _ = best(lambda: sweep(trivial, {"x": xs}, client="serial", progress=False))
    rows.append(("sweep, serial", dt))
    t = time.perf_counter()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=logging.ERROR,
                      scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}) as cluster, \
            Client(cluster, set_as_default=False) as client:
        start = time.perf_counter() - t
        t = time.perf_counter()
        sweep(trivial, {"x": [0]}, client=client, progress=False)  # workers import midnn
        first = time.perf_counter() - t
        dt, _ = best(lambda: sweep(trivial, {"x": xs}, client=client, progress=False,
                                   batch_size=1))
        rows.append(("sweep, 2 workers, a Dask task per point", dt))
        dt, _ = best(lambda: sweep(trivial, {"x": xs}, client=client, progress=False))
        rows.append(("sweep, 2 workers, batches (default)", dt))
        with tempfile.TemporaryDirectory() as store:
            dt, _ = best(lambda: sweep(trivial, {"x": xs}, client=client, store=store,
                                       resume=False, progress=False))
            rows.append(("sweep, 2 workers, store written", dt))
            dt, _ = best(lambda: sweep(trivial, {"x": xs}, store=store, progress=False))
            rows.append(("sweep, all read back from the store", dt))

        print(f"\n1. overhead per point: trivial task, {N_TRIVIAL} points")
        print(f"{'mode':40s} {'total':>9s} {'per point':>11s}")
        for label, dt in rows:
            print(f"{label:40s} {dt:7.3f} s {dt / N_TRIVIAL * 1e3:8.3f} ms")
        print(f"{'LocalCluster start (2 workers)':40s} {start:7.3f} s")
        print(f"{'first point (workers import midnn)':40s} {first:7.3f} s")

        rows = []
        n = int(np.prod([len(v) for v in PHASE_GRID.values()]))
        dt, _ = best(lambda: plain_loop(PHASE_GRID))
        rows.append(("plain loop over replica()", dt, None))
        dt, ref = best(lambda: sweep(replica_task, PHASE_GRID, client="serial", progress=False))
        rows.append(("sweep, serial", dt, True))
        dt, ds = best(lambda: sweep(replica_task, PHASE_GRID, client=client, progress=False,
                                    batch_size=1))
        rows.append(("sweep, 2 workers, a Dask task per point", dt, same_values(ref, ds)))
        dt, ds = best(lambda: sweep(replica_task, PHASE_GRID, client=client, progress=False))
        rows.append(("sweep, 2 workers, batches (default)", dt, same_values(ref, ds)))
        with tempfile.TemporaryDirectory() as store:
            dt, ds = best(lambda: sweep(replica_task, PHASE_GRID, client=client, store=store,
                                        resume=False, progress=False))
            rows.append(("sweep, 2 workers, store written", dt, same_values(ref, ds)))
            dt, ds = best(lambda: sweep(replica_task, PHASE_GRID, store=store, progress=False))
            rows.append(("sweep, all read back from the store", dt, same_values(ref, ds)))
        heavy_n = int(np.prod([len(v) for v in HEAVY_GRID.values()]))
        heavy = []
        dt, _ = best(lambda: plain_loop(HEAVY_GRID), repeat=2)
        heavy.append(("plain loop over replica()", dt, None))
        dt, href = best(lambda: sweep(replica_task, HEAVY_GRID, client="serial",
                                      progress=False), repeat=2)
        heavy.append(("sweep, serial", dt, True))
        dt, ds = best(lambda: sweep(replica_task, HEAVY_GRID, client=client, progress=False),
                      repeat=2)
        heavy.append(("sweep, 2 workers, batches (default)", dt, same_values(href, ds)))

    # an embedded cluster, started and closed by the call (what a notebook gets by default)
    t = time.perf_counter()
    ds = sweep(replica_task, PHASE_GRID, n_workers=2, progress=False)
    rows.append(("sweep, embedded LocalCluster(2) incl. start", time.perf_counter() - t,
                 same_values(ref, ds)))

    print(f"\n2. phase diagram: Binary(0.5) -> Linear(noise), MP(alpha), "
          f"{len(PHASE_GRID['alpha'])} x {len(PHASE_GRID['noise'])} = {n} models")
    print(f"{'mode':44s} {'total':>9s} {'models/s':>9s} {'per model':>10s}  bitwise")
    for label, dt, same in rows:
        print(f"{label:44s} {dt:7.3f} s {n / dt:9.0f} {dt / n * 1e3:7.2f} ms  "
              f"{'' if same is None else same}")
    mmse = ref.mmse.isel(prior=0, layer=0)
    jumps = int(((mmse.values[:-1] > 0.3) & (mmse.values[1:] < 1e-3)).sum())
    print(f"   (first-order transition: the MMSE jumps from > 0.3 to < 1e-3 between adjacent "
          f"alphas at {jumps} of {len(PHASE_GRID['noise'])} noise levels; "
          f"{int((ref.error != '').sum())} failed points)")
    print(f"\n   heavier: Gaussian -> ReLU(0) -> ReLU(noise), MP(alpha), "
          f"{len(HEAVY_GRID['alpha'])} x {len(HEAVY_GRID['noise'])} = {heavy_n} models (best of 2)")
    for label, dt, same in heavy:
        print(f"{label:44s} {dt:7.3f} s {heavy_n / dt:9.0f} {dt / heavy_n * 1e3:7.2f} ms  "
              f"{'' if same is None else same}")


if __name__ == "__main__":  # the workers are spawned processes: they re-import this file
    main()
