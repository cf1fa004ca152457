"""Information tracking of a PyTorch network from the user's own training loop.

::

    from midnn.nn import Tracker
    from midnn.priors import Gaussian

    with Tracker(net, prior=Gaussian(), every=2, record="runs/my_run") as tracker:
        for epoch in range(epochs):
            ...  # any optimizer, scheduler, loss
            tracker.checkpoint(epoch, train_loss=loss)
    record = tracker.record  # or midnn.record.load("runs/my_run")

At every checkpoint the tracker reads the current weights of the network
(:func:`midnn.nn.describe`), and computes, for every tracked layer T_l, the replica entropy
H(T_l), mutual information I(input; T_l), conditional entropy H(T_l | input) and MMSE of the
input (nats per unit of the chain input), each replica solve warm-started from the previous
checkpoint's fixed point. By default the computation runs in a worker process while the
loop goes on; the loop only waits for what is still running when the tracker is closed.
Every checkpoint is appended to the run record on disk as soon as it is known
(:mod:`midnn.record`), so an interrupted run keeps its checkpoints and can be resumed.
"""

from __future__ import annotations

import multiprocessing
import os
import time
import uuid
import warnings
from collections import deque
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from . import _validate as check
from . import _worker
from .chainspec import NETWORK_QUANTITIES, QUANTITIES, is_linear_gaussian, units
from .model import Layer
from .nn import _chain_spec, _parse
from .priors import Prior
from .record import RecordWriter, RunRecord
from .replica import ReplicaResult

__all__ = ["Tracker", "information_curves"]

# ----------------------------------------------------------------------------- worker pool

_EXECUTOR: ProcessPoolExecutor | None = None
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _executor() -> ProcessPoolExecutor:
    """The worker shared by all background trackers of this process: one process, so the
    jobs of every tracker run in submission order. Started with "spawn" (safe with torch's
    threads, and in notebooks) and single-threaded BLAS, so that it takes one core beside
    the training loop, not all of them; it ignores SIGINT, so that an interrupt stops the
    training loop (whose tracker then closes the record), not the worker."""
    global _EXECUTOR
    if _EXECUTOR is None:
        ex = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=_worker.initialize)
        saved = {k: os.environ.get(k) for k in _THREAD_VARS}
        os.environ.update(dict.fromkeys(_THREAD_VARS, "1"))
        try:
            ex.submit(_worker.ping)  # the process starts here, with this environment
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        _EXECUTOR = ex
    return _EXECUTOR


def _discard_executor() -> None:
    global _EXECUTOR
    if _EXECUTOR is not None:
        _EXECUTOR.shutdown(wait=False, cancel_futures=True)
    _EXECUTOR = None


def _run_here(fn, *args, **kwargs) -> Future:
    """Run ``fn`` now, in this process, as a completed Future (the serial mode)."""
    fut: Future = Future()
    try:
        fut.set_result(fn(*args, **kwargs))
    except Exception as err:  # noqa: BLE001 -- re-raised by fut.result(), as in the worker
        fut.set_exception(err)
    return fut


@dataclass
class _Pending:
    future: Future
    kind: str  # "start", "checkpoint" or "finish"
    index: int = -1
    step: int = -1
    blocking: float = 0.0


# ----------------------------------------------------------------------------- tracker

class Tracker:
    r"""Tracks H(T_l), I(input; T_l), H(T_l | input) and the MMSE of every layer of a network
    along training, from any training loop.

    Parameters
    ----------
    module : nn.Sequential or USVNetwork
        The network, as :func:`midnn.nn.describe` takes it. Its structure is read once;
        its weights at every checkpoint.
    prior, noise, inter_noise, input_layers, n_layers, bias
        The replica description, see :func:`midnn.nn.describe` (``noise`` is Delta, the
        paper's ``mi_noise`` 1e-5, through which every T_l is observed). For generative
        data X = decoder(Y) pass the decoder's replica layers as ``input_layers`` and the
        prior of Y: the chain input is then Y, every quantity is per n_Y, and the record
        also holds I(X; T_l) and H(T_l | X) for the network input X (see
        :func:`midnn.chainspec.evaluate` and :func:`information_curves`).
    every : int or None
        Checkpoints are taken at the steps that are multiples of ``every`` (and when
        :meth:`checkpoint` is called with ``force=True``). None: never (metrics only).
    record : path, optional
        The run record file (``.jsonl`` added), written as the run goes. None keeps it in
        memory (:attr:`record`).
    resume : bool
        Continue the record at ``record``: it must have been written with the same chain,
        options and step name (else :class:`midnn.record.RecordError`); new checkpoints must
        come after its last step (:attr:`last_step`), where the caller restarts its loop with
        the network restored to that point. The first checkpoint of the resumed session is
        solved cold unless ``init`` is given (its values agree with a warm solve to the
        solver's tolerance, not bitwise). Without ``resume`` an existing record is an error.
    background : bool
        Compute the checkpoints in a worker process (default) while the loop goes on;
        False computes them in the call. The results are bitwise the same: both run
        :func:`midnn._worker.solve` on the same inputs, one checkpoint after the other.
    tol : float
        Replica solver tolerance.
    warm_start : bool
        Start each replica solve at the previous checkpoint's fixed point (several times
        faster; equal values to the solver's tolerance).
    init : ReplicaResult, optional
        Warm start of the first checkpoint (e.g. ``other_record.first_replica``).
    estimators : mapping name -> estimator, optional
        :mod:`midnn.estimators` objects; at every checkpoint ``estimate(source, T_l)`` (nats,
        total) on the held batch, stored per n_input as ``est_<name>``.
    held : tensor or (tensor, array), optional
        The held batch for the estimators: network inputs X, or (X, source) where source
        is what the estimators pair T_l with (e.g. the latents Y; default X).
    exact : bool
        Also compute the exact log-det values (linear chains with a Gaussian prior only)
        as ``exact_<quantity>``; ``input_weights`` are then the matrices of the input
        layers.
    step : str
        Name of the step counter in the record (default ``"epoch"``).
    config, seeds : dict, optional
        The user's configuration and seeds, stored in the record's header (provenance).
    fsync : bool
        Force every record line to the disk as it is written (survives a power loss; a few
        ms per line). Default False: lines are flushed to the operating system, which
        survives a crash of the process.

    Notes
    -----
    Worker warnings (e.g. :class:`midnn.ConvergenceWarning`) are re-emitted in the caller
    when the checkpoint's result is collected; a worker error is raised in the caller, by
    the first call that collects it (:meth:`checkpoint`, :meth:`close`), with its original
    type and message. The worker process is shared by all trackers of a Python process.
    As with any ``multiprocessing`` code, a script (not a notebook) using the background
    mode needs an ``if __name__ == "__main__":`` guard.
    """

    def __init__(self, module: nn.Module, *, prior: Prior, noise: float = 1e-5,
                 inter_noise: float = 0.0, input_layers: Sequence[Layer] = (),
                 n_layers: int | None = None, bias: str = "error", every: int | None = 1,
                 record=None, resume: bool = False, background: bool = True,
                 tol: float = 1e-10, warm_start: bool = True,
                 init: ReplicaResult | None = None,
                 estimators: Mapping[str, Any] | None = None, held=None, exact: bool = False,
                 input_weights: Sequence[np.ndarray] = (), step: str = "epoch",
                 config: Mapping[str, Any] | None = None,
                 seeds: Mapping[str, Any] | None = None, fsync: bool = False):
        self.module = module
        self.every = None if every is None else check.integer("every", every, low=1)
        self.background = check.boolean("background", background)
        self._structure = _parse(module, n_layers, bias)
        self.spec = _chain_spec(self._structure, prior, noise, inter_noise, input_layers)
        self.estimators = dict(estimators or {})
        for name, est in self.estimators.items():
            if not (isinstance(name, str) and name.isidentifier() and callable(
                    getattr(est, "estimate", None))):
                raise ValueError(f"estimators must map names to objects with an estimate(x, "
                                 f"t) method (midnn.estimators), got {name!r}: {est!r}")
        self._held_x, source = self._held(held)
        self.exact = check.boolean("exact", exact)
        input_weights = self._input_weights(input_weights)
        tracking = {"every": self.every, "tol": check.positive("tol", tol),
                    "warm_start": check.boolean("warm_start", warm_start),
                    "exact": self.exact, "estimators": list(self.estimators),
                    "estimator_reprs": {k: repr(v) for k, v in self.estimators.items()},
                    "held": None if source is None else len(source)}
        if not isinstance(step, str) or not step.isidentifier():
            raise ValueError(f"step must be a name such as 'epoch', got {step!r}")
        header = {"step": step, "chain": self.spec.to_json(), "tracking": tracking,
                  "config": dict(config or {}), "seeds": dict(seeds or {}),
                  "units": self._units()}
        self._writer = RecordWriter(record, header, resume=resume, fsync=fsync)
        self._step_name = header["step"]
        self._next_index = self._writer.n_checkpoints
        self._last_step = self._writer.last_step
        self._pending: deque[_Pending] = deque()
        self._key = uuid.uuid4().hex
        self._blocked = 0.0
        self._closed = False
        self.first_replica: ReplicaResult | None = None
        self.last_replica: ReplicaResult | None = None
        self._submit("start", _worker.start, self._key, self.spec, tol=tol,
                     warm_start=warm_start, init=init, exact=self.exact,
                     input_weights=input_weights, estimators=self.estimators, source=source)

    # ------------------------------------------------------------------ validation
    def _held(self, held) -> tuple[torch.Tensor | None, np.ndarray | None]:
        """The held batch on the network's device and dtype, and the estimators' source."""
        if held is None:
            if self.estimators:
                raise ValueError("estimators need a held batch: pass held=x or (x, source)")
            return None, None
        x, source = held if isinstance(held, tuple) else (held, held)
        x = torch.as_tensor(x)
        source = np.asarray(source.detach().cpu() if torch.is_tensor(source) else source,
                            dtype=float)
        for name, arr in (("held inputs", x), ("held source", torch.as_tensor(source))):
            if not bool(torch.isfinite(arr).all()):
                raise ValueError(f"the {name} contain non-finite values (NaN or inf)")
        if source.ndim != 2 or source.shape[0] != x.shape[0]:
            raise ValueError(f"the held source must be a 2-D array with one row per held "
                             f"input ({x.shape[0]}), got shape {source.shape}")
        p = next(self.module.parameters())
        return x.to(device=p.device, dtype=p.dtype), source

    def _input_weights(self, input_weights) -> list[np.ndarray]:
        mats = [np.asarray(w, float) for w in input_weights]
        if self.exact:
            if not is_linear_gaussian(self.spec):
                raise ValueError("exact=True needs a linear chain with a Gaussian prior")
            if len(mats) != len(self.spec.input_layers):
                raise ValueError(f"exact=True needs the {len(self.spec.input_layers)} matrices "
                                 f"of the input layers as input_weights, got {len(mats)}")
        return mats

    def _units(self) -> dict[str, str]:
        u = units(self.spec)
        base = [*QUANTITIES, *(NETWORK_QUANTITIES if self.spec.input_layers else ())]
        if self.exact:
            u.update({f"exact_{q}": f"exact log-det value of {u[q]}" for q in base})
        for name in self.estimators:
            u[f"est_{name}"] = (f"estimate of I(source; T_l) by {name}, nats per "
                                f"n_{self.spec.chain_input} = {self.spec.n_input}")
        return u

    # ------------------------------------------------------------------ public API
    @property
    def last_step(self) -> int | None:
        """Step of the last checkpoint taken (or recorded, after a resume)."""
        return self._last_step

    @property
    def path(self):
        """The record file (None for an in-memory record)."""
        return self._writer.path

    @property
    def pending(self) -> int:
        """Number of checkpoints submitted whose results are not recorded yet."""
        return sum(p.kind == "checkpoint" for p in self._pending)

    def checkpoint(self, step: int, *, force: bool = False, **metrics) -> bool:
        """Record ``metrics`` at ``step`` and, when due, take a checkpoint.

        Parameters
        ----------
        step : int
            The loop's counter (e.g. the epoch). Checkpoints need increasing steps.
        force : bool
            Take a checkpoint even if ``step`` is not a multiple of ``every``.
        **metrics : float
            Numbers to log at this step (losses, accuracies, ...), in the record's history.

        Returns
        -------
        bool
            Whether a checkpoint was taken.

        Raises
        ------
        ValueError
            The network has non-finite weights, or ``step`` does not follow the last
            checkpoint's.
        """
        t0 = time.perf_counter()
        if self._closed:
            raise RuntimeError("this tracker is closed")
        step = check.integer("step", step)
        if metrics:
            self._writer.append({"kind": "metrics", self._step_name: step,
                                 "values": {k: float(v) for k, v in metrics.items()}})
        due = force or (self.every is not None and step % self.every == 0)
        if due:
            self._take(step, t0)
        self._collect(block=False)
        self._blocked += time.perf_counter() - t0
        return due

    def _take(self, step: int, t0: float) -> None:
        if self._last_step is not None and step <= self._last_step:
            raise ValueError(f"{self._step_name} {step} does not come after the last "
                             f"checkpoint ({self._step_name} {self._last_step})")
        s = self._structure
        s.check_finite()
        job = {"payloads": s.payloads(),
               "weights": s.weights() if self.exact else None,
               "outputs": s.outputs(self._held_x) if self.estimators else None}
        entry = self._submit("checkpoint", _worker.solve, self._key, job)
        entry.index, entry.step = self._next_index, step
        entry.blocking = time.perf_counter() - t0
        self._next_index += 1
        self._last_step = step

    def wait(self) -> None:
        """Block until every submitted checkpoint is recorded."""
        t0 = time.perf_counter()
        self._collect(block=True)
        self._blocked += time.perf_counter() - t0

    @property
    def record(self) -> RunRecord:
        """The run record so far (waits for the pending checkpoints)."""
        if not self._closed:
            self.wait()
        rec = self._writer.record()
        rec.first_replica, rec.last_replica = self.first_replica, self.last_replica
        return rec

    def close(self, status: str = "complete", *, wait: bool = True) -> RunRecord:
        """Wait for the pending checkpoints (or, with ``wait=False``, drop them), record
        the ``close`` line with ``status`` and return the record. Closing twice is a no-op."""
        if not self._closed:
            t0 = time.perf_counter()
            try:
                if not wait:  # a job already running finishes in the worker, unrecorded
                    for p in self._pending:
                        p.future.cancel()
                    self._pending.clear()
                self._submit("finish", _worker.finish, self._key)
                self._collect(block=True)
            finally:
                spent = time.perf_counter() - t0
                self._blocked += spent
                self._closed = True
                self._writer.close(status, wait=spent, blocked=self._blocked)
        return self.record

    def __enter__(self) -> Tracker:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
            return
        interrupted = issubclass(exc_type, KeyboardInterrupt)
        status = "interrupted" if interrupted else f"error: {exc_type.__name__}: {exc}"
        try:
            self.close(status, wait=not interrupted)
        except Exception:  # noqa: BLE001 -- the original exception is the one to report
            pass

    # ------------------------------------------------------------------ jobs
    def _submit(self, kind: str, fn, *args, **kwargs) -> _Pending:
        if self.background:
            try:
                fut = _executor().submit(fn, *args, **kwargs)
            except BrokenProcessPool:
                _discard_executor()
                fut = _executor().submit(fn, *args, **kwargs)
        else:
            fut = _run_here(fn, *args, **kwargs)
        entry = _Pending(fut, kind)
        self._pending.append(entry)
        return entry

    def _collect(self, block: bool) -> None:
        """Handle the finished jobs in submission order (all of them when ``block``)."""
        while self._pending and (block or self._pending[0].future.done()):
            entry = self._pending.popleft()
            try:
                result = entry.future.result()
            except BrokenProcessPool as err:
                _discard_executor()
                self._fail(err)
                raise RuntimeError("the tracking worker process died (killed, out of memory, "
                                   "or a script without an `if __name__ == '__main__':` "
                                   "guard); the checkpoints recorded so far are kept") from err
            except Exception as err:
                self._fail(err)
                if hasattr(err, "add_note"):
                    err.add_note(f"(raised while computing checkpoint {entry.index} of the run, "
                                 f"{self._step_name} {entry.step})" if entry.kind == "checkpoint"
                                 else f"(raised by the tracker's worker: {entry.kind})")
                raise
            if entry.kind == "checkpoint":
                self._write(entry, result)
            elif entry.kind == "finish":
                self.first_replica, self.last_replica = result

    def _write(self, entry: _Pending, result: dict) -> None:
        for message, category in result.pop("warnings"):
            warnings.warn(message, category, stacklevel=4)
        eig = result.pop("eigvals")
        line = {"kind": "checkpoint", "index": entry.index, self._step_name: entry.step,
                "eigvals": [e.tolist() for e in eig],
                "converged": result.pop("converged"),
                "compute_time": result.pop("compute_time"), "blocking_time": entry.blocking}
        line.update({k: np.asarray(v, float).tolist() for k, v in result.items()})
        self._writer.append(line)

    def _fail(self, err: BaseException) -> None:
        """After an error: drop the pending jobs and the worker state, close the record."""
        for p in self._pending:
            p.future.cancel()
        self._pending.clear()
        if self.background and _EXECUTOR is not None:
            try:
                _EXECUTOR.submit(_worker.finish, self._key)
            except (BrokenProcessPool, RuntimeError):
                pass
        else:
            _worker.finish(self._key)
        self._closed = True
        self._writer.close(f"error: {type(err).__name__}: {err}", blocked=self._blocked)

    def __repr__(self) -> str:
        return (f"Tracker({len(self.spec.layers)} layers, widths={list(self.spec.widths)}, "
                f"chain input {self.spec.chain_input}, every={self.every}, "
                f"background={self.background}, record={str(self.path)!r}, "
                f"last {self._step_name}={self._last_step})")


# ----------------------------------------------------------------------------- analysis

def information_curves(record: RunRecord) -> dict[str, Any]:
    """I(input; T_l) and I(X; T_l) along a run, both per unit of the chain input.

    For teacher-student data the chain input is the network input X and the two coincide.
    For generative data (chain Y -> X -> T_l) the first is I(Y; T_l) and the second
    I(X; T_l), X the network input, both per n_Y: the quantity the authors' code records as
    ``IXT`` in the decoder-encoder experiments (entropy of T_l from the chain started at Y,
    minus H(T_l | X), normalized by the width of the latent, its first layer).

    Returns
    -------
    dict
        ``step`` (n_ckpt,), ``I_input`` and ``I_X`` (n_ckpt, m), ``chain_input`` ("X" or
        "Y"), ``n_input``, ``units``.
    """
    ck, chain = record.checkpoints, record.chain
    i_x = ck["mutual_information_x"] if chain.input_layers else ck["mutual_information"]
    return {"step": ck[record.step_name], "I_input": ck["mutual_information"], "I_X": i_x,
            "chain_input": chain.chain_input, "n_input": chain.n_input,
            "units": f"nats per n_{chain.chain_input} = {chain.n_input}"}

