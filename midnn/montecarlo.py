"""Monte Carlo averages with a control variate (the finite-size ground truths use it)."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["control_variate_mean"]


def control_variate_mean(y: np.ndarray, c: np.ndarray, c_mean: float) -> tuple[float, float]:
    """The mean of ``y`` with the control variate ``c`` of known expectation ``c_mean``, and
    its standard error.

    Regression estimator: β = Cov(y, c)/Var(c) is fitted on the same samples and the estimate
    is the mean of r = y - β (c - c_mean) (its bias is O(1/N), far below the standard error).
    The standard error is that of the mean of r with the residual variance on N - 2 degrees
    of freedom (the mean and β are fitted).
    """
    y, c = np.asarray(y, dtype=float), np.asarray(c, dtype=float)
    n = y.size
    dc = c - c.mean()
    var_c = float(dc @ dc)
    beta = float((y - y.mean()) @ dc) / var_c if var_c > 0 else 0.0
    resid = y - beta * (c - c_mean)
    se = float(np.std(resid - resid.mean(), ddof=0) * math.sqrt(n / (n - 2 if n > 2 else 1))
               / math.sqrt(n))
    return float(resid.mean()), se
