"""Do the reference code's per-layer starts ever change the selected stationary point?

``replica`` selects the stationary point of lowest potential among those reached from an
informative start (V = 1e-6 rho) and an uninformative one (V = rho). The reference code also
starts from one uninformative layer at a time; ``replica(..., exhaustive=True)`` screens
those starts when the two main ones disagree (chains of more than two layers). This study
draws random 3-layer models (``tests/model_grid.py``), screens every start of the
last layer's entropy chain and counts the chains whose two main starts disagree, the
per-layer starts that reach a third stationary point, and those whose point has a lower
potential than both main ones (the cases where ``exhaustive=False`` would select another
point).

Run: ``python benchmarks/study_starts.py [n_models] [seed ...]`` (default 400 models for
each of the seeds 7 and 8; ~5 minutes per 400 models on one core). Result on this machine:
seed 7: 68 disagreeing chains, 1 third point (potential +0.35 above the best), 0 lower;
seed 8: 54 disagreeing chains, 0 third points.
"""

from __future__ import annotations

import pathlib
import sys
import warnings

import numpy as np

from midnn.chain import Chain
from midnn.precision import using
from midnn.search import MultiStartSearch, initial_states

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests"))
from model_grid import random_model  # noqa: E402 -- the test fixture's grid


def _close(a: np.ndarray, b: np.ndarray, rel: float) -> bool:
    return bool(np.all(np.abs(a - b) <= rel * np.maximum(np.abs(a), np.abs(b)) + 1e-8))


def study(seed: int, n_models: int) -> tuple[int, int, int, int]:
    """(chains, disagreeing, third points, lower third points) over ``n_models`` models."""
    rng = np.random.default_rng(seed)
    chains = disagree = third = lower = 0
    while chains < n_models:
        model = random_model(rng)
        if model.n_layers < 3:
            continue
        chains += 1
        chain = Chain.from_model(model)
        search = MultiStartSearch(chain, "auto", 1e-5, 500)
        points = []
        with using(screening=True), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for init in initial_states(chain, "auto", exhaustive=True):
                info = search.solve(init)
                points.append((search.potential(info), info.state.V)
                              if info.converged else None)
        main = [p for p in points[:2] if p is not None]
        if len(main) < 2 or _close(main[0][1], main[1][1], 1e-3):
            continue
        disagree += 1
        best = min(p[0] for p in main)
        for p in points[2:]:
            if p is not None and not any(_close(p[1], q[1], 1e-2) for q in main):
                third += 1
                lower += p[0] < best - 1e-8
    return chains, disagree, third, lower


def main() -> None:
    args = sys.argv[1:]
    n_models = int(args[0]) if args else 400
    seeds = [int(s) for s in args[1:]] or [7, 8]
    print(f"{'seed':>5s} {'chains':>7s} {'disagree':>9s} {'third':>6s} {'lower':>6s}")
    for seed in seeds:
        print(f"{seed:5d} " + " ".join(f"{x:{w}d}" for x, w in
                                       zip(study(seed, n_models), (7, 9, 6, 6), strict=True)))


if __name__ == "__main__":
    main()
