"""Sweeps on disk: the per-point files of a resumable sweep, and netCDF files of Datasets.

A point of a sweep with ``store=`` is one file ``<key>.npz`` (NumPy arrays and a JSON
header, no pickles), named by :func:`_point_key` (SHA-256 of the canonical JSON of the
task's identity, the point's parameters, its seed and the precision), written atomically
by :func:`_write_record` and read back by :func:`_read_record` only when its header holds
the same key and format. :func:`save` and :func:`load` write and read a whole Dataset as
netCDF (engine h5netcdf), ``load(save(ds, path))`` identical to ``ds``.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import numbers
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from .. import _validate as check
from ..precision import Precision

__all__ = ["save", "load"]

#: Version of the layout of the per-point files of a store (in their JSON header).
_STORE_FORMAT = 1


# --------------------------------------------------------------------------------------
# per-point files
# --------------------------------------------------------------------------------------

def _point_key(identity: str, params: Mapping[str, Any], seed: int | None,
               precision: Precision) -> str:
    """Stable name of a point in a store: SHA-256 of canonical JSON (Python's float repr is
    exact and platform independent; dict keys sorted)."""
    text = json.dumps({"task": identity, "params": dict(params), "seed": seed,
                       "precision": [precision.order, precision.screening]},
                      sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:40]


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
# netCDF
# --------------------------------------------------------------------------------------

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
