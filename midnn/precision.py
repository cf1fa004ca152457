"""Numerical precision of the scalar channels: an explicit value, carried by a context.

Every Gaussian average of midnn is a fixed-order quadrature rule (:mod:`midnn.quadrature`).
Two settings scale those rules:

* ``order`` multiplies every quadrature order (1 is the default; 2 doubles every rule, which
  is how the tests and :func:`midnn.checks.order_doubling` check that a value is converged);
* ``screening`` selects the cheaper rules (about half the nodes of the piecewise-linear
  channels, relative accuracy ~1e-6 instead of ~1e-10) with which the multi-start search
  locates stationary points before refining the selected one at full precision.

A :class:`Precision` is a small frozen value. The one in force is held by a
:class:`contextvars.ContextVar`, so it is per thread (and per asyncio task) and is never
silently shared: a worker process or thread starts at the default, and a caller that farms
out work passes ``current()`` along and re-enters it there with :func:`using` (the sweep
runner :mod:`midnn.sweeps` does this for every task)::

    from midnn.precision import Precision, using
    with using(Precision(order=2)):
        res = replica(model)          # every rule doubled
    res = replica(model, precision=Precision(order=2))   # the same, as an argument
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

from . import _validate as check

__all__ = ["Precision", "current", "using"]


@dataclass(frozen=True)
class Precision:
    """Quadrature settings of the scalar channels.

    Parameters
    ----------
    order : int
        Multiplier of every quadrature order, >= 1 (default 1).
    screening : bool
        Use the screening rules of the multi-start search (default False: full precision).
    """

    order: int = 1
    screening: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "order", check.integer("order", self.order, low=1, high=64))
        object.__setattr__(self, "screening", check.boolean("screening", self.screening))


_DEFAULT = Precision()
_CURRENT: contextvars.ContextVar[Precision] = contextvars.ContextVar("midnn_precision",
                                                                     default=_DEFAULT)


def current() -> Precision:
    """The :class:`Precision` in force in this context."""
    return _CURRENT.get()


@contextmanager
def using(precision: Precision | None = None, *, order: int | None = None,
          screening: bool | None = None) -> Iterator[Precision]:
    """Context in which ``precision`` (default: the current one) is in force, with
    ``order`` and ``screening`` replaced where given. Yields the precision in force."""
    if precision is None:
        precision = current()
    elif not isinstance(precision, Precision):
        raise TypeError(f"precision must be a midnn.precision.Precision, got "
                        f"{type(precision).__name__}")
    changes = {k: v for k, v in (("order", order), ("screening", screening)) if v is not None}
    if changes:
        precision = replace(precision, **changes)
    token = _CURRENT.set(precision)
    try:
        yield precision
    finally:
        _CURRENT.reset(token)
