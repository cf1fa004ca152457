"""The grid of a sweep: its points, their layout in the Dataset, and their seeds.

:func:`_parse_grid` validates a dict grid (a cartesian product, one dimension per parameter,
points in C order) or a list of points (one dimension ``point``) into a :class:`_Grid`: the
points as dicts of Python ``bool``, ``int``, ``float`` or ``str``, the coordinates, the
shape, and the JSON-able description written to ``attrs["grid"]``. :func:`point_seed` is the
seed of the point at a flat position of the grid (see *Seeds* in :mod:`midnn.sweeps`).
"""

from __future__ import annotations

import itertools
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import _validate as check

__all__ = ["point_seed"]

_POINT = "point"


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
