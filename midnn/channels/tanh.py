"""The scalar channel of t = tanh(z + ξ) (smooth, bounded: Theorem 1's hypothesis H2).

* output: t = tanh(u) with u | ω ~ N(ω, v) is a change of variables of a Gaussian, so
  H(t | ω) = ½ log(2πe v) + E_{u ~ N(0, m + v)} log(1 - tanh(u)²) in closed form up to one
  Gauss-Hermite average, and A = 1/v (the offset does not depend on Ṽ at fixed ρ̃);
* hidden: see :meth:`TanhChannel._hidden`.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from ..gaussian import expected_log_cosh
from ..precision import current as current_precision
from ..quadrature import hermite, legendre
from .base import HiddenValues, ScalarChannel

__all__ = ["TanhChannel"]

#: Precisions Ã above this are treated as a noiseless observation of t.
_A_INF = 1e300
_INNER_ORDER = 12
#: Half-width, in standard deviations, of the supports of the inner rules.
_REACH = 10.5


@lru_cache(maxsize=4096)
def _tanh_entropy_offset(var_u: float, order: int) -> float:
    """E_{u ~ N(0, var_u)} log(1 - tanh(u)^2) = -2 E log cosh u: H(tanh U) - H(U) for a
    Gaussian U (``order``: the precision's, part of the cache key)."""
    return float(-2.0 * expected_log_cosh(0.0, math.sqrt(var_u)))


class TanhChannel(ScalarChannel):
    """The scalar channel of :class:`midnn.activations.Tanh`."""

    def _output(self, m: float, v: float) -> tuple[float, float]:
        offset = _tanh_entropy_offset(m + v, current_precision().order)
        h = 0.5 * np.log(2 * np.pi * np.e * v) + offset
        return float(h), 1.0 / v

    def _conditional_variance(self, m: float, v: float) -> float:
        return self._hidden(1e-300, m, v).V

    def _hidden(self, A_tilde: float, m: float, v: float) -> HiddenValues:
        """Hidden tanh channel: u ~ N(0, m+v) outermost (Gauss-Hermite, tanh is smooth),
        omega | u and xi' inner, and p(y | omega) = int N(u'; omega, v) N(y; tanh u', 1/Ã)
        du' by sinh-mapped Gauss-Legendre rules on both sides of the posterior mode of u'
        (a few vectorized Newton steps started at the u that generated y), clustered at the
        width 1/sqrt(curvature) of the posterior peak and reaching 10.5 sqrt(v) from omega,
        so that a skewed or saturated posterior (tanh flattens) is integrated as well as a
        Gaussian one. Doubling the orders moves I by ~1e-8..3e-6 (the outer rule in u limits
        it at sharp observations, Ã ~ 1e3)."""
        A_tilde = min(A_tilde, _A_INF)
        su = np.sqrt(m + v)
        kappa = m / (m + v)
        zu, wu = hermite(64)
        zz, wz = hermite(_INNER_ORDER)
        ze, we = hermite(_INNER_ORDER)
        if kappa == 0:
            zz, wz = np.zeros(1), np.ones(1)
        u = su * zu
        omega = kappa * u[:, None, None] + np.sqrt(kappa * v) * zz[None, :, None]
        y = np.tanh(u)[:, None, None] + ze[None, None, :] / np.sqrt(A_tilde)
        omega, y = np.broadcast_arrays(omega, y)
        U = np.broadcast_to(u[:, None, None], omega.shape).ravel().copy()
        omega, y = omega.ravel(), y.ravel()
        w = (wu[:, None, None] * wz[None, :, None] * we[None, None, :]).ravel()
        # posterior mode of u' given (y, omega): Newton on -log N(u';omega,v) N(y;tanh u',1/A)
        for _ in range(8):
            th = np.tanh(U)
            d1 = 1.0 - th**2
            grad = (U - omega) / v - A_tilde * (y - th) * d1
            hess = 1.0 / v + A_tilde * (d1**2 + 2.0 * (y - th) * th * d1)
            hess = np.maximum(hess, 1.0 / v)
            U = U - grad / hess
        th = np.tanh(U)
        d1 = 1.0 - th**2
        curv = np.maximum(1.0 / v + A_tilde * (d1**2 + 2.0 * (y - th) * th * d1), 1.0 / v)
        s = 1.0 / np.sqrt(curv)
        reach = _REACH * np.sqrt(v)
        x, wx = legendre(24)
        nodes, weights = [], []
        for side, length in ((1.0, np.maximum(omega + reach - U, s)),
                             (-1.0, np.maximum(U - omega + reach, s))):
            T = np.arcsinh(length / s)[:, None]
            t = 0.5 * T * (x + 1.0)
            nodes.append(U[:, None] + side * s[:, None] * np.sinh(t))
            weights.append(0.5 * T * wx * s[:, None] * np.cosh(t))
        up, wq = np.concatenate(nodes, axis=1), np.concatenate(weights, axis=1)
        tp = np.tanh(up)
        logint = -0.5 * (up - omega[:, None]) ** 2 / v - 0.5 * A_tilde * (y[:, None] - tp) ** 2
        mx = logint.max(axis=1, keepdims=True)
        e = wq * np.exp(logint - mx)
        Z = e.sum(axis=1)
        logp = (mx[:, 0] + np.log(Z) - 0.5 * np.log(2 * np.pi * v)
                + 0.5 * np.log(A_tilde / (2 * np.pi)))
        post = e / Z[:, None]
        t_mean = np.sum(post * tp, axis=1)
        var_t = np.sum(post * (tp - t_mean[:, None]) ** 2, axis=1)
        g = np.sum(post * (up - omega[:, None]), axis=1) / v
        mi = -float(np.dot(w, logp)) - 0.5 * np.log(2 * np.pi * np.e / A_tilde)
        return HiddenValues(max(mi, 0.0), float(np.dot(w, g * g)), float(np.dot(w, var_t)))


