"""Training stacks of USV layers while tracking their entropy and mutual information (digest 5.4).

:func:`train` fits a :class:`midnn.usv.USVNetwork` on a :class:`midnn.data.Dataset` with SGD or
Adam (MSE or cross-entropy) on the CPU or the GPU (:func:`midnn.usv.default_device`). Every
``mi_every`` epochs (and at epoch 0, before training) it records

* the singular values of every USV layer (the replica formula only needs their squares),
* from **one** warm-started replica call on the chain ``input -> [decoder] -> T_1 -> ... ->
  T_m`` (m = :attr:`USVNetwork.n_replica_layers`, inner noises ``inter_noise``, every layer
  observed through ``noise`` with the replica API's ``readout_noise``): H(T_l), I(input; T_l),
  H(T_l | input) and the MMSE of the input, per ``dataset.n_input`` (nats),
* for a linear student with a Gaussian input: the same quantities from the exact log-det
  (:func:`midnn.exact.linear_gaussian`, with the decoder prepended for generative data),
* optionally, non-parametric estimates (:mod:`midnn.estimators`) on a test subsample,

and after every epoch the train/test loss and accuracy (classification). Each replica call is
warm-started from the previous checkpoint (``init=``), which makes a checkpoint cost well under
a second once the first (cold) solve is done; ``replica_init`` passes in a result from another
run (e.g. the previous seed) so that even the first checkpoint is warm. With the opt-in
``overlap=True`` the replica solves run in a child process while training goes on (same values;
benchmarks/bench_training.py measures both modes at paper scale).

The result is a :class:`TrainingRecord` (config, seeds, per-epoch metrics, per-checkpoint
information quantities, all spectra, the input chain). :meth:`TrainingRecord.save` writes a
JSON file (everything but the arrays) and an ``.npz`` (the arrays); :func:`load_record` reads
them back, and :func:`recompute` re-evaluates the replica quantities offline at another readout
noise from the stored spectra alone.
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import os
import queue as _queue
import time
import warnings
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from . import activations as _acts
from . import priors as _priors
from .exact import linear_gaussian
from .model import Layer, Model
from .replica import ReplicaResult, replica
from .spectra import Empirical
from .usv import USVNetwork, default_device

__all__ = ["TrainingRecord", "train", "recompute", "load_record", "tracking_overhead"]

_QUANTITIES = ("entropy", "mutual_information", "conditional_entropy", "mmse")


# ----------------------------------------------------------------------------- serialization

def _encode(obj) -> dict:
    """A midnn prior or activation (frozen dataclass) as a JSON-able dict."""
    d = {"type": type(obj).__name__}
    d.update({f.name: getattr(obj, f.name) for f in dataclasses.fields(obj) if f.init})
    return d


def _decode(d: Mapping, module):
    d = dict(d)
    cls = getattr(module, d.pop("type"))
    return cls(**d)


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (_acts.Activation, _priors.Prior)):
        return _encode(o)
    return repr(o)


# ----------------------------------------------------------------------------- record

@dataclass
class TrainingRecord:
    """Everything a training run measured, enough to recompute the replica MI offline.

    Attributes
    ----------
    config : dict
        Training configuration (JSON-able), including ``seed`` and the data set's seed.
    history : dict of numpy arrays
        Per epoch (index 0 = before training): ``epoch``, ``train_loss``, ``test_loss``,
        ``train_acc``, ``test_acc`` (NaN for regression), ``time`` (training seconds),
        ``eval_time`` (seconds spent evaluating these losses; both cumulative).
    checkpoints : dict of numpy arrays
        ``epoch`` (n_ckpt,), replica ``entropy``, ``mutual_information``,
        ``conditional_entropy``, ``mmse`` (n_ckpt, m) for student layers 1..m,
        ``converged`` (n_ckpt,), ``replica_time`` (n_ckpt,: seconds of tracking computation),
        ``blocking_time`` (n_ckpt,: seconds the training loop waited for it; equal to
        ``replica_time`` up to bookkeeping unless ``overlap``), and when computed
        ``exact_<quantity>`` (n_ckpt, m) and ``est_<name>`` (n_ckpt, m).
    spectra : list of numpy arrays
        Per USV layer, the singular values |s| at every checkpoint, shape (n_ckpt, r_l).
    chain : dict
        The replica description of the input: ``prior``, ``input_layers`` (activation and
        alpha of each decoder layer), ``n_input``, the student's ``activations``,
        ``in_features``/``out_features`` of each replica layer, ``noise``, ``inter_noise``.
    input_eigvals : list of numpy arrays
        Eigenvalues of W^T W of the decoder layers (empty for teacher-student).
    last_replica : ReplicaResult or None
        The replica result of the last checkpoint (in memory only; for warm starts).
    """

    config: dict[str, Any]
    history: dict[str, np.ndarray]
    checkpoints: dict[str, np.ndarray]
    spectra: list[np.ndarray]
    chain: dict[str, Any]
    input_eigvals: list[np.ndarray] = field(default_factory=list)
    last_replica: ReplicaResult | None = field(default=None, repr=False, compare=False)
    first_replica: ReplicaResult | None = field(default=None, repr=False, compare=False)

    @property
    def n_mi_layers(self) -> int:
        return int(self.chain["n_mi_layers"])

    def save(self, path: str | os.PathLike) -> tuple[Path, Path]:
        """Write ``<path>.json`` (config, chain, metadata) and ``<path>.npz`` (arrays)."""
        base = Path(path)
        if base.suffix in (".json", ".npz"):
            base = base.with_suffix("")
        base.parent.mkdir(parents=True, exist_ok=True)
        arrays = {f"history/{k}": np.asarray(v) for k, v in self.history.items()}
        arrays.update({f"checkpoints/{k}": np.asarray(v) for k, v in self.checkpoints.items()})
        arrays.update({f"spectra/{i}": np.asarray(s) for i, s in enumerate(self.spectra)})
        arrays.update({f"input_eigvals/{i}": np.asarray(s)
                       for i, s in enumerate(self.input_eigvals)})
        meta = {"format": "midnn.training/1", "config": self.config, "chain": self.chain,
                "n_spectra": len(self.spectra), "n_input_layers": len(self.input_eigvals)}
        jpath, npath = base.with_suffix(".json"), base.with_suffix(".npz")
        jpath.write_text(json.dumps(meta, indent=1, default=_json_default))
        np.savez_compressed(npath, **arrays)
        return jpath, npath


def load_record(path: str | os.PathLike) -> TrainingRecord:
    """Read a record written by :meth:`TrainingRecord.save` (``path`` with or without suffix)."""
    base = Path(path)
    if base.suffix in (".json", ".npz"):
        base = base.with_suffix("")
    meta = json.loads(base.with_suffix(".json").read_text())
    with np.load(base.with_suffix(".npz")) as z:
        arrays = {k: z[k] for k in z.files}
    def group(prefix):
        return {k[len(prefix) + 1:]: v for k, v in arrays.items() if k.startswith(prefix + "/")}
    return TrainingRecord(
        config=meta["config"], history=group("history"), checkpoints=group("checkpoints"),
        spectra=[arrays[f"spectra/{i}"] for i in range(meta["n_spectra"])],
        chain=meta["chain"],
        input_eigvals=[arrays[f"input_eigvals/{i}"] for i in range(meta["n_input_layers"])])


# ----------------------------------------------------------------------------- replica chain

def _spectrum(sv: np.ndarray, n_in: int, n_out: int) -> Empirical:
    lam = np.concatenate([np.zeros(n_in - min(n_in, n_out)), np.asarray(sv, float) ** 2])
    return Empirical(lam, n_out / n_in)


def _chain_model(chain: Mapping, input_eigvals: Sequence[np.ndarray],
                 singular_values: Sequence[np.ndarray]) -> tuple[Model, list[float]]:
    """The full replica chain and the own noises of its input layers (for ``readout_noise``)."""
    prior = _decode(chain["prior"], _priors)
    layers, own = [], []
    for spec, lam in zip(chain["input_layers"], input_eigvals, strict=True):
        act = _decode(spec["activation"], _acts)
        layers.append(Layer(Empirical(np.asarray(lam, float), spec["alpha"]), act))
        own.append(float(act.noise))
    m = int(chain["n_mi_layers"])
    for k in range(m):
        act = _decode(chain["activations"][k], _acts)
        nz = chain["noise"] if k == m - 1 else chain["inter_noise"]
        layers.append(Layer(_spectrum(singular_values[k], chain["in_features"][k],
                                      chain["out_features"][k]), act.with_noise(nz)))
    return Model(prior, layers), own


def _replica_checkpoint(chain, input_eigvals, svs, noise, init, tol):
    model, own = _chain_model(chain, input_eigvals, svs)
    m = int(chain["n_mi_layers"])
    res = replica(model, readout_noise=own + [float(noise)] * m, init=init, tol=tol)
    k = len(own)
    return res, {q: np.asarray(getattr(res, q))[k:] for q in _QUANTITIES}


def _replica_worker(chain, input_eigvals, noise, tol, init, warm_start, tasks, results):
    """Worker process of ``train(..., overlap=True)``: the same warm-started sequence of
    :func:`_replica_checkpoint` calls as the serial loop, one task per checkpoint, in order."""
    while True:
        svs = tasks.get()
        if svs is None:
            return
        t0 = time.perf_counter()
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                res, q = _replica_checkpoint(chain, input_eigvals, svs, noise, init, tol)
        except BaseException as err:  # noqa: BLE001 -- reported to the parent, which raises
            results.put(("error", f"{type(err).__name__}: {err}"))
            return
        init = res if warm_start else None
        msgs = [(str(w.message), w.category) for w in caught]
        results.put(("ok", res, q, time.perf_counter() - t0, msgs))


class _ReplicaWorker:
    """A child process that runs the replica solves of the checkpoints concurrently with the
    training loop (``train(..., overlap=...)``). Tasks are solved one at a time in submission
    order, each warm-started from the previous one exactly as in the serial loop, so the
    results are those of the serial run."""

    def __init__(self, chain, input_eigvals, noise, tol, init, warm_start, method):
        ctx = multiprocessing.get_context(method)
        self._tasks = ctx.Queue()
        self._results = ctx.Queue()
        self._proc = ctx.Process(
            target=_replica_worker, name="midnn-replica-worker", daemon=True,
            args=(chain, input_eigvals, noise, tol, init, warm_start, self._tasks,
                  self._results))
        self._proc.start()
        self.pending = 0

    def submit(self, svs) -> None:
        self._tasks.put([np.asarray(s, float) for s in svs])
        self.pending += 1

    def get(self, block: bool = True):
        """The next result ``(res, q, seconds, warnings)`` in order, or None (non-blocking and
        none ready)."""
        while True:
            try:
                item = (self._results.get(timeout=0.5) if block
                        else self._results.get_nowait())
            except _queue.Empty:
                if not self._proc.is_alive():
                    raise RuntimeError("the replica worker process died (exit code "
                                       f"{self._proc.exitcode})") from None
                if not block:
                    return None
                continue
            if item[0] == "error":
                raise RuntimeError(f"replica worker: {item[1]}")
            self.pending -= 1
            return item[1:]

    def close(self) -> None:
        """Stop the child: at once when solves are still pending (the run was interrupted),
        else after it has read the end-of-tasks sentinel."""
        if self._proc.is_alive() and not self.pending:
            try:
                self._tasks.put(None)
            except (OSError, ValueError):
                pass
            self._proc.join(timeout=10)
        if self._proc.is_alive():
            self._proc.terminate()
            self._proc.join(timeout=5)
        self._tasks.cancel_join_thread()  # the child is gone: unread tasks may be dropped
        self._tasks.close()
        self._results.close()


# ----------------------------------------------------------------------------- helpers

@contextmanager
def _deterministic(enabled: bool):
    prev = torch.are_deterministic_algorithms_enabled()
    if enabled:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(prev)


def _evaluate(net, x, y, loss_fn, task, batch=4096):
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


def _is_gaussian_linear(chain) -> bool:
    names = [a["type"] for a in chain["activations"][: chain["n_mi_layers"]]]
    names += [s["activation"]["type"] for s in chain["input_layers"]]
    return chain["prior"]["type"] == "Gaussian" and all(n == "Linear" for n in names)


def _exact(net, dataset, n_mi, noise, inter_noise):
    mats = [w.astype(float) for w in dataset.weights] if dataset.input_layers else []
    own = [float(L.activation.noise) for L in dataset.input_layers]
    mats += [net.layers[k].weight.detach().cpu().double().numpy() for k in range(n_mi)]
    noises = own + [inter_noise] * (n_mi - 1) + [noise]
    read = [None] * len(own) + [noise] * n_mi
    res = linear_gaussian(mats, noises, var=dataset.input_prior.var, readout_noise=read,
                          normalization=dataset.n_input)
    k = len(own)
    return {q: np.asarray(getattr(res, q))[k:] for q in _QUANTITIES}


# ----------------------------------------------------------------------------- training

def train(net: USVNetwork, dataset, *, epochs: int = 10, lr: float = 0.01, batch_size: int = 50,
          optimizer: str = "sgd", loss: str | None = None, mi_every: int = 1,
          noise: float = 1e-5, inter_noise: float = 0.0, n_mi_layers: int | None = None,
          exact: bool | None = None, estimators: Mapping[str, Any] | None = None,
          estimator_samples: int = 500, replica_tol: float = 1e-10,
          replica_init: ReplicaResult | None = None, warm_start: bool = True,
          track: bool = True, seed: int = 0,
          device: torch.device | str | None = None, deterministic: bool = True,
          progress: bool = True, desc: str | None = None, save: str | os.PathLike | None = None,
          num_threads: int | None = 1, overlap: bool | str = False) -> TrainingRecord:
    """Train ``net`` on ``dataset`` and track H(T_l), I(input; T_l), MMSE along training.

    Parameters
    ----------
    net : USVNetwork
        The student (USV layers, optionally a free readout). Trained in place.
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
        Readout noise of the observed layer and noise of the layers before it (the paper's
        ``mi_noise`` 1e-5 and ``inter_mi_noise`` 0).
    n_mi_layers : int, optional
        Number of leading layers tracked (default: all the replica-describable layers).
    exact : bool, optional
        Also compute the exact log-det (default: when the tracked chain is linear and the
        input prior Gaussian).
    estimators : mapping name -> estimator, optional
        :mod:`midnn.estimators` objects; ``estimate(x, t)`` (mutual information) is called on
        ``estimator_samples`` test inputs and the noiseless T_l, and stored per n_input.
    replica_tol : float
        Tolerance of the replica solver.
    replica_init : ReplicaResult, optional
        Warm start of the first checkpoint (e.g. ``other_record.first_replica``); only with
        ``warm_start``.
    warm_start : bool
        Start each replica solve from the previous checkpoint's fixed point (``init=``),
        default True. Warm and cold starts give the same values (the solver's convergence
        test requires both V and Ã to settle); warm starts are several times cheaper.
    track : bool
        False skips all information tracking (for timing the bare training).
    seed : int
        Seeds ``torch.manual_seed`` and the mini-batch shuffling.
    device : torch device, optional
        Default :func:`midnn.usv.default_device`.
    deterministic : bool
        ``torch.use_deterministic_algorithms(True)`` during the run (restored afterwards).
    progress : bool
        Show a tqdm progress bar.
    num_threads : int, optional
        ``torch.set_num_threads`` during the run (restored afterwards; None leaves it). One
        thread is fastest for these small layers on a shared CPU.
    save : path, optional
        Save the record there (``.json`` + ``.npz``).
    overlap : bool or str
        Opt-in: run the replica solves in a child process, concurrently with the training
        loop (default False: serial). ``True`` uses the ``"spawn"`` start method; a string
        names another (``"forkserver"``, ``"fork"``). The child solves the checkpoints one at
        a time, in order, with the same warm starts, so the recorded values are identical to
        the serial run's; the loop only waits for the solves still running when training
        ends. ``checkpoints["replica_time"]`` is then the child's time and
        ``checkpoints["blocking_time"]`` the time the loop was stopped. As with any
        ``multiprocessing`` code, a script using it needs an ``if __name__ == "__main__":``
        guard. Exact and estimator tracking (which need the network) stay in the loop.
    """
    from tqdm import tqdm

    task = dataset.task
    loss = loss or ("mse" if task == "regression" else "cross_entropy")
    if loss not in ("mse", "cross_entropy"):
        raise ValueError(f"loss must be 'mse' or 'cross_entropy', got {loss!r}")
    if optimizer not in ("sgd", "adam"):
        raise ValueError(f"optimizer must be 'sgd' or 'adam', got {optimizer!r}")
    if int(epochs) < 0 or int(mi_every) < 1 or int(batch_size) < 1:
        raise ValueError("epochs must be >= 0, mi_every and batch_size >= 1")
    device = torch.device(device) if device is not None else default_device()
    n_max = net.n_replica_layers
    n_mi = n_max if n_mi_layers is None else int(n_mi_layers)
    if track and not 1 <= n_mi <= n_max:
        raise ValueError(f"n_mi_layers must be in [1, {n_max}], got {n_mi}")
    if overlap is True:
        overlap = "spawn"
    if overlap and overlap not in multiprocessing.get_all_start_methods():
        raise ValueError(f"overlap must be a bool or one of "
                         f"{multiprocessing.get_all_start_methods()}, got {overlap!r}")

    dtype = next(net.parameters()).dtype
    xtr, xte = dataset.x_train.to(device, dtype), dataset.x_test.to(device, dtype)
    ytr, yte = dataset.y_train.to(device), dataset.y_test.to(device)
    if task == "regression":
        ytr, yte = ytr.to(dtype), yte.to(dtype)
    onehot = task == "classification" and loss == "mse"
    criterion = nn.MSELoss() if loss == "mse" else nn.CrossEntropyLoss()

    def loss_fn(out, y):
        if onehot:
            y = nn.functional.one_hot(y, dataset.n_classes).to(dtype)
        return criterion(out, y)

    def eval_fn(x, y):
        return _evaluate(net, x, y, loss_fn, task)

    chain = {
        "prior": _encode(dataset.input_prior),
        "input_layers": [{"activation": _encode(L.activation), "alpha": float(L.alpha)}
                         for L in dataset.input_layers],
        "n_input": int(dataset.n_input),
        "activations": [_encode(a) if a is not None else None for a in net.activations],
        "in_features": [int(m.in_features) for m in net.layers],
        "out_features": [int(m.out_features) for m in net.layers],
        "n_mi_layers": n_mi, "noise": float(noise), "inter_noise": float(inter_noise),
    }
    input_eigvals = [np.asarray(L.spectrum.eigvals, float) for L in dataset.input_layers]
    if exact is None:
        exact = track and _is_gaussian_linear(chain)
    config = dict(epochs=int(epochs), lr=float(lr), batch_size=int(batch_size),
                  optimizer=optimizer, loss=loss, mi_every=int(mi_every), noise=float(noise),
                  inter_noise=float(inter_noise), n_mi_layers=n_mi, exact=bool(exact),
                  estimators=sorted(estimators or {}), estimator_samples=int(estimator_samples),
                  replica_tol=float(replica_tol), warm_start=bool(warm_start),
                  seed=int(seed), device=str(device), overlap=overlap or False,
                  deterministic=bool(deterministic), widths=list(net.widths),
                  usv=list(net.usv_flags), dataset_kind=dataset.kind, dataset_seed=dataset.seed,
                  task=task, n_train=dataset.n_train, n_test=dataset.n_test)

    usv_layers = net.usv_layers()
    hist = {k: [] for k in ("epoch", "train_loss", "test_loss", "train_acc", "test_acc", "time",
                            "eval_time")}
    ck: dict[str, list] = {k: [] for k in ("epoch", "converged", "replica_time", "blocking_time",
                                           *_QUANTITIES)}
    spectra: list[list[np.ndarray]] = [[] for _ in usv_layers]
    if exact:
        ck.update({f"exact_{q}": [] for q in _QUANTITIES})
    for name in estimators or {}:
        ck[f"est_{name}"] = []
    state = {"init": replica_init if warm_start else None, "first": None}
    est_rng = np.random.default_rng(seed)
    est_idx = np.sort(est_rng.choice(dataset.n_test, min(estimator_samples, dataset.n_test),
                                     replace=False))

    worker: _ReplicaWorker | None = None
    main_time: list[float] = []  # per checkpoint: exact + estimators, computed in the loop

    def take(res, q, seconds, msgs=()):
        """Store the replica result of the next checkpoint (results arrive in order)."""
        for msg, category in msgs:
            warnings.warn(msg, category, stacklevel=3)
        state["init"] = res if warm_start else None
        state["last"] = res
        if state["first"] is None:
            state["first"] = res
        for name, v in q.items():
            ck[name].append(v)
        ck["converged"].append(bool(res.converged))
        ck["replica_time"].append(seconds + main_time[len(ck["replica_time"])])

    def checkpoint(epoch):
        for i, m in enumerate(usv_layers):
            spectra[i].append(m.singular_values())
        ck["epoch"].append(epoch)
        if not track:
            return
        t0 = time.perf_counter()
        # the leading n_mi layers are USV layers: their |s| were just recorded
        svs = [spectra[k][-1] for k in range(n_mi)]
        if worker is None:
            res, q = _replica_checkpoint(chain, input_eigvals, svs, noise, state["init"],
                                         replica_tol)
            replica_s = time.perf_counter() - t0
        else:
            worker.submit(svs)
        t1 = time.perf_counter()
        if exact:
            ex = _exact(net, dataset, n_mi, noise, inter_noise)
            for name, v in ex.items():
                ck[f"exact_{name}"].append(v)
        if estimators:
            with torch.no_grad():
                xs = xte[torch.as_tensor(est_idx, device=device)]
                _, outs = net(xs, return_all=True)
            src = (dataset.latent_test[est_idx] if dataset.latent_test is not None
                   else xs).detach().cpu().double().numpy()
            for name, est in estimators.items():
                ck[f"est_{name}"].append(np.array([
                    est.estimate(src, outs[k].detach().cpu().double().numpy())
                    / dataset.n_input for k in range(n_mi)]))
        main_time.append(time.perf_counter() - t1)
        if worker is None:
            take(res, q, replica_s)
        else:
            while (item := worker.get(block=False)) is not None:
                take(*item)
        ck["blocking_time"].append(time.perf_counter() - t0)

    eval_time = [0.0]

    def log_metrics(epoch, elapsed):
        t0 = time.perf_counter()
        trl, tra = eval_fn(xtr, ytr)
        tel, tea = eval_fn(xte, yte)
        eval_time[0] += time.perf_counter() - t0
        for k, v in zip(hist, (epoch, trl, tel, tra, tea, elapsed, eval_time[0]), strict=True):
            hist[k].append(v)

    prev_threads = torch.get_num_threads()
    if num_threads is not None:
        torch.set_num_threads(int(num_threads))
    try:
        with _deterministic(deterministic):
            torch.manual_seed(seed)
            gen = torch.Generator(device="cpu").manual_seed(seed)
            net.to(device)
            params = [p for p in net.parameters() if p.requires_grad]
            opt = (torch.optim.SGD(params, lr=lr) if optimizer == "sgd"
                   else torch.optim.Adam(params, lr=lr))
            train_time = 0.0
            t_start = time.perf_counter()
            if track and overlap:
                worker = _ReplicaWorker(chain, input_eigvals, noise, replica_tol,
                                        state["init"], warm_start, overlap)
            t_start = time.perf_counter() - t_start
            log_metrics(0, 0.0)
            checkpoint(0)
            if track:
                ck["blocking_time"][0] += t_start
            bar = tqdm(range(1, int(epochs) + 1), disable=not progress, desc=desc or "train",
                       leave=False)
            n = xtr.shape[0]
            for epoch in bar:
                t0 = time.perf_counter()
                net.train()
                perm = torch.randperm(n, generator=gen).to(device)
                for i in range(0, n, batch_size):
                    idx = perm[i:i + batch_size]
                    opt.zero_grad(set_to_none=True)
                    out = net(xtr[idx])
                    lval = loss_fn(out, ytr[idx])
                    lval.backward()
                    opt.step()
                train_time += time.perf_counter() - t0
                log_metrics(epoch, train_time)
                if epoch % mi_every == 0 or epoch == epochs:
                    checkpoint(epoch)
                bar.set_postfix(loss=f"{hist['train_loss'][-1]:.3g}",
                                test=f"{hist['test_loss'][-1]:.3g}")
            bar.close()
            if worker is not None:
                t0 = time.perf_counter()
                while worker.pending:
                    take(*worker.get())
                ck["blocking_time"][-1] += time.perf_counter() - t0
    finally:
        if worker is not None:
            worker.close()
        torch.set_num_threads(prev_threads)

    history = {k: np.asarray(v, float) for k, v in hist.items()}
    history["epoch"] = history["epoch"].astype(int)
    checkpoints = {}
    for k, v in ck.items():
        if k == "epoch":
            checkpoints[k] = np.asarray(v, int)
        elif k == "converged":
            checkpoints[k] = np.asarray(v, bool)
        else:
            checkpoints[k] = np.asarray(v, float)
    rec = TrainingRecord(config=config, history=history, checkpoints=checkpoints,
                         spectra=[np.asarray(s) for s in spectra], chain=chain,
                         input_eigvals=input_eigvals, last_replica=state.get("last"),
                         first_replica=state["first"])
    if save is not None:
        rec.save(save)
    return rec


# ----------------------------------------------------------------------------- offline

def recompute(record: TrainingRecord | str | os.PathLike, readout_noise: float | None = None, *,
              tol: float | None = None, init: ReplicaResult | None = None,
              warm_start: bool | None = None, progress: bool = False) -> dict[str, np.ndarray]:
    """Replica H, I, H(.|input), MMSE at every checkpoint from the stored spectra.

    Parameters
    ----------
    record : TrainingRecord or path
    readout_noise : float, optional
        Noise through which each layer is observed (default: the record's ``noise``).
    tol : float, optional
        Solver tolerance (default: the record's ``replica_tol``).
    init : ReplicaResult, optional
        Warm start of the first checkpoint.
    warm_start : bool, optional
        Warm-start each checkpoint from the previous one (default: as in the record).

    Returns
    -------
    dict
        ``epoch`` and arrays (n_ckpt, m) ``entropy``, ``mutual_information``,
        ``conditional_entropy``, ``mmse``; ``converged`` (n_ckpt,).
    """
    from tqdm import tqdm

    if not isinstance(record, TrainingRecord):
        record = load_record(record)
    chain = record.chain
    noise = chain["noise"] if readout_noise is None else float(readout_noise)
    tol = record.config.get("replica_tol", 1e-10) if tol is None else float(tol)
    m = int(chain["n_mi_layers"])
    if warm_start is None:
        warm_start = bool(record.config.get("warm_start", False))
    out = {q: [] for q in _QUANTITIES}
    conv = []
    n_ck = len(record.checkpoints["epoch"])
    for c in tqdm(range(n_ck), disable=not progress, desc="recompute", leave=False):
        svs = [record.spectra[k][c] for k in range(m)]
        res, q = _replica_checkpoint(chain, record.input_eigvals, svs, noise, init, tol)
        init = res if warm_start else None
        conv.append(res.converged)
        for k, v in q.items():
            out[k].append(v)
    res = {k: np.asarray(v) for k, v in out.items()}
    res["epoch"] = np.asarray(record.checkpoints["epoch"])
    res["converged"] = np.asarray(conv, bool)
    return res


def tracking_overhead(record: TrainingRecord) -> dict[str, float]:
    """What information tracking costs relative to training, in seconds.

    Returns
    -------
    dict
        ``train_s`` (SGD steps), ``eval_s`` (per-epoch loss evaluation, NaN for records
        without ``eval_time``), ``tracking_s`` (replica + exact + estimators, wherever they
        ran), ``fraction`` = tracking / (train + tracking), ``ratio`` = tracking / train (the
        fraction tracking *adds* to training time), ``blocking_s`` (seconds the training loop
        was stopped for tracking: ``tracking_s`` when serial, the submissions and the final
        wait with ``overlap``) and ``added`` = blocking / train.
    """
    h, ck = record.history, record.checkpoints
    tt = float(h["time"][-1]) if len(h["time"]) else 0.0
    et = float(h["eval_time"][-1]) if len(h.get("eval_time", [])) else float("nan")
    rt = float(np.sum(ck.get("replica_time", [])))
    bt = float(np.sum(ck["blocking_time"])) if "blocking_time" in ck else rt
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


def bootstrap_correlation(x, y, n_boot: int = 2000, seed: int = 0,
                          level: float = 0.95) -> tuple[float, float, float]:
    """Pearson correlation of (x, y) and a percentile bootstrap interval (resampling pairs)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    r = float(np.corrcoef(x, y)[0, 1])
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(n_boot):
        i = rng.integers(0, len(x), len(x))
        if np.std(x[i]) > 0 and np.std(y[i]) > 0:
            boots.append(np.corrcoef(x[i], y[i])[0, 1])
    a = (1 - level) / 2
    lo, hi = (np.quantile(boots, [a, 1 - a]) if boots else (np.nan, np.nan))
    return r, float(lo), float(hi)


__all__ += ["compression", "bootstrap_correlation"]
