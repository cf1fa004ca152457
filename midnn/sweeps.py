"""Parameter sweeps on Dask distributed, returned as labelled :class:`xarray.Dataset`.

:func:`sweep` evaluates a task (a plain function of keyword parameters) at every point of a
grid, on an embedded :class:`distributed.LocalCluster`, on an existing Dask scheduler, or
serially in this process, and gathers the results into one Dataset whose dimensions are the
grid's parameters followed by the task's own dimensions (``layer``, ...)::

    from midnn.sweeps import sweep, replica_task, save, load

    ds = sweep(replica_task, {"alpha": np.linspace(0.05, 0.6, 20),
                              "noise": np.logspace(-4, 0, 20),
                              "prior": ["binary"]})
    ds.mmse.sel(layer=1, prior="binary").plot()      # the first-order transition
    save(ds, "phase_diagram.nc")

Where the points run
--------------------
* default: an embedded ``LocalCluster`` with one single-threaded worker process per CPU
  (at most one per point), quiet logs and no dashboard, started and closed within the call
  (a few seconds: its workers import midnn; for repeated sweeps start a ``Client`` once and
  pass it as ``client=``);
* ``client=``: a :class:`distributed.Client` of yours (left open);
* ``address=``, else the environment variable ``DASK_SCHEDULER_ADDRESS``, else Dask's
  config key ``scheduler-address``: the scheduler at that address (a cluster); the worker
  processes must be able to import midnn (the task itself is sent with cloudpickle, see
  *Tasks*);
* ``client="serial"`` or ``n_workers=0``: in this process, in grid order (debugging; the
  reference of the tests: a point computes bitwise the same value wherever it runs).

Points run with single-threaded BLAS everywhere: Dask starts its workers so, and the serial
mode limits this process's BLAS pools to one thread while it runs (threadpoolctl), because
the last bit of a BLAS reduction can depend on the number of threads sharing it.

An explicit ``n_workers`` asks for the embedded cluster and takes precedence over the
environment variable and the Dask config.

Points travel in batches (``batch_size`` points per Dask task, run one after the other on a
worker; by default about 16 batches per worker thread): Dask spends about a millisecond of
scheduler and client time per task, more than a small replica model costs, and the batches
are still many enough to keep every worker busy until the end.

Tasks
-----
The task is called as ``task(**point)`` (plus ``seed=`` when seeds are requested) and
returns one of

* a Mapping of name -> scalar, array, or :class:`xarray.DataArray`. An array's dimensions
  are named by ``task.dims`` (an attribute of the function, e.g. ``task.dims = {"entropy":
  ("layer",)}``) when it declares them, else ``{name}_dim_{i}``; an entry whose declared
  dimensions are its own name (``"layer": ("layer",)``) is the coordinate of that dimension;
* an :class:`xarray.Dataset`, or an object with a ``to_xarray()`` method returning one,
  or an object with a ``to_dict()`` method returning a Mapping;
* a :class:`midnn.ReplicaResult` (variables per ``layer``, numbered from 1);
* a bare scalar or array: one variable named ``value``.

Values must be numbers, booleans, strings or datetimes (no Python objects: they cannot be
stored). A point whose arrays are shorter along a dimension than other points' is padded
with the fill value (below), so a sweep over the depth of a network is one Dataset.

The task is serialized with cloudpickle on the caller's side: functions defined in a
notebook or a script travel by value; functions of an importable module by reference (the
workers import that module; register a module of yours with
``cloudpickle.register_pickle_by_value(module)`` to send it by value instead).

Grid
----
A dict ``{name: values}`` is a cartesian product: one dimension per parameter, in the
order given, with the values as its coordinate (points run in C order: the last name
fastest). A list of dicts ``[{name: value, ...}, ...]`` (the same names in every dict)
is a list of points: one dimension ``point`` with every parameter as a coordinate along it.
Values are bools, real numbers or strings (one kind per parameter; they reach the task as
Python ``bool``, ``int``, ``float`` or ``str``); objects such as priors are chosen inside
the task from a name (see :func:`replica_task`).

Failures, warnings, time
------------------------
An exception raised by the task never stops the sweep: its point gets the fill value in
every output (NaN for floats and complex numbers, the minimum of a signed integer type, the
maximum of an unsigned one, False, "" and NaT) and the message
``"ExceptionType: message"`` in the string variable ``error`` ("" where the task
succeeded). Warnings raised by the task are recorded in ``warning`` (one
``"Category: message"`` per distinct warning, joined by "; ") and not shown; ``time`` holds
the wall time of each task call in seconds. A point that conflicts with the others (other
dimensions or an incompatible type for the same output, a coordinate that disagrees) is
reported the same way, the first point in grid order setting the reference.

Numerical precision
-------------------
The :class:`midnn.precision.Precision` in force in the caller (or the ``precision=``
argument) is captured when :func:`sweep` is called and re-entered around every task on
the workers, whose own context starts at the default: a sweep run inside
``using(order=2)`` computes at order 2 everywhere.

Seeds
-----
With ``seed=root`` (an int >= 0), the task must accept a ``seed`` parameter; the point at
flat position ``k`` of the grid (C order for a dict grid, list order for a list of points)
receives ``point_seed(root, k)``::

    SeedSequence(root).spawn(n)[k].generate_state(1, numpy.uint64)[0] >> 1

(``spawn(n)[k]`` is ``SeedSequence(root, spawn_key=(k,))`` for any n > k, which is what
is computed), a non-negative int below 2**63, recorded in the int64 variable ``seed``. It
depends only on the root and the position, never on the worker or on the order in which
points finish. Adding values to a grid moves positions, hence changes seeds.

Resume
------
With ``store=`` a directory, every point that succeeded is written there as soon as its
result (its batch) reaches the caller, in one file ``<key>.npz`` (NumPy arrays and a JSON header; no
pickles), where ``key`` is the SHA-256 of the canonical JSON of the task's identity (the
``name`` argument, else the task's qualified name), the point's parameters, its seed and
the precision. With ``resume=True`` a later call reads the stored points back instead of
computing them, so an interrupted sweep continues where it stopped; the Dataset is the
same, bitwise (``time`` included), whether a point was computed or read back. Failed points
are not stored: a resumed sweep retries them. The files are written by the caller, so the
workers of a remote cluster need no access to the store.

Provenance
----------
``ds.attrs`` (netCDF-compatible: strings and numbers; structured values as JSON strings):
``name``, ``task`` (qualified name), ``grid`` (JSON), ``precision`` (JSON), ``seed``
(JSON: the root seed or null, and the rule), ``midnn_version``, ``git_commit`` (the commit
of the git checkout holding midnn, ``-dirty`` when ``git status --porcelain`` lists
anything; "" when midnn is not a git checkout), ``versions`` (JSON: python, numpy, dask,
distributed, xarray), ``created`` (UTC, ISO 8601).

:func:`save` writes a Dataset to netCDF (engine h5netcdf) and :func:`load` reads it back:
``load(save(ds, path))`` is identical to ``ds``, attributes included.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import inspect
import io
import itertools
import json
import logging
import math
import multiprocessing
import numbers
import os
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from . import __version__
from . import _validate as check
from ._provenance import git_commit, utc_now, versions
from .precision import Precision, current, using

__all__ = ["sweep", "save", "load", "point_seed", "replica_task", "SWEEP_VARIABLES"]

#: Variables every sweep adds (``seed`` only with ``seed=``); names a grid or a task
#: output may not use, with the dimension ``point`` of list grids.
SWEEP_VARIABLES = ("error", "warning", "time", "seed")
_POINT = "point"
#: Version of the layout of the per-point files of a store (in their JSON header).
_STORE_FORMAT = 1
#: Tasks deserialized on this worker, by the digest of their pickle (a sweep sends the same
#: bytes with every point; unpickling once per worker keeps the overhead per point small).
_TASK_CACHE: dict[bytes, Callable[..., Any]] = {}
_TASK_CACHE_SIZE = 8


# --------------------------------------------------------------------------------------
# grid
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Grid:
    """The points of a grid, in flat (C) order, and the Dataset layout of its parameters."""

    names: tuple[str, ...]          # parameter names
    dims: tuple[str, ...]           # the names (dict grid) or ("point",) (list grid)
    shape: tuple[int, ...]
    coords: dict[str, tuple[tuple[str, ...], np.ndarray]]
    points: tuple[dict[str, Any], ...]
    spec: Any                       # JSON-able description (attrs["grid"])


def _native(where: str, value) -> bool | int | float | str:
    """A grid value as a Python bool, int, float or str (NumPy scalars converted)."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, str):
        return str(value)
    raise TypeError(f"{where} must be a bool, a real number or a string, got {value!r} "
                    f"({type(value).__name__}); pick objects inside the task from a name")


def _kind(value) -> str:
    return "bool" if isinstance(value, bool) else "str" if isinstance(value, str) else "number"


def _coordinate(where: str, values: list) -> np.ndarray:
    """The coordinate array of one parameter's values (one kind: bool, number or str)."""
    kinds = {_kind(v) for v in values}
    if len(kinds) > 1:
        raise TypeError(f"{where} mixes {' and '.join(sorted(kinds))} values; a parameter "
                        f"holds values of one kind")
    coord = np.asarray(values)
    if coord.dtype.kind not in "biufU":  # e.g. an int beyond int64
        raise TypeError(f"{where} cannot be a coordinate (NumPy dtype {coord.dtype})")
    return coord


def _parameter_name(where: str, name, reserved: set[str]) -> str:
    if not isinstance(name, str):
        raise TypeError(f"{where} must be a string, got {name!r} ({type(name).__name__})")
    if not name.isidentifier():
        raise ValueError(f"{where} must be a Python identifier (a keyword argument of the "
                         f"task), got {name!r}")
    if name in reserved:
        raise ValueError(f"{where} = {name!r} is reserved for the sweep's own variables "
                         f"{sorted(reserved)}")
    return name


def _parse_grid(grid, reserved: set[str]) -> _Grid:
    """Validate ``grid`` (dict of name -> values, or list of dicts) into a :class:`_Grid`."""
    if isinstance(grid, Mapping):
        if not grid:
            raise ValueError("grid must hold at least one parameter, got an empty dict")
        names, coords, axes = [], {}, []
        for name, values in grid.items():
            _parameter_name("grid parameter name", name, reserved)
            if isinstance(values, Mapping):
                raise TypeError(f"grid[{name!r}] must be a sequence of values, got a "
                                f"{type(values).__name__}")
            vals = [_native(f"grid[{name!r}][{i}]", v) for i, v in
                    enumerate(check.sequence(f"grid[{name!r}]", values, min_len=1))]
            coord = _coordinate(f"grid[{name!r}]", vals)
            # a coordinate labels its points: no value twice (np.unique counts NaNs as one,
            # and 1 and 1.0 as one, as the float coordinate does)
            unique, counts = np.unique(coord, return_counts=True)
            if len(unique) != len(coord):
                raise ValueError(f"grid[{name!r}] holds the value {unique[counts > 1][0].item()!r} "
                                 f"more than once; the values of a parameter must be distinct")
            names.append(name)
            axes.append(vals)
            coords[name] = ((name,), coord)
        points = tuple(dict(zip(names, combo, strict=True)) for combo in itertools.product(*axes))
        return _Grid(tuple(names), tuple(names), tuple(len(a) for a in axes), coords, points,
                     dict(zip(names, axes, strict=True)))
    if isinstance(grid, str | bytes) or not isinstance(grid, Sequence):
        raise TypeError(f"grid must be a dict of parameter name -> values, or a list of "
                        f"dicts of parameter name -> value, got {type(grid).__name__}")
    if len(grid) == 0:
        raise ValueError("grid must hold at least one point, got an empty list")
    points = []
    first: tuple[str, ...] = ()
    for i, point in enumerate(grid):
        if not isinstance(point, Mapping):
            raise TypeError(f"grid[{i}] must be a dict of parameter name -> value, got "
                            f"{type(point).__name__}")
        if i == 0:
            if not point:
                raise ValueError("grid[0] must hold at least one parameter, got an empty dict")
            first = tuple(_parameter_name("grid[0] parameter name", n, reserved | {_POINT})
                          for n in point)
        elif set(point) != set(first):
            raise ValueError(f"grid[{i}] has the parameters {sorted(map(str, point))}, grid[0] "
                             f"has {sorted(first)}; every point must name the same parameters")
        points.append({n: _native(f"grid[{i}][{n!r}]", point[n]) for n in first})
    coords = {n: ((_POINT,), _coordinate(f"grid parameter {n!r}", [p[n] for p in points]))
              for n in first}
    return _Grid(first, (_POINT,), (len(points),), coords, tuple(points), points)


# --------------------------------------------------------------------------------------
# task
# --------------------------------------------------------------------------------------

def _qualified_name(task) -> tuple[str, bool]:
    """(``module.qualname``, whether it identifies the task): a named function or class
    does; a lambda, a ``functools.partial``, a bound method or a callable instance (named by
    its class) do not: they may hold state that the name does not tell."""
    if isinstance(task, functools.partial):
        inner, _ = _qualified_name(task.func)
        return f"functools.partial({inner})", False
    unique = hasattr(task, "__qualname__") and not inspect.ismethod(task)
    obj = task if hasattr(task, "__qualname__") else type(task)
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", "")
    label = f"{module}.{qualname}" if module else qualname
    return label or repr(task), unique and "<lambda>" not in qualname


def _declared_dims(task) -> dict[str, tuple[str, ...]]:
    """``task.dims`` validated: output name -> tuple of dimension names."""
    dims = getattr(task, "dims", None)
    if dims is None and isinstance(task, functools.partial):
        dims = getattr(task.func, "dims", None)
    if dims is None:
        return {}
    if not isinstance(dims, Mapping):
        raise TypeError(f"task.dims must be a dict of output name -> tuple of dimension "
                        f"names, got {type(dims).__name__}")
    out = {}
    for name, names in dims.items():
        if not isinstance(name, str) or isinstance(names, str) or not isinstance(names, Sequence) \
                or not all(isinstance(d, str) for d in names):
            raise TypeError(f"task.dims[{name!r}] must be a tuple of dimension names (strings), "
                            f"got {names!r}")
        out[name] = tuple(names)
    return out


def _check_signature(task, grid: _Grid, with_seed: bool) -> None:
    """The grid's names (and ``seed``) must be keyword parameters of ``task``, and every
    parameter without a default must be given."""
    try:
        sig = inspect.signature(task)
    except (TypeError, ValueError):  # a builtin without a signature: nothing to check
        return
    P = inspect.Parameter
    params = list(sig.parameters.values())
    accepted = {p.name for p in params if p.kind in (P.POSITIONAL_OR_KEYWORD, P.KEYWORD_ONLY)}
    var_keyword = any(p.kind is P.VAR_KEYWORD for p in params)
    label = _qualified_name(task)[0]
    if not var_keyword:
        unknown = [n for n in grid.names if n not in accepted]
        if unknown:
            raise ValueError(f"grid names {unknown} are not keyword parameters of task "
                             f"{label}{sig}; it accepts {sorted(accepted)}")
        if with_seed and "seed" not in accepted:
            raise ValueError(f"seed= needs a task with a 'seed' parameter; task {label}{sig} "
                             f"has none")
    given = set(grid.names) | ({"seed"} if with_seed else set())
    missing = [p.name for p in params if p.default is p.empty and p.name not in given
               and p.kind not in (P.VAR_POSITIONAL, P.VAR_KEYWORD)]
    if missing:
        raise ValueError(f"parameters {missing} of task {label}{sig} have no default and are "
                         f"not in the grid")


def point_seed(seed: int, index: int) -> int:
    """Seed of the point at flat position ``index`` of a sweep with root ``seed``.

    ``SeedSequence(seed).spawn(n)[index].generate_state(1, uint64)[0] >> 1``, computed as
    ``SeedSequence(seed, spawn_key=(index,))`` (the same child for any n > index): a
    non-negative int below 2**63 (it fits an int64 netCDF variable), a function of the
    root and the position only.
    """
    seed = check.integer("seed", seed, low=0)
    index = check.integer("index", index, low=0)
    state = np.random.SeedSequence(seed, spawn_key=(index,)).generate_state(1, np.uint64)
    return int(state[0] >> np.uint64(1))


def _point_key(identity: str, params: Mapping[str, Any], seed: int | None,
               precision: Precision) -> str:
    """Stable name of a point in a store: SHA-256 of canonical JSON (Python's float repr is
    exact and platform independent; dict keys sorted)."""
    text = json.dumps({"task": identity, "params": dict(params), "seed": seed,
                       "precision": [precision.order, precision.screening]},
                      sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:40]


# --------------------------------------------------------------------------------------
# one point, on the worker
# --------------------------------------------------------------------------------------

def _attr_value(value):
    """An attribute as netCDF stores it: str, int or float; anything else as JSON."""
    if isinstance(value, bool | np.bool_):
        return int(value)
    if isinstance(value, str | int | float):
        return value
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return json.dumps(value, default=_json_default, sort_keys=True)


def _json_default(obj):
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    return repr(obj)


def _clean_attrs(attrs: Mapping) -> dict[str, Any]:
    return {str(k): _attr_value(v) for k, v in attrs.items()}


def _array(name: str, value) -> np.ndarray:
    """An output as a fresh C-ordered array of numbers, booleans, strings or datetimes."""
    arr = np.asarray(value)
    if arr.dtype.kind == "O":
        flat = arr.ravel().tolist()
        if flat and all(isinstance(v, str) for v in flat):
            arr = np.array(flat, dtype=str).reshape(arr.shape)
        else:
            raise TypeError(f"output {name!r} holds Python objects (dtype object); a sweep "
                            f"stores numbers, booleans, strings and datetimes")
    if arr.dtype.kind not in "biufcUMm":
        raise TypeError(f"output {name!r} has dtype {arr.dtype}; a sweep stores numbers, "
                        f"booleans, strings and datetimes")
    # a C-ordered copy: the record must not share memory that the task may reuse (0-d
    # arrays stay 0-d, which np.ascontiguousarray would not keep)
    return np.array(arr, order="C")


def _as_variables(result, declared: Mapping[str, tuple[str, ...]]):
    """(variables, coords): name -> (dims, array, attrs, is_coordinate), dim -> array.
    A :class:`midnn.ReplicaResult` converts itself (``to_xarray``: a ``layer`` dimension)."""
    if not isinstance(result, xr.Dataset):
        if hasattr(result, "to_xarray") and callable(result.to_xarray):
            result = result.to_xarray()
            if not isinstance(result, xr.Dataset):
                raise TypeError(f"the task's result.to_xarray() must return an "
                                f"xarray.Dataset, got {type(result).__name__}")
        elif not isinstance(result, Mapping) and hasattr(result, "to_dict") \
                and callable(result.to_dict):
            result = result.to_dict()
    variables: dict[str, tuple] = {}
    coords: dict[str, np.ndarray] = {}
    if isinstance(result, xr.Dataset):
        for name, var in result.variables.items():
            name = str(name)
            data = _array(name, var.values)
            if var.dims == (name,):
                coords[name] = data
            else:
                variables[name] = (tuple(map(str, var.dims)), data, _clean_attrs(var.attrs),
                                   name in result.coords)
        return variables, coords
    if isinstance(result, Mapping):
        items = result.items()
    elif isinstance(result, numbers.Number | np.ndarray | np.generic | list | tuple):
        items = [("value", result)]
    else:
        raise TypeError(f"the task returned a {type(result).__name__}; expected a Mapping of "
                        f"name -> array, an xarray.Dataset, an object with to_xarray(), a "
                        f"midnn.ReplicaResult or a number/array")
    for name, value in items:
        if not isinstance(name, str):
            raise TypeError(f"output names must be strings, got {name!r}")
        if isinstance(value, xr.DataArray):
            for dim, coord in value.coords.items():
                if coord.dims == (dim,):
                    _add_coord(coords, str(dim), _array(str(dim), coord.values))
            dims, data, attrs = (tuple(map(str, value.dims)), _array(name, value.values),
                                 _clean_attrs(value.attrs))
        else:
            data, attrs = _array(name, value), {}
            dims = declared.get(name, tuple(f"{name}_dim_{i}" for i in range(data.ndim)))
            if len(dims) != data.ndim:
                raise ValueError(f"output {name!r} has {data.ndim} dimensions (shape "
                                 f"{data.shape}) but task.dims declares {dims}")
        if dims == (name,):
            _add_coord(coords, name, data)
        else:
            variables[name] = (dims, data, attrs, False)
    return variables, coords


def _add_coord(coords: dict[str, np.ndarray], dim: str, values: np.ndarray) -> None:
    if dim in coords and not np.array_equal(coords[dim], values):
        raise ValueError(f"the task gives two different coordinates for dimension {dim!r}")
    coords[dim] = values


def _check_names(variables: Mapping[str, tuple], coords: Mapping[str, np.ndarray],
                 reserved: frozenset[str]) -> None:
    """Output names and dimensions must not collide with the grid or the sweep's variables,
    and every dimension must have one length within the point."""
    sizes: dict[str, int] = {d: len(c) for d, c in coords.items()}
    for name, (dims, data, _, _) in variables.items():
        if name in reserved:
            raise ValueError(f"output {name!r} collides with a grid parameter or a sweep "
                             f"variable (reserved: {sorted(reserved)})")
        for dim, n in zip(dims, data.shape, strict=True):
            if dim in reserved:
                raise ValueError(f"dimension {dim!r} of output {name!r} collides with a grid "
                                 f"parameter or a sweep variable (reserved: {sorted(reserved)})")
            if sizes.setdefault(dim, n) != n:
                raise ValueError(f"dimension {dim!r} has length {n} in output {name!r} and "
                                 f"{sizes[dim]} elsewhere")
    for name in coords:
        if name in reserved:
            raise ValueError(f"coordinate {name!r} collides with a grid parameter or a sweep "
                             f"variable (reserved: {sorted(reserved)})")
    for name in variables:
        if name in sizes:
            raise ValueError(f"output {name!r} is also the name of a dimension; give it the "
                             f"dimension ({name!r},) to make it that dimension's coordinate")


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _load_task(payload: bytes) -> Callable[..., Any]:
    import cloudpickle

    digest = hashlib.sha256(payload).digest()
    task = _TASK_CACHE.get(digest)
    if task is None:
        if len(_TASK_CACHE) >= _TASK_CACHE_SIZE:
            _TASK_CACHE.clear()
        task = _TASK_CACHE[digest] = cloudpickle.loads(payload)
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
# store
# --------------------------------------------------------------------------------------

def _write_record(path: Path, key: Mapping[str, Any], record: Mapping[str, Any]) -> None:
    """Write a record as ``.npz`` (arrays, and a JSON header in ``__meta__``), atomically:
    a reader sees the old file or the whole new one, never a partial write."""
    arrays: dict[str, np.ndarray] = {}
    variables = {}
    for i, (name, (dims, data, attrs, is_coord)) in enumerate(record["vars"].items()):
        arrays[f"v{i}"] = data
        variables[name] = {"array": f"v{i}", "dims": list(dims), "attrs": attrs,
                           "coord": is_coord}
    coords = {}
    for i, (dim, data) in enumerate(record["coords"].items()):
        arrays[f"c{i}"] = data
        coords[dim] = f"c{i}"
    meta = {"format": _STORE_FORMAT, "key": key, "vars": variables, "coords": coords,
            "error": record["error"], "warning": record["warning"], "time": record["time"]}
    arrays["__meta__"] = np.array(json.dumps(meta))
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(buf.getvalue())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _read_record(path: Path, key: Mapping[str, Any]) -> dict[str, Any] | None:
    """The record stored at ``path`` if it is readable and was computed for ``key``."""
    try:
        with np.load(path, allow_pickle=False) as f:
            meta = json.loads(str(f["__meta__"]))
            if meta.get("format") != _STORE_FORMAT or meta.get("key") != json.loads(
                    json.dumps(key)):
                return None
            variables = {name: (tuple(v["dims"]), f[v["array"]], v["attrs"], v["coord"])
                         for name, v in meta["vars"].items()}
            coords = {dim: f[a] for dim, a in meta["coords"].items()}
    except (OSError, ValueError, KeyError, TypeError):  # unreadable: compute it again
        return None
    return {"vars": variables, "coords": coords, "error": meta["error"],
            "warning": meta["warning"], "time": meta["time"]}


# --------------------------------------------------------------------------------------
# assembly
# --------------------------------------------------------------------------------------

def _fill(dtype: np.dtype):
    """The value of a missing entry of ``dtype`` (see the module docstring)."""
    kind = dtype.kind
    if kind in "fc":
        return np.nan
    if kind == "i":
        return np.iinfo(dtype).min
    if kind == "u":
        return np.iinfo(dtype).max
    if kind == "b":
        return False
    if kind in "Mm":
        return np.array("NaT", dtype=dtype)
    return ""


def _promote(a: np.dtype, b: np.dtype) -> np.dtype:
    """The dtype holding one output's values of two points: numbers promote among
    themselves, booleans, strings, datetimes and timedeltas only within their own kind
    (a number is never silently turned into a string, nor a bool into a number)."""
    def group(d: np.dtype) -> str:
        return "number" if d.kind in "iufc" else d.kind

    if group(a) != group(b):
        raise TypeError(f"cannot hold {a} and {b} in one variable")
    return np.result_type(a, b)


def _is_prefix(short: np.ndarray, long: np.ndarray) -> bool:
    return len(short) <= len(long) and np.array_equal(short, long[: len(short)])


def _assemble(grid: _Grid, records: Sequence[dict[str, Any]], seeds: Sequence[int] | None,
              attrs: Mapping[str, Any]) -> xr.Dataset:
    """One Dataset from the records of every point (grid order)."""
    errors = [r["error"] for r in records]
    ref_dims: dict[str, tuple[str, ...]] = {}
    ref_dtype: dict[str, np.dtype] = {}
    ref_attrs: dict[str, dict] = {}
    is_coord: dict[str, bool] = {}
    ref_coord: dict[str, np.ndarray] = {}
    sizes: dict[str, int] = {}
    # one pass in grid order: the first successful point sets each output's dimensions and
    # coordinates; a later point that disagrees is marked failed, so that every point is
    # either wholly present or wholly filled
    for k, rec in enumerate(records):
        if errors[k]:
            continue
        problem = None
        dtypes = {}
        for name, (dims, data, _, _) in rec["vars"].items():
            if name in ref_dims and ref_dims[name] != dims:
                problem = (f"ValueError: output {name!r} has dimensions {dims} here and "
                           f"{ref_dims[name]} at an earlier point")
                break
            try:
                dtypes[name] = (_promote(ref_dtype[name], data.dtype)
                                if name in ref_dtype else data.dtype)
            except TypeError:
                problem = (f"TypeError: output {name!r} has dtype {data.dtype} here and "
                           f"{ref_dtype[name]} at an earlier point")
                break
        for dim, values in rec["coords"].items():
            ref = ref_coord.get(dim)
            if problem is None and ref is not None and not (
                    _is_prefix(values, ref) or _is_prefix(ref, values)):
                problem = (f"ValueError: the coordinate of dimension {dim!r} differs from an "
                           f"earlier point's")
        if problem is not None:
            errors[k] = problem
            continue
        for name, (dims, data, var_attrs, coord) in rec["vars"].items():
            if name not in ref_dims:
                ref_dims[name], ref_attrs[name], is_coord[name] = dims, var_attrs, coord
            ref_dtype[name] = dtypes[name]
            for dim, n in zip(dims, data.shape, strict=True):
                sizes[dim] = max(sizes.get(dim, 0), n)
        for dim, values in rec["coords"].items():
            if dim not in ref_coord or len(values) > len(ref_coord[dim]):
                ref_coord[dim] = values
            sizes[dim] = max(sizes.get(dim, 0), len(values))

    coords: dict[str, Any] = dict(grid.coords)
    for dim, values in ref_coord.items():
        if len(values) == sizes[dim]:  # else some point has more entries than labels
            coords[dim] = ((dim,), values)
    data_vars: dict[str, Any] = {}
    for name, dims in ref_dims.items():
        dtype = ref_dtype[name]
        out = np.full(grid.shape + tuple(sizes[d] for d in dims), _fill(dtype), dtype=dtype)
        for k, rec in enumerate(records):
            if errors[k] or name not in rec["vars"]:
                continue
            data = rec["vars"][name][1]
            out[np.unravel_index(k, grid.shape) + tuple(slice(0, n) for n in data.shape)] = data
        target = coords if is_coord[name] else data_vars
        target[name] = (grid.dims + dims, out, ref_attrs[name])
    shape = grid.shape
    data_vars["error"] = (grid.dims, np.array(errors, dtype=str).reshape(shape),
                          {"long_name": "exception raised at this point, '' where it "
                                        "succeeded"})
    data_vars["warning"] = (grid.dims,
                            np.array([r["warning"] for r in records], dtype=str).reshape(shape),
                            {"long_name": "warnings raised by the task at this point"})
    data_vars["time"] = (grid.dims,
                         np.array([r["time"] for r in records], dtype=float).reshape(shape),
                         {"long_name": "wall time of the task call, in seconds"})
    if seeds is not None:
        data_vars["seed"] = (grid.dims, np.array(seeds, dtype=np.int64).reshape(shape),
                             {"long_name": "seed passed to the task (see attrs['seed'])"})
    return xr.Dataset(data_vars, coords=coords, attrs=dict(attrs))


# --------------------------------------------------------------------------------------
# where the points run
# --------------------------------------------------------------------------------------

def _cpu_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _configured_address() -> tuple[str, str] | None:
    """(address, where it came from) from the environment or Dask's config, else None."""
    env = os.environ.get("DASK_SCHEDULER_ADDRESS")
    if env:
        return env, "the environment variable DASK_SCHEDULER_ADDRESS"
    import dask

    # dask.config treats "scheduler-address" and "scheduler_address" as one key
    value = dask.config.get("scheduler-address", default=None)
    if value:
        return str(value), "Dask's config key 'scheduler-address'"
    return None


@contextlib.contextmanager
def _connect(address: str, origin: str) -> Iterator[Any]:
    from distributed import Client

    try:
        client = Client(address, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise OSError(f"cannot connect to the Dask scheduler at {address!r} (from {origin}): "
                      f"{_describe(exc)}") from exc
    with client:
        yield client


@contextlib.contextmanager
def _local_cluster(n_workers: int) -> Iterator[Any]:
    """An embedded LocalCluster: single-threaded worker processes, logs silenced below
    ERROR while it runs (distributed restores its handlers' levels on close), no
    dashboard."""
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        # a worker process (spawned) is re-running the caller's main script
        raise RuntimeError("sweep() was called while a new process was importing the main "
                           "script: put the script's top-level code under "
                           "`if __name__ == '__main__':`")
    from distributed import Client, LocalCluster

    # dashboard_address=None turns the dashboard off, but the scheduler's small HTTP server
    # (health routes) still binds, by default to port 8787, warning when that port is taken
    # (by another cluster): a random loopback port instead
    try:
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.ERROR,
                               scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})
    except RuntimeError as exc:
        main = sys.modules.get("__main__")
        if getattr(main, "__file__", None) is None:  # a notebook or an interactive session
            raise
        raise RuntimeError(f"the embedded LocalCluster could not start its workers "
                           f"({_describe(exc)}). Its workers are new processes that import "
                           f"the main script {main.__file__!r}: if that script calls sweep() "
                           f"at its top level, put that code under "
                           f"`if __name__ == '__main__':`") from exc
    with cluster, Client(cluster, set_as_default=False) as client:
        yield client


def _executor(client, address: str | None, n_workers: int | None, n_todo: int):
    """Context manager yielding the Client that runs the points, or None (serial)."""
    if isinstance(client, str) or n_workers == 0 or n_todo == 0:  # "serial", or nothing to do
        return contextlib.nullcontext(None)
    if client is not None:
        return contextlib.nullcontext(client)
    if address is not None:
        return _connect(address, "the address argument")
    if n_workers is None:
        configured = _configured_address()
        if configured is not None:
            return _connect(*configured)
    return _local_cluster(min(n_workers or _cpu_count(), n_todo))


def _check_runner(client, address, n_workers) -> int | None:
    if n_workers is not None:
        n_workers = check.integer("n_workers", n_workers, low=0)
    if isinstance(client, str):
        if client != "serial":
            raise ValueError(f"client must be a distributed.Client, 'serial' or None, got "
                             f"{client!r}")
    elif client is not None:
        from distributed import Client

        if not isinstance(client, Client):
            raise TypeError(f"client must be a distributed.Client, 'serial' or None, got "
                            f"{type(client).__name__}")
        if client.status != "running":
            raise ValueError(f"client must be connected; its status is {client.status!r}")
    if address is not None:
        if not isinstance(address, str):
            raise TypeError(f"address must be a string such as 'tcp://host:8786', got "
                            f"{type(address).__name__}")
        if client is not None:
            raise ValueError("give either client= or address=, not both")
    if n_workers is not None and (client is not None or address is not None):
        raise ValueError("n_workers sizes the embedded LocalCluster (0: serial); it cannot "
                         "be combined with client= or address=")
    return n_workers


def _one_blas_thread() -> contextlib.AbstractContextManager:
    """Limit this process's BLAS and OpenMP pools to one thread (threadpoolctl), as Dask
    starts its worker processes (``distributed.nanny.pre-spawn-environ`` sets
    ``OMP_NUM_THREADS=MKL_NUM_THREADS=OPENBLAS_NUM_THREADS=1``).

    The reason: a BLAS reduction (``np.dot`` of a long vector) splits its sum over threads
    when it has several, so the last bit of a value can depend on the thread count (seen on
    replica values at order 2). Without threadpoolctl this is a no-op.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a declared dependency
        return contextlib.nullcontext()
    return threadpool_limits(limits=1)


#: Batches per worker thread when ``batch_size`` is automatic: enough for the workers to
#: finish together when points differ in cost, few enough to amortize Dask's overhead per
#: task (~1 ms of scheduler and client time, more than a small replica model costs).
_BATCHES_PER_SLOT = 16


def _auto_batch(n_todo: int, slots: int) -> int:
    """Points per Dask task: about ``_BATCHES_PER_SLOT`` tasks per worker thread."""
    return max(1, math.ceil(n_todo / (_BATCHES_PER_SLOT * max(slots, 1))))


def _run_batch(task: bytes, params: Sequence[Mapping[str, Any]], seeds: Sequence[int | None],
               **shared) -> list[dict[str, Any]]:
    """Records of several points run one after the other (one Dask task)."""
    return [_run_point(task, p, s, **shared) for p, s in zip(params, seeds, strict=True)]


def _run_all(client, task: Callable[..., Any], payload: bytes,
             todo: Sequence[tuple[int, dict[str, Any], int | None]], shared: Mapping[str, Any],
             on_done: Callable[[int, dict], None], batch_size: int | None = None) -> None:
    """Run the points ``todo`` (position, parameters, seed) on ``client`` (None: here, in
    order), with the keyword arguments ``shared`` of :func:`_run_point`, ``batch_size``
    points per Dask task (None: :func:`_auto_batch`); call ``on_done(position, record)``
    as each finishes."""
    if client is None:
        # single-threaded BLAS like a worker, so that this is the workers' reference
        with _one_blas_thread():
            for k, params, seed in todo:
                on_done(k, _run_point(task, params, seed, **shared))
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
                         [[s for _, _, s in b] for b in batches], key=keys, pure=False, **shared)
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
# public API
# --------------------------------------------------------------------------------------

def sweep(task: Callable[..., Any], grid, *, client=None, address: str | None = None,
          n_workers: int | None = None, store: str | os.PathLike | None = None,
          resume: bool = True, progress: bool = True, precision: Precision | None = None,
          seed: int | None = None, name: str | None = None,
          batch_size: int | None = None) -> xr.Dataset:
    """Evaluate ``task`` at every point of ``grid``, in parallel, as a labelled Dataset.

    See the module docstring for the rules (tasks, grids, failures, seeds, resume,
    provenance).

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


def save(ds: xr.Dataset, path: str | os.PathLike) -> Path:
    """Write ``ds`` to the netCDF file ``path`` (engine h5netcdf), atomically.

    Attributes must be strings or numbers (or 1-D arrays of numbers), as netCDF requires;
    store structured values as JSON strings. Returns the path, so that ``load(save(ds,
    path))`` reads it back identical to ``ds``.
    """
    check.instance("ds", ds, xr.Dataset, "an xarray.Dataset")
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"path must be a file path (str or path-like), got "
                        f"{type(path).__name__}")
    path = Path(path)
    for where, attrs in [("ds.attrs", ds.attrs)] + [
            (f"ds[{str(k)!r}].attrs", v.attrs) for k, v in ds.variables.items()]:
        for key, value in attrs.items():
            ok = isinstance(value, str | numbers.Number) and not isinstance(value, bool | np.bool_)
            if isinstance(value, np.ndarray | list | tuple):
                arr = np.asarray(value)
                ok = arr.ndim == 1 and arr.dtype.kind in "iufc"
            if not ok:
                raise TypeError(f"{where}[{key!r}] = {value!r} cannot be stored in netCDF: "
                                f"use a string, a number or a 1-D array of numbers (JSON "
                                f"for structured values)")
    for k, v in ds.variables.items():
        if v.dtype.kind == "O" and not all(isinstance(x, str) for x in v.values.ravel()):
            raise TypeError(f"variable {str(k)!r} holds Python objects (dtype object); netCDF "
                            f"stores numbers, booleans, strings and datetimes")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        ds.to_netcdf(tmp, engine="h5netcdf")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def load(path: str | os.PathLike) -> xr.Dataset:
    """Read a Dataset written by :func:`save` (netCDF, engine h5netcdf) into memory.

    String variables read as Python objects are turned back into NumPy strings; the file
    is closed on return.
    """
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"path must be a file path (str or path-like), got "
                        f"{type(path).__name__}")
    with xr.open_dataset(path, engine="h5netcdf") as f:
        ds = f.load()
    for name, var in list(ds.variables.items()):
        if var.dtype.kind == "O" and all(isinstance(x, str) for x in var.values.ravel()):
            strings = np.array(var.values.ravel().tolist(), dtype=str).reshape(var.shape)
            if name in ds.coords:
                ds = ds.assign_coords({name: (var.dims, strings, var.attrs)})
            else:
                ds[name] = (var.dims, strings, var.attrs)
    return ds


# --------------------------------------------------------------------------------------
# a ready-made task
# --------------------------------------------------------------------------------------

_PRIORS = ("gaussian", "binary", "gauss_bernoulli")


def replica_task(alpha: float, noise: float, *, prior: str = "gaussian",
                 activation: str = "linear", depth: int = 1, rho: float = 0.5,
                 solver: str = "auto"):
    """Replica values of a network with Marchenko-Pastur weights: a task for :func:`sweep`.

    The model is ``prior -> depth layers``, each ``Layer(MarchenkoPastur(alpha),
    activation)``, the hidden layers noiseless and the last one with variance ``noise``
    (the paper's "noise at the evaluated layer"; entry l of the result observes layer l
    through ``noise``). ``prior="binary", activation="linear"`` has the first-order
    transition of the paper (the MMSE jumps to 0 as alpha grows, for noise below ~0.05).

    Parameters
    ----------
    alpha : float
        Aspect ratio n_l / n_{l-1} of every layer (> 0).
    noise : float
        Noise variance of the last layer (>= 0; > 0 for a continuous activation).
    prior : {"gaussian", "binary", "gauss_bernoulli"}
        N(0, 1), +-1 with probability 1/2, or Gauss-Bernoulli with density ``rho``.
    activation : str
        A name of :data:`midnn.activations.ACTIVATIONS` ("linear", "relu", "sign", "hardtanh",
        "tanh", "leaky_relu").
    depth : int
        Number of layers (>= 1).
    rho : float
        Density of the Gauss-Bernoulli prior (ignored by the others).
    solver : str
        Passed to :func:`midnn.replica`.

    Returns
    -------
    midnn.ReplicaResult
        :func:`sweep` turns it into variables ``entropy``, ``mutual_information``,
        ``conditional_entropy``, ``mmse``, ``iterations`` per ``layer`` (1..depth),
        ``converged`` and ``solver``.
    """
    from . import Layer, Model, replica
    from .priors import Binary, GaussBernoulli, Gaussian
    from .spectra import MarchenkoPastur
    from .tasks import make_activation

    prior = check.choice("prior", prior, _PRIORS)
    depth = check.integer("depth", depth, low=1)
    p = {"gaussian": lambda: Gaussian(), "binary": lambda: Binary(0.5),
         "gauss_bernoulli": lambda: GaussBernoulli(check.probability("rho", rho))}[prior]()
    spectrum = MarchenkoPastur(check.positive("alpha", alpha))
    layers = [Layer(spectrum, make_activation(activation, 0.0)) for _ in range(depth - 1)]
    layers.append(Layer(spectrum, make_activation(activation, noise)))
    return replica(Model(p, layers), solver=solver)
