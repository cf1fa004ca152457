r"""Adaptive interpolation for the two-layer network (Theorem 1), exact in the Gaussian-linear case.

The proof of Theorem 1 (digest section 4.2) interpolates between the true two-layer model
(t = 0) and a decoupled model (t = 1) in which the second layer W_2 has been replaced by a
scalar Gaussian channel per output component plus a Gaussian side observation of T_1:

.. math::

    Y_t  &= \sqrt{1-t}\, W_2 T_1 + \sqrt{R_2(t)}\, V + \sqrt{\rho t - R_2(t)}\, U
            + \sqrt{\Delta_2}\, Z,\\
    Y'_t &= \sqrt{R_1(t)}\, T_1 + Z',

with V (known), U (unknown), Z, Z' i.i.d. N(0, 1), rho = E (W_2 T_1)_mu^2 the second moment of
the pre-activation, and R_1(0) = R_2(0) = 0. For a Gaussian input X ~ N(0, var I) and linear
layers T_1 = W_1 X + sqrt(Delta_1) xi every variable is jointly Gaussian, so the entropy of the
observations (the "free entropy" up to sign and constants),

.. math:: h_n(t) = \frac{1}{n_0} H(Y_t, Y'_t \mid V)
          = \frac{1}{2n_0}\Big[(n_1+n_2)\log 2\pi e + \log\det\Sigma_t\Big],
          \quad \Sigma_t = M_t C M_t^\top + N_t,

is an exact log-determinant (C = Cov T_1, M_t = [sqrt(1-t) W_2; sqrt(R_1) I],
N_t = diag(sigma_t^2 I_{n_2}, I_{n_1}), sigma_t^2 = Delta_2 + rho t - R_2(t)). The known part V is
independent of everything else and drops out. With E_t the posterior covariance of T_1 given
(Y_t, Y'_t), e = tr E_t / n_1 (MMSE of T_1 per component, = rho - q with q the overlap) and
b = tr(W_2 E_t W_2^T) / n_2 (MMSE of the pre-activation S = W_2 T_1), the derivative is exactly

.. math::

    h_n'(t) = \frac{\tilde\alpha_2}{2}\Big[(\rho - R_2')\,g - \frac{b}{\sigma_t^2}\Big]
              + \frac{\tilde\alpha_1}{2} R_1'\, e,
    \qquad g = \frac{1}{\sigma_t^2}\Big(1 - \frac{(1-t)\, b}{\sigma_t^2}\Big),

(Jacobi's formula for d log det Sigma_t / dt). Sum rule: since h_n(0) = H(T_2)/n_0 +
(alpha~_1/2) log 2 pi e and h_n(1) = (alpha~_2/2) log 2 pi e sigma_1^2 + H(Y'_1)/n_0,

.. math::

    h_n(0) = h_n(1) - \frac{\tilde\alpha_1}{2}\int_0^1 R_1'(t)\big(\rho - R_2'(t)\big)\,dt
             - \int_0^1 \mathcal R_n(t)\, dt,

    \mathcal R_n(t) = \underbrace{\tfrac12\big(q(t) - R_2'(t)\big)\big(\tilde\alpha_2 g(t)
             - \tilde\alpha_1 R_1'(t)\big)}_{\text{(overlap - R_2')(channel - R_1')}}
             + \underbrace{\tfrac{\tilde\alpha_2}{2}\Big(e\,g - \frac{b}{\sigma_t^2}\Big)}
             _{\text{fluctuation term}},\quad q = \rho - e .

The second term vanishes when the overlap concentrates and the pre-activation behaves as a
scalar channel (b = e sigma^2 / (sigma^2 + (1-t) e), which makes e g = b / sigma^2): it is
O(1/n) here. The first is the product structure of the adaptive interpolation: the adaptive
choice R_2'(t) = q(t) (the current overlap, an ODE since q depends on R_1, R_2) cancels it
whatever R_1' is, leaving a remainder that vanishes as n grows. A badly chosen path leaves an
O(1) remainder.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.linalg import cho_factor, cho_solve

__all__ = ["GaussianPath", "PathPoint", "SumRule", "linear_interpolation_point",
           "adaptive_sum_rule", "fixed_sum_rule", "linear_replica_fixed_point"]

_LOG_2PIE = math.log(2.0 * math.pi * math.e)


@dataclass(frozen=True)
class GaussianPath:
    """A two-layer linear network with Gaussian input, for the interpolation.

    ``W1`` (n_1, n_0), ``W2`` (n_2, n_1), input variance ``var``, hidden noise ``delta1`` >= 0,
    output noise ``delta2`` > 0. ``rho`` is the second moment of S = W_2 T_1 used by the
    interpolation (default: its exact finite-n value tr(W_2 C W_2^T)/n_2).
    """

    W1: np.ndarray
    W2: np.ndarray
    var: float = 1.0
    delta1: float = 0.0
    delta2: float = 0.1
    rho: float | None = None

    def __post_init__(self) -> None:
        W1 = np.asarray(self.W1, dtype=float)
        W2 = np.asarray(self.W2, dtype=float)
        if W1.ndim != 2 or W2.ndim != 2 or W2.shape[1] != W1.shape[0]:
            raise ValueError("W1 must be (n1, n0) and W2 (n2, n1)")
        if self.var <= 0 or self.delta1 < 0 or self.delta2 <= 0:
            raise ValueError("need var > 0, delta1 >= 0, delta2 > 0")
        object.__setattr__(self, "W1", W1)
        object.__setattr__(self, "W2", W2)
        C = self.var * (W1 @ W1.T)
        C[np.diag_indices_from(C)] += self.delta1
        object.__setattr__(self, "_C", 0.5 * (C + C.T))
        if self.rho is None:
            object.__setattr__(self, "rho", float(np.trace(W2 @ C @ W2.T)) / W2.shape[0])

    @property
    def n0(self) -> int:
        return self.W1.shape[1]

    @property
    def n1(self) -> int:
        return self.W1.shape[0]

    @property
    def n2(self) -> int:
        return self.W2.shape[0]

    @property
    def cov_t1(self) -> np.ndarray:
        return self._C  # type: ignore[attr-defined]


@dataclass(frozen=True)
class PathPoint:
    """Exact quantities at one time t (per n_0 for h and dh)."""

    t: float
    h: float        #: h_n(t) = H(Y_t, Y'_t | V) / n_0
    dh: float       #: h_n'(t), exact (Jacobi)
    e: float        #: MMSE of T_1 per component (rho - overlap)
    b: float        #: MMSE of S = W_2 T_1 per component
    g: float        #: output-channel quantity g(t)
    sigma2: float   #: sigma_t^2 = delta2 + rho t - R_2
    remainder: float     #: R_n(t) = dh - alpha~_1/2 R_1' (rho - R_2')
    product_term: float  #: 1/2 (q - R_2') (alpha~_2 g - alpha~_1 R_1')
    fluctuation_term: float  #: alpha~_2/2 (e g - b / sigma^2)


def linear_interpolation_point(path: GaussianPath, t: float, R1: float, R2: float,
                               dR1: float, dR2: float) -> PathPoint:
    """h_n(t), its exact derivative and the remainder decomposition at time t.

    ``R1, R2`` are R_1(t), R_2(t); ``dR1, dR2`` their derivatives. Requires
    sigma_t^2 = delta2 + rho t - R2 > 0 and R1 >= 0.
    """
    if not 0.0 <= t <= 1.0:
        raise ValueError("t must lie in [0, 1]")
    if R1 < 0:
        raise ValueError("R1 must be >= 0")
    rho = float(path.rho)
    s2 = path.delta2 + rho * t - R2
    if s2 <= 0:
        raise ValueError(f"sigma_t^2 = delta2 + rho t - R2 = {s2} must be > 0")
    n0, n1, n2 = path.n0, path.n1, path.n2
    C, W2 = path.cov_t1, path.W2
    M = np.vstack([math.sqrt(1.0 - t) * W2, math.sqrt(R1) * np.eye(n1)])
    MC = M @ C
    S = MC @ M.T
    S[:n2, :n2][np.diag_indices(n2)] += s2
    S[n2:, n2:][np.diag_indices(n1)] += 1.0
    S = 0.5 * (S + S.T)
    cf = cho_factor(S, lower=True, check_finite=False)
    logdet = 2.0 * float(np.sum(np.log(np.diag(cf[0]))))
    h = 0.5 * ((n1 + n2) * _LOG_2PIE + logdet) / n0
    E = C - MC.T @ cho_solve(cf, MC, check_finite=False)  # posterior covariance of T_1
    e = float(np.trace(E)) / n1
    b = float(np.sum((W2 @ E) * W2)) / n2
    a1, a2 = n1 / n0, n2 / n0
    g = (1.0 - (1.0 - t) * b / s2) / s2
    dh = 0.5 * a2 * ((rho - dR2) * g - b / s2) + 0.5 * a1 * dR1 * e
    remainder = dh - 0.5 * a1 * dR1 * (rho - dR2)
    q = rho - e
    product = 0.5 * (q - dR2) * (a2 * g - a1 * dR1)
    fluct = 0.5 * a2 * (e * g - b / s2)
    return PathPoint(t=t, h=h, dh=dh, e=e, b=b, g=g, sigma2=s2, remainder=remainder,
                     product_term=product, fluctuation_term=fluct)


@dataclass(frozen=True)
class SumRule:
    """A whole interpolation path on a grid of times (trapezoid rule for the integrals)."""

    t: np.ndarray
    R1: np.ndarray
    R2: np.ndarray
    dR1: np.ndarray
    dR2: np.ndarray
    points: list[PathPoint]
    #: (alpha~_1/2) int_0^1 R_1'(t) (rho - R_2'(t)) dt (trapezoid rule)
    bilinear: float

    def _col(self, name: str) -> np.ndarray:
        return np.array([getattr(p, name) for p in self.points])

    @property
    def h(self) -> np.ndarray:
        return self._col("h")

    @property
    def dh(self) -> np.ndarray:
        return self._col("dh")

    @property
    def remainder(self) -> np.ndarray:
        return self._col("remainder")

    @property
    def h0(self) -> float:
        """h_n(0): the true model."""
        return self.points[0].h

    @property
    def h1(self) -> float:
        """h_n(1): the decoupled model."""
        return self.points[-1].h


    @property
    def integrated_remainder(self) -> float:
        return float(np.trapezoid(self.remainder, self.t))

    @property
    def integrated_derivative(self) -> float:
        return float(np.trapezoid(self.dh, self.t))


def _finish(path: GaussianPath, t, R1, R2, dR1, dR2, points) -> SumRule:
    a1 = path.n1 / path.n0
    bil = 0.5 * a1 * float(np.trapezoid(np.asarray(dR1) * (path.rho - np.asarray(dR2)), t))
    return SumRule(t=np.asarray(t), R1=np.asarray(R1), R2=np.asarray(R2),
                   dR1=np.asarray(dR1), dR2=np.asarray(dR2), points=points, bilinear=bil)


def fixed_sum_rule(path: GaussianPath, dR1: Callable[[float], float] | float,
                   dR2: Callable[[float], float] | float, n_steps: int = 64) -> SumRule:
    """The path with prescribed R_1'(t), R_2'(t) (constants or functions of t)."""
    f1 = dR1 if callable(dR1) else (lambda s, c=float(dR1): c)
    f2 = dR2 if callable(dR2) else (lambda s, c=float(dR2): c)
    t = np.linspace(0.0, 1.0, n_steps + 1)
    d1 = np.array([f1(s) for s in t])
    d2 = np.array([f2(s) for s in t])
    R1 = np.concatenate([[0.0], np.cumsum(0.5 * (d1[1:] + d1[:-1]) * np.diff(t))])
    R2 = np.concatenate([[0.0], np.cumsum(0.5 * (d2[1:] + d2[:-1]) * np.diff(t))])
    pts = [linear_interpolation_point(path, s, r1, r2, a, b)
           for s, r1, r2, a, b in zip(t, R1, R2, d1, d2, strict=True)]
    return _finish(path, t, R1, R2, d1, d2, pts)


def adaptive_sum_rule(path: GaussianPath, dR1: Callable[[float], float] | float,
                      n_steps: int = 64) -> SumRule:
    """The adaptive path: R_2'(t) = q_n(t) = rho - e_n(t; R_1, R_2), the current overlap.

    R_1' is prescribed (a constant, e.g. the replica fixed point r_2, or a function of t).
    The ODE is integrated with Heun's method (second order) on a uniform grid; at each grid
    point R_2' is set *exactly* to the overlap of the current model, so the product term of
    the remainder vanishes identically and only the fluctuation term is left.
    """
    f1 = dR1 if callable(dR1) else (lambda s, c=float(dR1): c)
    t = np.linspace(0.0, 1.0, n_steps + 1)
    dt = 1.0 / n_steps
    rho = float(path.rho)
    R1s, R2s, d1s, d2s, pts = [], [], [], [], []
    R1 = R2 = 0.0

    def overlap(s, r1, r2):
        return rho - linear_interpolation_point(path, s, r1, r2, f1(s), 0.0).e

    for i, s in enumerate(t):
        q = overlap(s, R1, R2)
        pts.append(linear_interpolation_point(path, s, R1, R2, f1(s), q))
        R1s.append(R1)
        R2s.append(R2)
        d1s.append(f1(s))
        d2s.append(q)
        if i == n_steps:
            break
        # Heun step
        r1p = R1 + dt * 0.5 * (f1(s) + f1(s + dt))
        q_pred = overlap(s + dt, r1p, R2 + dt * q)
        R1, R2 = r1p, R2 + 0.5 * dt * (q + q_pred)
    return _finish(path, t, R1s, R2s, d1s, d2s, pts)


def linear_replica_fixed_point(alpha1: float, alpha2: float, var: float = 1.0,
                               delta2: float = 0.1, tol: float = 1e-14,
                               max_iter: int = 100_000) -> dict[str, float]:
    """Replica fixed point of the Gaussian-weights potential (digest 4.1) for the two-layer
    linear network X ~ N(0, var I) -> T_1 = W_1 X (noiseless) -> T_2 = W_2 T_1 + noise.

    Returns r1 = A~_1, V1, r2 = A~_2 (the SNR of the side channel on T_1 at t = 1), V2 =
    rho_2 - q_2 (MMSE of T_1), q2, rho2 and the entropy H(T_2)/n_0 (the potential).
    """
    rho2 = var  # Marchenko-Pastur: rho~_1 = rho_1 = var, T_1 linear noiseless
    V1, r2 = var, 0.0
    for _ in range(max_iter):
        V2 = 1.0 / (r2 + 1.0 / V1) if V1 > 0 else 0.0
        r2_new = alpha2 / (delta2 + V2)
        r1 = alpha1 / (V1 + 1.0 / r2_new)
        V1_new = 1.0 / (r1 + 1.0 / var)
        done = abs(V1_new - V1) + abs(r2_new - r2) < tol
        V1, r2 = V1_new, r2_new
        if done:
            break
    V2 = 1.0 / (r2 + 1.0 / V1)
    a1, a2 = alpha1, alpha1 * alpha2
    # phi^Gauss_2: I(t0; r1) - r1 V1/2 - a1 r2 V2/2 + a1 I(t1; r2 | xi1) + a2 H(out; V2)
    i_prior = 0.5 * math.log1p(r1 * var)
    i_hidden = 0.5 * math.log1p(r2 * V1)  # t1 = z, z | xi ~ N(., V1): AWGN at SNR r2
    h_out = 0.5 * math.log(2 * math.pi * math.e * (delta2 + V2))
    entropy = i_prior - 0.5 * r1 * V1 - 0.5 * a1 * r2 * V2 + a1 * i_hidden + a2 * h_out
    return {"r1": r1, "V1": V1, "r2": r2, "V2": V2, "q2": rho2 - V2, "rho2": rho2,
            "entropy": entropy}
