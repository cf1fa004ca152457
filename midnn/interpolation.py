r"""Adaptive interpolation for the two-layer network (Theorem 1), exact in the Gaussian-linear case.

The proof of Theorem 1 of the paper interpolates between the true two-layer model
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

:class:`BinaryPath` / :func:`binary_interpolation_point` build the same interpolating
observations for a +-1 input and a nonlinear noiseless hidden layer T_1 = f(W_1 X) (e.g. tanh,
inside Theorem 1's hypotheses) with a linear noisy output. Given X = x all observations are
Gaussian, so their law is an exact mixture over the 2^{n_0} inputs: h_n(t), e and b are Monte
Carlo averages of exact log-densities and posterior variances (small n_0 only). The derivative
formula above only uses the I-MMSE relation of the two Gaussian channels, so it holds there too;
:func:`adaptive_sum_rule` and :func:`fixed_sum_rule` accept either kind of path.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.linalg import cho_factor, cho_solve

from .montecarlo import control_variate_mean

__all__ = ["GaussianPath", "BinaryPath", "PathPoint", "BinaryPathPoint", "SumRule",
           "linear_interpolation_point", "binary_interpolation_point", "interpolation_point",
           "adaptive_sum_rule", "fixed_sum_rule", "linear_replica_fixed_point"]

_LOG_2PIE = math.log(2.0 * math.pi * math.e)


class _TwoLayerWidths:
    """n0, n1, n2 of a two-layer network given by ``W1`` (n1 x n0) and ``W2`` (n2 x n1)."""

    W1: np.ndarray
    W2: np.ndarray

    @property
    def n0(self) -> int:
        return self.W1.shape[1]

    @property
    def n1(self) -> int:
        return self.W1.shape[0]

    @property
    def n2(self) -> int:
        return self.W2.shape[0]


@dataclass(frozen=True)
class GaussianPath(_TwoLayerWidths):
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


def _path_variance(path, t: float, R1: float, R2: float) -> tuple[float, float]:
    """Check (t, R1, R2) and return (rho, sigma_t^2 = delta2 + rho t - R2 > 0)."""
    if not 0.0 <= t <= 1.0:
        raise ValueError(f"t must lie in [0, 1], got {t!r}")
    if R1 < 0:
        raise ValueError(f"R1 must be >= 0, got {R1!r}")
    rho = float(path.rho)
    s2 = path.delta2 + rho * t - R2
    if s2 <= 0:
        raise ValueError(f"sigma_t^2 = delta2 + rho t - R2 = {s2} must be > 0")
    return rho, s2


def _path_terms(path, t: float, s2: float, e: float, b: float, dR1: float,
                dR2: float) -> dict[str, float]:
    """The derivative dh = h_n'(t) and the terms of the sum rule at one time t from the two
    MMSEs e (of T_1) and b (of S = W_2 T_1): g(t), the remainder R_n(t), the product term
    and the fluctuation term (fields of :class:`PathPoint`)."""
    rho = float(path.rho)
    a1, a2 = path.n1 / path.n0, path.n2 / path.n0
    g = (1.0 - (1.0 - t) * b / s2) / s2
    dh = 0.5 * a2 * ((rho - dR2) * g - b / s2) + 0.5 * a1 * dR1 * e
    return dict(dh=dh, e=e, b=b, g=g, sigma2=s2,
                remainder=dh - 0.5 * a1 * dR1 * (rho - dR2),
                product_term=0.5 * (rho - e - dR2) * (a2 * g - a1 * dR1),
                fluctuation_term=0.5 * a2 * (e * g - b / s2))


def linear_interpolation_point(path: GaussianPath, t: float, R1: float, R2: float,
                               dR1: float, dR2: float) -> PathPoint:
    """h_n(t), its exact derivative and the remainder decomposition at time t.

    ``R1, R2`` are R_1(t), R_2(t); ``dR1, dR2`` their derivatives. Requires
    sigma_t^2 = delta2 + rho t - R2 > 0 and R1 >= 0.
    """
    rho, s2 = _path_variance(path, t, R1, R2)
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
    return PathPoint(t=t, h=h, **_path_terms(path, t, s2, e, b, dR1, dR2))


# --------------------------------------------------------------------------------------------
# The same path for a +-1 input and a nonlinear (deterministic) hidden layer, by enumeration
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BinaryPath(_TwoLayerWidths):
    r"""A two-layer network with +-1 input, deterministic hidden layer and linear noisy output.

    X in {-1, +1}^{n_0} with P(x_i = +1) = ``p_plus``, T_1 = f(W_1 X) (``hidden`` is any
    :class:`midnn.activations.Activation`, its noise must be 0), T_2 = W_2 T_1 + sqrt(Delta_2) Z.
    The interpolating observations are those of the module docstring. Given X = x, T_1 is
    deterministic, so (Y_t, Y'_t) | x is Gaussian with independent components and the law of
    the observations is an exact mixture over the 2^{n_0} inputs (enumerated once here).
    ``rho`` defaults to the exact finite-n second moment E ||W_2 T_1||^2 / n_2.

    Every time t is estimated by Monte Carlo with ``n_samples`` draws of (X, Z, Z') from the
    generator seeded by ``seed``; the same draws are used at every t (common random numbers),
    so h_n(t) and the posterior MMSEs are smooth functions of (t, R_1, R_2) and differences
    along a path are much more precise than each value. Cost per time: n_samples x 2^{n_0} x
    (n_1 + n_2) multiply-adds and as many exponentials (n_0 <= 16 is quick).
    """

    W1: np.ndarray
    W2: np.ndarray
    hidden: object
    delta2: float = 0.1
    p_plus: float = 0.5
    rho: float | None = None
    n_samples: int = 400
    seed: int = 0

    def __post_init__(self) -> None:
        W1 = np.asarray(self.W1, dtype=float)
        W2 = np.asarray(self.W2, dtype=float)
        if W1.ndim != 2 or W2.ndim != 2 or W2.shape[1] != W1.shape[0]:
            raise ValueError("W1 must be (n1, n0) and W2 (n2, n1)")
        if W1.shape[1] > 20:
            raise ValueError(f"n0 = {W1.shape[1]} is too large to enumerate (<= 20)")
        if self.delta2 <= 0 or not 0.0 < self.p_plus < 1.0:
            raise ValueError("need delta2 > 0 and 0 < p_plus < 1")
        if getattr(self.hidden, "noise", 0.0) != 0.0:
            raise ValueError("the hidden activation must be noiseless")
        if int(self.n_samples) < 2:
            raise ValueError("n_samples must be >= 2")
        n0 = W1.shape[1]
        idx = np.arange(2**n0)
        x = np.where((idx[:, None] >> np.arange(n0)) & 1, 1.0, -1.0)
        n_plus = (x > 0).sum(1)
        logP = n_plus * math.log(self.p_plus) + (n0 - n_plus) * math.log1p(-self.p_plus)
        T1 = np.asarray(self.hidden.f(x @ W1.T), dtype=float)
        S = T1 @ W2.T
        P = np.exp(logP)
        for name, val in (("W1", W1), ("W2", W2), ("_x", x), ("_logP", logP), ("_T1", T1),
                          ("_S", S), ("_P", P)):
            object.__setattr__(self, name, val)
        if self.rho is None:
            object.__setattr__(self, "rho", float(P @ (S * S).sum(1)) / W2.shape[0])
        rng = np.random.default_rng(self.seed)
        m = int(self.n_samples)
        object.__setattr__(self, "_draw", rng.choice(2**n0, size=m, p=P / P.sum()))
        object.__setattr__(self, "_z2", rng.standard_normal((m, W2.shape[0])))
        object.__setattr__(self, "_z1", rng.standard_normal((m, W1.shape[0])))


@dataclass(frozen=True)
class BinaryPathPoint(PathPoint):
    """A :class:`PathPoint` estimated by Monte Carlo; ``h_se`` is the standard error of h."""

    h_se: float = 0.0
    mi: float = 0.0  #: I(X; Y_t, Y'_t) / n_0


def binary_interpolation_point(path: BinaryPath, t: float, R1: float, R2: float,
                               dR1: float = 0.0, dR2: float = 0.0,
                               chunk: int = 2**21) -> BinaryPathPoint:
    r"""h_n(t) = H(Y_t, Y'_t | V) / n_0, its derivative and the remainder terms, +-1 input.

    Whitening Y_t by sigma_t, the observation is o = m(X) + N(0, I) with
    m(x) = [sqrt(1-t)/sigma_t W_2 T_1(x); sqrt(R_1) T_1(x)], so

    .. math:: H(Y_t, Y'_t) = I(X; o) + \tfrac{n_2}2\log 2\pi e\sigma_t^2
              + \tfrac{n_1}2\log 2\pi e,

    and I(X; o) = E[log p(o | X) - log p(o)] with the exact log p(o) = logsumexp over the
    2^{n_0} inputs (Monte Carlo over (X, o) only), with the Gaussian channel of the same
    first two moments as control variate, as in :func:`midnn.exact.binary_enumeration`.
    The MMSEs e (of T_1) and b (of S = W_2 T_1) are the Monte Carlo averages of the exact
    posterior variances (weights = posterior over the inputs). The derivative formula of the
    module docstring holds unchanged (it only uses the I-MMSE relation of the two Gaussian
    channels), so ``dh`` is exact up to the Monte Carlo error of e and b.
    """
    rho, s2 = _path_variance(path, t, R1, R2)
    n0, n1, n2 = path.n0, path.n1, path.n2
    T1, S, logP, P = path._T1, path._S, path._logP, path._P  # type: ignore[attr-defined]
    a, c = math.sqrt(1.0 - t) / math.sqrt(s2), math.sqrt(R1)
    M = np.hstack([a * S, c * T1])                # means m(x), (2^n0, n2 + n1)
    half_sq = 0.5 * (M * M).sum(1)
    draw = path._draw  # type: ignore[attr-defined]
    noise = np.hstack([path._z2, path._z1])  # type: ignore[attr-defined]
    o = M[draw] + noise
    m = o.shape[0]
    t1_sq, s_sq = (T1 * T1).sum(1), (S * S).sum(1)
    ratio = np.empty(m)
    e_s, b_s = np.empty(m), np.empty(m)
    step = max(1, chunk // M.shape[0])
    for lo in range(0, m, step):
        sl = slice(lo, lo + step)
        L = o[sl] @ M.T - half_sq + logP      # log p(o | x) + log P(x) + const(o)
        mx = L.max(axis=1)
        w = np.exp(L - mx[:, None])
        zsum = w.sum(axis=1)
        w /= zsum[:, None]                    # posterior over inputs
        lse = mx + np.log(zsum)
        own = L[np.arange(L.shape[0]), draw[sl]] - logP[draw[sl]]
        ratio[sl] = own - lse                 # log p(o | x_s) - log p(o)
        mt, ms = w @ T1, w @ S
        e_s[sl] = w @ t1_sq - (mt * mt).sum(1)
        b_s[sl] = w @ s_sq - (ms * ms).sum(1)
    # Gaussian control variate: same first two moments of m(X)
    mu = P @ M
    D = M - mu
    C = (D * P[:, None]).T @ D
    C[np.diag_indices_from(C)] += 1.0
    cf = cho_factor(0.5 * (C + C.T), lower=True, check_finite=False)
    logdet = 2.0 * float(np.sum(np.log(np.diag(cf[0]))))
    r = o - mu
    log_marg = -0.5 * np.sum(r * cho_solve(cf, r.T, check_finite=False).T, axis=1) - 0.5 * logdet
    control = -0.5 * (noise * noise).sum(1) - log_marg
    mi, se = control_variate_mean(ratio, control, 0.5 * logdet)
    h = (mi + 0.5 * n2 * math.log(2 * math.pi * math.e * s2) + 0.5 * n1 * _LOG_2PIE) / n0
    e = float(np.mean(e_s)) / n1
    b = float(np.mean(b_s)) / n2
    return BinaryPathPoint(t=t, h=h, **_path_terms(path, t, s2, e, b, dR1, dR2),
                           h_se=se / n0, mi=mi / n0)


def interpolation_point(path: GaussianPath | BinaryPath, t: float, R1: float, R2: float,
                        dR1: float, dR2: float) -> PathPoint:
    """:func:`linear_interpolation_point` or :func:`binary_interpolation_point`, by path type."""
    if isinstance(path, BinaryPath):
        return binary_interpolation_point(path, t, R1, R2, dR1, dR2)
    return linear_interpolation_point(path, t, R1, R2, dR1, dR2)


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


def _finish(path: GaussianPath | BinaryPath, t, R1, R2, dR1, dR2, points) -> SumRule:
    a1 = path.n1 / path.n0
    bil = 0.5 * a1 * float(np.trapezoid(np.asarray(dR1) * (path.rho - np.asarray(dR2)), t))
    return SumRule(t=np.asarray(t), R1=np.asarray(R1), R2=np.asarray(R2),
                   dR1=np.asarray(dR1), dR2=np.asarray(dR2), points=points, bilinear=bil)


def fixed_sum_rule(path: GaussianPath | BinaryPath, dR1: Callable[[float], float] | float,
                   dR2: Callable[[float], float] | float, n_steps: int = 64) -> SumRule:
    """The path with prescribed R_1'(t), R_2'(t) (constants or functions of t)."""
    f1 = dR1 if callable(dR1) else (lambda s, c=float(dR1): c)
    f2 = dR2 if callable(dR2) else (lambda s, c=float(dR2): c)
    t = np.linspace(0.0, 1.0, n_steps + 1)
    d1 = np.array([f1(s) for s in t])
    d2 = np.array([f2(s) for s in t])
    R1 = np.concatenate([[0.0], np.cumsum(0.5 * (d1[1:] + d1[:-1]) * np.diff(t))])
    R2 = np.concatenate([[0.0], np.cumsum(0.5 * (d2[1:] + d2[:-1]) * np.diff(t))])
    pts = [interpolation_point(path, s, r1, r2, a, b)
           for s, r1, r2, a, b in zip(t, R1, R2, d1, d2, strict=True)]
    return _finish(path, t, R1, R2, d1, d2, pts)


def adaptive_sum_rule(path: GaussianPath | BinaryPath, dR1: Callable[[float], float] | float,
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
        return rho - interpolation_point(path, s, r1, r2, f1(s), 0.0).e

    for i, s in enumerate(t):
        q = overlap(s, R1, R2)
        pts.append(interpolation_point(path, s, R1, R2, f1(s), q))
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
    """Replica fixed point of the Gaussian-weights potential (``docs/derivations.md``) for the
    two-layer linear network X ~ N(0, var I) -> T_1 = W_1 X (noiseless) -> T_2 = W_2 T_1 + noise.

    Returns r1 = A~_1, V1, r2 = A~_2 (the SNR of the side channel on T_1 at t = 1), V2 =
    rho_2 - q_2 (MMSE of T_1), q2, rho2 and the entropy H(T_2)/n_0 (the potential).
    """
    rho2 = var  # Marchenko-Pastur: ρ̃_1 = rho_1 = var, T_1 linear noiseless
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
