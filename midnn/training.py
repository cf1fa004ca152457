"""Training a network on a :class:`midnn.data.Dataset` while tracking its information.

:func:`train` is a plain mini-batch loop (SGD or Adam, MSE or cross-entropy, CPU or GPU)
around a :class:`midnn.nn.Tracker`: after every epoch it logs the train/test loss and
accuracy, and every ``mi_every`` epochs (and at epoch 0, before training, and at the last
epoch) the tracker records the spectra of the tracked layers and the replica H(T_l),
I(input; T_l), H(T_l | input) and MMSE (nats per ``dataset.n_input``), computed in a worker
process by default while training goes on. For generative data the chain is
Y -> X -> T_1 -> ... (the decoder's layers prepended), and I(X; T_l) is recorded too
(:func:`midnn.tracking.information_curves`). A linear chain with a Gaussian prior also gets
the exact log-det values; estimators (:mod:`midnn.estimators`) run on a test subsample.

The result is a :class:`midnn.record.RunRecord`, written to ``save`` as training goes.
:func:`recompute` re-evaluates the replica quantities of a record at another readout noise
from its stored spectra alone; :func:`compression` and :func:`bootstrap_correlation` are the
analysis helpers of notebook 05.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np
import scipy.stats
import torch
from torch import nn

from .chainspec import evaluate, is_linear_gaussian
from .nn import _chain_spec, _parse
from .record import RunRecord, load
from .replica import ReplicaResult
from .tracking import Tracker
from .usv import USVNetwork, default_device

__all__ = ["train", "recompute", "load_record", "tracking_overhead", "compression",
           "bootstrap_correlation", "TrainingRecord"]

#: The record of a run (kept under its former name).
TrainingRecord = RunRecord
#: Read a record from disk (:func:`midnn.record.load`).
load_record = load

_METRICS = ("train_loss", "test_loss", "train_acc", "test_acc", "time", "eval_time")


# ----------------------------------------------------------------------------- helpers

@contextmanager
def _deterministic(enabled: bool, num_threads: int | None):
    """Deterministic torch algorithms and a thread count for the run, restored after."""
    prev, threads = torch.are_deterministic_algorithms_enabled(), torch.get_num_threads()
    if enabled:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
    if num_threads is not None:
        torch.set_num_threads(int(num_threads))
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(prev)
        torch.set_num_threads(threads)


def _check_data(dataset) -> None:
    """ValueError when an input, target or latent tensor has a NaN or an infinity."""
    for name in ("x_train", "y_train", "x_test", "y_test", "latent_train", "latent_test"):
        t = getattr(dataset, name, None)
        if t is not None and t.is_floating_point() and not bool(torch.isfinite(t).all()):
            raise ValueError(f"dataset.{name} contains non-finite values (NaN or inf): "
                             "training and the information of its layers are undefined")


def _evaluate(net, x, y, loss_fn, task, batch=4096) -> tuple[float, float]:
    net.eval()
    tot, correct, n = 0.0, 0, x.shape[0]
    with torch.no_grad():
        for i in range(0, n, batch):
            out = net(x[i:i + batch])
            yb = y[i:i + batch]
            tot += float(loss_fn(out, yb)) * out.shape[0]
            if task == "classification":
                correct += int((out.argmax(1) == yb).sum())
    acc = correct / n if task == "classification" else float("nan")
    return tot / n, acc


def _loss_fn(dataset, loss: str, dtype):
    criterion = nn.MSELoss() if loss == "mse" else nn.CrossEntropyLoss()
    onehot = dataset.task == "classification" and loss == "mse"

    def loss_fn(out, y):
        if onehot:
            y = nn.functional.one_hot(y, dataset.n_classes).to(dtype)
        return criterion(out, y)

    return loss_fn


def _check_losses(losses: torch.Tensor, epoch: int, lr: float) -> None:
    """FloatingPointError naming the first mini-batch of the epoch whose loss is not finite
    (one device synchronization per epoch)."""
    bad = ~torch.isfinite(losses)
    if bool(bad.any()):
        j = int(bad.nonzero()[0, 0])
        raise FloatingPointError(
            f"training diverged: the loss is {float(losses[j])} at epoch {epoch}, mini-batch "
            f"{j + 1} of {len(losses)}; no information is recorded past this point (the "
            f"record keeps the checkpoints before it). Lower the learning rate (lr={lr:g}).")


def _tracker(net, dataset, *, track: bool, n_mi_layers, noise, inter_noise, exact,
             estimators, estimator_samples, seed, config, **options) -> Tracker:
    """The tracker of a :func:`train` run."""
    n_mi = n_mi_layers
    if n_mi is None and isinstance(net, USVNetwork):
        n_mi = net.n_replica_layers or None
    if exact is None:
        spec = _chain_spec(_parse(net, n_mi, "error"), dataset.input_prior, noise, inter_noise,
                           dataset.input_layers)
        exact = track and is_linear_gaussian(spec)
    held = None
    if estimators:
        idx = np.sort(np.random.default_rng(seed).choice(
            dataset.n_test, min(estimator_samples, dataset.n_test), replace=False))
        source = dataset.latent_test if dataset.latent_test is not None else dataset.x_test
        held = (dataset.x_test[idx], source[idx])
    return Tracker(net, prior=dataset.input_prior, noise=noise, inter_noise=inter_noise,
                   input_layers=dataset.input_layers, n_layers=n_mi, every=None, exact=exact,
                   input_weights=dataset.weights if dataset.input_layers else (),
                   estimators=estimators, held=held, step="epoch",
                   seeds={"torch": seed, "data": dataset.seed}, config=config, **options)


# ----------------------------------------------------------------------------- training

def train(net: nn.Module, dataset, *, epochs: int = 10, lr: float = 0.01, batch_size: int = 50,
          optimizer: str = "sgd", loss: str | None = None, mi_every: int = 1,
          noise: float = 1e-5, inter_noise: float = 0.0, n_mi_layers: int | None = None,
          exact: bool | None = None, estimators: Mapping[str, Any] | None = None,
          estimator_samples: int = 500, replica_tol: float = 1e-10,
          replica_init: ReplicaResult | None = None, warm_start: bool = True,
          track: bool = True, seed: int = 0, device: torch.device | str | None = None,
          deterministic: bool = True, progress: bool = True, desc: str | None = None,
          save: str | os.PathLike | None = None, num_threads: int | None = 1,
          background: bool = True, overlap: bool | None = None,
          experiment: Mapping[str, Any] | None = None) -> RunRecord:
    """Train ``net`` on ``dataset`` and track H(T_l), I(input; T_l), MMSE along training.

    Parameters
    ----------
    net : USVNetwork or nn.Sequential
        The student, as :func:`midnn.nn.describe` takes it. Trained in place.
    dataset : midnn.data.Dataset
        Training/test data and the replica description of its input.
    epochs, lr, batch_size : training schedule (plain mini-batch SGD by default).
    optimizer : {"sgd", "adam"}
    loss : {"mse", "cross_entropy"}, optional
        Default: MSE for regression, cross-entropy for classification. For MSE on a
        classification task the targets are one-hot encoded.
    mi_every : int
        Track every ``mi_every`` epochs (epoch 0 = initialization and the last epoch always).
    noise, inter_noise : float
        Readout noise Delta of the observed layer and noise of the layers before it (the
        paper's ``mi_noise`` 1e-5 and ``inter_mi_noise`` 0).
    n_mi_layers : int, optional
        Number of leading layers tracked (default: for a USVNetwork its
        ``n_replica_layers``, for an ``nn.Sequential`` every linear layer).
    exact : bool, optional
        Also compute the exact log-det (default: when the tracked chain is linear and the
        input prior Gaussian).
    estimators : mapping name -> estimator, optional
        :mod:`midnn.estimators` objects, run on ``estimator_samples`` test inputs (paired
        with the latents Y for generative data), stored per n_input.
    replica_tol, replica_init, warm_start
        Solver tolerance, warm start of the first checkpoint (e.g.
        ``other_record.first_replica``), and warm starts along the run (see
        :class:`midnn.nn.Tracker`).
    track : bool
        False skips all information tracking (for timing the bare training).
    seed : int
        Seeds ``torch.manual_seed`` and the mini-batch shuffling.
    device : torch device, optional
        Default :func:`midnn.usv.default_device`.
    deterministic : bool
        ``torch.use_deterministic_algorithms(True)`` during the run (restored afterwards).
    progress, desc : tqdm progress bar and its label.
    save : path, optional
        Write the run record there (``.jsonl``) as training goes.
    num_threads : int, optional
        ``torch.set_num_threads`` during the run (restored afterwards; None leaves it). One
        thread is fastest for these small layers on a shared CPU.
    background : bool
        Compute the checkpoints in a worker process while training goes on (default), or
        in the loop. Same values, bitwise.
    overlap : bool, optional
        Deprecated name of ``background``.
    experiment : mapping, optional
        What the run is, in the caller's terms (e.g. ``{"family": "relu", "seed": 3}``):
        stored in the record's configuration as ``config["experiment"]``, so that a stored
        record says which experiment it belongs to.

    Returns
    -------
    RunRecord
        ``history`` per epoch (index = epoch): ``train_loss``, ``test_loss``,
        ``train_acc``, ``test_acc`` (NaN for regression), ``time`` (cumulative seconds of
        SGD steps), ``eval_time`` (cumulative seconds of these evaluations);
        ``checkpoints`` per tracked epoch; ``first_replica``/``last_replica``.

    Raises
    ------
    ValueError
        Non-finite data (before training starts).
    FloatingPointError
        A non-finite loss (training diverged), naming the epoch and mini-batch.
    """
    from tqdm import tqdm

    if overlap is not None:
        warnings.warn("train(overlap=...) is deprecated: use background=...",
                      DeprecationWarning, stacklevel=2)
        background = bool(overlap)
    loss = loss or ("mse" if dataset.task == "regression" else "cross_entropy")
    if loss not in ("mse", "cross_entropy") or optimizer not in ("sgd", "adam"):
        raise ValueError(f"loss must be 'mse' or 'cross_entropy' and optimizer 'sgd' or "
                         f"'adam', got {loss!r} and {optimizer!r}")
    if int(epochs) < 0 or int(mi_every) < 1 or int(batch_size) < 1:
        raise ValueError("epochs must be >= 0, mi_every and batch_size >= 1")
    _check_data(dataset)
    device = torch.device(device) if device is not None else default_device()
    net.to(device)
    config = dict(epochs=int(epochs), lr=float(lr), batch_size=int(batch_size),
                  optimizer=optimizer, loss=loss, mi_every=int(mi_every),
                  deterministic=bool(deterministic), device=str(device),
                  network=repr(net), dataset=repr(dataset), dataset_config=dataset.config,
                  experiment=dict(experiment or {}))
    tracker = _tracker(net, dataset, track=track, n_mi_layers=n_mi_layers, noise=noise,
                       inter_noise=inter_noise, exact=exact, estimators=estimators,
                       estimator_samples=estimator_samples, seed=seed, config=config,
                       record=save, background=bool(background and track), tol=replica_tol,
                       warm_start=warm_start, init=replica_init)
    bar = tqdm(range(1, int(epochs) + 1), disable=not progress, desc=desc or "train",
               leave=False)
    loss_fn = _loss_fn(dataset, loss, next(net.parameters()).dtype)
    with tracker, _deterministic(deterministic, num_threads):
        try:
            _loop(net, dataset, tracker, bar, device=device, lr=lr, batch_size=int(batch_size),
                  optimizer=optimizer, loss_fn=loss_fn, epochs=int(epochs), seed=seed,
                  mi_every=int(mi_every) if track else None)
        finally:
            bar.close()
    return tracker.record


def _loop(net, dataset, tracker: Tracker, bar, *, device, lr, batch_size, optimizer, loss_fn,
          mi_every, epochs, seed) -> None:
    """The epochs of :func:`train`: SGD/Adam steps, evaluation, tracker checkpoints."""
    dtype = next(net.parameters()).dtype
    xtr, xte = dataset.x_train.to(device, dtype), dataset.x_test.to(device, dtype)
    ytr, yte = dataset.y_train.to(device), dataset.y_test.to(device)
    if dataset.task == "regression":
        ytr, yte = ytr.to(dtype), yte.to(dtype)
    torch.manual_seed(seed)
    gen = torch.Generator(device="cpu").manual_seed(seed)
    params = [p for p in net.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=lr) if optimizer == "sgd" else torch.optim.Adam(params,
                                                                                      lr=lr)
    clock = {"time": 0.0, "eval_time": 0.0}

    def log(epoch: int) -> None:
        t0 = time.perf_counter()
        trl, tra = _evaluate(net, xtr, ytr, loss_fn, dataset.task)
        tel, tea = _evaluate(net, xte, yte, loss_fn, dataset.task)
        clock["eval_time"] += time.perf_counter() - t0
        due = mi_every is not None and (epoch % mi_every == 0 or epoch == epochs)
        tracker.checkpoint(epoch, force=due, train_loss=trl, test_loss=tel, train_acc=tra,
                           test_acc=tea, **clock)

    log(0)
    n = xtr.shape[0]
    n_batches = -(-n // batch_size)
    for epoch in bar:
        t0 = time.perf_counter()
        net.train()
        perm = torch.randperm(n, generator=gen).to(device)
        losses = torch.empty(n_batches, device=device)
        for j, i in enumerate(range(0, n, batch_size)):
            idx = perm[i:i + batch_size]
            opt.zero_grad(set_to_none=True)
            lval = loss_fn(net(xtr[idx]), ytr[idx])
            lval.backward()
            opt.step()
            losses[j] = lval.detach()
        clock["time"] += time.perf_counter() - t0
        _check_losses(losses, epoch, lr)
        log(epoch)
        bar.set_postfix(loss=f"{float(losses.mean()):.3g}")


# ----------------------------------------------------------------------------- offline

def recompute(record: RunRecord | str | os.PathLike, readout_noise: float | None = None, *,
              tol: float | None = None, init: ReplicaResult | None = None,
              warm_start: bool | None = None, progress: bool = False) -> dict[str, np.ndarray]:
    """Replica quantities at every checkpoint of a record, from its stored spectra alone.

    Parameters
    ----------
    record : RunRecord or path
    readout_noise : float, optional
        Delta through which each layer is observed (default: the record's ``noise``).
    tol : float, optional
        Solver tolerance (default: the record's).
    init : ReplicaResult, optional
        Warm start of the first checkpoint.
    warm_start : bool, optional
        Warm-start each checkpoint from the previous one (default: as in the record). With
        the record's noise and options, and a record whose first checkpoint was solved
        cold, the values are bitwise those recorded.

    Returns
    -------
    dict
        The step column (e.g. ``epoch``), arrays (n_ckpt, m) of every replica quantity of
        :func:`midnn.chainspec.evaluate` (nats per n_input), ``converged`` (n_ckpt,).
    """
    from tqdm import tqdm

    rec = record if isinstance(record, RunRecord) else load(record)
    options = rec.header.get("tracking", {})
    tol = float(options.get("tol", 1e-10)) if tol is None else float(tol)
    warm = bool(options.get("warm_start", True)) if warm_start is None else bool(warm_start)
    out: dict[str, list] = {}
    conv = []
    for c in tqdm(range(rec.n_checkpoints), disable=not progress, desc="recompute",
                  leave=False):
        res, q = evaluate(rec.chain, [s[c] for s in rec.spectra], noise=readout_noise,
                          init=init, tol=tol)
        init = res if warm else None
        conv.append(bool(res.converged))
        for k, v in q.items():
            out.setdefault(k, []).append(v)
    result = {k: np.asarray(v).reshape(-1, rec.n_layers) for k, v in out.items()}
    result[rec.step_name] = rec.checkpoints[rec.step_name].copy()
    result["converged"] = np.asarray(conv, bool)
    return result


def tracking_overhead(record: RunRecord) -> dict[str, float]:
    """What information tracking cost a :func:`train` run, in seconds.

    Returns
    -------
    dict
        ``train_s`` (SGD steps), ``eval_s`` (per-epoch loss evaluation), ``tracking_s``
        (computing the checkpoints, wherever it ran), ``fraction`` = tracking / (train +
        tracking), ``ratio`` = tracking / train, ``blocking_s`` (seconds the training loop
        spent in the tracker's calls: everything when serial; description, submission,
        recording and the final wait in the background) and ``added`` = blocking / train,
        the fraction tracking added to the training time.
    """
    h, ck = record.history, record.checkpoints
    tt = float(h["time"][-1]) if len(h.get("time", [])) else 0.0
    et = float(h["eval_time"][-1]) if len(h.get("eval_time", [])) else float("nan")
    rt = float(np.sum(ck.get("compute_time", [])))
    bt = record.blocked if record.status != "running" else float(np.sum(ck["blocking_time"]))
    total = tt + rt
    return {"train_s": tt, "eval_s": et, "tracking_s": rt,
            "fraction": rt / total if total > 0 else 0.0,
            "ratio": rt / tt if tt > 0 else float("nan"), "blocking_s": bt,
            "added": bt / tt if tt > 0 else float("nan")}


# ----------------------------------------------------------------------------- analysis

def compression(values: np.ndarray) -> float:
    """Drop of a curve after its maximum: max(values) - values[-1] (>= 0)."""
    v = np.asarray(values, float)
    return float(np.max(v) - v[-1])


def _pearson(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    """Pearson correlation along ``axis`` (NaN where x or y is constant)."""
    x = x - x.mean(axis, keepdims=True)
    y = y - y.mean(axis, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (x * y).sum(axis) / np.sqrt((x * x).sum(axis) * (y * y).sum(axis))


def bootstrap_correlation(x, y, n_boot: int = 2000, seed: int = 0,
                          level: float = 0.95) -> tuple[float, float, float]:
    """Pearson correlation of (x, y) and its percentile bootstrap interval.

    The pairs (x_i, y_i) are resampled with replacement ``n_boot`` times by
    ``scipy.stats.bootstrap`` (``paired=True``, ``rng=numpy.random.default_rng(seed)``), and
    the interval is the (1 - level)/2 and (1 + level)/2 quantiles of the resampled
    correlations (the percentile method). Resamples in which x or y is constant have no
    correlation and are left out of the quantiles (with few runs they occur).

    Returns
    -------
    (r, low, high) : floats
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    r = float(_pearson(x, y))
    with warnings.catch_warnings():  # scipy's own interval is NaN when a resample is constant
        warnings.simplefilter("ignore")
        res = scipy.stats.bootstrap((x, y), _pearson, n_resamples=int(n_boot), paired=True,
                                    vectorized=True, method="percentile",
                                    rng=np.random.default_rng(seed), confidence_level=level)
    boots = res.bootstrap_distribution[np.isfinite(res.bootstrap_distribution)]
    a = (1 - level) / 2
    lo, hi = np.quantile(boots, [a, 1 - a]) if boots.size else (np.nan, np.nan)
    return r, float(lo), float(hi)
