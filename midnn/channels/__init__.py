"""Scalar channels: what each activation contributes to the replica potential.

:class:`ScalarChannel` (in :mod:`midnn.channels.base`) is the seam between an activation and
the solvers; the engines are :class:`LinearChannel` (closed forms),
:class:`PiecewiseLinearChannel` (any activation made of linear and flat pieces) and
:class:`TanhChannel`. An activation returns its channel from ``activation.channel(rho_tilde)``.
"""

from .base import HiddenValues, ScalarChannel
from .linear import LinearChannel
from .piecewise import PiecewiseLinearChannel
from .tanh import TanhChannel

__all__ = ["HiddenValues", "ScalarChannel", "LinearChannel", "PiecewiseLinearChannel",
           "TanhChannel"]
