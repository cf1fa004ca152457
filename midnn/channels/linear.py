"""The scalar channel of the linear activation t = z + ξ: every quantity in closed form.

With u | ω ~ N(ω, v) and y = u + ξ'/sqrt(Ã):

* output: H(t | ω) = ½ log(2πe v), A = 1/v;
* hidden: I(t; y | ω) = ½ log(1 + Ã v), A = Ã / (1 + Ã v), V = v / (1 + Ã v)
  (Gaussian channel of signal-to-noise ratio Ã v).
"""

from __future__ import annotations

import math

import numpy as np

from .base import HiddenValues, ScalarChannel

__all__ = ["LinearChannel"]


class LinearChannel(ScalarChannel):
    """The scalar channel of :class:`midnn.activations.Linear`."""

    closed_form = True

    def _output(self, m: float, v: float) -> tuple[float, float]:
        return float(0.5 * np.log(2 * np.pi * np.e * v)), 1.0 / v

    def _hidden_at(self, A_tilde: float, m: float, v: float) -> HiddenValues:
        # closed form at every (Ã, v), the limits v = 0 and Ã = inf included
        if math.isinf(A_tilde):
            return HiddenValues(np.inf if v > 0 else 0.0, 1.0 / v if v > 0 else np.inf, 0.0)
        return HiddenValues(0.5 * np.log1p(A_tilde * v), A_tilde / (1.0 + A_tilde * v),
                            v / (1.0 + A_tilde * v))
