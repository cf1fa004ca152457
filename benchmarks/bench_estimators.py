"""Timings of the non-parametric estimators of :mod:`midnn.estimators`.

Usage::

    python benchmarks/bench_estimators.py            # KDE, binning, k-NN table
    python benchmarks/bench_estimators.py --large    # + KDE on 20,000 x 1,000 (memory check)
    python benchmarks/bench_estimators.py --figure2  # + one point of notebook 03 at paper scale
    python benchmarks/bench_estimators.py --device cuda

Samples are ReLU(W x) with x ~ N(0, I), as in a random hidden layer; the KDE noise is the
paper's 1e-5 (timings do not depend on it).  Times are the best of ``--repeat`` runs.  The
KSG rows compare the kd-tree and brute-force neighbour searches (the same estimate) on a
noisy ReLU layer of the benchmark of notebook 03 (at d_x = d_y = 1000 only brute force: the
kd-trees took 217 s there).
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import torch

from midnn import estimator_benchmark as B
from midnn import estimators as E


def layer(n: int, d: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, min(d, 100)))
    w = rng.standard_normal((x.shape[1], d)) / np.sqrt(x.shape[1])
    return np.maximum(x @ w, 0.0)


def best_time(fn, repeat: int) -> tuple[float, float]:
    best, value = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - t0)
    return best, value


def row(name: str, n: int, d: int, seconds: float, value: float) -> None:
    print(f"| {name:<28} | {n:>6} | {d:>5} | {seconds:>9.3f} | {value:>10.4f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default=None, help="torch device for KDE (default: auto)")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--large", action="store_true", help="also KDE on N=20000, d=1000")
    ap.add_argument("--figure2", action="store_true",
                    help="also one Figure-2 point of notebook 03 (n = 1000, N = 10,000)")
    args = ap.parse_args()

    dev = E._resolve_device(args.device)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, KDE device {dev}")
    print("| estimator                    |      N |     d |  time (s) | value (nats) |")
    print("|------------------------------|--------|-------|-----------|------------|")

    for n in (2000, 5000):
        for d in (100, 1000):
            t = layer(n, d)
            sec, b = best_time(lambda t=t: E.kde_bounds(t, 1e-5, device=dev), args.repeat)
            row("KDE bounds (both), I upper", n, d, sec, b.i_upper)
    noises = (1e-5, 1e-3, 1e-1)
    for n in (2000, 5000):
        t = layer(n, 1000)
        sec, bs = best_time(lambda t=t: E.kde_bounds_many(t, noises, device=dev), args.repeat)
        row("KDE, 3 variances, one pass", n, 1000, sec, bs[-1].i_upper)
        sec, bs = best_time(lambda t=t: [E.kde_bounds(t, s, device=dev) for s in noises],
                            args.repeat)
        row("KDE, 3 variances, 3 calls", n, 1000, sec, bs[-1].i_upper)
    for n in (2000, 5000):
        for d in (100, 1000):
            t = layer(n, d)
            sec, h = best_time(lambda t=t: E.Binning(n_bins=30).entropy(t), args.repeat)
            row("binning, 30 bins, H", n, d, sec, h)
    for n in (2000, 5000):
        for d in (2, 10, 30):
            rng = np.random.default_rng(1)
            w = rng.standard_normal((d, d)) / np.sqrt(d)
            x = rng.standard_normal((n, d))
            y = x @ w + rng.standard_normal((n, d))
            sec, h = best_time(lambda y=y: E.KLEntropy(k=3).entropy(y), args.repeat)
            row("k-NN KL entropy, k=3", n, d, sec, h)
            sec, mi = best_time(lambda x=x, y=y: E.KSG(k=3).estimate(x, y), args.repeat)
            row("KSG MI, k=3 (d_x = d_y = d)", n, d, sec, mi)

    for n, d, algs in ((10_000, 2, ("kd_tree", "brute")), (10_000, 8, ("kd_tree", "brute")),
                       (3000, 30, ("kd_tree", "brute")), (3000, 1000, ("brute",))):
        x, y = B.benchmark_task("relu", d).sampler().sample(n, 0)
        for alg in algs:
            sec, mi = best_time(lambda x=x, y=y, alg=alg: E.KSG(k=3, algorithm=alg).estimate(x, y),
                                1 if d >= 1000 else args.repeat)
            row(f"KSG k=3, {alg} (d_x = d_y)", n, d, sec, mi)

    if args.figure2:
        t0 = time.perf_counter()
        p = B.figure2_point("relu", 1.0, 1000, 10_000)
        print(f"one Figure-2 point (ReLU-ReLU, sigma = 1, n = 1000, N = 10,000): "
              f"{time.perf_counter() - t0:.1f} s; replica H(T_2)/n_0 = "
              f"{p['replica_entropy'][-1]:.4f}")

    if args.large:
        t = layer(20_000, 1000)
        t0 = time.perf_counter()
        b = E.kde_bounds(t, 1e-5, device=dev)
        row("KDE bounds (both), I upper", 20_000, 1000, time.perf_counter() - t0, b.i_upper)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS of the process: {rss:.0f} MiB (input alone: "
              f"{t.nbytes / 2**20:.0f} MiB)")


if __name__ == "__main__":
    main()
