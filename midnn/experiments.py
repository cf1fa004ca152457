"""The paper's training experiments (section 3 of Gabrie et al. 2018), as sweep-able drivers.

Two families of experiments, each a plain function of keyword parameters that trains one
network, writes its run record (:mod:`midnn.record`) and returns a summary, so that
:func:`midnn.sweeps.sweep` can run them as independent tasks on Dask workers (they live in
the library because workers import them by reference):

* :func:`teacher_student_run`: a USV student on teacher-student data (notebook 04); the
  ``"linear"`` student is the authors' deep linear regression experiment, ``"relu"`` and
  ``"hardtanh"`` students a classification variant whose settings are our choice;
* :func:`generative_run`: a USV encoder on the decoder-encoder (generative) data, one
  activation family and one seed per call (notebook 05).

Every setting is in :data:`TEACHER_STUDENT`, :data:`TEACHER_STUDENT_NONLINEAR` and
:data:`GENERATIVE`, each key with its source in :data:`SOURCES`: the authors' experiment
scripts (``examples/launch_teacher_student_linear_regression.py`` and
``examples/launch_decoder_encoder_classif_usevamp_manylayers_relu.py`` of their ``lsd``
package), or "our choice".

The analysis helpers used by the notebooks are here too: :func:`drops` (compression of
every layer of every run), :func:`compression_test` (which layers compress, with a
threshold set by the spread over seeds), :func:`within_family_correlations` (compression
against test error with bootstrap intervals), :func:`haar_reference` (the finite-size
spread of the exact log-det of linear chains with the same spectra and fresh Haar singular
vectors) and :func:`noise_dependence` (a stored run recomputed at other readout noises).

Units: I(X; T_l) and I(Y; T_l) are in nats per unit of the chain input, n_0 = n_X for
teacher-student data and n_Y for generative data.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import training
from .activations import HardTanh, Linear, ReLU
from .chainspec import exact_quantities
from .record import RunRecord, load, record_path

__all__ = ["TEACHER_STUDENT", "TEACHER_STUDENT_NONLINEAR", "GENERATIVE", "SOURCES",
           "FAMILIES", "teacher_student_run", "generative_run", "run_name", "load_runs",
           "curves", "drops", "jitter", "compression_test", "within_family_correlations",
           "haar_reference", "noise_dependence", "final_metrics",
           "at_checkpoints"]

#: The authors' numpy seed (both scripts): our data seed.
PAPER_SEED = 276635

#: Deep linear student on a linear teacher (regression): the authors' script
#: ``launch_teacher_student_linear_regression.py``.
TEACHER_STUDENT: dict[str, Any] = dict(
    teacher_widths=(100, 4), teacher_noise=0.01,
    widths=(100, 100, 100, 100, 4), usv=(True, True, True, False), n_mi_layers=3,
    n_samples=20000, test_fraction=0.5, epochs=100, mi_every=1, lr=0.01, batch_size=50,
    noise=1e-5, inter_noise=0.0, data_seed=PAPER_SEED)

#: Non-linear students on the same teacher, classification (argmax of the 4 teacher
#: outputs): every setting not shared with :data:`TEACHER_STUDENT` is our choice.
TEACHER_STUDENT_NONLINEAR: dict[str, Any] = dict(
    teacher_widths=(100, 4), teacher_noise=0.01,
    widths=(100, 200, 50, 4), usv=(True, True, False), n_mi_layers=2,
    n_samples=20000, test_fraction=0.5, epochs=100, mi_every=2, lr=0.05, batch_size=50,
    noise=1e-5, inter_noise=0.0, data_seed=PAPER_SEED + 1)

#: USV encoder on the generative (decoder-encoder) data: the authors' script
#: ``launch_decoder_encoder_classif_usevamp_manylayers_relu.py`` (with f = ReLU; hardtanh
#: replaces both ReLUs in the other family).
GENERATIVE: dict[str, Any] = dict(
    decoder_widths=(20, 100), decoder_noise=0.01,
    widths=(100, 200, 100, 50, 20, 2), usv=(True, True, True, True, False), n_mi_layers=4,
    n_samples=20000, test_fraction=0.5, epochs=100, mi_every=2, lr=0.01, batch_size=100,
    noise=1e-5, inter_noise=0.0, data_seed=PAPER_SEED)

_TS = "authors' launch_teacher_student_linear_regression.py"
_GEN = "authors' launch_decoder_encoder_classif_usevamp_manylayers_relu.py"
#: Where each setting comes from.
SOURCES: dict[str, dict[str, str]] = {
    "teacher_student": {
        "teacher_widths": f"{_TS}: teacher_layer_sizes [100, 4], linear",
        "teacher_noise": f"{_TS}: teacher_layer_noises [0.01]",
        "widths": f"{_TS}: student_layer_sizes, all linear",
        "usv": f"{_TS}: student_layer_free [1, 1, 1, 0] (free readout)",
        "n_mi_layers": f"{_TS}: compute_mi_up_to = 3",
        "n_samples": f"{_TS}: 2 gamma n_X = 2 x 100 x 100 (lsd.set_params)",
        "test_fraction": f"{_TS}: validation_split 0.5",
        "epochs": f"{_TS}: min_epochs 100",
        "mi_every": f"{_TS}: compute_info_every 1",
        "lr": f"{_TS}: SGD, lr 0.01, loss MSE", "batch_size": f"{_TS}: batchsize 50",
        "noise": f"{_TS}: mi_noise 1e-5", "inter_noise": f"{_TS}: inter_mi_noise 0",
        "data_seed": f"{_TS}: numpy.random.seed(276635) (our generator differs)",
        "seed": "our choice (network and mini-batch order: 0)",
    },
    "teacher_student_nonlinear": {
        "teacher_widths": "as the linear experiment; label = argmax of the 4 outputs "
                          "(our choice)",
        "widths": "our choice: [100, 200, 50, 4], activations [linear, f, softmax]",
        "usv": "our choice: first two layers USV, free readout",
        "n_mi_layers": "our choice: the two USV layers",
        "lr": "our choice: SGD lr 0.05, cross-entropy (with the authors' 0.01 these "
              "students were still far from fitted after 100 epochs: test error 0.36 "
              "(hardtanh) and 0.45 (ReLU), against 0.22 and 0.36 with 0.05)",
        "mi_every": "our choice: every 2 epochs (as the authors' generative script)",
        "data_seed": "our choice: 276636 (another data set than the regression's)",
        "other": f"{_TS} (samples, split, epochs, batch, noises)",
    },
    "generative": {
        "decoder_widths": f"{_GEN}: decoder_layer_sizes [20, 100], linear, "
                          "prior N(0, 1)",
        "decoder_noise": f"{_GEN}: decoder_layer_noises [0.01]; midnn adds it to the "
                         "generated X (the chain assumes it)",
        "label": f"{_GEN}: fraction_relevant 0.05 = sign of Y_1",
        "widths": f"{_GEN}: encoder_layer_sizes, activations [linear, relu, linear, relu, "
                  "softmax]; hardtanh family: our choice",
        "usv": f"{_GEN}: encoder_free_layer [1, 1, 1, 1, 0]",
        "n_mi_layers": f"{_GEN}: compute_mi_up_to = 4",
        "n_samples": f"{_GEN}: 2 gamma n_X = 2 x 100 x 100 (lsd.set_params)",
        "test_fraction": f"{_GEN}: validation_split 0.5",
        "epochs": f"{_GEN}: min_epochs 100", "mi_every": f"{_GEN}: compute_info_every 2",
        "lr": f"{_GEN}: SGD lr 0.01, categorical cross-entropy",
        "batch_size": f"{_GEN}: batchsize 100",
        "noise": f"{_GEN}: mi_noise 1e-5", "inter_noise": f"{_GEN}: inter_mi_noise 0",
        "data_seed": f"{_GEN}: numpy.random.seed(276635) (our generator differs)",
        "seeds": "our choice: 5 seeds per family (network initialization and mini-batch "
                 "order; the data set is the same for all runs)",
    },
}

#: The activation f of the non-linear layers, by family name.
FAMILIES = {"relu": ReLU, "hardtanh": HardTanh}


# ----------------------------------------------------------------------------- drivers

def run_name(kind: str, seed: int | None = None) -> str:
    """File name (without ``.jsonl``) of a run record: ``"<kind>"`` or
    ``"<kind>_seed<seed>"``."""
    return kind if seed is None else f"{kind}_seed{int(seed)}"


def _settings(defaults: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(overrides) - set(defaults)
    if unknown:
        raise ValueError(f"unknown settings {sorted(unknown)}; known: {sorted(defaults)}")
    return {**defaults, **{k: v for k, v in overrides.items() if v is not None}}


def _fresh(outdir, name: str) -> Path | None:
    """The record path ``outdir/name.jsonl`` with any previous record removed (a driver
    recomputes its record), or None (record kept in memory)."""
    if outdir is None:
        return None
    path = record_path(Path(outdir) / name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    return path


def _summary(rec: RunRecord, path: Path | None, wall: float) -> dict[str, Any]:
    """What a driver returns to the sweep: final errors, costs, the record's file name."""
    h = rec.history
    m = rec.n_layers
    out = {"train_loss": float(h["train_loss"][-1]), "test_loss": float(h["test_loss"][-1]),
           "test_error": float(1 - h["test_acc"][-1]),
           "train_error": float(1 - h["train_acc"][-1]),
           "n_checkpoints": rec.n_checkpoints,
           "converged": bool(np.all(rec.checkpoints["converged"])),
           "layer": np.arange(1, m + 1),
           "drop_input": drops(rec, "mutual_information"),
           "record": "" if path is None else path.name, "wall_s": float(wall)}
    o = training.tracking_overhead(rec)
    out["train_s"], out["tracking_s"] = o["train_s"], o["tracking_s"]
    if "mutual_information_x" in rec.checkpoints:
        out["drop_x"] = drops(rec, "mutual_information_x")
    if "exact_mutual_information" in rec.checkpoints:
        out["max_abs_diff"] = np.max(np.abs(rec.checkpoints["mutual_information"]
                                            - rec.checkpoints["exact_mutual_information"]),
                                     axis=0)
    return out


def teacher_student_run(student: str = "linear", *, seed: int = 0,
                        outdir: str | os.PathLike | None = None, tol: float = 1e-10,
                        **overrides) -> dict[str, Any]:
    """Train one USV student on teacher-student data and record I(X; T_l) along training.

    Parameters
    ----------
    student : {"linear", "relu", "hardtanh"}
        ``"linear"``: the authors' regression experiment (:data:`TEACHER_STUDENT`: linear
        teacher [100 -> 4], noise 0.01; student [100, 100, 100, 100, 4], the first three
        layers USV; MSE; the tracked chain is linear, so the exact log-det is recorded
        too). ``"relu"``/``"hardtanh"``: :data:`TEACHER_STUDENT_NONLINEAR` (classification,
        students [100, 200, 50, 4] with activations [linear, f, softmax]; our choice).
    seed : int
        Seed of the student (Haar U, V and initial singular values) and of the mini-batch
        order; the data set is fixed by ``data_seed``.
    outdir : path, optional
        The run record is written to ``outdir/<student>.jsonl`` (replacing an older one).
    tol : float
        Replica solver tolerance.
    **overrides
        Any key of the settings dict (e.g. ``n_samples``, ``epochs``, ``n_mi_layers``),
        for smaller live runs.

    Returns
    -------
    dict
        Final ``train_loss``, ``test_loss``, ``test_error``/``train_error`` (NaN for
        regression), ``drop_input`` per layer (compression of I(X; T_l), nats per n_X),
        ``max_abs_diff`` per layer (|replica - exact|, linear student), ``n_checkpoints``,
        ``converged``, ``record`` (file name), ``wall_s``, ``train_s``, ``tracking_s``.
    """
    from . import data
    from .usv import USVNetwork

    if student not in ("linear", *FAMILIES):
        raise ValueError(f"student must be 'linear', 'relu' or 'hardtanh', got {student!r}")
    linear = student == "linear"
    s = _settings(TEACHER_STUDENT if linear else TEACHER_STUDENT_NONLINEAR, overrides)
    t0 = time.perf_counter()
    ds = data.teacher_student(s["teacher_widths"], teacher_noise=s["teacher_noise"],
                              task="regression" if linear else "classification",
                              n_samples=int(s["n_samples"]),
                              test_fraction=s["test_fraction"], seed=int(s["data_seed"]))
    L = len(s["widths"]) - 1
    if linear:
        acts = [Linear()] * L
    else:
        f = FAMILIES[student]()
        acts = [Linear(), f, None]
    net = USVNetwork(list(s["widths"]), acts, list(s["usv"]), seed=int(seed))
    path = _fresh(outdir, run_name(student))
    rec = training.train(net, ds, epochs=int(s["epochs"]), lr=s["lr"],
                         batch_size=int(s["batch_size"]), mi_every=int(s["mi_every"]),
                         noise=s["noise"], inter_noise=s["inter_noise"],
                         n_mi_layers=int(s["n_mi_layers"]), replica_tol=tol, seed=int(seed),
                         progress=False, save=path, device="cpu", background=False,
                         experiment={"experiment": "teacher_student", "student": student,
                                     "seed": int(seed), **_jsonable(s)})
    return _summary(rec, path, time.perf_counter() - t0)


teacher_student_run.dims = {"layer": ("layer",), "drop_input": ("layer",),
                            "max_abs_diff": ("layer",)}


def generative_run(family: str = "relu", *, seed: int = 0,
                   outdir: str | os.PathLike | None = None, tol: float = 1e-10,
                   **overrides) -> dict[str, Any]:
    """Train one USV encoder on the generative data and record I(Y; T_l) and I(X; T_l).

    The data (:data:`GENERATIVE`): latent Y ~ N(0, I_20), X = W_dec Y + xi with W_dec
    i.i.d. N(0, 1/20) entries (100 x 20) and xi ~ N(0, 0.01 I), label sign(Y_1); 20000
    samples, half held out. The encoder [100, 200, 100, 50, 20, 2] has activations
    [linear, f, linear, f, softmax], its first four layers USV; cross-entropy, SGD lr 0.01,
    batch 100. The tracked chain is Y -> X -> T_1 -> ... -> T_4 (the decoder prepended),
    every T_l observed through noise 1e-5 (0 before it), every 2 epochs.

    Parameters
    ----------
    family : {"relu", "hardtanh"}
        The activation f.
    seed : int
        Seed of the encoder (Haar U, V, initial singular values) and of the mini-batch
        order. The data set is the same for every seed (``data_seed``).
    outdir : path, optional
        The run record is written to ``outdir/<family>_seed<seed>.jsonl`` (replacing an
        older one).
    tol : float
        Replica solver tolerance.
    **overrides
        Any key of :data:`GENERATIVE` (e.g. ``n_samples``, ``epochs``, ``n_mi_layers``).

    Returns
    -------
    dict
        As :func:`teacher_student_run`, with ``drop_input`` the compression of I(Y; T_l)
        and ``drop_x`` that of I(X; T_l), both in nats per n_Y.

    Notes
    -----
    Runs the replica solves in the calling process (``background=False``): Dask's worker
    processes are daemonic and may not start the tracker's own worker process.
    """
    from . import data
    from .usv import USVNetwork

    if family not in FAMILIES:
        raise ValueError(f"family must be one of {sorted(FAMILIES)}, got {family!r}")
    s = _settings(GENERATIVE, overrides)
    t0 = time.perf_counter()
    ds = data.generative(s["decoder_widths"], decoder_noise=s["decoder_noise"],
                         task="classification", n_samples=int(s["n_samples"]),
                         test_fraction=s["test_fraction"], seed=int(s["data_seed"]))
    f = FAMILIES[family]()
    net = USVNetwork(list(s["widths"]), [Linear(), f, Linear(), f, None], list(s["usv"]),
                     seed=int(seed))
    path = _fresh(outdir, run_name(family, seed))
    rec = training.train(net, ds, epochs=int(s["epochs"]), lr=s["lr"],
                         batch_size=int(s["batch_size"]), mi_every=int(s["mi_every"]),
                         noise=s["noise"], inter_noise=s["inter_noise"],
                         n_mi_layers=int(s["n_mi_layers"]), replica_tol=tol, seed=int(seed),
                         progress=False, save=path, device="cpu", background=False,
                         experiment={"experiment": "generative", "family": family,
                                     "seed": int(seed), **_jsonable(s)})
    return _summary(rec, path, time.perf_counter() - t0)


generative_run.dims = {"layer": ("layer",), "drop_input": ("layer",), "drop_x": ("layer",)}


def _jsonable(settings: Mapping[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in settings.items()}


# ----------------------------------------------------------------------------- records

def load_runs(directory: str | os.PathLike, pattern: str = "*.jsonl") -> dict[str, RunRecord]:
    """The run records in ``directory`` matching ``pattern``, by file stem, sorted."""
    paths = sorted(Path(directory).glob(pattern))
    if not paths:
        raise FileNotFoundError(f"no run record {pattern!r} in {directory}")
    return {p.name[:-len(".jsonl")]: load(p) for p in paths}


def curves(records: Sequence[RunRecord], quantity: str = "mutual_information_x"
           ) -> tuple[np.ndarray, np.ndarray]:
    """(steps (n_ckpt,), values (n_runs, n_ckpt, m)) of a per-layer quantity; the runs must
    share their checkpoint steps."""
    steps = records[0].checkpoints[records[0].step_name]
    for r in records[1:]:
        if not np.array_equal(r.checkpoints[r.step_name], steps):
            raise ValueError("the records were checkpointed at different steps")
    return steps, np.stack([r.checkpoints[quantity] for r in records])


def drops(record_or_values, quantity: str = "mutual_information_x") -> np.ndarray:
    """Compression of every layer: max over checkpoints of I(., T_l) minus its final value.

    Parameters
    ----------
    record_or_values : RunRecord or array (..., n_ckpt, m)
    quantity : str
        The record's column (default I(X; T_l)).

    Returns
    -------
    numpy.ndarray (..., m)
        >= 0; 0 for a curve that ends at its maximum.
    """
    v = (record_or_values.checkpoints[quantity] if isinstance(record_or_values, RunRecord)
         else np.asarray(record_or_values, float))
    return np.max(v, axis=-2) - v[..., -1, :]


def at_checkpoints(record: RunRecord, metric: str) -> np.ndarray:
    """A logged metric (e.g. ``"test_loss"``) at the record's checkpoint steps."""
    logged = np.asarray(record.history[record.step_name])
    steps = record.checkpoints[record.step_name]
    idx = np.searchsorted(logged, steps)
    if np.any(idx >= len(logged)) or not np.array_equal(logged[np.minimum(idx, len(logged) - 1)],
                                                         steps):
        raise ValueError(f"{metric} was not logged at every checkpoint")
    return np.asarray(record.history[metric])[idx]


def final_metrics(record: RunRecord) -> dict[str, float]:
    """Final test error (1 - accuracy), test loss, train error and train loss of a run."""
    h = record.history
    return {"test_error": float(1 - h["test_acc"][-1]), "test_loss": float(h["test_loss"][-1]),
            "train_error": float(1 - h["train_acc"][-1]),
            "train_loss": float(h["train_loss"][-1])}


def jitter(values) -> np.ndarray:
    """Checkpoint-to-checkpoint jitter of curves: a robust standard deviation of their
    fluctuations about a locally linear trend.

    The second differences I(t+1) - 2 I(t) + I(t-1) of a smooth trend vanish, and those of
    white noise of standard deviation sigma have standard deviation sigma sqrt(6); their
    median absolute value is 0.6745 sigma sqrt(6) for Gaussian noise.

    Parameters
    ----------
    values : array (..., n_ckpt, m), n_ckpt >= 3

    Returns
    -------
    numpy.ndarray (..., m)
    """
    v = np.asarray(values, float)
    return np.median(np.abs(np.diff(v, 2, axis=-2)), axis=-2) / (0.6745 * np.sqrt(6.0))


def compression_test(values, *, floor_k: float = 5.0, level: float = 0.99
                     ) -> dict[str, np.ndarray]:
    """Which layers compress, systematically, over the seeds of one family.

    The drop D = max_t I(t) - I(end) (:func:`drops`) is >= 0 for any curve, and a curve
    that only jitters ends slightly below its running maximum. Two thresholds:

    * in one run, a drop is a decrease of that run when it exceeds the jitter floor
      ``floor_k`` x sigma, sigma the largest :func:`jitter` of the layer over the seeds
      (white jitter over ~50 checkpoints puts the last one below the maximum by a few
      sigma at most);
    * over the n seeds of a family, the layer compresses when the mean drop exceeds the
      floor by more than t_{level, n-1} standard errors sd/sqrt(n) (sd over seeds,
      ddof=1): the one-sided one-sample t test at ``level`` (t_{0.99, 4} = 3.75 for 5
      seeds, i.e. mean - floor > 1.68 sd). The seed-to-seed spread of the drop, which
      comes from the random initialization and mini-batch order, sets the threshold.

    Parameters
    ----------
    values : array (n_seeds, n_ckpt, m)
        The curves of one family (:func:`curves`).
    floor_k : float
    level : float

    Returns
    -------
    dict
        ``drop`` (n_seeds, m), ``floor`` (m,), ``runs`` (m,) the number of runs whose drop
        exceeds the floor, ``mean``, ``sd``, ``t`` (m,), ``critical`` (float),
        ``compresses`` (m,) bool, ``level``, ``floor_k``.
    """
    import scipy.stats

    v = np.asarray(values, float)
    if v.ndim != 3 or v.shape[0] < 2 or v.shape[1] < 3:
        raise ValueError(f"values must be (n_seeds >= 2, n_ckpt >= 3, m), got {v.shape}")
    d = drops(v)
    n = d.shape[0]
    floor = floor_k * jitter(v).max(axis=0)
    mean, sd = d.mean(0), d.std(0, ddof=1)
    excess = mean - floor
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(sd > 0, excess / (sd / np.sqrt(n)),
                     np.where(excess > 0, np.inf, -np.inf))
    crit = float(scipy.stats.t.ppf(level, n - 1))
    return {"drop": d, "floor": floor, "runs": np.sum(d > floor, axis=0), "mean": mean,
            "sd": sd, "t": t, "critical": crit, "compresses": t > crit,
            "level": float(level), "floor_k": float(floor_k)}


def within_family_correlations(drop: np.ndarray, error: np.ndarray, n_boot: int = 10000,
                               seed: int = 0, level: float = 0.95) -> dict[str, np.ndarray]:
    """Pearson correlation between the drop of each layer and the test error, across the
    seeds of one family, with its percentile bootstrap interval
    (:func:`midnn.training.bootstrap_correlation`).

    Parameters
    ----------
    drop : array (n_seeds, m)
    error : array (n_seeds,)

    Returns
    -------
    dict
        ``r``, ``low``, ``high`` (m,) (NaN where the drops do not vary), ``inconclusive``
        (m,) bool: the interval contains 0 or is undefined.
    """
    d, e = np.asarray(drop, float), np.asarray(error, float)
    out = {k: np.full(d.shape[1], np.nan) for k in ("r", "low", "high")}
    for l in range(d.shape[1]):
        if np.ptp(d[:, l]) > 0 and np.ptp(e) > 0:
            out["r"][l], out["low"][l], out["high"][l] = training.bootstrap_correlation(
                d[:, l], e, n_boot=n_boot, seed=seed, level=level)
    with np.errstate(invalid="ignore"):
        out["inconclusive"] = ~((out["low"] > 0) | (out["high"] < 0))
    return out


# ----------------------------------------------------------------------------- references

def haar_reference(record: RunRecord, index: int, n_draws: int = 50, seed: int = 0
                   ) -> np.ndarray:
    """Exact I(X; T_l) of linear chains with the spectra of checkpoint ``index`` of a
    record and fresh Haar singular vectors.

    At finite width the exact log-det of T_l = W_l ... W_1 X + noise depends on how the
    singular vectors of successive W_l are aligned; the replica formula gives its limit
    for independent Haar singular vectors. Redrawing them, with the record's spectra,
    shows the finite-size spread of the exact value around that limit: the tolerance of
    a replica-versus-exact comparison for layers l >= 2. (Layer 1 has a single matrix:
    its exact value depends on the spectrum only, the spread is zero.)

    Parameters
    ----------
    record : RunRecord
        Of a linear chain with a Gaussian prior and no input layers.
    index : int
        The checkpoint.
    n_draws : int
    seed : int

    Returns
    -------
    numpy.ndarray (n_draws, m)
        Exact I(X; T_l), nats per n_X, one row per draw.
    """
    from threadpoolctl import threadpool_limits

    spec = record.chain
    if spec.input_layers:
        raise ValueError("haar_reference takes a teacher-student record (no input layers)")
    rng = np.random.default_rng(seed)
    out = np.empty((int(n_draws), spec.n_layers))
    # one BLAS thread: 100 x 100 products gain nothing from more, a loaded machine loses
    # much (measured: 5 ms per draw alone, 0.45 s with the default pool on 2 busy cores),
    # and the last bits of a value do not depend on the thread count
    with threadpool_limits(limits=1):
        for d in range(int(n_draws)):
            out[d] = _haar_draw(spec, [s[index] for s in record.spectra], rng)
    return out


def _haar_draw(spec, spectra, rng) -> np.ndarray:
    """Exact I(X; T_l) of one chain with these spectra and fresh Haar singular vectors."""
    mats = []
    for L, lam in zip(spec.layers, spectra, strict=True):
        n_in, n_out = L.in_features, L.out_features
        r = min(n_in, n_out)
        sv = np.sqrt(np.clip(np.sort(np.asarray(lam, float))[::-1][:r], 0.0, None))
        U, V = _haar(n_out, rng), _haar(n_in, rng)
        mats.append((U[:, :r] * sv) @ V[:, :r].T)
    return exact_quantities(spec, mats, ())["exact_mutual_information"]


def _haar(n: int, rng: np.random.Generator) -> np.ndarray:
    """A Haar orthogonal matrix (QR of a Gaussian matrix with the sign fix)."""
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def noise_dependence(run: str, noise: float, *, directory: str | os.PathLike
                     ) -> dict[str, Any]:
    """A stored run's replica quantities recomputed at readout noise ``noise``
    (:func:`midnn.training.recompute`, from the stored spectra alone): a sweep task.

    Parameters
    ----------
    run : str
        The record ``directory/<run>.jsonl``.
    noise : float
        The readout noise Delta through which each T_l is observed.

    Returns
    -------
    dict
        ``epoch`` (n_ckpt,), ``layer`` (m,), ``mutual_information`` and (generative runs)
        ``mutual_information_x`` (epoch, layer), nats per n_input; ``converged`` (epoch,).
    """
    path = record_path(Path(directory) / run)
    rec = load(path)
    q = training.recompute(rec, readout_noise=float(noise))
    out = {"epoch": np.asarray(q[rec.step_name]), "layer": np.arange(1, rec.n_layers + 1),
           "mutual_information": q["mutual_information"], "converged": q["converged"]}
    if "mutual_information_x" in q:
        out["mutual_information_x"] = q["mutual_information_x"]
    return out


noise_dependence.dims = {"epoch": ("epoch",), "layer": ("layer",),
                         "mutual_information": ("epoch", "layer"),
                         "mutual_information_x": ("epoch", "layer"), "converged": ("epoch",)}
