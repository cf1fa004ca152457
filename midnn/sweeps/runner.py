"""The sweep runner: :func:`sweep`, from a task and a grid to a labelled Dataset.

:func:`sweep` validates its arguments, reads the points already stored, runs the others
through :func:`_run_all` on the executor :mod:`midnn.sweeps.cluster` chooses, stores each
successful record as its batch arrives, and assembles the Dataset with its provenance. A
point runs in :func:`_run_point` (on a worker or in this process, the same code), which
calls the task with the precision re-entered and warnings recorded and never raises; points
travel to the workers in batches (:func:`_run_batch`, one Dask task each, sized by
:func:`_auto_batch`), with the task as cloudpickle bytes unpickled once per worker.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import os
import time
import uuid
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import xarray as xr

from .. import __version__
from .. import _validate as check
from .._provenance import git_commit, utc_now, versions
from ..precision import Precision, current, using
from .cluster import _check_runner, _executor, _one_blas_thread
from .grid import _parse_grid, point_seed
from .results import SWEEP_VARIABLES, _as_variables, _assemble, _check_names, _describe
from .store import _point_key, _read_record, _write_record
from .taskinfo import _check_signature, _declared_dims, _qualified_name

__all__ = ["sweep"]

#: Tasks deserialized on this worker, keyed by the SHA-256 of their pickle (a sweep sends the same
#: bytes with every point; unpickling once per worker keeps the overhead per point small).
_TASK_CACHE: dict[bytes, Callable[..., Any]] = {}
_TASK_CACHE_SIZE = 8


# --------------------------------------------------------------------------------------
# one point, on the worker
# --------------------------------------------------------------------------------------

def _load_task(payload: bytes) -> Callable[..., Any]:
    import cloudpickle

    key = hashlib.sha256(payload).digest()
    task = _TASK_CACHE.get(key)
    if task is None:
        if len(_TASK_CACHE) >= _TASK_CACHE_SIZE:
            _TASK_CACHE.clear()
        task = _TASK_CACHE[key] = cloudpickle.loads(payload)
    return task


def _run_point(task: Callable[..., Any] | bytes, params: Mapping[str, Any], seed: int | None,
               precision: Precision, declared: Mapping[str, tuple[str, ...]],
               reserved: frozenset[str]) -> dict[str, Any]:
    """Run one point (on a worker, or in this process) and return its record.

    The record is a dict of plain values and NumPy arrays: ``vars`` (name -> (dims, array,
    attrs, is_coordinate)), ``coords`` (dim -> array), ``error``, ``warning``, ``time``.
    Exceptions of the task (and of the conversion of its result) are caught here: a point
    never raises, it reports.
    """
    record: dict[str, Any] = {"vars": {}, "coords": {}, "error": "", "warning": "",
                              "time": math.nan}
    kwargs = dict(params)
    if seed is not None:
        kwargs["seed"] = seed
    caught: list[warnings.WarningMessage] = []
    try:
        fn = _load_task(task) if isinstance(task, bytes) else task
        # warnings are recorded, never shown or turned into errors by the caller's filters,
        # so that a point gives the same record in this process and on a worker
        with warnings.catch_warnings(record=True) as log, using(precision):
            caught = log
            warnings.simplefilter("always")
            start = time.perf_counter()
            try:
                result = fn(**kwargs)
            finally:
                record["time"] = time.perf_counter() - start
            variables, coords = _as_variables(result, declared)
            _check_names(variables, coords, reserved)
        record["vars"], record["coords"] = variables, coords
    except Exception as exc:
        record["error"] = _describe(exc)
    seen: dict[str, None] = {}
    for w in caught:
        seen.setdefault(f"{w.category.__name__}: {w.message}")
    record["warning"] = "; ".join(seen)
    return record


# --------------------------------------------------------------------------------------
# batches
# --------------------------------------------------------------------------------------

#: Batches per worker thread when ``batch_size`` is automatic: enough for the workers to
#: finish together when points differ in cost, few enough to amortize Dask's overhead per
#: task (~1 ms of scheduler and client time, more than a small replica model costs).
_BATCHES_PER_SLOT = 16


def _auto_batch(n_todo: int, slots: int) -> int:
    """Points per Dask task: about ``_BATCHES_PER_SLOT`` tasks per worker thread."""
    return max(1, math.ceil(n_todo / (_BATCHES_PER_SLOT * max(slots, 1))))


def _run_batch(task: bytes, params: Sequence[Mapping[str, Any]], seeds: Sequence[int | None],
               **point_kwargs) -> list[dict[str, Any]]:
    """Records of several points run one after the other (one Dask task)."""
    return [_run_point(task, p, s, **point_kwargs) for p, s in zip(params, seeds, strict=True)]


def _run_all(client, task: Callable[..., Any], payload: bytes,
             todo: Sequence[tuple[int, dict[str, Any], int | None]],
             point_kwargs: Mapping[str, Any],
             on_done: Callable[[int, dict], None], batch_size: int | None = None) -> None:
    """Run the points ``todo`` (position, parameters, seed) on ``client`` (None: here, in
    order), with the keyword arguments ``point_kwargs`` of :func:`_run_point`, ``batch_size``
    points per Dask task (None: :func:`_auto_batch`); call ``on_done(position, record)``
    as each finishes."""
    if client is None:
        # single-threaded BLAS like a worker, so that this is the workers' reference
        with _one_blas_thread():
            for k, params, seed in todo:
                on_done(k, _run_point(task, params, seed, **point_kwargs))
        return
    from distributed import as_completed

    if batch_size is None:
        slots = sum(w.get("nthreads", 1) for w in client.scheduler_info()["workers"].values())
        batch_size = _auto_batch(len(todo), slots)
    batches = [todo[i:i + batch_size] for i in range(0, len(todo), batch_size)]
    token = uuid.uuid4().hex[:12]
    keys = [f"midnn-sweep-{token}-{i}" for i in range(len(batches))]
    index = dict(zip(keys, batches, strict=True))
    # the task travels as cloudpickle bytes (by value where it must), the same for every
    # batch; each worker unpickles it once (_TASK_CACHE)
    futures = client.map(_run_batch, [payload] * len(batches),
                         [[p for _, p, _ in b] for b in batches],
                         [[s for _, _, s in b] for b in batches], key=keys, pure=False,
                         **point_kwargs)
    pending = set(futures)
    try:
        for fut in as_completed(futures, loop=client.loop):
            pending.discard(fut)
            batch = index[fut.key]
            try:
                records = fut.result()
            except (Exception, asyncio.CancelledError) as exc:  # the worker, not the task
                records = [{"vars": {}, "coords": {}, "error": _describe(exc), "warning": "",
                            "time": math.nan} for _ in batch]
            fut.release()
            for (k, _, _), record in zip(batch, records, strict=True):
                on_done(k, record)
    finally:
        if pending:  # interrupted: do not leave the cluster computing for nobody
            client.cancel(list(pending))


# --------------------------------------------------------------------------------------
# the sweep
# --------------------------------------------------------------------------------------

def sweep(task: Callable[..., Any], grid, *, client=None, address: str | None = None,
          n_workers: int | None = None, store: str | os.PathLike | None = None,
          resume: bool = True, progress: bool = True, precision: Precision | None = None,
          seed: int | None = None, name: str | None = None,
          batch_size: int | None = None) -> xr.Dataset:
    """Evaluate ``task`` at every point of ``grid``, in parallel, as a labelled Dataset.

    See the :mod:`midnn.sweeps` docstring for the rules (tasks, grids, failures, seeds,
    resume, provenance).

    Parameters
    ----------
    task : callable
        Function of keyword parameters (the grid's names, and ``seed`` with ``seed=``)
        returning a Mapping of name -> value, an xarray.Dataset, an object with
        ``to_xarray()``, a ReplicaResult, or a number/array. ``task.dims`` may name the
        dimensions of its array outputs.
    grid : dict of str -> sequence, or sequence of dict
        A cartesian product (one dimension per name) or a list of points (dimension
        ``point``). Values: bools, real numbers or strings.
    client : distributed.Client or "serial", optional
        Run on this client (left open), or serially in this process.
    address : str, optional
        Address of a Dask scheduler to connect to (default: ``DASK_SCHEDULER_ADDRESS`` or
        Dask's ``scheduler-address`` config, when ``n_workers`` is not given).
    n_workers : int, optional
        Worker processes of the embedded LocalCluster (default: the CPUs available, at
        most one per point to compute); 0 runs serially.
    store : str or path-like, optional
        Directory (created if needed) receiving one file per successful point.
    resume : bool
        Read back the points already in ``store`` instead of computing them (default True).
    progress : bool
        Show a tqdm progress bar over the points (default True).
    precision : midnn.precision.Precision, optional
        Numerical precision of every point (default: the one in force here, ``current()``).
    seed : int, optional
        Root seed (>= 0): each point gets ``seed=point_seed(seed, k)``.
    name : str, optional
        Label of the sweep (progress bar, ``attrs["name"]``) and identity of its points in
        ``store`` (default: the task's qualified name; required with ``store`` for a lambda).
    batch_size : int, optional
        Points per Dask task (run one after the other on a worker). Default: about 16
        tasks per worker thread, which amortizes Dask's overhead per task (~1 ms) over
        cheap points while keeping the workers busy until the end; 1 sends every point on
        its own. Results (progress, store) arrive batch by batch.

    Returns
    -------
    xarray.Dataset
        The grid's dimensions, then the task's; the task's outputs, ``error``,
        ``warning``, ``time`` (and ``seed``); provenance in ``attrs``.
    """
    if not callable(task):
        raise TypeError(f"task must be callable (a function of keyword parameters), got "
                        f"{type(task).__name__}")
    if seed is not None:
        seed = check.integer("seed", seed, low=0)
    reserved = set(SWEEP_VARIABLES) - ({"seed"} if seed is None else set())
    parsed = _parse_grid(grid, reserved)
    _check_signature(task, parsed, seed is not None)
    declared = _declared_dims(task)
    n_workers = _check_runner(client, address, n_workers)
    if batch_size is not None:
        batch_size = check.integer("batch_size", batch_size, low=1)
    resume = check.boolean("resume", resume)
    progress = check.boolean("progress", progress)
    if precision is None:
        precision = current()
    check.instance("precision", precision, Precision, "a midnn.precision.Precision")
    qualname, unique = _qualified_name(task)
    if name is not None:
        if not isinstance(name, str):
            raise TypeError(f"name must be a string, got {type(name).__name__}")
        if not name:
            raise ValueError("name must be a non-empty string, got ''")
    identity = name or qualname
    store_dir = _check_store(store, name, qualname, unique)

    n = len(parsed.points)
    seeds = None if seed is None else [point_seed(seed, k) for k in range(n)]
    reserved_all = frozenset(reserved | set(parsed.names) | set(parsed.dims))
    keys = [{"task": identity, "params": parsed.points[k],
             "seed": None if seeds is None else seeds[k],
             "precision": [precision.order, precision.screening]} for k in range(n)]
    paths = [None if store_dir is None else
             store_dir / f"{_point_key(identity, parsed.points[k], keys[k]['seed'], precision)}"
                          ".npz" for k in range(n)]
    records: list[dict[str, Any] | None] = [None] * n
    if store_dir is not None and resume:
        for k in range(n):
            if paths[k].exists():
                records[k] = _read_record(paths[k], keys[k])
    todo = [k for k in range(n) if records[k] is None]

    payload = _pickled(task) if todo and not isinstance(client, str) and n_workers != 0 \
        else b""

    from tqdm import tqdm

    with tqdm(total=n, initial=n - len(todo), desc=name or qualname.split(".")[-1],
              unit="pt", disable=not progress) as bar:

        def on_done(k: int, record: dict[str, Any]) -> None:
            records[k] = record
            if paths[k] is not None and not record["error"]:
                _write_record(paths[k], keys[k], record)
            bar.update(1)

        with _executor(client, address, n_workers, len(todo)) as runner:
            _run_all(runner, task, payload,
                     [(k, parsed.points[k], None if seeds is None else seeds[k]) for k in todo],
                     {"precision": precision, "declared": declared, "reserved": reserved_all},
                     on_done, batch_size)
    return _assemble(parsed, records, seeds, _attrs(name, qualname, parsed, precision, seed))


def _check_store(store, name: str | None, qualname: str, unique: bool) -> Path | None:
    """The store directory (created), or None; a store needs a task that names its points."""
    if store is None:
        return None
    if not isinstance(store, str | os.PathLike):
        raise TypeError(f"store must be a directory path (str or path-like), got "
                        f"{type(store).__name__}")
    store_dir = Path(store)
    if store_dir.exists() and not store_dir.is_dir():
        raise ValueError(f"store must be a directory, {str(store_dir)!r} is a file")
    if name is None and not unique:
        raise ValueError(f"store= identifies points by the task's qualified name, and "
                         f"{qualname!r} does not identify this task: pass name= to "
                         f"label the sweep")
    store_dir.mkdir(parents=True, exist_ok=True)
    return store_dir


def _pickled(task) -> bytes:
    """The task pickled by value for the workers (cloudpickle)."""
    import cloudpickle

    try:
        return cloudpickle.dumps(task)
    except Exception as exc:
        raise TypeError(f"task could not be pickled to send it to the workers: "
                        f"{_describe(exc)}") from exc


def _attrs(name: str | None, qualname: str, parsed, precision: Precision,
           seed: int | None) -> dict[str, str]:
    """The provenance attributes of a sweep's Dataset (strings: netCDF attributes)."""
    return {
        "name": name or "",
        "task": qualname,
        "grid": json.dumps(parsed.spec),
        "precision": json.dumps({"order": precision.order, "screening": precision.screening}),
        "seed": json.dumps({"root": seed, "rule": None if seed is None else (
            "the point at flat position k of the grid (C order; list order for a list of "
            "points) gets SeedSequence(root, spawn_key=(k,)).generate_state(1, uint64)[0] >> 1")}),
        "midnn_version": __version__,
        "git_commit": git_commit() or "",
        "versions": json.dumps(versions("numpy", "dask", "distributed", "xarray")),
        "created": utc_now(),
    }
