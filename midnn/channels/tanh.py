"""The scalar channel of t = tanh(z + ξ) (smooth, bounded: Theorem 1's hypothesis H2).

* **Output.** t = tanh(u) with u | ω ~ N(ω, v) is a change of variables of a Gaussian, so
  H(t | ω) = ½ log(2πe v) + E_{u ~ N(0, m + v)} log(1 - tanh² u), the offset from
  :func:`midnn.gaussian.expected_log_cosh`; A = 1/v (the offset does not depend on Ṽ at
  fixed ρ̃).
* **Hidden** (:func:`tanh_hidden`). The scalar problem is

      ω ~ N(0, m),   u = ω + sqrt(v) g,   t = tanh(u),   y = t + ξ'/sqrt(A),

  with g, ξ' ~ N(0, 1). Write φ_v for the N(0, v) density, G(y, t) = exp(-A/2 (y - t)²)
  and, for one ω, q(y | ω) = ∫ φ_v(u - ω) G(y, tanh u) du, p(y | ω) = sqrt(A/2π) q. The
  three returned numbers are averages over ω of

      I(ω) = -∫ p log q dy - 1/2                          (= I(t; y | ω)),
      A(ω) = ∫ p g² dy,    g = E[u - ω | y, ω] / v         (= ∂_ω log p),
      V(ω) = ∫ p Var(t | y, ω) dy.

  When A Var(t|ω) <= 1, I(ω) is evaluated about c = E[t|ω] as
  A/2 Var(t|ω) - ∫ p log(q e^{A/2 (y - c)²}) dy, whose integrand is O(A²): the plain form
  would lose a small I to the rounding of a number close to 1/2. As v grows the channel
  tends to the symmetric ±1 channel observed at precision A (I does not vanish: it tends to
  the information of that binary channel), and A → 0.

Method
------
The channel is even in ω, so the average runs over ω >= 0 (:func:`_omega_rule`:
Gauss-Hermite when the Gaussian of ω is narrow against the scale on which the channel
changes with ω, composite Gauss-Legendre otherwise). Two regimes, by the width sqrt(v) of
u given ω:

* **narrow prior** (sqrt(v) <= 0.1), :func:`_narrow`: given ω, y is nearly the image of a
  Gaussian by the smooth map u -> tanh u, plus noise. The y-integral is a Gauss-Hermite rule
  along the map y = tanh(ω + sqrt(v) c1 x) + c2 x / sqrt(A), the direction of largest
  spread of y in the plane of (g, ξ') ((c1, c2) = (b, 1)/sqrt(1 + b²), b = sqrt(A v)
  sech² ω the local sharpness), weighted by p(y) Y'(x)/φ(x); the u-integral is
  Gauss-Hermite about the posterior mode of u scaled by the posterior's curvature. Both
  integrands are nearly Gaussian, as the posterior of u is narrower than the scale on which
  tanh bends. All differences are taken in offsets from the generating point, so A up to
  1e300 is resolved.
* **broad prior** (sqrt(v) > 0.1), :func:`_broad`: the posterior of u can be bimodal or have
  a long saturated shoulder, and p(y | ω) has two near-atoms at y = ±1 (width 1/sqrt(A))
  beside a continuum that is log-uniform in 1 - |t|; no single Laplace-type rule is accurate.
  The integrals are written in the distance to the nearest atom in noise units,
  x = sqrt(A)(1 ∓ t), n = sqrt(A)(y ∓ 1), in which G = exp(-(n + x)²/2) is a Gaussian:

  - tails |u| > U (x < 0.02): e^{-(n+x)²/2} = Σ_k e^{-n²/2} (-1)^k He_k(n) x^k/k! converges
    fast, so their part of every integral is a matrix product of per-ω moments
    E[x^k; u > U] with per-y coefficients (:func:`_tail_moments`);
  - near-atom u: one composite rule in log x, then in x, resolving G, the log-uniform
    continuum and the prior (:func:`_near_atom_u`);
  - near-atom y: one composite rule in log|n| and n (:func:`_near_atom_y`); both rules are
    shared by every ω, so all the u-integrals of these y are matrix products
    (:func:`_right_atom`; the left atom is its mirror image at -ω);
  - interior y (1 - |y| >= κ/sqrt(A), only when sqrt(A) > 2κ): the observation resolves t,
    so q = sqrt(2π/A) E_s[p_t(y + s/sqrt(A))], Gauss-Hermite in s, against the prior density
    p_t of t, smooth on that scale there (:func:`_interior`).

  When sqrt(A) <= 2κ there is no interior zone: the near-atom zones of the two atoms meet at
  y = 0 and the shared u-rule covers both half-axes.

Accuracy: against nested adaptive quadrature on 30 points spanning A in [1e-6, 1e8],
m in [0, 50], v in [1e-10, 1e6] (``tests/data/tanh_references.json`` and its recipe),
|ΔI| < 2e-11 and A, V within 4e-9 relative; doubling every order moves I by < 3e-10 and
A, V by < 7e-9 relative on 1000 random points of that domain. Every Gauss-Legendre and
Gauss-Hermite order is multiplied by the ``order`` of the precision in force; with
``screening`` the orders are multiplied by 0.6 (at least 8), relative accuracy ~1e-6.
Cost: ~0.5 ms per evaluation (median), a few ms in the hardest corner (sqrt(v) ~ 0.1-0.3,
m >> v, large A).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy.special import ndtr

from ..gaussian import expected_log_cosh
from ..precision import current
from ..quadrature import hermite, legendre
from .base import HiddenValues, ScalarChannel

__all__ = ["TanhChannel", "tanh_hidden"]


@lru_cache(maxsize=4096)
def _tanh_entropy_offset(var_u: float, order: int) -> float:
    """E_{u ~ N(0, var_u)} log(1 - tanh(u)^2) = -2 E log cosh u: H(tanh U) - H(U) for a
    Gaussian U (``order``: the precision's, part of the cache key)."""
    return float(-2.0 * expected_log_cosh(0.0, math.sqrt(var_u)))


class TanhChannel(ScalarChannel):
    """The scalar channel of :class:`midnn.activations.Tanh`."""

    def _output(self, m: float, v: float) -> tuple[float, float]:
        offset = _tanh_entropy_offset(m + v, current().order)
        h = 0.5 * np.log(2 * np.pi * np.e * v) + offset
        return float(h), 1.0 / v

    def _hidden(self, A_tilde: float, m: float, v: float) -> HiddenValues:
        return HiddenValues(*tanh_hidden(A_tilde, m, v))

    def _conditional_variance(self, m: float, v: float) -> float:
        return tanh_hidden(0.0, m, v)[2]

_SQRT_2PI = math.sqrt(2.0 * math.pi)
#: Precisions above this are a noiseless observation of t (I infinite, A = 1/v, V = 0).
_A_INF = 1e300
#: Negative I down to this is rounding (set to 0); below, an error.
_NEGATIVE_ROUNDING = 1e-13
#: sqrt(v) up to which the narrow-prior rules are used.
_NARROW = 0.1
#: Orders of the narrow-prior rules (y along the map, u about the posterior mode) and the
#: Newton steps for the posterior mode.
_NY, _NU, _NEWTON = 20, 16, 8
#: Broad-prior rules. Tails: x = sqrt(A)(1 - |t|) < _XU, series of _K + 1 terms. Near-atom
#: zones: |n| <= _KAPPA (the interior zone beyond, when sqrt(A) > 2 _KAPPA); G reaches
#: _REACH noise units from its centre (e^{-_REACH^2/2} ~ 2e-22).
_XU, _K, _KAPPA, _REACH = 0.02, 10, 10.0, 10.0
#: Gauss-Legendre nodes per panel of the broad-prior rules.
_NPAN = 10
#: Panel widths in log x and x (near-atom u), in n and log|n| (near-atom y, in log|n| below
#: n = -_N_SWITCH); no panel wider than _CV times the prior's width where it is resolved.
_H_LOGX, _H_X, _H_N, _H_LOGN, _CV, _N_SWITCH = 1.5, 4.0, 1.25, 1.5, 2.5, 8.0
#: Near-atom y beyond a sharp atom: panels of width _H_N_OUTER on [_N_OUTER, _REACH_Y]
#: (the density there is below e^{-n^2/2}; e^{-_REACH_Y^2/2} ~ 3e-18).
_N_OUTER, _H_N_OUTER, _REACH_Y = 3.0, 2.5, 9.0
#: Interior y: panels of width _H_ZETA in zeta = asinh(atanh(y) / _ETA_SCALE); Gauss-Hermite
#: order of the u-integral (in s = sqrt(A)(t - y)).
_H_ZETA, _ETA_SCALE = 0.5, 2.0
_NS = 10
#: Screening rules: every order times _SCREEN (at least _SCREEN_MIN).
_SCREEN, _SCREEN_MIN = 0.6, 8
#: omega-rule: nodes per panel, panel width in units of the scale s_F of the integrand
#: (narrow, broad prior), s_F of a narrow prior.
_NW, _W_NARROW, _W_BROAD, _S_OMEGA = 12, 2.5, 3.0, 0.75
#: The omega-rule leaves out where the Gaussian weight times the channel is < e^{-40}.
_OMEGA_TAIL = 40.0
#: omega-rule for a Gaussian narrower than s_F / _GH_RATIO_*: Gauss-Hermite nodes >= 0
#: (the sech^4 structure of a narrow prior's channel needs the Gaussian twice narrower).
_NGH, _GH_RATIO_NARROW, _GH_RATIO_BROAD = 14, 2.0, 1.25
#: Prior moments of t: Gauss-Hermite (of this order) up to this sqrt(v), else a window rule.
_HERMITE_PRIOR, _PRIOR_ORDER = 0.3, 40


def tanh_hidden(A: float, m: float, v: float) -> tuple[float, float, float]:
    """I(t; y | omega), A-update and V-update of the hidden tanh channel.

    Parameters
    ----------
    A : float
        Precision of the observation y = t + xi'/sqrt(A), A >= 0 (A >= 1e300 or inf is a
        noiseless observation).
    m : float
        Variance of the known part omega of the pre-activation, m >= 0.
    v : float
        Variance of u given omega (unknown part plus layer noise), v > 0.

    Returns
    -------
    (I, A_upd, V_upd) : tuple of float
        I = I(t; y | omega) in nats, A_upd = E[g_out^2], V_upd = E Var(t | y, omega).
    """
    A, m, v = float(A), float(m), float(v)
    if not (A >= 0 and m >= 0 and v > 0) or math.isnan(A + m + v) or math.isinf(m + v):
        raise ValueError(f"need A >= 0, m >= 0, v > 0 finite; got A={A}, m={m}, v={v}")
    omega, w_omega = _omega_rule(A, m, v)
    if A == 0:
        return 0.0, 0.0, float(np.dot(w_omega, _prior_moments(omega, v)[1]))
    if A >= _A_INF:
        return math.inf, 1.0 / v, 0.0
    with np.errstate(under="ignore"), _blas_pools().limit(limits=1, user_api="blas"):
        if math.sqrt(v) <= _NARROW:
            mi, a_upd, v_upd = _narrow(omega, A, v)
        else:
            mi, a_upd, v_upd = _broad(omega, A, v)
    mi_total = float(np.dot(w_omega, mi))
    if mi_total < 0.0:
        # rounding of a vanishing I (A or the spread of t tiny) is ~1e-16; more is a bug
        if mi_total < -_NEGATIVE_ROUNDING:
            raise ArithmeticError(f"tanh_hidden: I = {mi_total:.3e} < 0 at A={A}, m={m}, v={v}")
        mi_total = 0.0
    return mi_total, float(np.dot(w_omega, a_upd)), float(np.dot(w_omega, v_upd))


@lru_cache(maxsize=1)
def _blas_pools():
    """The process's BLAS thread pools (threadpoolctl), limited to one thread for the
    duration of a call: the matrix products here are ~50 x 500, too small for threads,
    whose start-up then dominates (11-20 ms per call on a loaded 2-core machine with two
    OpenBLAS threads, 0.6 ms with one); one thread also makes the values independent of
    the thread count. The limit is process-wide while it lasts."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


# --------------------------------------------------------------------------- rules
def _orders(*orders: int) -> tuple[int, ...]:
    """The orders of the rules at the current precision: while screening, _SCREEN times
    the full ones (at least _SCREEN_MIN). (midnn.quadrature multiplies them by the
    precision's ``order``.)"""
    if current().screening:
        return tuple(max(_SCREEN_MIN, math.ceil(_SCREEN * n)) for n in orders)
    return orders


def _panels(edges, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Composite Gauss-Legendre rule (n nodes times the precision's order per panel) on the
    panels between consecutive ``edges`` (1-D, increasing)."""
    x, w = legendre(n)
    e = np.asarray(edges, dtype=float)
    half = 0.5 * np.diff(e)
    mid = 0.5 * (e[1:] + e[:-1])
    return (mid[:, None] + half[:, None] * x).ravel(), (half[:, None] * w).ravel()


def _split(a: float, b: float, h: float) -> np.ndarray:
    """Edges of equal panels of width <= h covering [a, b]."""
    k = max(1, math.ceil((b - a) / h))
    return np.linspace(a, b, k + 1)


def _omega_rule(A: float, m: float, v: float) -> tuple[np.ndarray, np.ndarray]:
    """Nodes omega_i >= 0 and weights with sum w_i F(omega_i) ~= E_{omega~N(0,m)} F(omega)
    for an even F (the per-omega channel).

    F is analytic in a strip about the real axis of half-width s_F: ~ sqrt(v) for a broad
    prior (F depends on omega through phi_v(u - omega)), ~ pi/4 for a narrow one (the
    singularities of log(1 + A v sech^4 omega), where the observation stops resolving t).
    If the Gaussian of omega is narrower than that (sqrt(m) <= s_F / _GH_RATIO_*), the
    nonnegative nodes of a symmetric Gauss-Hermite rule (the weights of the others folded
    onto them); otherwise composite Gauss-Legendre with the weight 2 phi_m folded in, panels
    of width _W_NARROW s_F or _W_BROAD s_F on [0, omega_max]. Beyond an onset (where u given
    omega starts to saturate) the channel decays like e^{-4 omega} (I, and A_upd and V_upd
    relative to their scales, are bounded by A v sech^4 omega for a narrow prior and by
    x^2 = 4 A e^{-4u} at u = omega - 9.5 sqrt(v) for a broad one); omega_max is where the
    Gaussian weight times that bound falls below e^{-_OMEGA_TAIL}.
    """
    if m == 0:
        return np.zeros(1), np.ones(1)
    sm, sv = math.sqrt(m), math.sqrt(v)
    if sv <= _NARROW:
        s_f, gh_ratio, width = _S_OMEGA, _GH_RATIO_NARROW, _W_NARROW
        # the channel at omega is below A v sech^4(omega) ~ 16 A v e^{-4 omega}
        onset = 0.25 * math.log(16.0 * max(A * v, 1.0))
    else:
        s_f, gh_ratio, width = max(sv, _S_OMEGA), _GH_RATIO_BROAD, _W_BROAD
        # ... below 4 A e^{-4 (omega - 9.5 sqrt(v))} (x^2 at the lower edge of u given omega)
        onset = 0.25 * math.log(4.0 * max(A, 1.0)) + 9.5 * sv
    if sm * gh_ratio <= s_f:
        (n,) = _orders(_NGH)
        z, w = hermite(2 * n)
        keep = z >= 0
        return sm * z[keep], np.where(z[keep] > 0, 2.0, 1.0) * w[keep]
    # omega_max: the Gaussian weight times that bound is below e^{-_OMEGA_TAIL}
    # (e^{-x^2/2m} alone, or with the decay e^{-4(omega - onset)} beyond the onset)
    gauss = math.sqrt(2.0 * _OMEGA_TAIL * m)
    mixed = max(onset, m * (math.sqrt(16.0 + 2.0 * (_OMEGA_TAIL + 4.0 * onset) / m) - 4.0))
    top = min(gauss, mixed, onset + _OMEGA_TAIL / 4.0)
    (nw,) = _orders(_NW)
    omega, w = _panels(_split(0.0, top, width * s_f), nw)
    return omega, 2.0 * w * np.exp(-0.5 * omega * omega / m) / (_SQRT_2PI * sm)


# ------------------------------------------------------------------ prior moments
def _prior_moments(omega: np.ndarray, v: float) -> tuple[np.ndarray, np.ndarray]:
    """E[t | omega] and Var(t | omega) for each omega.

    For sqrt(v) <= _HERMITE_PRIOR, Gauss-Hermite in z = (u - omega)/sqrt(v): tanh is
    analytic with poles at distance pi/2 from the real axis, far beyond the spread of u.
    Otherwise a composite Gauss-Legendre rule on |u| <= 18 (where 1 - |tanh u| > 4e-16) with
    panel edges at 0, +-1, +-2, +-3, +-4.5, +-6.5, +-9, +-13, +-18 (tanh is flat on a
    scale that grows with |u|), refined so that no panel is wider than 2 _CV sqrt(v), plus the
    Gaussian masses of the plateaus |u| > 18.
    """
    sv = math.sqrt(v)
    if sv <= _HERMITE_PRIOR:
        z, wz = hermite(_PRIOR_ORDER)
        t = np.tanh(omega[:, None] + sv * z)
        mean = t @ wz
        return mean, ((t - mean[:, None]) ** 2) @ wz
    (npan,) = _orders(_NPAN)
    uu, ww = _panels(_refined(_WINDOW_EDGES, 2.0 * _CV * sv), npan)
    w = ww * np.exp(-0.5 * (uu - omega[:, None]) ** 2 / v) / (_SQRT_2PI * sv)
    right, left = ndtr((omega - 18.0) / sv), ndtr((-18.0 - omega) / sv)
    t = np.tanh(uu)
    mean = w @ t + right - left
    var = (np.sum(w * (t - mean[:, None]) ** 2, axis=1) + right * (1 - mean) ** 2
           + left * (1 + mean) ** 2)
    return mean, var


_WINDOW_HALF = (0.0, 1.0, 2.0, 3.0, 4.5, 6.5, 9.0, 13.0, 18.0)
_WINDOW_EDGES = tuple(-e for e in _WINDOW_HALF[:0:-1]) + _WINDOW_HALF


# ------------------------------------------------------------------ narrow prior
def _narrow(omega: np.ndarray, A: float, v: float):
    """Per-omega (I, A, V) for sqrt(v) <= _NARROW (see the module docstring)."""
    sa, sv = math.sqrt(A), math.sqrt(v)
    ny, nu = _orders(_NY, _NU)
    zx, wx = hermite(ny)
    zu, wu = hermite(nu)
    om = omega[:, None]
    dw = 1.0 / np.cosh(om) ** 2
    b = math.sqrt(A * v) * dw
    c1, c2 = b / np.sqrt(1.0 + b * b), 1.0 / np.sqrt(1.0 + b * b)
    # y = tanh(omega + a_gen) + shift. Everything below is written in the offset eps of u
    # from omega + a_gen, so that a posterior far narrower than the spacing of doubles near
    # u (A up to 1e300) is still resolved.
    a_gen = sv * c1 * zx
    shift = c2 * zx / sa
    c_gen = np.cosh(om + a_gen)
    y = np.tanh(om + a_gen) + shift
    dy = sv * c1 / (c_gen * c_gen) + c2 / sa

    def resid(eps, cosh_u, c_gen=c_gen, shift=shift):
        """y - tanh(u) at u = omega + a_gen + eps, without cancellation."""
        return shift - np.sinh(eps) / (c_gen * cosh_u)

    # posterior mode: Newton from the linearised (Gaussian) answer
    eps = (A * dw * shift - a_gen / v) / (1.0 / v + A * dw * dw)
    for _ in range(_NEWTON):
        cu = np.cosh(om + a_gen + eps)
        d = 1.0 / (cu * cu)
        r = resid(eps, cu)
        grad = -(a_gen + eps) / v + A * r * d
        hess = np.maximum(1.0 / v + A * (d * d + 2.0 * r * np.tanh(om + a_gen + eps) * d), 1.0 / v)
        eps = eps + grad / hess
    cu0 = np.cosh(om + a_gen + eps)
    d0 = 1.0 / (cu0 * cu0)
    r0 = resid(eps, cu0)
    curvature = 1.0 / v + A * (d0 * d0 + 2.0 * r0 * np.tanh(om + a_gen + eps) * d0)
    s = 1.0 / np.sqrt(np.maximum(curvature, 1.0 / v))
    delta = s[..., None] * zu                     # nodes: eps + delta
    a0 = (a_gen + eps)[..., None]                 # u - omega at the mode
    cuu = np.cosh(om[..., None] + a0 + delta)
    r = resid(eps[..., None] + delta, cuu, c_gen[..., None], shift[..., None])
    # log-density at the nodes relative to the mode, each difference in product form
    dpsi = (-delta * (2.0 * a0 + delta) / (2.0 * v)
            - 0.5 * A * (r - r0[..., None]) * (r + r0[..., None]))
    e = wu * np.exp(dpsi + 0.5 * zu * zu)
    Z = e.sum(axis=-1)
    psi0 = -0.5 * (a_gen + eps) ** 2 / v - 0.5 * A * r0 * r0
    logq = psi0 + np.log(Z * s / sv)
    # t - t0 without cancellation: sinh(u - u0) / (cosh u cosh u0)
    dt = np.sinh(delta) / (cuu * cu0[..., None])
    m1 = np.sum(e * dt, axis=-1) / Z
    var = np.sum(e * (dt - m1[..., None]) ** 2, axis=-1) / Z
    g = np.sum(e * (a0 + delta), axis=-1) / (Z * v)
    # dy-weights of the Gauss-Hermite rule along the map: w_x Y'(x) / phi(x)
    W = wx * _SQRT_2PI * np.exp(0.5 * zx * zx) * dy
    return _assemble(omega, A, v, y, W, logq, g * g, var)


def _assemble(omega, A, v, y, W, logq, g2, var):
    """I(omega), A(omega), V(omega) from a y-rule (weights W times p(y)) and the posterior
    quantities at its nodes (arrays (n_omega, n_y)); ``W`` is the weight of dy (p(y) is
    formed here as sqrt(A/2pi) q). Nodes with log q = -inf (q underflowed) carry nothing."""
    dead = np.isneginf(logq)
    logq = np.where(dead, 0.0, logq)
    W = np.where(dead, 0.0, W * math.sqrt(A) / _SQRT_2PI * np.exp(logq))
    mi = -np.sum(W * logq, axis=1) - 0.5
    mean_t, var_t = _prior_moments(omega, v)
    centered = A * var_t <= 1.0
    if np.any(centered):
        # I = A/2 Var(t|omega) - E log r, log r = log q + A/2 (y - E[t|omega])^2 = O(A^2)
        c = centered
        logr = logq[c] + 0.5 * A * (y[c] - mean_t[c, None]) ** 2
        mi[c] = 0.5 * A * var_t[c] - np.sum(W[c] * logr, axis=1)
    return mi, np.sum(W * g2, axis=1), np.sum(W * var, axis=1)


# ------------------------------------------------------------------ broad prior
def _hermite_coefficients(n: np.ndarray, K: int) -> np.ndarray:
    """c[..., k] with exp(-(n + x)^2 / 2) = sum_k c_k x^k: c_k = e^{-n^2/2} (-1)^k He_k(n)/k!
    (three-term recurrence of the probabilists' Hermite polynomials)."""
    c = np.empty(n.shape + (K + 1,))
    base = np.exp(-0.5 * n * n)
    prev, cur = np.zeros_like(n), np.ones_like(n)
    c[..., 0] = base
    for k in range(K):
        prev, cur = cur, -(n * cur + prev) / (k + 1)
        c[..., k + 1] = base * cur
    return c


def _tail_moments(omega: np.ndarray, sa: float, v: float, U: float, K: int):
    """M[i, k] = E[x^k; u > U | omega_i] and MU[i, k] = E[(u - omega_i) x^k; u > U | omega_i]
    for k = 0..K, x = sqrt(A)(1 - tanh u) (< x_U there; k = 0 in closed form).

    For k >= 1 the integrand decays like e^{-2k(u - U)}: a composite rule in s = u - U on
    [0, 22] (beyond, x < 1e-19 x_U) with edges at s = 0, 1/4, 1/2, 1, 3/2, 2, 3, 4, 11/2,
    15/2, 10, 13, 17, 22 (the exponential decay), refined up to s = 15/2 to panels no wider
    than _CV times the prior's width; beyond, x < 1e-8 x_U and the moments enter q only
    through terms < 1e-8 of the k = 0 one.
    """
    sv = math.sqrt(v)
    (npan,) = _orders(_NPAN)
    s, ws = _panels(np.concatenate([_refined(_TAIL_EDGES[:10], _CV * sv)[:-1],
                                    _TAIL_EDGES[9:]]), npan)
    u = U + s
    p = ws * np.exp(-0.5 * (u - omega[:, None]) ** 2 / v) / (_SQRT_2PI * sv)
    e = np.exp(-2.0 * u)
    x = 2.0 * np.exp(math.log(sa) - 2.0 * u) / (1.0 + e)      # sqrt(A)(1 - tanh u), u > 0
    powers = x[:, None] ** np.arange(K + 1)
    M = p @ powers
    MU = (p * (u - omega[:, None])) @ powers
    M[:, 0] = ndtr((omega - U) / sv)
    MU[:, 0] = sv * np.exp(-0.5 * ((U - omega) / sv) ** 2) / _SQRT_2PI
    return M, MU


_TAIL_EDGES = (0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 5.5, 7.5, 10.0, 13.0, 17.0, 22.0)


@lru_cache(maxsize=64)
def _refined(edges: tuple, h: float) -> np.ndarray:
    """``edges`` with every panel split into equal parts no wider than h."""
    out = np.concatenate([_split(a, b, h)[:-1] for a, b in zip(edges[:-1], edges[1:], strict=True)]
                         + [[edges[-1]]])
    out.setflags(write=False)
    return out


def _broad(omega: np.ndarray, A: float, v: float):
    """Per-omega (I, A, V) for sqrt(v) > _NARROW (see the module docstring)."""
    sa = math.sqrt(A)
    npan, ns = _orders(_NPAN, _NS)
    # tanh U = 1 - x_U/sqrt(A): the tails are the |u| > U where x < x_U
    U = 0.5 * math.log(2.0 * sa / _XU - 1.0) if sa > _XU else 0.0
    sharp = sa > 2.0 * _KAPPA
    n = omega.size
    # The left atom's y at omega are, by the symmetry (t, u, y, omega) -> -(t, u, y, omega),
    # the right atom's y at -omega (same q, Var and g^2): one computation for both.
    y_r, w_r, logq, g2, var = _right_atom(np.concatenate([omega, -omega]), A, v, U, sharp, npan)
    ys = [np.broadcast_to(y_r, (n, y_r.size)), np.broadcast_to(-y_r, (n, y_r.size))]
    ws = [np.broadcast_to(w_r, (n, y_r.size))] * 2
    logqs, g2s, vars_ = [logq[:n], logq[n:]], [g2[:n], g2[n:]], [var[:n], var[n:]]
    if sharp:
        y_i, w_i, logq_i, g2_i, var_i = _interior(omega, A, v, ns, npan)
        ys.append(y_i), ws.append(w_i), logqs.append(logq_i), g2s.append(g2_i), vars_.append(var_i)
    y, W, logq, g2, var = (np.concatenate(a, axis=1) for a in (ys, ws, logqs, g2s, vars_))
    return _assemble(omega, A, v, y, W, logq, g2, var)


def _near_atom_y(sa: float, sv: float, sharp: bool, npan: int):
    """Nodes n_j and weights of the near-atom y-rule of the right atom, n = sqrt(A)(y - 1) in
    [n_low, _REACH_Y]: panels in n (width _H_N; _H_N_OUTER beyond _N_OUTER if sharp) on
    [-n_switch, _REACH_Y], panels in log|n| (the continuum there is log-uniform in 1 - t,
    the prior's image has width 2 sqrt(v)) below.
    n_low = -kappa (the interior zone takes over) or -sqrt(A) (y = 0, where the left atom's
    zone starts)."""
    n_low = -_KAPPA if sharp else -sa
    n_switch = min(_N_SWITCH, -n_low)
    if sharp:
        # beyond a sharp atom (n > _N_OUTER) the density of y is a Gaussian tail below
        # e^{-4.5}: wider panels there
        edges = np.concatenate([_split(-n_switch, _N_OUTER, _H_N)[:-1],
                                _split(_N_OUTER, _REACH_Y, _H_N_OUTER)])
    else:
        edges = _split(-n_switch, _REACH_Y, _H_N)
    nn, wn = _panels(edges, npan)
    if -n_low > n_switch:
        ln, wl = _panels(_split(math.log(n_switch), math.log(-n_low),
                                min(_H_LOGN, 2.0 * _CV * sv)), npan)
        nn, wn = np.concatenate([-np.exp(ln), nn]), np.concatenate([wl * np.exp(ln), wn])
    return nn, wn


def _near_atom_u(sa: float, sv: float, U: float, sharp: bool, npan: int):
    """Nodes and weights (in u) of the rule on the right half-axis 0 <= u <= U, in
    x = sqrt(A)(1 - t) from x_U to x_top (= kappa + R, the reach of G from the near-atom y,
    or sqrt(A) at u = 0): panels in log x (width <= min(_H_LOGX, 2 _CV sqrt(v)), the prior in
    log x having width 2 sqrt(v)) up to x_switch, then in x (width <= _H_X: G is a Gaussian of
    unit width in x; and <= the prior's width 2 sqrt(v) x at x_switch). Returns x, w, u."""
    if U <= 0:
        return np.empty(0), np.empty(0), np.empty(0)
    x_top = _KAPPA + _REACH if sharp else sa
    h_log = min(_H_LOGX, 2.0 * _CV * sv)
    x_switch = min(max(1.0, _H_X / h_log), x_top)
    lam, wl = _panels(_split(math.log(_XU), math.log(x_switch), h_log), npan)
    xs, wx = np.exp(lam), wl * np.exp(lam)
    if x_top > x_switch:
        xx, wxx = _panels(_split(x_switch, x_top, min(_H_X, 2.0 * _CV * sv * x_switch)), npan)
        xs, wx = np.concatenate([xs, xx]), np.concatenate([wx, wxx])
    one_minus_t = xs / sa
    u = 0.5 * np.log((2.0 - one_minus_t) / one_minus_t)
    return xs, wx / (sa * one_minus_t * (2.0 - one_minus_t)), u     # du = dx/(sqrt(A)(1 - t^2))


def _right_atom(omega: np.ndarray, A: float, v: float, U: float, sharp: bool, npan: int):
    """Near-atom y of the right atom (shared by all omega): nodes y_j, weights w_j (dy), and
    log q, g^2 and Var(t | y) at (omega_i, y_j).

    q and the posterior moments are sums over the near-atom u-rule (matrix products of the
    prior factors with G and its moments) plus the tails |u| > U (matrix products of the
    per-omega moments with the series coefficients). The posterior variance is accumulated
    about c_j = min(y_j, 1), within O(1/sqrt(A)) of the posterior mean, so that it keeps its
    relative accuracy when it is O(1/A).
    """
    sa, sv = math.sqrt(A), math.sqrt(v)
    K = _K
    om = omega[:, None]
    nn, wn = _near_atom_y(sa, sv, sharp, npan)
    y = 1.0 + nn / sa
    c = np.minimum(y, 1.0)
    one_minus_c = np.maximum(-nn, 0.0) / sa            # 1 - c without rounding
    xs, wu, u = _near_atom_u(sa, sv, U, sharp, npan)
    if not sharp and xs.size:
        # both half-axes: the left one is the mirror of the right one
        u, wu = np.concatenate([u, -u]), np.concatenate([wu, wu])
        t = np.concatenate([1.0 - xs / sa, xs / sa - 1.0])
        G = np.exp(-0.5 * A * (y[:, None] - t) ** 2)
        dt = t - c[:, None]
    else:
        # G = exp(-(n + x)^2/2) and t - c = (1 - c) - x/sqrt(A) on the right half-axis
        G = np.exp(-0.5 * (nn[:, None] + xs) ** 2)
        dt = one_minus_c[:, None] - xs / sa
    prior = wu * np.exp(-0.5 * (u - om) ** 2 / v) / (_SQRT_2PI * sv)
    stacked = np.concatenate([G, G * dt, G * dt * dt], axis=0)
    Z, T1, T2 = np.split(prior @ stacked.T, 3, axis=1)
    GU = (prior * u) @ G.T - om * Z
    # tails: the right one (series in x about t = 1); the left one only when A is not large
    # (for the right atom's y it carries G < e^{-2A} otherwise), as the mirror image of the
    # right tail at -omega (moments of x' = sqrt(A)(1 + t), and of u - omega negated)
    M, MU = _tail_moments(omega, sa, v, U, K + 2)
    tails = [(M, MU, _hermite_coefficients(nn, K), 1.0, one_minus_c)]
    if not sharp:
        # omega is (w, -w) stacked (see _broad): the moments at -omega are its halves swapped
        half = omega.size // 2
        tails.append((np.roll(M, half, axis=0), -np.roll(MU, half, axis=0),
                      _hermite_coefficients(-sa * (y + 1.0), K), -1.0, 1.0 + c))
    for mom, umom, ck, side, gap in tails:
        # t - c = side (gap - x/sqrt(A)) with gap = 1 - side c >= 0
        S0, S1, S2 = mom[:, :K + 1] @ ck.T, mom[:, 1:K + 2] @ ck.T, mom[:, 2:K + 3] @ ck.T
        Z = Z + S0
        T1 = T1 + side * (gap * S0 - S1 / sa)
        T2 = T2 + gap * gap * S0 - 2.0 * gap * S1 / sa + S2 / A
        GU = GU + umom[:, :K + 1] @ ck.T
    logq, g2, var = _posterior_summaries(Z, T1, T2, GU, v)
    return y, wn / sa, logq, g2, var


def _interior(omega: np.ndarray, A: float, v: float, ns: int, npan: int):
    """Interior y (1 - |y| >= kappa/sqrt(A)), per omega: nodes y_ij and weights w_ij (dy),
    and log q, g^2, Var(t | y).

    The y-rule is composite Gauss-Legendre on the part of [-eta_k, eta_k] (eta = atanh y)
    within 9.5 sqrt(v) of omega (the image of u given omega) widened by the noise's reach
    R / (sqrt(A)(1 - y^2)) <= R/(2 kappa) in eta, in panels of width _H_ZETA in
    asinh(eta/_ETA_SCALE) and no wider than _CV sqrt(v) in eta (the density of y there is
    ~ phi_v(eta - omega) and log q ~ 2 log cosh eta).
    The u-integral is q = sqrt(2 pi/A) E_s[p_t(y + s/sqrt(A))] (Gauss-Hermite in s), with
    p_t(t) = phi_v(atanh t - omega)/(1 - t^2) the prior density of t: smooth on the scale
    1/sqrt(A) since 1 - |t| >= (kappa - 7)/sqrt(A) at the nodes.
    """
    sa, sv = math.sqrt(A), math.sqrt(v)
    eta_k = 0.5 * math.log(2.0 * sa / _KAPPA - 1.0)      # tanh(eta_k) = 1 - kappa/sqrt(A)
    # the image of u in omega +- 9.5 sqrt(v), widened by the noise's reach in eta,
    # _REACH / (sqrt(A)(1 - y^2)), at its most saturated end
    edge = np.minimum(np.abs(omega) + 9.5 * sv, eta_k)
    reach = 9.5 * sv + np.minimum(_REACH / sa * np.cosh(edge) ** 2, 0.5)
    lo = np.clip(omega - reach, -eta_k, eta_k)
    hi = np.clip(omega + reach, -eta_k, eta_k)
    # panels uniform in zeta = asinh(eta/_ETA_SCALE) (width ~1 near eta = 0, where log cosh
    # bends, growing like |eta| beyond, where it is straight), and no wider than _CV sqrt(v)
    z_lo, z_hi = np.arcsinh(lo / _ETA_SCALE), np.arcsinh(hi / _ETA_SCALE)
    n_pan = max(1, math.ceil(max(np.max(z_hi - z_lo) / _H_ZETA, np.max(hi - lo) / (_CV * sv))))
    x, wl = legendre(npan)
    edges = z_lo[:, None] + (z_hi - z_lo)[:, None] * np.linspace(0.0, 1.0, n_pan + 1)
    half = 0.5 * np.diff(edges, axis=1)
    mid = 0.5 * (edges[:, 1:] + edges[:, :-1])
    zeta = (mid[..., None] + half[..., None] * x).reshape(omega.size, -1)
    eta = _ETA_SCALE * np.sinh(zeta)
    w_eta = ((half[..., None] * wl).reshape(omega.size, -1) * _ETA_SCALE * np.cosh(zeta))
    y = np.tanh(eta)
    # 1 -+ y and 1 -+ t without rounding (1 - |y| can be far below the spacing of doubles
    # near 1 when A is large)
    decay = np.exp(-2.0 * np.abs(eta))
    gap = 2.0 * decay / (1.0 + decay)                      # 1 - |y|
    zs, ws = hermite(ns)
    ds = zs / sa
    sign = np.where(eta >= 0.0, 1.0, -1.0)[..., None]
    near = gap[..., None] - sign * ds                      # 1 - |t| on the side of y
    far = (2.0 - gap)[..., None] + sign * ds               # 1 + |t|
    u = sign * 0.5 * np.log(far / near)                    # atanh(t)
    du = u - omega[:, None, None]
    e = (ws / (sa * sv)) * np.exp(-0.5 * du * du / v) / (near * far)
    Z = e.sum(axis=-1)
    T1, T2, GU = (e * ds).sum(axis=-1), (e * ds * ds).sum(axis=-1), (e * du).sum(axis=-1)
    logq, g2, var = _posterior_summaries(Z, T1, T2, GU, v)
    return y, w_eta * gap * (2.0 - gap), logq, g2, var


def _posterior_summaries(Z, T1, T2, GU, v):
    """log q, g^2 and Var(t | y) from the sums Z = q, T1 = q E[t - c], T2 = q E[(t - c)^2],
    GU = q E[u - omega]. Points whose q underflows (p(y) < 1e-280, nothing) get log q = -inf,
    which _assemble gives no weight."""
    alive = Z > 1e-280
    Zs = np.where(alive, Z, 1.0)
    m1 = T1 / Zs
    var = np.maximum(T2 / Zs - m1 * m1, 0.0)
    g = GU / (Zs * v)
    return np.where(alive, np.log(Zs), -np.inf), g * g, var
