"""Records: a task's result as variables, and the records of every point as one Dataset.

A point's record is a dict of plain values and NumPy arrays (``vars``: name -> (dims,
array, attrs, is_coordinate); ``coords``: dim -> array; ``error``; ``warning``; ``time``),
the same whether the point ran on a worker, in this process or was read back from a store.
:func:`_as_variables` turns whatever the task returned into its ``vars`` and ``coords`` and
:func:`_check_names` keeps them clear of the grid's and the sweep's names;
:func:`_assemble` gathers the records in grid order into one :class:`xarray.Dataset`,
padding short arrays and filling failed points (see *Failures* in :mod:`midnn.sweeps`).
"""

from __future__ import annotations

import json
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from .grid import _Grid

__all__ = ["SWEEP_VARIABLES"]

#: Variables every sweep adds (``seed`` only with ``seed=``); names a grid or a task
#: output may not use, with the dimension ``point`` of list grids.
SWEEP_VARIABLES = ("error", "warning", "time", "seed")


# --------------------------------------------------------------------------------------
# a task's result -> variables
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


# --------------------------------------------------------------------------------------
# assembly
# --------------------------------------------------------------------------------------

def _fill(dtype: np.dtype):
    """The value of a missing entry of ``dtype`` (see :mod:`midnn.sweeps`)."""
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
