"""Timings of midnn.exact: enumeration over 2^{n_0} inputs and log-determinants at large n.

Usage: ``python benchmarks/bench_exact.py [--samples 1000] [--sizes 1000 4000] [--threads N]``.
Prints one table row per case (wall-clock seconds, best of ``--repeat`` runs).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from midnn import exact
from midnn.activations import Linear, ReLU, Sign, Tanh


def best_time(fn, repeat: int) -> tuple[float, object]:
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n0", type=int, nargs="+", default=[12, 16, 20])
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 4000])
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)

    print(f"torch threads: {torch.get_num_threads()}")
    print(f"\nbinary_enumeration, {args.samples} Monte Carlo samples, network n0 -> n0 -> n0")
    print(f"{'n0':>4} {'output':>8} {'seconds':>9} {'I/n0':>10} {'SE':>9}")
    for n0 in args.n0:
        W1 = rng.standard_normal((n0, n0)) / np.sqrt(n0)
        W2 = rng.standard_normal((n0, n0)) / np.sqrt(n0)
        for out in (Linear(0.1), ReLU(0.1), Sign(0.1)):
            acts = [Tanh(), out]
            sec, res = best_time(lambda acts=acts, W1=W1, W2=W2: exact.binary_enumeration(
                [W1, W2], acts, n_samples=args.samples, seed=0), args.repeat)
            print(f"{n0:>4} {type(out).__name__:>8} {sec:>9.2f} {res.mutual_information:>10.5f} "
                  f"{res.mutual_information_se:>9.2e}")

    print("\nlinear_gaussian, one layer n x n, noise 0.01 (log-det + MMSE)")
    print(f"{'n':>6} {'seconds':>9} {'H/n0':>10} {'I/n0':>10} {'mmse':>10}")
    for n in args.sizes:
        W = rng.standard_normal((n, n)) / np.sqrt(n)
        sec, res = best_time(lambda W=W: exact.linear_gaussian([W], [0.01]), args.repeat)
        print(f"{n:>6} {sec:>9.2f} {res.entropy[0]:>10.6f} {res.mutual_information[0]:>10.6f} "
              f"{res.mmse[0]:>10.6f}")


if __name__ == "__main__":
    main()
