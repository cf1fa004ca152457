"""Spectra of W^T W for orthogonally invariant weight matrices (eq. 6 and eq. 60).

A layer W in R^{n_out x n_in} enters the replica formula only through

* ``alpha = n_out / n_in`` and the limiting distribution of the eigenvalues lambda of W^T W
  (n_in of them, zeros included when alpha < 1);
* the spectral function F_W(x) of eq. (6),

      F_W(x) = extr_theta { 2 alpha theta + (alpha - 1) log(1 - theta)
                            + E_lambda log[x lambda + (1 - theta)(1 - alpha theta)] },

  whose stationarity condition (50a) is the Stieltjes-transform equation
  (1 - theta) E_lambda[1 / (x lambda + (1 - theta)(1 - alpha theta))] = 1;
* the LMMSE quantity of the ML-VAMP state evolution (eq. 60), tau E_lambda[1/(lambda + a tau)].

Two spectra are provided: :class:`MarchenkoPastur` (i.i.d. N(0, 1/n_in) entries, closed forms:
theta*(x) = x, F_W(x) = alpha x) and :class:`Empirical` (the eigenvalues of a given matrix).
"""

from __future__ import annotations

import math
import warnings
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import brentq

from . import _validate as check

__all__ = ["Spectrum", "MarchenkoPastur", "Empirical", "ThetaError", "alpha_tilde",
           "WidthRatios", "ZeroEigenvalueWarning"]


class ZeroEigenvalueWarning(UserWarning):
    """An empirical spectrum with alpha > 1 holds exact zeros: W^T W has full rank n_in for a
    generic W of shape n_out x n_in with n_out > n_in, so these are probably the eigenvalues
    of W W^T (n_out values) or of a rank-deficient W."""


def alpha_tilde(alphas) -> np.ndarray:
    """α̃_k = n_k / n_0 = α_1 ... α_k for k = 0..L (α̃_0 = 1), from α_k = n_k / n_{k-1}."""
    return np.concatenate([[1.0], np.cumprod(np.asarray(alphas, dtype=float))])


class WidthRatios:
    """``alphas`` (α_k = n_k/n_{k-1}) and ``alpha_tilde`` (α̃_k = n_k/n_0) of anything with a
    ``spectra`` sequence (a model, a chain)."""

    @property
    def alphas(self) -> np.ndarray:
        return np.array([s.alpha for s in self.spectra])

    @property
    def alpha_tilde(self) -> np.ndarray:
        return alpha_tilde(self.alphas)


class ThetaError(ArithmeticError):
    """The theta equation (50a) has no root on the physical branch for this argument."""


class Spectrum(ABC):
    """Limiting spectral distribution of W^T W together with alpha = n_out / n_in."""

    alpha: float

    @property
    @abstractmethod
    def mean(self) -> float:
        """E lambda (= alpha for Gaussian weights of variance 1/n_in)."""

    @abstractmethod
    def stieltjes(self, s: float) -> float:
        """G(s) = E[1/(lambda - s)] for s < min lambda (s < 0 always works)."""

    def lmmse(self, a: float, tau: float) -> float:
        """tau E[1/(lambda + a tau)], eq. (60): the LMMSE variance of x in ML-VAMP."""
        return tau * self.stieltjes(-a * tau)

    def lmmse_pair(self, a: float, tau: float) -> tuple[float, float]:
        """(v, K) = (tau E[1/(lambda + a tau)], E[lambda/(lambda + a tau)]): the LMMSE variance
        of eq. (60) and its complement K = 1 - a v, which ML-VAMP divides by (the extrinsic
        precisions 1/v - a = K/v and the variance tau K/alpha of z). Subclasses compute K
        directly: 1 - a v loses all its digits when a tau is far from the spectrum (an
        observation drowned in noise, K ~ E lambda / (a tau))."""
        v = self.lmmse(a, tau)
        return v, 1.0 - a * v

    @abstractmethod
    def theta(self, x: float, guess: float | None = None) -> float:
        """The root theta*(x) of eq. (50a) on the branch continuous from theta*(0) = 0."""

    @abstractmethod
    def F(self, x: float, theta: float | None = None) -> float:
        """F_W(x) of eq. (6), evaluated at ``theta`` (default: theta*(x))."""


@dataclass(frozen=True)
class MarchenkoPastur(Spectrum):
    """Spectrum of W^T W for W with i.i.d. N(0, 1/n_in) entries, alpha = n_out / n_in."""

    alpha: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "alpha", check.positive("alpha", self.alpha))

    @property
    def mean(self) -> float:
        return self.alpha

    def stieltjes(self, s: float) -> float:
        s = float(s)
        if s >= 0:
            raise ValueError(f"s must be < 0 for the Marchenko-Pastur Stieltjes transform, "
                             f"got {s!r}")
        b = 1.0 + s - self.alpha
        d = np.sqrt(b * b - 4.0 * s)
        # the two algebraically equal forms, chosen to avoid cancellation
        return float(2.0 / (d - b)) if b <= 0 else float((-b - d) / (2.0 * s))

    def lmmse_pair(self, a: float, tau: float) -> tuple[float, float]:
        """Closed forms: with c = a tau, b = 1 - c - alpha and d = sqrt(b^2 + 4c),
        K = 1 - c G(-c) = 4 c alpha / ((d + b + 2c)(d - b)) when b <= 0, else
        2 alpha / (2 - b + d) (both free of cancellation)."""
        c = a * tau
        G = self.stieltjes(-c)
        b = 1.0 - c - self.alpha
        d = math.sqrt(b * b + 4.0 * c)
        K = (4.0 * c * self.alpha / ((d + b + 2.0 * c) * (d - b)) if b <= 0
             else 2.0 * self.alpha / (2.0 - b + d))
        return tau * G, K

    def theta(self, x: float, guess: float | None = None) -> float:
        return float(x)

    def F(self, x: float, theta: float | None = None) -> float:
        """F_W(x) = alpha x on the physical branch (``theta`` is ignored: theta* = x)."""
        return self.alpha * float(x)

    def sample_eigvals(self, n_in: int, rng=None) -> np.ndarray:
        """Eigenvalues of W^T W for one draw of W (n_out = round(alpha n_in))."""
        n_in = check.integer("n_in", n_in, low=1)
        n_out = max(int(round(self.alpha * n_in)), 1)
        W = np.random.default_rng(rng).standard_normal((n_out, n_in)) / np.sqrt(n_in)
        return np.linalg.eigvalsh(W.T @ W) if n_out >= n_in else np.concatenate(
            [np.zeros(n_in - n_out), np.linalg.eigvalsh(W @ W.T)])


@dataclass(frozen=True)
class Empirical(Spectrum):
    """The empirical spectrum of W^T W: ``eigvals`` (n_in values) and ``alpha`` = n_out/n_in.

    Eigenvalues below 1e-12 max(lambda) are set to exactly zero (they are zero modes of W
    when alpha < 1). At most ceil(alpha n_in) eigenvalues may be non-zero (the rank of W).
    """

    eigvals: np.ndarray
    alpha: float
    _zero_fraction: float = field(init=False, repr=False)
    _lam_min: float = field(init=False, repr=False)
    _nonzero: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        lam = check.eigenvalues("eigvals", self.eigvals).copy()
        alpha = check.positive("alpha", self.alpha)
        top = float(lam.max()) if lam.size else 0.0
        lam[lam <= 1e-12 * max(top, 1e-300)] = 0.0
        if top <= 0:
            raise ValueError("eigvals must contain at least one positive eigenvalue")
        n = lam.size
        nonzero = int(np.count_nonzero(lam))
        if nonzero > int(np.ceil(alpha * n - 1e-9)):
            raise ValueError(
                f"eigvals has {nonzero} non-zero values but W with alpha={alpha:g} and n_in={n} "
                f"has rank <= {int(np.ceil(alpha * n - 1e-9))}: pass the n_in eigenvalues of "
                "W^T W (zeros included), not those of W W^T")
        if alpha > 1.0 and nonzero < n:
            warnings.warn(
                f"eigvals holds {n - nonzero} exact zeros although alpha = {alpha:g} > 1 "
                "(W^T W of a generic n_out x n_in matrix with n_out > n_in has none): pass "
                "the n_in eigenvalues of W^T W, not the n_out of W W^T; they halve I",
                ZeroEigenvalueWarning, stacklevel=3)
        lam = np.sort(lam)
        lam.setflags(write=False)
        object.__setattr__(self, "eigvals", lam)
        object.__setattr__(self, "alpha", alpha)
        object.__setattr__(self, "_zero_fraction", 1.0 - nonzero / n)
        object.__setattr__(self, "_lam_min", float(lam[0]))
        object.__setattr__(self, "_nonzero", lam[n - nonzero:])

    @classmethod
    def from_matrix(cls, W) -> Empirical:
        """Spectrum of a weight matrix W (n_out x n_in, as in ``torch.nn.Linear``)."""
        W = np.asarray(W, dtype=float)
        if W.ndim != 2:
            raise ValueError(f"W must be a 2-D matrix, got shape {W.shape}")
        n_out, n_in = W.shape
        if n_out >= n_in:
            lam = np.linalg.eigvalsh(W.T @ W)
        else:
            lam = np.concatenate([np.zeros(n_in - n_out), np.linalg.eigvalsh(W @ W.T)])
        with warnings.catch_warnings():  # the zeros of a rank-deficient W are genuine
            warnings.simplefilter("ignore", ZeroEigenvalueWarning)
            return cls(lam, n_out / n_in)

    def __repr__(self) -> str:
        lam = self.eigvals
        return (f"Empirical(n_in={lam.size}, alpha={self.alpha:.6g}, mean={self.mean:.6g}, "
                f"min={lam[0]:.4g}, max={lam[-1]:.4g}, zeros={self._zero_fraction:.3g})")

    def __eq__(self, other) -> bool:
        return (isinstance(other, Empirical) and self.alpha == other.alpha
                and np.array_equal(self.eigvals, other.eigvals))

    def __hash__(self) -> int:
        return hash((self.alpha, self.eigvals.tobytes()))

    @property
    def mean(self) -> float:
        return float(np.mean(self.eigvals))

    def stieltjes(self, s: float) -> float:
        if s >= self._lam_min:
            raise ValueError(f"s must be < min eigenvalue {self._lam_min:g}, got {s!r}")
        # np.add.reduce / n is np.mean (same pairwise sum) without its Python overhead
        return float(np.add.reduce(1.0 / (self.eigvals - s))) / self.eigvals.size

    def lmmse_pair(self, a: float, tau: float) -> tuple[float, float]:
        c = a * tau
        if -c >= self._lam_min:
            raise ValueError(f"a tau must be > -{self._lam_min:g}, got {c!r}")
        inv = 1.0 / (self.eigvals + c)
        n = self.eigvals.size
        return (tau * float(np.add.reduce(inv)) / n,
                float(np.add.reduce(self.eigvals * inv)) / n)

    @property
    def wide_full_rank(self) -> bool:
        """alpha < 1 and W has full rank n_out (zero fraction exactly 1 - alpha): the zero
        modes then factor out of eq. (50a) (see :meth:`theta_residual`)."""
        return self.alpha < 1.0 and abs(self._zero_fraction - (1.0 - self.alpha)) < 1e-9

    def _h(self, theta: float, x: float) -> float:
        """The residual of eq. (50a), in the reduced form when W has full rank n_out < n_in."""
        c = (1.0 - theta) * (1.0 - self.alpha * theta)
        if self.wide_full_rank:
            nz = self._nonzero
            return (1.0 - self.alpha * theta) * (float(np.add.reduce(1.0 / (x * nz + c)))
                                                 / nz.size) - 1.0
        return (1.0 - theta) * (float(np.add.reduce(1.0 / (x * self.eigvals + c)))
                                / self.eigvals.size) - 1.0

    def theta_residual(self, theta: float, x: float) -> float:
        """The residual of eq. (50a) at ``theta`` (zero at a root; inf outside the domain).

        In general (1 - theta) E[1/(x lambda + (1-theta)(1-alpha theta))] - 1. When W has full
        rank n_out < n_in (zero fraction exactly 1 - alpha), the zero modes contribute
        (1 - alpha)/(1 - alpha theta) and the residual factors as
        alpha (1-theta)/(1-alpha theta) r(theta), with
        r(theta) = (1 - alpha theta) E_nz[1/(x lambda + (1-theta)(1-alpha theta))] - 1 over the
        nonzero eigenvalues. The factor 1 - theta is not a stationarity condition (dF/dtheta
        at theta = 1 is alpha (1 - x_c/x), x_c = (1 - alpha) E_nz[1/lambda]): the roots are
        those of r, which is used here, and F of eq. (6) is analytic through theta = 1, so
        the domain extends to :meth:`theta_max` > 1.
        """
        if not 0.0 <= theta < self.theta_max(x):
            return np.inf
        with np.errstate(divide="ignore", invalid="ignore"):
            return self._h(theta, x)

    def theta_max(self, x: float) -> float:
        """The end of the domain of eq. (50a): the largest theta keeping
        x lambda + c > 0 for every eigenvalue (every nonzero one when W has full rank
        n_out < n_in), c = (1-theta)(1-alpha theta), and at most (1 + alpha)/(2 alpha), where
        c is smallest (past it c, hence the whole bracket of eq. (6) but its 2 alpha theta,
        takes its values again, and dF/dtheta vanishes there without (50a) holding)."""
        a = self.alpha
        lam_min = float(self._nonzero[0]) if self.wide_full_rank else self._lam_min
        disc = (1.0 - a) ** 2 - 4.0 * a * x * lam_min
        return float(((1.0 + a) - np.sqrt(max(disc, 0.0))) / (2.0 * a))

    def theta(self, x: float, guess: float | None = None) -> float:
        x = float(x)
        if x <= 0:
            return 0.0
        hi = self.theta_max(x)
        # walk up from 0 to the first sign change of the residual (the branch from theta = 0)
        lo = 0.0
        h_lo = self._h(0.0, x)
        if h_lo >= 0:
            return 0.0
        grid = hi * (1.0 - np.logspace(-1, -13, 25))
        for t in np.concatenate([[hi * 0.5], grid]):
            if t <= lo:
                continue
            ht = self._h(t, x)
            if ht > 0:
                return float(brentq(self._h, lo, t, args=(x,), xtol=1e-15, rtol=1e-15))
            lo = t
        raise ThetaError(f"the theta equation (50a) has no root below theta_max={hi:.6g} for "
                         f"x={x:.6g} (alpha={self.alpha:g})")

    def theta_near(self, x: float, guess: float) -> float | None:
        """The root of eq. (50a) closest to ``guess`` within 1e-2 of it (brackets of
        half-width 1e-10 .. 1e-2 around it, Brent's method), or None. With eigenvalues of
        W^T W close to 0 eq. (50a) has several roots; this keeps the one a solver's state
        is on when that state satisfies (50a) only to the solver's tolerance."""
        x, g = float(x), float(guess)
        hi_max = self.theta_max(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            for width in (1e-10, 1e-8, 1e-6, 1e-4, 1e-2):
                lo, hi = max(g - width, 0.0), min(g + width, hi_max * (1.0 - 1e-15))
                if not hi > lo:
                    continue
                h_lo, h_hi = self._h(lo, x), self._h(hi, x)
                if np.isfinite(h_lo) and np.isfinite(h_hi) and h_lo * h_hi <= 0:
                    return float(brentq(self._h, lo, hi, args=(x,), xtol=1e-15, rtol=1e-15))
        return None

    def F(self, x: float, theta: float | None = None) -> float:
        x = float(x)
        if theta is None:
            theta = self.theta(x)
        a, t = self.alpha, float(theta)
        f0 = self._zero_fraction
        nz = self.eigvals[self.eigvals > 0]
        # zero modes give f0 log[(1-t)(1-a t)]; grouping log(1-t) terms keeps theta -> 1 finite
        coef = a - 1.0 + f0
        val = 2 * a * t + (1.0 - f0) * np.mean(np.log(x * nz + (1.0 - t) * (1.0 - a * t)))
        if f0 > 0:
            val += f0 * np.log1p(-a * t)
        if coef != 0.0 and abs(coef) > 1e-12:
            val += coef * np.log1p(-t)
        return float(val)
