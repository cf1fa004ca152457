"""Finite-size ground truth extrapolated to n_0 -> infinity (notebook 02, Theorem 1).

Exact values computed at finite widths (log-determinants, exact enumeration) differ from
their n_0 -> infinity limit by O(1/n_0) on average and fluctuate from one draw of the weights
to the next. :func:`draw_mean` averages the draws at one size into a mean and a standard
error (Monte Carlo errors of each draw included), and :func:`inverse_size_fit` fits
y = a + b / n_0 by weighted least squares; ``a`` and its standard error are the
extrapolated value the replica formula is compared with.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["InverseSizeFit", "inverse_size_fit", "draw_mean"]


@dataclass(frozen=True)
class InverseSizeFit:
    """y = intercept + slope / n_0, with the standard error of the intercept."""

    intercept: float
    intercept_se: float
    slope: float

    def __call__(self, inverse_n0):
        """The fitted line at 1/n_0 = ``inverse_n0``."""
        return self.intercept + self.slope * np.asarray(inverse_n0, dtype=float)


def inverse_size_fit(n0, mean, se) -> InverseSizeFit:
    """Weighted least squares of ``mean`` against 1/``n0`` with weights 1/``se``²; the
    intercept's standard error is sqrt of the (0, 0) entry of (X^T W X)^{-1} (the errors
    taken as known, not rescaled by the residuals). Standard errors below 1e-12 are raised
    to 1e-12 (a zero error would make the weight infinite)."""
    x = 1.0 / np.asarray(n0, dtype=float)
    sw = 1.0 / np.maximum(np.asarray(se, dtype=float), 1e-12)       # sqrt of the weights
    # QR of the weighted design (not the normal equations: weights may span many decades)
    Q, R = np.linalg.qr(np.column_stack([sw, sw * x]))
    coef = np.linalg.solve(R, Q.T @ (sw * np.asarray(mean, dtype=float)))
    Rinv = np.linalg.inv(R)
    cov = Rinv @ Rinv.T                                              # (X^T W X)^{-1}
    return InverseSizeFit(float(coef[0]), math.sqrt(cov[0, 0]), float(coef[1]))


def draw_mean(values, mc_se=None) -> tuple[float, float]:
    """Mean over draws (last axis of ``values``) and its standard error.

    With ``mc_se`` (the Monte Carlo standard error of each draw) the variance of the mean is
    s²/D + mean(mc_se²)/D, s² the sample variance over the D draws: conservative, since s²
    already contains the Monte Carlo noise once.
    """
    v = np.asarray(values, dtype=float)
    D = v.shape[-1]
    var = v.var(axis=-1, ddof=1) / D
    if mc_se is not None:
        var = var + np.mean(np.asarray(mc_se, dtype=float) ** 2, axis=-1) / D
    return v.mean(axis=-1), np.sqrt(var)
