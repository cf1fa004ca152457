"""Non-parametric estimators against the replica formula: the paper's Figure 2 and a benchmark.

Figure 2 of the paper (arXiv:1805.09785v2; the authors' solver reproduces its replica row in
the demo notebook of ``dnner``, "Entropies at initialization: reproducing Figure 2") shows
the entropy H(T_2) of two-layer networks X -> T_1 -> T_2 at initialization as a function of
the weight scale sigma: W_l = sigma * G_l / sqrt(n) with G_l an n x n standard Gaussian
matrix (n = 1000), X ~ N(0, I_n), a deterministic first layer and a noise of variance 1e-5
at T_2, for ReLU-ReLU and hardtanh-hardtanh networks, the linear network's exact entropy
(log-det) for reference. Its top row holds non-parametric estimates (binning, the KDE upper
and lower bounds), its bottom row the replica values.

Sweep tasks for :func:`midnn.sweeps.sweep` (importable by Dask workers):

* :func:`figure2_point` -- one network at one weight scale: the replica (and, for the linear
  network, exact) H(T_l) and I(X; T_l) of both layers, and the KDE bounds and binning
  estimates of H(T_2) and I(X; T_2) for several hyper-parameters, all from one draw of the
  weights and one sample;
* :func:`benchmark_point` -- one estimator on one sampler (:meth:`midnn.tasks.Task.sampler`)
  at one sample size and seed: one row of the run results of the ``bmi`` benchmark
  (:data:`midnn.interface.RUN_RESULT_FIELDS`) with the replica ground truth and the error.

:func:`figure2` and :func:`benchmark` run them over a grid and store the settings in the
Dataset's attributes; :func:`run_results` turns a benchmark Dataset into bmi-style rows.

Units
-----
Figure-2 records are in **nats per input unit** (divided by n_0 = n, the replica
convention). Benchmark rows follow bmi: ``mi_estimate`` and ``mi_true`` in total nats;
``error_per_n0 = (mi_estimate - mi_true) / n_0``.

What the estimators can reach
-----------------------------
From N samples, the KDE bounds on I lie in [0, log N] and binning gives the plug-in entropy of
at most N distinct binned rows, also in [0, log N] (:mod:`midnn.estimators`). Their entropy
estimates are therefore a hyper-parameter term plus at most log N:

* KDE (kernel variance s, d units): H(T|C) = d/2 log(2 pi e s), plus I in [0, log N];
* binning (bin width w): the plug-in entropy H_bin in [0, log N] of the binned layer is a
  discrete entropy; the histogram density (probability H_bin-mass spread uniformly over each
  bin) has the differential entropy H_bin + d log w (Cover & Thomas, Theorem 8.3.1: H of the
  quantized variable + log w -> h as w -> 0), the value on the replica's scale.

Per input unit the band is log N / n_0 wide: 0.0092 nats for N = 10,000 and n_0 = 1000.
"""

from __future__ import annotations

import functools
import json
import math
import time
from collections.abc import Mapping, Sequence

import numpy as np

from . import _validate as check
from .estimators import KSG, Binning, KDEBound, kde_bounds_many
from .interface import RUN_RESULT_FIELDS, MutualInformationEstimator, Sampler
from .tasks import Task

__all__ = [
    "FIGURE2_NETWORKS",
    "FIGURE2_NOISE",
    "KDE_VARIANCES",
    "BIN_WIDTHS",
    "figure2_point",
    "figure2",
    "BENCHMARK_TASKS",
    "BENCHMARK_NOISE",
    "BENCHMARK_BIN_WIDTH",
    "benchmark_task",
    "default_estimators",
    "run_estimator",
    "benchmark_point",
    "benchmark",
    "run_results",
]

# ------------------------------------------------------------------------------ Figure 2

#: The networks of Figure 2 (two layers); "linear" is the exact reference.
FIGURE2_NETWORKS = {"linear": ("linear", "linear"), "relu": ("relu", "relu"),
                    "hardtanh": ("hardtanh", "hardtanh")}
#: Noise variance at T_2 (the paper; 1e-5 in the authors' demo); the first layer is noiseless.
FIGURE2_NOISE = 1e-5
#: KDE kernel variances (our choice): the network's own noise, and 100x and 10,000x more.
KDE_VARIANCES = (1e-5, 1e-3, 1e-1)
#: Bin widths of the binning estimator (our choice): 0.01 to 1 in decades.
BIN_WIDTHS = (0.01, 0.1, 1.0)

_F2_DIMS = {
    "layer": ("layer",),
    "replica_entropy": ("layer",), "replica_mi": ("layer",),
    "exact_entropy": ("layer",), "exact_mi": ("layer",),
    "kernel_variance": ("kernel_variance",),
    "kde_h_upper": ("kernel_variance",), "kde_h_lower": ("kernel_variance",),
    "kde_mi_upper": ("kernel_variance",), "kde_mi_lower": ("kernel_variance",),
    "bin_width": ("bin_width",),
    "bin_h_discrete": ("bin_width",), "bin_h_histogram": ("bin_width",), "bin_mi": ("bin_width",),
}

_F2_DOC = {
    "replica_entropy": "replica H(T_l), empirical spectra of the drawn matrices",
    "replica_mi": "replica I(X;T_l), empirical spectra of the drawn matrices",
    "replica_converged": "the replica fixed point converged",
    "exact_entropy": "exact H(T_l) of the linear network (log-det; NaN otherwise)",
    "exact_mi": "exact I(X;T_l) of the linear network (log-det; NaN otherwise)",
    "kde_h_upper": "KDE upper bound (pairwise KL) on H(T_2), kernel variance s",
    "kde_h_lower": "KDE lower bound (pairwise Bhattacharyya) on H(T_2), kernel variance s",
    "kde_mi_upper": "KDE upper bound on I(X;T_2), in [0, log N]",
    "kde_mi_lower": "KDE lower bound on I(X;T_2), in [0, log N]",
    "bin_h_discrete": "plug-in (discrete) entropy of the binned T_2, in [0, log N]",
    "bin_h_histogram": "differential entropy of the histogram density: bin_h_discrete + "
                       "(n_2/n_0) log(bin width)",
    "bin_mi": "binning estimate of I(X;T_2) (= bin_h_discrete for distinct inputs)",
    "log_n": "log(N)/n_0: the most an estimator's information term can reach",
}


def figure2_point(network: str, sigma: float, width: int = 1000, n_samples: int = 10_000, *,
                  kde_variances: Sequence[float] = KDE_VARIANCES,
                  bin_widths: Sequence[float] = BIN_WIDTHS, noise: float = FIGURE2_NOISE,
                  weight_seed: int = 0, sample_seed: int = 1) -> dict:
    """One network of Figure 2 at one weight scale: replica, exact and estimated values.

    Parameters
    ----------
    network : {"linear", "relu", "hardtanh"}
        Both layers' activation (:data:`FIGURE2_NETWORKS`).
    sigma : float
        Weight scale: W_l has i.i.d. N(0, sigma^2 / width) entries.
    width : int
        n_0 = n_1 = n_2 (square layers).
    n_samples : int
        N, the samples given to the estimators.
    kde_variances, bin_widths : sequence of float
        Hyper-parameters of the KDE bounds (kernel variance s) and of binning (bin width).
    noise : float
        Noise variance at T_2, before the activation (midnn's convention); T_1 is noiseless.
    weight_seed, sample_seed : int
        Seeds of the matrices and of the sample. The same seeds at every sigma and for every
        network: the matrices are one standard Gaussian draw rescaled by sigma, as in the
        authors' demo, and the estimators see the same inputs.

    Returns
    -------
    dict
        Per layer (``layer`` = 1, 2): ``replica_entropy``, ``replica_mi``, ``exact_entropy``,
        ``exact_mi`` (NaN for a non-linear network); per kernel variance: ``kde_h_upper``,
        ``kde_h_lower``, ``kde_mi_upper``, ``kde_mi_lower``; per bin width:
        ``bin_h_discrete``, ``bin_h_histogram``, ``bin_mi``; ``log_n`` and
        ``replica_converged``. Nats per input unit. The estimators are given the noise-free
        activations f(W_2 T_1) (the KDE adds its own kernel noise; binning discretises the
        deterministic layer, as in the information-bottleneck literature).
    """
    acts = FIGURE2_NETWORKS[check.choice("network", network, tuple(FIGURE2_NETWORKS))]
    width = check.integer("width", width, low=1)
    n_samples = check.integer("n_samples", n_samples, low=2)
    kde_variances = [check.positive("kde_variances", v) for v in kde_variances]
    bin_widths = [check.positive("bin_widths", v) for v in bin_widths]
    task = Task(None, [width] * 3, acts, sigma, noise, weight_seed)
    rep = task.replica()
    nan = np.full(2, np.nan)
    exact = task.exact() if task.is_linear_gaussian else None
    smp = task.sample_with_clean(n_samples, sample_seed)
    t2 = smp.clean[-1]
    n0, n2 = task.n0, task.widths[-1]
    bounds = kde_bounds_many(t2, kde_variances, device="cpu")
    h_bin = np.array([Binning(bin_width=w).entropy(t2) for w in bin_widths])
    mi_bin = np.array([Binning(bin_width=w).estimate(smp.x, t2) for w in bin_widths])
    return {
        "layer": np.arange(1, 3),
        "replica_entropy": np.asarray(rep.entropy, dtype=float),
        "replica_mi": np.asarray(rep.mutual_information, dtype=float),
        "replica_converged": bool(rep.converged),
        "exact_entropy": nan if exact is None else np.asarray(exact.entropy, dtype=float),
        "exact_mi": nan if exact is None else np.asarray(exact.mutual_information, dtype=float),
        "kernel_variance": np.asarray(kde_variances),
        "kde_h_upper": np.array([b.h_upper for b in bounds]) / n0,
        "kde_h_lower": np.array([b.h_lower for b in bounds]) / n0,
        "kde_mi_upper": np.array([b.i_upper for b in bounds]) / n0,
        "kde_mi_lower": np.array([b.i_lower for b in bounds]) / n0,
        "bin_width": np.asarray(bin_widths),
        "bin_h_discrete": h_bin / n0,
        "bin_h_histogram": (h_bin + n2 * np.log(bin_widths)) / n0,
        "bin_mi": mi_bin / n0,
        "log_n": math.log(n_samples) / n0,
    }


figure2_point.dims = _F2_DIMS


def figure2(sigmas, *, networks: Sequence[str] = tuple(FIGURE2_NETWORKS), width: int = 1000,
            n_samples: int = 10_000, kde_variances: Sequence[float] = KDE_VARIANCES,
            bin_widths: Sequence[float] = BIN_WIDTHS, noise: float = FIGURE2_NOISE,
            client=None, progress: bool = False, sources: Mapping[str, str] | None = None):
    """The Figure-2 sweep: :func:`figure2_point` over networks x sigmas with
    :func:`midnn.sweeps.sweep`.

    ``client`` is passed to :func:`~midnn.sweeps.sweep` (default: an embedded cluster;
    ``"serial"`` runs here). ``sources`` (setting -> where it comes from: the paper, the
    authors' code, or our choice) is stored as the JSON attribute ``sources``. Returns an
    :class:`xarray.Dataset` with dimensions ``network``, ``sigma``, ``width``,
    ``n_samples`` and the point's own (``layer``, ``kernel_variance``, ``bin_width``).
    """
    from .sweeps import sweep

    task = functools.partial(figure2_point, kde_variances=tuple(kde_variances),
                             bin_widths=tuple(bin_widths), noise=noise)
    grid = {"network": list(networks), "sigma": [float(s) for s in sigmas],
            "width": [int(width)], "n_samples": [int(n_samples)]}
    # one point per Dask task: at paper scale each point takes seconds
    ds = sweep(task, grid, client=client, progress=progress, name="figure2", batch_size=1)
    for name, doc in _F2_DOC.items():
        ds[name].attrs["description"] = doc
        if name != "replica_converged":
            ds[name].attrs["units"] = "nats per input unit (divided by n_0)"
    ds.attrs["settings"] = json.dumps({"noise": noise, "kde_variances": list(kde_variances),
                                       "bin_widths": list(bin_widths), "weight_seed": 0,
                                       "sample_seed": 1, "hidden_noise": 0.0,
                                       "input": "N(0, 1) i.i.d."})
    ds.attrs["sources"] = json.dumps(dict(sources or {}))
    return ds


# ------------------------------------------------------------------------------ benchmark

#: The benchmark's tasks: one layer T = f(W X + xi) with a square W (n_0 x n_0).
BENCHMARK_TASKS = {"linear": "linear", "relu": "relu"}
#: Noise variance of the benchmark layers (our choice: about 1.1 (linear) and 0.7 (ReLU)
#: nats of I(X;T) per input unit at sigma = 1, so that the total crosses log N between
#: n_0 = 1 and n_0 = 10 for N <= 3000).
BENCHMARK_NOISE = 0.1
#: Bin width of the benchmark's binning estimator (our choice: a third of the noise's
#: standard deviation 0.32).
BENCHMARK_BIN_WIDTH = 0.1


def _task_id(task: str, n0: int, sigma: float, noise: float, weight_seed: int) -> str:
    return f"{task}-{n0}x{n0}-sigma{sigma:g}-noise{noise:g}-w{weight_seed}"


@functools.lru_cache(maxsize=16)
def benchmark_task(task: str, n0: int, *, sigma: float = 1.0, noise: float = BENCHMARK_NOISE,
                   weight_seed: int = 0) -> Task:
    """The benchmark's task ``task`` at input dimension ``n0``: a one-layer network
    T = f(W X + xi), W of shape n0 x n0 with i.i.d. N(0, sigma^2/n0) entries, X ~ N(0, I),
    xi ~ N(0, noise). Its replica solution is computed here and the task is cached (a worker
    runs every estimator, sample size and seed of one task)."""
    act = BENCHMARK_TASKS[check.choice("task", task, tuple(BENCHMARK_TASKS))]
    t = Task(None, [n0, n0], [act], sigma, noise, weight_seed)
    t.replica()
    return t


def default_estimators(noise: float = BENCHMARK_NOISE) -> dict:
    """The benchmark's estimators (our choice of hyper-parameters): the KDE upper and lower
    bounds with the task's own noise variance as kernel (their most favourable setting),
    binning with width :data:`BENCHMARK_BIN_WIDTH`, and KSG with k = 3 (Kraskov et al.'s
    recommended range 2-4)."""
    return {"kde_upper": KDEBound(noise, "upper", device="cpu"),
            "kde_lower": KDEBound(noise, "lower", device="cpu"),
            "binning": Binning(bin_width=BENCHMARK_BIN_WIDTH),
            "ksg": KSG(k=3)}


def run_estimator(sampler: Sampler, estimator: MutualInformationEstimator, n_samples: int,
                  seed: int, *, estimator_id: str, task_id: str,
                  task_params: Mapping | None = None) -> dict:
    """Run one estimator on one draw of ``n_samples`` points: one bmi run result.

    Any object with ``estimate(x, y)`` and ``parameters()`` (:mod:`midnn.interface`) works,
    and any sampler with ``sample(n, rng)``, ``dim_x``, ``dim_y`` and
    ``mutual_information()``. The sample is ``sampler.sample(n_samples, seed)``; only
    ``estimate`` is timed.

    Returns
    -------
    dict
        bmi's fields (:data:`midnn.interface.RUN_RESULT_FIELDS`; the parameters as JSON
        strings) and ``n_samples``, ``mi_true`` (the sampler's, total nats), ``n0``
        (``dim_x``), ``error_per_n0`` and ``log_n`` (log N, total nats).
    """
    for attr in ("estimate", "parameters"):
        if not callable(getattr(estimator, attr, None)):
            raise TypeError(f"estimator {estimator_id!r} has no {attr}() method (the bmi "
                            f"protocol, midnn.interface.MutualInformationEstimator)")
    n_samples = check.integer("n_samples", n_samples, low=2)
    seed = check.integer("seed", seed, low=0)
    x, y = sampler.sample(n_samples, seed)
    t0 = time.perf_counter()
    estimate = float(estimator.estimate(x, y))
    elapsed = time.perf_counter() - t0
    truth = float(sampler.mutual_information())
    n0 = int(sampler.dim_x)
    row = {"task_id": task_id, "seed": seed, "estimator_id": estimator_id,
           "mi_estimate": estimate, "time_in_seconds": elapsed,
           "estimator_params": json.dumps(estimator.parameters(), sort_keys=True),
           "task_params": json.dumps(dict(task_params or {}), sort_keys=True),
           "n_samples": n_samples, "mi_true": truth, "n0": n0,
           "error_per_n0": (estimate - truth) / n0, "log_n": math.log(n_samples)}
    assert set(RUN_RESULT_FIELDS) <= set(row)
    return row


def benchmark_point(task: str, n0: int, n_samples: int, estimator: str, seed: int, *,
                    estimators: Mapping | None = None, sigma: float = 1.0,
                    noise: float = BENCHMARK_NOISE, weight_seed: int = 0) -> dict:
    """One benchmark run (a sweep task): ``estimator`` on :func:`benchmark_task` ``(task,
    n0)``, ``n_samples`` points drawn with ``seed``.

    ``estimators`` maps the names to estimator objects (default :func:`default_estimators`);
    any object with ``estimate`` and ``parameters`` works. The sampler is the task's
    ``sampler()`` (X and the noisy layer T, bmi's protocol): every estimator sees the same
    draw for a given (task, n0, n_samples, seed).

    Returns :func:`run_estimator`'s row without ``seed``, ``n_samples`` and ``n0`` (the grid's
    coordinates), with ``mi_exact`` (the log-det value for the linear task, NaN otherwise).
    """
    registry = default_estimators(noise) if estimators is None else estimators
    if estimator not in registry:
        raise ValueError(f"estimator must be one of {sorted(registry)}, got {estimator!r}")
    t = benchmark_task(task, check.integer("n0", n0, low=1), sigma=sigma, noise=noise,
                       weight_seed=weight_seed)
    params = {"network": f"{task}, one layer", "widths": [n0, n0], "sigma": sigma,
              "noise": noise, "weight_seed": weight_seed, "input": "N(0, 1) i.i.d.",
              "ground_truth": "replica formula, empirical spectrum of W"}
    row = run_estimator(t.sampler(), registry[estimator], n_samples, seed,
                        estimator_id=estimator, task_id=_task_id(task, n0, sigma, noise,
                                                                 weight_seed),
                        task_params=params)
    for key in ("seed", "n_samples", "n0"):
        del row[key]
    row["mi_exact"] = (float(t.exact().mutual_information[-1]) * t.n0
                       if t.is_linear_gaussian else math.nan)
    return row


def benchmark(*, tasks: Sequence[str] = tuple(BENCHMARK_TASKS), dims: Sequence[int],
              sample_sizes: Sequence[int], seeds: Sequence[int],
              estimators: Mapping | Sequence[str] | None = None, client=None,
              progress: bool = False, sources: Mapping[str, str] | None = None):
    """The benchmark sweep: :func:`benchmark_point` over (task, n0, n_samples, estimator,
    seed) with :func:`midnn.sweeps.sweep`.

    ``estimators`` is a list of names of :func:`default_estimators` (default: all), or a
    mapping name -> estimator object (e.g. with one of yours: it travels to the workers with
    the task). ``client`` and ``progress`` go to :func:`~midnn.sweeps.sweep`; ``sources`` is
    stored as the JSON attribute ``sources``.
    """
    from .sweeps import sweep

    if estimators is None or not isinstance(estimators, Mapping):
        registry = default_estimators()
        names = list(registry) if estimators is None else list(estimators)
        task = benchmark_point
    else:
        names = list(estimators)
        task = functools.partial(benchmark_point, estimators=dict(estimators))
    grid = {"task": list(tasks), "n0": [int(d) for d in dims],
            "n_samples": [int(n) for n in sample_sizes], "estimator": names,
            "seed": [int(s) for s in seeds]}
    ds = sweep(task, grid, client=client, progress=progress, name="benchmark")
    # the strings depend on fewer dimensions than the grid's: stored once along those
    ds = _compact(ds, {"task_id": ("task", "n0"), "task_params": ("task", "n0"),
                       "mi_true": ("task", "n0"), "mi_exact": ("task", "n0"),
                       "log_n": ("n_samples",), "estimator_params": ("estimator",),
                       "estimator_id": ("estimator",)})
    for name in ("mi_estimate", "mi_true", "mi_exact", "log_n"):
        ds[name].attrs["units"] = "nats (total, bmi's convention)"
    ds["error_per_n0"].attrs["units"] = "nats per input unit"
    ds["time_in_seconds"].attrs["units"] = "s (estimate() only)"
    ds.attrs["run_result_fields"] = json.dumps(list(RUN_RESULT_FIELDS))
    ds.attrs["sources"] = json.dumps(dict(sources or {}))
    return ds


def _compact(ds, keep: Mapping[str, tuple[str, ...]]):
    """Reduce each variable ``name`` of ``ds`` to the dimensions ``keep[name]``, after checking
    that it does not vary along the others (ignoring failed points, whose value is "")."""
    ok = ds["error"] == ""
    for name, dims in keep.items():
        var = ds[name]
        other = [d for d in var.dims if d not in dims]
        if var.dtype.kind in "iuf":
            high, low = var.where(ok).max(other), var.where(ok).min(other)
            if not bool(((high == low) | high.isnull()).all()):
                raise ValueError(f"{name} varies along {other}")
            ds[name] = high.assign_attrs(var.attrs)
        else:  # strings: the one successful value along the other dimensions
            values = var.where(ok, "").transpose(*dims, *other).values
            flat = values.reshape(*values.shape[:len(dims)], -1)
            firsts = np.empty(flat.shape[:-1], dtype=object)
            for idx in np.ndindex(firsts.shape):
                distinct = {v for v in flat[idx] if v}
                if len(distinct) > 1:
                    raise ValueError(f"{name} varies along {other} at {idx}: {distinct}")
                firsts[idx] = distinct.pop() if distinct else ""
            ds[name] = (dims, firsts.astype(str), var.attrs)
    return ds


def run_results(ds) -> list[dict]:
    """The benchmark Dataset as bmi-style rows: bmi's run-result fields (parameters as
    dicts), then ``n_samples``, ``n0``, ``mi_true`` and ``error_per_n0``; points that failed
    (a non-empty ``error``) are left out."""
    names = ["task_id", "estimator_id", "mi_estimate", "time_in_seconds", "estimator_params",
             "task_params", "mi_true", "error_per_n0", "error"]
    frame = ds[names].broadcast_like(ds["mi_estimate"]).to_dataframe().reset_index()
    rows = []
    for rec in frame.itertuples(index=False):
        if rec.error:
            continue
        rows.append({
            "task_id": str(rec.task_id), "seed": int(rec.seed),
            "estimator_id": str(rec.estimator_id), "mi_estimate": float(rec.mi_estimate),
            "time_in_seconds": float(rec.time_in_seconds),
            "estimator_params": json.loads(rec.estimator_params),
            "task_params": json.loads(rec.task_params),
            "n_samples": int(rec.n_samples), "n0": int(rec.n0), "mi_true": float(rec.mi_true),
            "error_per_n0": float(rec.error_per_n0)})
    return rows
