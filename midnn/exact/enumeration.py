"""Exact entropies of networks with a +-1 input, by enumeration of the 2^{n_0} inputs.

+-1 input X with i.i.d. components (P(x_i = +1) = p_plus), deterministic inner layers with
any activations and Gaussian noise Δ_L on the last layer. Enumerating the 2^{n_0} inputs
makes the law of T_L an explicit mixture of 2^{n_0} product laws, so
log p(t) = logsumexp_x [log P(x) + log p(t|x)] is computed exactly; the entropy
H(T_L) = -E log p(T_L) is then a Monte Carlo average (with its standard error) over samples
(x, t) drawn from the model, and H(T_L | X) is exact. :func:`binary_log_density` exposes the
exact density itself. Computed in float64 torch (this module imports torch).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from numpy.typing import ArrayLike

from .. import _validate as check
from ..activations import Activation, HardTanh, LeakyReLU, Linear, ReLU, Sign, Tanh
from ..gaussian import expected_log_cosh
from ..montecarlo import control_variate_mean
from ..priors import Binary
from ._checks import _weights

__all__ = ["ExactMCResult", "binary_enumeration", "binary_log_density", "MAX_ENUMERATION_N0",
           "MAX_OUTPUT_ENUMERATION"]

#: Largest input dimension accepted by the enumeration routines (2^24 mixture components).
MAX_ENUMERATION_N0 = 24
#: Largest output dimension for which the 2^{n_L} outputs of a Sign layer can be enumerated.
MAX_OUTPUT_ENUMERATION = 16

_LOG_2PI = math.log(2.0 * math.pi)
_LOG_2PIE = math.log(2.0 * math.pi * math.e)




@dataclass(frozen=True)
class ExactMCResult:
    """Entropy and mutual information of the last layer of a +-1-input network, per n_0.

    Attributes
    ----------
    entropy : float
        H(T_L)/n_0. Differential entropy for continuous outputs, Shannon entropy for Sign, and
        for ReLU / HardTanh outputs the entropy w.r.t. the product over components of
        (Lebesgue + Dirac at each clipping value), the replica convention.
    entropy_se : float
        Monte Carlo standard error of ``entropy`` (0 when the outputs were enumerated).
    conditional_entropy : float
        H(T_L|X)/n_0, exact (closed form or deterministic quadrature, averaged over all 2^{n_0}
        inputs).
    mutual_information : float
        I(X;T_L)/n_0 = entropy - conditional_entropy.
    mutual_information_se : float
        Its Monte Carlo standard error (equal to ``entropy_se``, as H(T_L|X) is exact).
    n_samples : int
        Number of Monte Carlo samples (0 when the outputs were enumerated exactly).
    gaussian_mutual_information : float
        Invertible outputs (Linear, Tanh, LeakyReLU): 1/2 log det(I + Cov z(X) / Delta_L) / n_0,
        the mutual information of the Gaussian channel with the same first two moments of
        z(X) = W_L T_{L-1}(X). It is an exact upper bound on ``mutual_information`` and is used
        as a control variate. NaN for other outputs.
    """

    entropy: float
    entropy_se: float
    conditional_entropy: float
    mutual_information: float
    mutual_information_se: float
    n_samples: int
    gaussian_mutual_information: float = math.nan


# Sign output without noise: log P(t|x) = -_HARD * (number of mismatched signs); exp(-_HARD)
# underflows to exactly 0 in float64, and every term is an exact multiple of _HARD / 2.
_HARD = 1024.0

def _log_cosh(u: torch.Tensor) -> torch.Tensor:
    a = u.abs()
    return a + torch.log1p(torch.exp(-2.0 * a)) - math.log(2.0)


def _expected_log_cosh(z: torch.Tensor, sigma: float) -> torch.Tensor:
    """E log cosh(z + sigma xi), xi ~ N(0, 1), elementwise in z
    (:func:`midnn.gaussian.expected_log_cosh`)."""
    return torch.as_tensor(expected_log_cosh(z.numpy(), sigma), dtype=z.dtype)


class _Output:
    """The last layer's channel written as log p(o|x) = phi(o) . psi(z) + g(o) + h(z).

    ``o`` is the observation whose density is mixed: the pre-activation u = z + xi for
    invertible activations (I(X;T) = I(X;U)), the output t itself otherwise; z = W_L t_{L-1}(x).
    """

    def __init__(self, act: Activation, n_out: int):
        self.act = act
        self.n = n_out
        self.v = act.noise
        self.s = math.sqrt(act.noise)

    # -- to be specialised ---------------------------------------------------------------------
    def observe(self, z: torch.Tensor, xi: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def obs_features(self, o: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def in_features(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def cond_entropy(self, z: torch.Tensor) -> torch.Tensor:
        """H(T_L | x) for each row of z (nats, summed over the components)."""
        raise NotImplementedError

    def from_output(self, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(o, log-Jacobian) with log p_T(t) = log p_O(o) + log-Jacobian."""
        return t, torch.zeros(t.shape[0], dtype=t.dtype)


class _Invertible(_Output):
    """Linear, Tanh and LeakyReLU (slope > 0): o = u = z + xi, T = f(U), f increasing."""

    def observe(self, z, xi):
        return z + self.s * xi

    def obs_features(self, u):
        g = -(u * u).sum(1) / (2 * self.v) - 0.5 * self.n * (_LOG_2PI + math.log(self.v))
        return u / self.v, g

    def in_features(self, z):
        return z, -(z * z).sum(1) / (2 * self.v)

    def cond_entropy(self, z):
        # H(T|x) = H(U|x) + E[log f'(U) | x]
        base = 0.5 * self.n * (_LOG_2PIE + math.log(self.v))
        act = self.act
        if isinstance(act, Tanh):  # log f'(u) = log(1 - tanh^2 u) = -2 log cosh u
            return base - 2.0 * _expected_log_cosh(z, self.s).sum(1)
        if isinstance(act, LeakyReLU):  # log f'(u) = log(slope) on u < 0
            return base + math.log(act.slope) * torch.special.ndtr(-z / self.s).sum(1)
        return torch.full((z.shape[0],), base, dtype=z.dtype)

    def from_output(self, t):
        act = self.act
        if isinstance(act, Tanh):
            if torch.any(t.abs() >= 1.0):
                raise ValueError("t must lie in (-1, 1) for a Tanh output")
            u = torch.atanh(t)
            return u, 2.0 * _log_cosh(u).sum(1)  # log p_T = log p_U - log(1 - t^2)
        if isinstance(act, LeakyReLU):
            neg = t < 0
            u = torch.where(neg, t / act.slope, t)
            return u, -math.log(act.slope) * neg.sum(1).to(t.dtype)
        return super().from_output(t)


class _Sign(_Output):
    """t = sign(z + xi) in {-1, +1}^n: P(t|x) = prod_i Phi(t_i z_i / sigma)."""

    def observe(self, z, xi):
        u = z + self.s * xi
        return torch.where(u >= 0, torch.ones_like(u), -torch.ones_like(u))

    def obs_features(self, t):
        return t, torch.zeros(t.shape[0], dtype=t.dtype)

    def in_features(self, z):
        if self.v == 0.0:
            b = 0.5 * _HARD * torch.where(z >= 0, torch.ones_like(z), -torch.ones_like(z))
            return b, torch.full((z.shape[0],), -0.5 * _HARD * self.n, dtype=z.dtype)
        lp = torch.special.log_ndtr(z / self.s)
        lm = torch.special.log_ndtr(-z / self.s)
        return 0.5 * (lp - lm), 0.5 * (lp + lm).sum(1)

    def cond_entropy(self, z):
        if self.v == 0.0:
            return torch.zeros(z.shape[0], dtype=z.dtype)
        lp = torch.special.log_ndtr(z / self.s)
        lm = torch.special.log_ndtr(-z / self.s)
        return -(torch.exp(lp) * lp + torch.exp(lm) * lm).sum(1)

    def from_output(self, t):
        if not torch.all(t.abs() == 1.0):
            raise ValueError("t must have entries in {-1, +1} for a Sign output")
        return super().from_output(t)


class _Clip(_Output):
    """ReLU / HardTanh: t = clip(z + xi, lo, hi), atoms at the finite ends lo, hi.

    log p(t|x) = sum_i [lo_i log Phi((lo - z_i)/s) + hi_i log Phi((z_i - hi)/s)
                        + mid_i log N(t_i; z_i, s^2)]
    with the indicator masks lo_i = (t_i = lo), hi_i = (t_i = hi), mid_i = (lo < t_i < hi).
    """

    def __init__(self, act: Activation, n_out: int, lo: float, hi: float):
        super().__init__(act, n_out)
        self.lo, self.hi = lo, hi

    def observe(self, z, xi):
        return torch.clamp(z + self.s * xi, self.lo, self.hi)

    def obs_features(self, t):
        mid = ((t > self.lo) & (t < self.hi)).to(t.dtype)
        feats = [mid * t / self.v, mid]
        if math.isfinite(self.lo):
            feats.append((t <= self.lo).to(t.dtype))
        if math.isfinite(self.hi):
            feats.append((t >= self.hi).to(t.dtype))
        return torch.cat(feats, 1), -(mid * t * t).sum(1) / (2 * self.v)

    def in_features(self, z):
        feats = [z, -(z * z / (2 * self.v) + 0.5 * (_LOG_2PI + math.log(self.v)))]
        if math.isfinite(self.lo):
            feats.append(torch.special.log_ndtr((self.lo - z) / self.s))
        if math.isfinite(self.hi):
            feats.append(torch.special.log_ndtr((z - self.hi) / self.s))
        return torch.cat(feats, 1), torch.zeros(z.shape[0], dtype=z.dtype)

    def cond_entropy(self, z):
        # -p_lo log p_lo - p_hi log p_hi + p_mid/2 log(2 pi s^2) + 1/2 int_a^b s^2 phi(s) ds
        a, b = (self.lo - z) / self.s, (self.hi - z) / self.s
        ent = torch.zeros_like(z)
        p_mid = torch.special.ndtr(b) - torch.special.ndtr(a)
        second = p_mid.clone()
        for end, sign in ((a, 1.0), (b, -1.0)):
            if torch.isinf(end).all():
                continue
            log_p = torch.special.log_ndtr(sign * end)  # mass of the atom at this end
            ent = ent - torch.exp(log_p) * log_p
            second = second + sign * end * torch.exp(-0.5 * end * end) / math.sqrt(2 * math.pi)
        ent = ent + 0.5 * p_mid * (_LOG_2PI + math.log(self.v)) + 0.5 * second
        return ent.sum(1)


def _output_channel(act: Activation, n_out: int) -> _Output:
    name = "activations[-1]"
    if isinstance(act, Sign):
        return _Sign(act, n_out)
    if act.noise <= 0.0:
        raise ValueError(f"{name} must have noise > 0 (got {act.noise}): without output noise "
                         "the differential entropy of T_L diverges (only Sign may be noiseless)")
    if isinstance(act, (Linear, Tanh)) or (isinstance(act, LeakyReLU) and act.slope > 0):
        return _Invertible(act, n_out)
    if isinstance(act, ReLU) or (isinstance(act, LeakyReLU) and act.slope == 0):
        return _Clip(act, n_out, 0.0, math.inf)
    if isinstance(act, HardTanh):
        return _Clip(act, n_out, -act.threshold, act.threshold)
    raise ValueError(f"{name} of type {type(act).__name__} is not supported as output: use "
                     "Linear, Tanh, LeakyReLU, ReLU, HardTanh or Sign")


class _Network:
    """Deterministic map x -> z = W_L t_{L-1}(x) and the channel of the last layer."""

    def __init__(self, weights, activations, p_plus):
        mats = _weights(weights)
        if isinstance(activations, Activation):
            activations = [activations]
        acts = list(activations)
        if len(acts) != len(mats):
            raise ValueError(f"activations must hold {len(mats)} entries (one per weight "
                             f"matrix), got {len(acts)}")
        for i, a in enumerate(acts):
            if not isinstance(a, Activation):
                raise ValueError(f"activations[{i}] must be a midnn.activations.Activation, got "
                                 f"{type(a).__name__}")
            if i < len(acts) - 1 and a.noise != 0.0:
                raise ValueError(f"activations[{i}] has noise {a.noise} > 0: exact enumeration "
                                 "needs deterministic inner layers (put noise on the last layer "
                                 "only)")
        self.n0 = mats[0].shape[1]
        if self.n0 > MAX_ENUMERATION_N0:
            raise ValueError(f"n0 too large for enumeration: weights[0] has {self.n0} columns "
                             f"(2^{self.n0} inputs), at most {MAX_ENUMERATION_N0} are supported")
        if isinstance(p_plus, Binary):
            p_plus = p_plus.p_plus
        p = check.real("p_plus", p_plus, low=0.0, high=1.0, low_open=True, high_open=True)
        self.log_p, self.log_q = math.log(p), math.log1p(-p)
        self.p = p
        self.W = [torch.as_tensor(w) for w in mats]
        self.acts = acts
        self.out = _output_channel(acts[-1], mats[-1].shape[0])
        self.n_out = mats[-1].shape[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        for W, act in zip(self.W[:-1], self.acts[:-1], strict=True):
            h = act.torch_f(h @ W.T)
        return h @ self.W[-1].T

    def inputs(self, start: int, stop: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Inputs number start..stop-1 (bit j of the index = component j) and log P(x)."""
        idx = torch.arange(start, stop, dtype=torch.int64)
        bits = (idx[:, None] >> torch.arange(self.n0, dtype=torch.int64)) & 1
        n_plus = bits.sum(1).to(torch.float64)
        log_px = n_plus * self.log_p + (self.n0 - n_plus) * self.log_q
        return (2 * bits - 1).to(torch.float64), log_px

    def sweep(self, phi: torch.Tensor | None, batch: int, cond: bool = False,
              moments: bool = False) -> _Sweep:
        """One pass over the 2^{n_0} inputs computing, exactly,

        * ``log_mix``: logsumexp_x [log P(x) + phi . psi(x) + h(x)] for each row of ``phi``
          (log p(o) without the g(o) term);
        * ``cond_entropy`` (if ``cond``): H(T_L|X) = sum_x P(x) H(T_L|x);
        * ``mean``, ``cov`` (if ``moments``): E z(X) and Cov z(X).
        """
        n_x = 1 << self.n0
        n_s = 0 if phi is None else phi.shape[0]
        s_chunk = max(1, min(n_s, batch // 1024)) if n_s else 1
        x_chunk = max(1, min(n_x, batch // s_chunk))
        res = _Sweep()
        if phi is not None:
            res.log_mix = torch.full((n_s,), -math.inf, dtype=torch.float64)
        m1 = torch.zeros(self.n_out, dtype=torch.float64)
        m2 = torch.zeros((self.n_out, self.n_out), dtype=torch.float64)
        for start in range(0, n_x, x_chunk):
            x, log_px = self.inputs(start, min(n_x, start + x_chunk))
            z = self.forward(x)
            px = torch.exp(log_px)
            if cond:
                res.cond_entropy += float(px @ self.out.cond_entropy(z))
            if moments:
                m1 += px @ z
                m2 += (z * px[:, None]).T @ z
            if phi is None:
                continue
            psi, h = self.out.in_features(z)
            for s0 in range(0, n_s, s_chunk):
                # log P(x) is added last: phi.psi + h may be large and cancel (exactly, for
                # the noiseless Sign output), and must not absorb the digits of log P(x)
                block = torch.addmm(h[None, :], phi[s0:s0 + s_chunk], psi.T).add_(log_px)
                res.log_mix[s0:s0 + s_chunk] = torch.logaddexp(res.log_mix[s0:s0 + s_chunk],
                                                               torch.logsumexp(block, 1))
        if moments:
            res.mean = m1
            cov = m2 - torch.outer(m1, m1)
            res.cov = 0.5 * (cov + cov.T)
        return res


@dataclass
class _Sweep:
    log_mix: torch.Tensor | None = None
    cond_entropy: float = 0.0
    mean: torch.Tensor | None = None
    cov: torch.Tensor | None = None


def _check_batch(batch) -> int:
    if isinstance(batch, bool) or not isinstance(batch, (int, np.integer)) or batch < 1:
        raise ValueError(f"batch must be a positive integer, got {batch!r}")
    return int(batch)


def binary_log_density(
    weights: Sequence[ArrayLike],
    activations: Sequence[Activation],
    t: ArrayLike,
    p_plus: float | Binary = 0.5,
    batch: int = 2**22,
) -> np.ndarray:
    """Exact log-density log p(t) of the output T_L of a +-1-input network.

    p(t) = sum_x P(x) prod_i p_i(t_i | z_i(x)), summed over all 2^{n_0} inputs x in
    {-1, +1}^{n_0} with P(x) = p_plus^{n_+} (1 - p_plus)^{n_-} and
    z(x) = W_L f_{L-1}(... f_1(W_1 x)). The density is w.r.t. Lebesgue measure for continuous
    outputs, counting measure for Sign, and (Lebesgue + Dirac at the clipping values) per
    component for ReLU / HardTanh (an entry exactly equal to 0 for ReLU is an atom).

    Parameters
    ----------
    weights : sequence of array_like
        W_1..W_L, W_l of shape (n_l, n_{l-1}); n_0 <= 24.
    activations : sequence of Activation
        One per layer; inner ones must have ``noise == 0``. Output: Linear, Tanh, LeakyReLU,
        ReLU, HardTanh (noise > 0) or Sign (noise >= 0).
    t : array_like
        Points of shape (m, n_L) (or (n_L,)).
    p_plus : float or Binary, default 0.5
        P(x_i = +1), in (0, 1).
    batch : int, default 2**22
        Largest number of (point, input) pairs held in memory at once.

    Returns
    -------
    ndarray
        log p(t), shape (m,) (nats, not normalized by n_0).
    """
    net = _Network(weights, activations, p_plus)
    batch = _check_batch(batch)
    try:
        arr = np.array(t, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("t must be a real array of shape (m, n_L)") from None
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != net.n_out or not np.all(np.isfinite(arr)):
        raise ValueError(f"t must be a finite array of shape (m, {net.n_out}), got {arr.shape}")
    o, log_jac = net.out.from_output(torch.as_tensor(arr))
    phi, g = net.out.obs_features(o)
    return (net.sweep(phi, batch).log_mix + g + log_jac).numpy()


def binary_enumeration(
    weights: Sequence[ArrayLike],
    activations: Sequence[Activation],
    p_plus: float | Binary = 0.5,
    n_samples: int = 1000,
    seed: int | np.random.Generator | None = 0,
    batch: int = 2**22,
    output_enumeration: bool | None = None,
) -> ExactMCResult:
    r"""H(T_L), H(T_L|X) and I(X;T_L) per n_0 by exact enumeration of the +-1 inputs.

    The input X has i.i.d. components in {-1, +1} with P(x_i = +1) = ``p_plus``; the inner
    layers are deterministic, T_l = f_l(W_l T_{l-1}), and the last one is
    T_L = f_L(z(x) + xi), z(x) = W_L T_{L-1}(x), xi ~ N(0, Delta_L I). Given x the components of
    T_L are independent, so

    .. math:: \log p(t) = \operatorname{logsumexp}_{x \in \{\pm1\}^{n_0}}
              \Big[\log P(x) + \sum_i \log p(t_i | z_i(x))\Big]

    is exact (computed in float64 torch, in chunks of ``batch`` (sample, input) pairs).
    The mutual information is the Monte Carlo average over (x, t) drawn from the model of
    log p(t|x) - log p(t) (this uses log p(t|x) as a control variate for -log p(t)); for
    invertible outputs the same quantity for the Gaussian channel with the moments of z(X),
    whose mean I_G is known exactly, is a second control variate (regression estimator), which
    makes the estimate precise at large noise. Then

    * H(T_L|X) is exact: for Linear, sum_i 1/2 log(2 pi e Delta); for Sign the binary
      entropies h(Phi(z_i/sqrt(Delta))); for ReLU / HardTanh the mixed (atom + Gaussian piece)
      entropy in closed form; for Tanh and LeakyReLU the Gaussian entropy plus
      E log f'(U) (Gauss-Hermite / Gauss-Legendre quadrature, ~1e-14); always averaged over
      all 2^{n_0} inputs;
    * H(T_L) = I(X;T_L) + H(T_L|X). For invertible outputs (Linear, Tanh, LeakyReLU) the
      mixture is that of the pre-activation U = z + xi, since I(X;T) = I(X;U) and
      H(T) = H(U) + E log f'(U).

    For a Sign output with few units the 2^{n_L} outputs are enumerated instead and all three
    quantities are exact (standard errors 0).

    Parameters
    ----------
    weights : sequence of array_like
        W_1..W_L, W_l of shape (n_l, n_{l-1}); n_0 = columns of W_1 must be <= 24.
    activations : sequence of Activation
        One per layer. Inner activations (any type) must have ``noise == 0``. The output must
        be Linear, Tanh, LeakyReLU, ReLU or HardTanh with noise > 0, or Sign (noise >= 0).
    p_plus : float or Binary, default 0.5
        P(x_i = +1), in the open interval (0, 1).
    n_samples : int, default 1000
        Monte Carlo samples (x, t) (>= 2).
    seed : int, Generator or None, default 0
        Randomness of the Monte Carlo samples (a fixed seed gives a deterministic result).
    batch : int, default 2**22
        Largest number of (sample, input) log-likelihoods held in memory at once (8 bytes
        each); larger is faster up to the cache/memory limits.
    output_enumeration : bool, optional
        Sign output only: enumerate the 2^{n_L} outputs (exact). Default: when
        n_L <= 16 and 2^{n_L} <= n_samples (the cost is then not larger than Monte Carlo).

    Returns
    -------
    ExactMCResult
        Per-n_0 quantities for the last layer and the Monte Carlo standard errors.

    Notes
    -----
    Cost: (number of samples) x 2^{n_0} x (n_L to 4 n_L) multiply-adds plus as many
    exponentials, linear in n_samples and doubling with each input unit: with 1000 samples and
    a 20-unit output, about 1-2 s for n_0 = 16 and 20-50 s for n_0 = 20 on two (shared) cores
    (``benchmarks/bench_exact.py``). Memory: ``batch`` doubles, plus the samples.
    """
    net = _Network(weights, activations, p_plus)
    batch = _check_batch(batch)
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or \
            n_samples < 2:
        raise ValueError(f"n_samples must be an integer >= 2, got {n_samples!r}")
    n_samples = int(n_samples)
    out, n0, n_out = net.out, net.n0, net.n_out
    is_sign = isinstance(out, _Sign)
    if output_enumeration is None:
        output_enumeration = (is_sign and n_out <= MAX_OUTPUT_ENUMERATION
                              and 2**n_out <= n_samples)
    elif output_enumeration:
        if not is_sign:
            raise ValueError("output_enumeration=True needs a Sign output (discrete T_L)")
        if n_out > MAX_OUTPUT_ENUMERATION:
            raise ValueError(f"output_enumeration=True needs n_L <= {MAX_OUTPUT_ENUMERATION}, "
                             f"got n_L = {n_out}")

    if output_enumeration:
        idx = torch.arange(2**n_out, dtype=torch.int64)
        bits = (idx[:, None] >> torch.arange(n_out, dtype=torch.int64)) & 1
        t_all = (2 * bits - 1).to(torch.float64)
        phi, g = out.obs_features(t_all)
        sweep = net.sweep(phi, batch, cond=True)
        h_cond = sweep.cond_entropy
        log_p = sweep.log_mix + g
        entropy = float(-(torch.exp(log_p) * log_p).sum())
        return ExactMCResult(entropy=entropy / n0, entropy_se=0.0,
                             conditional_entropy=h_cond / n0,
                             mutual_information=(entropy - h_cond) / n0,
                             mutual_information_se=0.0, n_samples=0)

    rng = np.random.default_rng(seed)
    x = torch.as_tensor(np.where(rng.random((n_samples, n0)) < net.p, 1.0, -1.0))
    xi = torch.as_tensor(rng.standard_normal((n_samples, n_out)))
    z = net.forward(x)
    o = out.observe(z, xi)
    phi, g = out.obs_features(o)
    psi, h = out.in_features(z)
    log_cond = (phi * psi).sum(1) + g + h  # log p(o | x) for the sample's own x
    invertible = isinstance(out, _Invertible)
    sweep = net.sweep(phi, batch, cond=True, moments=invertible)
    h_cond = sweep.cond_entropy
    ratio = (log_cond - (sweep.log_mix + g)).numpy()  # log p(o|x) - log p(o)
    i_gauss = math.nan
    if invertible:
        control, i_gauss = _gaussian_control(o, z, sweep.mean, sweep.cov, out.v)
        mi, se = control_variate_mean(ratio, control, i_gauss)
    else:
        mi = float(np.mean(ratio))
        se = float(np.std(ratio, ddof=1) / math.sqrt(n_samples))
    return ExactMCResult(entropy=(mi + h_cond) / n0, entropy_se=se / n0,
                         conditional_entropy=h_cond / n0, mutual_information=mi / n0,
                         mutual_information_se=se / n0, n_samples=n_samples,
                         gaussian_mutual_information=i_gauss / n0)


def _gaussian_control(u: torch.Tensor, z: torch.Tensor, mean: torch.Tensor, cov: torch.Tensor,
                      v: float) -> tuple[np.ndarray, float]:
    """log N(u; z, v I) - log N(u; E z, Cov z + v I) per sample, and its exact expectation.

    Under the true joint law of (X, U) the expectation is I_G = 1/2 log det(I + Cov z / v): the
    mutual information of the Gaussian channel with the same first two moments, an upper bound
    on I(X; U) (the Gaussian maximizes the entropy at fixed covariance).
    """
    n = u.shape[1]
    sigma = cov.clone()
    sigma.diagonal().add_(v)
    chol = torch.linalg.cholesky(sigma)
    logdet = 2.0 * float(torch.log(torch.diagonal(chol)).sum())
    w = torch.linalg.solve_triangular(chol, (u - mean).T, upper=False)
    log_marg = -0.5 * (w * w).sum(0) - 0.5 * (n * _LOG_2PI + logdet)
    log_cond = -((u - z) ** 2).sum(1) / (2 * v) - 0.5 * n * (_LOG_2PI + math.log(v))
    return (log_cond - log_marg).numpy(), 0.5 * (logdet - n * math.log(v))
