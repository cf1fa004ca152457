"""The replica engine over the whole public model class: failures by type, time distribution.

Draws N models with ``tests/model_grid.py::whole_class_model`` (every prior with random
parameters, every activation in every position, Sign at the output, Marchenko-Pastur and
empirical spectra, noises log-uniform in [1e-6, 1], inner layers noiseless with probability
0.3), times ``replica(model)`` on each and runs ``midnn.checks.invariants`` on its result
(converged, finite, no warning, I >= 0, I <= H(X), data processing, maximum-entropy bounds)
and ``midnn.checks.solver_agreement`` (fixed point = ML-VAMP to 1e-8 on every layer where
both converge; timed apart). Prints the failures by type, the number of layers the
agreement check compared, and the distribution of the replica time per model, with and
without a Tanh layer. Targets (issue 15): 0 failures; p99 <= 1 s and max <= 5 s per model.

Run: ``python benchmarks/bench_model_class.py [N] [SEED]`` (default 1000 models, seed 15;
a few minutes on one core).
"""

from __future__ import annotations

import collections
import pathlib
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests"))
from model_grid import whole_class_model  # noqa: E402 -- the test fixture's generator

from midnn import checks, replica  # noqa: E402


def run(n: int, seed: int):
    rng = np.random.default_rng(seed)
    failures: collections.Counter = collections.Counter()
    examples: dict[str, str] = {}
    times = {"with Tanh": [], "without Tanh": []}
    slowest: list[tuple[float, int, str]] = []
    compared = [0, 0]  # layers compared by the solver-agreement check, layers in all
    agreement_seconds = 0.0
    for i in range(n):
        model = whole_class_model(rng)
        kind = ("with Tanh" if any(layer.activation.name == "tanh" for layer in model.layers)
                else "without Tanh")
        t0 = time.perf_counter()
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                res = replica(model)
        except Exception as exc:  # noqa: BLE001 -- counted by type
            key = f"exception {type(exc).__name__}"
            failures[key] += 1
            examples.setdefault(key, f"model {i}: {model}: {exc}")
            continue
        seconds = time.perf_counter() - t0
        times[kind].append(seconds)
        slowest = sorted([*slowest, (seconds, i, repr(model))], reverse=True)[:3]
        for w in caught:
            key = f"warning {w.category.__name__}"
            failures[key] += 1
            examples.setdefault(key, f"model {i}: {model}: {w.message}")
        t0 = time.perf_counter()
        agreement = checks.solver_agreement(model, atol=1e-8)
        agreement_seconds += time.perf_counter() - t0
        compared[0] += len(agreement) // 3  # three rows (H, I, MMSE) per compared layer
        compared[1] += model.n_layers
        failed = {}  # one count per model and kind of check
        for check in [*checks.invariants(model, res).failures(), *agreement.failures()]:
            key = "invariant " + check.name.split("[")[0].strip()
            if "fixed point = ML-VAMP" in check.name:
                key = "invariant fixed point = ML-VAMP"
            failed.setdefault(key, check)
        for key, check in failed.items():
            failures[key] += 1
            examples.setdefault(key, f"model {i}: {check.name}, error {check.error:.2g}; {model}")
    return failures, examples, times, slowest, compared, agreement_seconds


def main() -> None:
    args = sys.argv[1:]
    n = int(args[0]) if args else 1000
    seed = int(args[1]) if len(args) > 1 else 15
    t0 = time.perf_counter()
    failures, examples, times, slowest, compared, agreement_seconds = run(n, seed)
    print(f"{n} models (seed {seed}) in {time.perf_counter() - t0:.0f} s, of which "
          f"{agreement_seconds:.0f} s in the solver-agreement check (both solvers again)")
    print(f"fixed point = ML-VAMP compared on {compared[0]} of {compared[1]} layers (on the "
          f"others one of the two solvers did not converge, and its result says so)")
    print(f"\nfailures (models, by kind): {sum(failures.values())}")
    for key, count in failures.most_common():
        print(f"  {count:5d}  {key}\n         e.g. {examples[key][:300]}")
    print(f"\n{'replica time per model':24s} {'models':>7s} {'median':>8s} {'p90':>8s} "
          f"{'p99':>8s} {'max':>8s}")
    for kind, ts in (*times.items(), ("all", times["with Tanh"] + times["without Tanh"])):
        if ts:
            q = np.percentile(ts, [50, 90, 99, 100])
            print(f"{kind:24s} {len(ts):7d} " + " ".join(f"{x:7.3f}s" for x in q))
    print("\nslowest models:")
    for seconds, i, text in slowest:
        print(f"  {seconds:7.3f} s  model {i}: {text[:240]}")


if __name__ == "__main__":
    main()
