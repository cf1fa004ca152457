"""What a sweep reads from its task before running it.

:func:`_qualified_name` is the task's ``module.qualname`` (the default ``name`` of a sweep,
its ``attrs["task"]``, and the identity of its points in a store) and whether that name
identifies the task; :func:`_declared_dims` validates ``task.dims`` (the dimensions of the
task's array outputs); :func:`_check_signature` checks the grid's names (and ``seed``)
against the task's keyword parameters before any point runs.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Mapping, Sequence

from .grid import _Grid


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
