"""Where the checkpoints of a :class:`midnn.nn.Tracker` are computed.

A tracker runs these functions either in the caller (``background=False``) or in a worker
process (``concurrent.futures.ProcessPoolExecutor`` with one process, which runs the jobs in
submission order). Both modes execute the same code on the same inputs, so their results
are bitwise equal. The state of a run (its chain, the previous checkpoint's replica result
used as warm start, the data that does not change between checkpoints) stays where the jobs
run, in :data:`_RUNS` keyed by the run id: a job carries only what the weights give at that
checkpoint, and a result only arrays of a few hundred numbers.

No torch here: the worker process needs NumPy, SciPy and the replica engine only.
"""

from __future__ import annotations

import signal
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .chainspec import ChainSpec, evaluate, exact_quantities, spectrum_from
from .replica import ReplicaResult

__all__ = ["initialize", "start", "solve", "finish", "ping"]


@dataclass
class _Run:
    spec: ChainSpec
    tol: float
    warm_start: bool
    init: ReplicaResult | None
    exact: bool
    input_weights: tuple[np.ndarray, ...]
    estimators: Mapping[str, Any]
    source: np.ndarray | None
    first: ReplicaResult | None = None
    last: ReplicaResult | None = None


_RUNS: dict[str, _Run] = {}


def initialize() -> None:
    """Worker process setup: SIGINT (Ctrl-C, a notebook's interrupt, which reaches the
    whole process group) is left to the parent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def ping() -> bool:
    """A no-op job (starts the worker process)."""
    return True


def start(key: str, spec: ChainSpec, *, tol: float, warm_start: bool,
          init: ReplicaResult | None, exact: bool, input_weights: Sequence[np.ndarray],
          estimators: Mapping[str, Any], source: np.ndarray | None) -> None:
    """Register run ``key``: its chain and what stays fixed along it."""
    _RUNS[key] = _Run(spec, float(tol), bool(warm_start), init if warm_start else None,
                      bool(exact), tuple(input_weights), dict(estimators), source)


def solve(key: str, job: Mapping[str, Any]) -> dict[str, Any]:
    """Compute one checkpoint of run ``key``.

    ``job["payloads"]``: per tracked layer, what :func:`midnn.chainspec.spectrum_from` takes;
    ``job["weights"]``: the dense W_l (only for the exact log-det); ``job["outputs"]``: the
    noiseless T_l on the held batch (only for the estimators).

    Returns the eigenvalues of every W_l^T W_l (``eigvals``), the per-layer quantities,
    ``converged``, ``compute_time`` (seconds) and the warnings raised meanwhile as
    ``(message, category)`` pairs, to be re-emitted by the caller.
    """
    run = _RUNS[key]
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        eigvals = [spectrum_from(p).eigvals for p in job["payloads"]]
        res, out = evaluate(run.spec, eigvals, init=run.init, tol=run.tol)
        if run.exact:
            out.update(exact_quantities(run.spec, job["weights"], run.input_weights))
        if run.estimators:
            out.update(_estimates(run, job["outputs"]))
    run.init = res if run.warm_start else None
    if run.first is None:
        run.first = res
    run.last = res
    out.update(eigvals=eigvals, converged=bool(res.converged),
               compute_time=time.perf_counter() - t0,
               warnings=[(str(w.message), w.category) for w in caught])
    return out


def _estimates(run: _Run, outputs: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
    """``est_<name>``: estimate(source, T_l) / n_input for every estimator and layer."""
    n = run.spec.n_input
    return {f"est_{name}": np.array([est.estimate(run.source, t) / n for t in outputs])
            for name, est in run.estimators.items()}


def finish(key: str) -> tuple[ReplicaResult | None, ReplicaResult | None]:
    """Forget run ``key``; return its first and last replica results."""
    run = _RUNS.pop(key, None)
    return (None, None) if run is None else (run.first, run.last)
