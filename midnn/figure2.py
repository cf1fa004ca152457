"""The paper's Figure 2 experiment: estimators and replica values versus the weight scale."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _validate as check
from .activations import Activation
from .estimators import Binning, EntropyEstimator, KDEBound, MutualInformationEstimator
from .tasks import Task, _int_at_least, estimate_mi

__all__ = ["figure2_sweep", "Figure2Sweep", "estimator_errors"]


@dataclass
class Figure2Sweep:
    """Results of :func:`figure2_sweep`; MI values per n_0 in nats, last axis = sigma."""

    sigmas: np.ndarray
    n0: int
    n_samples: int
    kde_noises: tuple[float, ...]
    bin_widths: tuple[float, ...]
    kde_upper: dict  # name -> (n_kde, n_sigma)
    kde_lower: dict
    binning: dict  # name -> (n_bins, n_sigma)
    replica: dict  # name -> (n_layers, n_sigma): replica I(X; T_l)/n_0, row -1 = T_L
    exact: dict  # name -> (n_layers, n_sigma): exact log-det values (linear networks only)
    log_n: float  # log(n_samples)/n_0: the ceiling of the sample-based estimators


def figure2_sweep(networks: dict, sigmas, *, n0: int = 100, n_samples: int = 500,
                  noise: float = 1e-5, kde_noises=(1e-3, 1e-1, 1.0),
                  bin_widths=(0.01, 0.1, 0.5), width_factors=None, tol: float = 1e-10,
                  seed: int = 0) -> Figure2Sweep:
    """The paper's Figure 2: estimators and replica of I(X; T_L) versus the weight scale.

    ``networks`` maps a name to a list of activations; the widths are
    ``[n0] + [round(c * n0) for c in width_factors]`` (default: all equal to ``n0``).  For each
    sigma a :class:`Task` with seed ``seed`` is built, ``n_samples`` inputs are drawn
    (seed ``seed + 1``), and the KDE bounds (kernel variances ``kde_noises``), binning
    (``bin_widths``) and replica (tolerance ``tol``) values of I(X; T_L)/n_0 are recorded,
    with the exact log-det value for linear networks.
    """
    sigmas = np.asarray(sigmas, dtype=float)
    if sigmas.ndim != 1 or sigmas.size == 0 or not np.all(sigmas > 0):
        raise ValueError("sigmas must be a non-empty 1-D array of positive values")
    if not isinstance(networks, dict) or not networks:
        raise ValueError("networks must be a non-empty dict name -> activations")
    n0 = _int_at_least("n0", n0, 1)
    n_samples = _int_at_least("n_samples", n_samples, 2)
    kde_noises = tuple(check.positive("kde_noises", v) for v in kde_noises)
    bin_widths = tuple(check.positive("bin_widths", v) for v in bin_widths)
    S = sigmas.size
    up = {k: np.empty((len(kde_noises), S)) for k in networks}
    lo = {k: np.empty((len(kde_noises), S)) for k in networks}
    bn = {k: np.empty((len(bin_widths), S)) for k in networks}
    rep, ex = {}, {}
    for name, acts in networks.items():
        acts = [acts] if isinstance(acts, (str, Activation)) else list(acts)
        for j, s in enumerate(sigmas):
            factors = [1.0] * len(acts) if width_factors is None else list(width_factors)
            if len(factors) != len(acts) or min(factors) <= 0:
                raise ValueError("width_factors must hold one positive value per layer")
            widths = [n0] + [max(1, round(c * n0)) for c in factors]
            task = Task(None, widths, acts, s, noise, seed)
            task.replica(tol=tol)
            smp = task.sample_with_clean(n_samples, seed + 1)
            c = smp.clean[-1]
            for i, kn in enumerate(kde_noises):
                b = KDEBound(kn, device="cpu").bounds(c)
                up[name][i, j], lo[name][i, j] = b.i_upper / n0, b.i_lower / n0
            for i, bw in enumerate(bin_widths):
                bn[name][i, j] = Binning(bin_width=bw).estimate(smp.x, c) / n0
            rep.setdefault(name, np.empty((len(acts), S)))[:, j] = (
                task.replica(tol=tol).mutual_information)
            if task.is_linear_gaussian:
                ex.setdefault(name, np.empty((len(acts), S)))[:, j] = (
                    task.exact().mutual_information)
    return Figure2Sweep(sigmas, n0, n_samples, kde_noises, bin_widths, up, lo, bn, rep, ex,
                        float(np.log(n_samples)) / n0)


def estimator_errors(estimators: dict, *, dims=(5, 20, 100), sample_sizes=(300,),
                     activations=("linear",), sigma: float = 1.0, noise: float = 0.1,
                     seed: int = 0) -> list[dict]:
    """Estimator minus ground truth of I(X; T_L)/n_0 on one-layer-deep tasks of width n_0.

    For every n_0 in ``dims`` and N in ``sample_sizes`` a :class:`Task` with widths
    [n_0] * (len(activations) + 1) is built; at fixed ``sigma`` and ``noise`` the true MI per
    unit is (nearly) independent of n_0.  The truth is the exact log-det when the task is
    linear-Gaussian, the replica value otherwise.  Returns one dict per (n_0, N) with keys
    ``n0``, ``n_samples``, ``truth``, ``truth_kind`` and, per estimator name, its error
    (estimate - truth, per n_0).  Entropy-only estimators are refused.
    """
    for k, est in estimators.items():
        if not isinstance(est, MutualInformationEstimator):
            kind = "an entropy-only" if isinstance(est, EntropyEstimator) else "not an MI"
            raise ValueError(f"estimators[{k!r}] is {kind} estimator")
    rows = []
    for n0 in dims:
        n0 = _int_at_least("dims", n0, 1)
        task = Task(None, [n0] * (len(activations) + 1), activations, sigma, noise, seed)
        if task.is_linear_gaussian:
            truth, kind = float(task.exact().mutual_information[-1]), "exact"
        else:
            truth, kind = task.true_mutual_information(), "replica"
        for n in sample_sizes:
            smp = task.sample_with_clean(_int_at_least("sample_sizes", n, 2), seed + n0 + n)
            row = {"n0": n0, "n_samples": int(n), "truth": truth, "truth_kind": kind}
            for name, est in estimators.items():
                row[name] = estimate_mi(task, est, n, sample=smp) - truth
            rows.append(row)
    return rows
