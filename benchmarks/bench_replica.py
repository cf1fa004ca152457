"""Replica engine benchmark: time per `replica(model)` call (eigendecompositions excluded).

Run: ``python benchmarks/bench_replica.py`` (or ``make bench``). Prints one table row per
configuration with the wall time per call (best of 5; the grid: median, 90th percentile and
maximum over 30 random models, each the best of 3; the trajectories: one pass), the
iterations and the check of the flagship against its published value, then the effect of
doubling the quadrature order and tightening the tolerance on the flagship entropy.
"""

from __future__ import annotations

import json
import pathlib
import sys
import time
import warnings

import numpy as np

from midnn import Layer, Model, replica, replica_trajectory
from midnn.activations import HardTanh, Linear, ReLU, Sign
from midnn.precision import using
from midnn.priors import Binary, GaussBernoulli, Gaussian
from midnn.spectra import Empirical, MarchenkoPastur

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from model_grid import random_model  # noqa: E402 -- the test fixture's grid


def timed(fn, repeat=1):
    best = np.inf
    out = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def flagship():
    rs = np.random.RandomState(42)
    W1 = rs.randn(1500, 1000) / np.sqrt(1000)
    W2 = rs.randn(1125, 1500) / np.sqrt(1500)
    return Model(Gaussian(0, 1), [Layer(Empirical.from_matrix(W1), HardTanh(0.0)),
                                  Layer(Empirical.from_matrix(W2), ReLU(1e-5))])


def grid_models(n: int) -> list[Model]:
    """``n`` random models drawn as in the property test of tests/test_replica.py."""
    rng = np.random.default_rng(2024)
    return [random_model(rng) for _ in range(n)]


def grid_times(n: int) -> np.ndarray:
    """Wall time of `replica` on the ``n`` random models of :func:`grid_models`."""
    times = []
    for model in grid_models(n):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # reported non-convergence is timed all the same
            times.append(timed(lambda m=model: replica(m), repeat=3)[0])
    return np.array(times)


def _values(res) -> np.ndarray:
    return np.concatenate([res.entropy, res.mutual_information, res.mmse])


def main() -> None:
    rows = []
    fl = flagship()
    published = json.loads((ROOT / "tests" / "data" / "published_values.json").read_text()
                           )["cases"][10]["entropy"]
    configs = {
        "1 layer Gaussian->ReLU(1e-2), MP 2": Model(Gaussian(), [Layer(MarchenkoPastur(2.0),
                                                                       ReLU(0.01))]),
        "1 layer GaussBernoulli->Sign, MP 2": Model(GaussBernoulli(0.2), [
            Layer(MarchenkoPastur(2.0), Sign(0.01))]),
        "1 layer Binary->Linear, MP 2": Model(Binary(), [Layer(MarchenkoPastur(2.0),
                                                               Linear(0.01))]),
        "3 layers linear, MP": Model(Gaussian(), [Layer(MarchenkoPastur(a), Linear(nz)) for a, nz
                                                  in ((1.5, 0.0), (0.8, 0.0), (0.5, 1e-3))]),
        "2 layers ReLU(0)->Linear(1e-3), MP": Model(Gaussian(), [
            Layer(MarchenkoPastur(1.2), ReLU(0.0)), Layer(MarchenkoPastur(0.8), Linear(1e-3))]),
        "flagship HardTanh(0)->ReLU(1e-5), empirical": fl,
    }
    for name, model in configs.items():
        dt, res = timed(lambda m=model: replica(m), repeat=5)
        extra = ""
        if name.startswith("flagship") and published is not None:
            extra = f"|H - published| = {abs(res.entropy[-1] - published):.1e}"
        rows.append((name, dt, int(np.sum(res.iterations)), res.converged, extra))
    # trajectory of 200 slightly perturbed 3-layer (linear) models, warm started
    rng = np.random.default_rng(0)
    base = [np.sort(MarchenkoPastur(a).sample_eigvals(200, rng)) for a in (1.0, 1.0, 0.5)]
    models = []
    for k in range(200):
        scale = 1.0 + 0.002 * k
        models.append(Model(Gaussian(), [Layer(Empirical(lam * scale, a), Linear(nz)) for lam, a, nz
                                         in zip(base, (1.0, 1.0, 0.5), (0.0, 0.0, 1e-5),
                                                strict=True)]))
    dt, traj = timed(lambda: replica_trajectory(models))
    rows.append(("trajectory: 200 x 3-layer linear, warm", dt, 0, all(r.converged for r in traj),
                 ""))
    # the same trajectory with a ReLU hidden layer (linear, ReLU, linear)
    models = []
    for k in range(200):
        scale = 1.0 + 0.002 * k
        acts = (Linear(0.0), ReLU(0.0), Linear(1e-5))
        models.append(Model(Gaussian(), [Layer(Empirical(lam * scale, a), act) for lam, a, act
                                         in zip(base, (1.0, 1.0, 0.5), acts, strict=True)]))
    dt, traj = timed(lambda: replica_trajectory(models))
    rows.append(("trajectory: 200 x (linear, ReLU, linear), warm", dt, 0,
                 all(r.converged for r in traj), ""))
    # the random grid of tests/test_replica.py (30 models of 1-3 layers)
    times = grid_times(30)
    rows.append(("grid: 30 random 1-3 layer models, median", float(np.median(times)), 0, True,
                 f"90th percentile {np.percentile(times, 90) * 1e3:.0f} ms, "
                 f"max {np.max(times) * 1e3:.0f} ms"))
    print(f"{'configuration':50s} {'time/call':>10s} {'iters':>6s} {'conv':>5s}  notes")
    for name, dt, its, conv, extra in rows:
        print(f"{name:50s} {dt * 1e3:8.1f} ms {its:6d} {str(conv):>5s}  {extra}")
    # accuracy knobs: the flagship, and every value (H, I, MMSE of each layer) on the grid
    grid = grid_models(30)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        h0 = replica(fl).entropy[-1]
        v0 = [_values(replica(m)) for m in grid]
        with using(order=2):
            h1 = replica(fl, tol=1e-12).entropy[-1]
            v1 = [_values(replica(m, tol=1e-12)) for m in grid]
    change = max(float(np.max(np.abs(a - b))) for a, b in zip(v0, v1, strict=True))
    print(f"\nflagship entropy {h0:.12f}; doubling quadrature orders and tol=1e-12 changes it by "
          f"{abs(h1 - h0):.1e}")
    print(f"grid: doubling quadrature orders and tol=1e-12 changes H, I, MMSE by at most "
          f"{change:.1e}")


if __name__ == "__main__":
    main()
