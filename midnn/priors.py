"""Separable priors P_0 of the input X (eq. 1) and their scalar Gaussian channel.

Every prior exposes the two functions of the scalar channel y = x + xi / sqrt(A),
xi ~ N(0, 1), that enter the replica potential (eq. 3):

* ``mutual_information(A)`` = I(x; x + xi/sqrt(A)), the prior term of phi (eq. 34a);
* ``mmse(A)`` = E Var(x | y), the V-update of the first layer (eq. 55).

The I-MMSE relation dI/dA = mmse/2 links them (checked in the tests by finite differences).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np
from scipy.special import expit, log_expit

from . import _validate as check
from .quadrature import hermite, order_multiplier, panel_rule

__all__ = ["Prior", "Gaussian", "Binary", "GaussBernoulli", "PRIORS"]

#: Every prior class by its name (filled by :meth:`Prior.__init_subclass__`).
PRIORS: dict[str, type[Prior]] = {}


class Prior(ABC):
    """A separable prior P_0 on the components of X."""

    #: Whether the prior is a discrete distribution (Shannon entropy well defined).
    is_discrete: bool = False

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        PRIORS[cls.__name__] = cls

    @property
    @abstractmethod
    def second_moment(self) -> float:
        """rho_1 = E x^2."""

    @property
    def entropy(self) -> float | None:
        """Shannon entropy of one component (nats) for a discrete prior, else ``None``."""
        return None

    @abstractmethod
    def mutual_information(self, snr: float) -> float:
        """I(x; x + xi/sqrt(snr)) in nats, xi ~ N(0, 1); ``snr`` may be ``np.inf``."""

    @abstractmethod
    def mmse(self, snr: float) -> float:
        """E Var(x | x + xi/sqrt(snr))."""

    @abstractmethod
    def sample(self, size, rng=None) -> np.ndarray:
        """Draw i.i.d. components (``rng``: seed, Generator or None)."""


@dataclass(frozen=True)
class Gaussian(Prior):
    """x ~ N(mean, var). The mean does not enter I or the MMSE (a known shift)."""

    mean: float = 0.0
    var: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "mean", check.real("mean", self.mean))
        object.__setattr__(self, "var", check.positive("var", self.var))

    @property
    def second_moment(self) -> float:
        return self.var + self.mean**2

    def mutual_information(self, snr: float) -> float:
        if np.isinf(snr):
            return np.inf
        return 0.5 * np.log1p(snr * self.var)

    def mmse(self, snr: float) -> float:
        if np.isinf(snr):
            return 0.0
        return self.var / (1.0 + snr * self.var)

    def sample(self, size, rng=None) -> np.ndarray:
        return self.mean + np.sqrt(self.var) * np.random.default_rng(rng).standard_normal(size)


def _binary_entropy_logit(L: np.ndarray) -> np.ndarray:
    """h_b(sigmoid(L)) in nats, stable for any L."""
    return -(expit(L) * log_expit(L) + expit(-L) * log_expit(-L))


def _logit_average(g, means: np.ndarray, std: float, weights: np.ndarray) -> float:
    """sum_c weights[c] * E_{L~N(means[c], std^2)} g(L) for g localized around L = 0.

    Narrow Gaussians (std < 1): Gauss-Hermite, 40 nodes. Wide ones: the trapezoid rule on
    [-50, 50] with step h = 0.5 / order; the integrand decays like |L| e^{-|L|} and is
    analytic in the strip |Im L| < pi, so the rule converges like exp(-2 pi^2 / h) (~1e-17).
    """
    if std < 1.0:
        z, w = hermite(40)
        L = means[:, None] + std * z[None, :]
        return float(np.sum(weights[:, None] * w[None, :] * g(L)))
    grid = np.linspace(-50.0, 50.0, 200 * order_multiplier() + 1)
    step = grid[1] - grid[0]
    dens = np.exp(-0.5 * ((grid[None, :] - means[:, None]) / std) ** 2) / (
        np.sqrt(2 * np.pi) * std)
    return float(step * np.sum(weights[:, None] * dens * g(grid)[None, :]))


@dataclass(frozen=True)
class Binary(Prior):
    """x = +1 with probability ``p_plus``, else -1."""

    p_plus: float = 0.5
    is_discrete = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "p_plus", check.probability("p_plus", self.p_plus))

    @property
    def second_moment(self) -> float:
        return 1.0

    @property
    def entropy(self) -> float:
        p = self.p_plus
        return float(-sum(q * np.log(q) for q in (p, 1 - p) if q > 0))

    def _channel(self, snr: float, g) -> float:
        p = self.p_plus
        if p in (0.0, 1.0) or snr == 0.0:
            return None
        h0 = np.log(p) - np.log1p(-p)
        means = np.array([h0 + 2 * snr, h0 - 2 * snr])
        return _logit_average(g, means, 2.0 * np.sqrt(snr), np.array([p, 1 - p]))

    def mutual_information(self, snr: float) -> float:
        snr = check.real("snr", snr, low=0.0) if not np.isinf(snr) else snr
        if np.isinf(snr):
            return self.entropy
        val = self._channel(snr, _binary_entropy_logit)
        if val is None:
            return 0.0
        return max(self.entropy - val, 0.0)

    def mmse(self, snr: float) -> float:
        if np.isinf(snr):
            return 0.0
        p = self.p_plus
        val = self._channel(snr, lambda L: expit(L) * expit(-L) * 4.0)
        if val is None:
            return 4 * p * (1 - p)
        return val

    def sample(self, size, rng=None) -> np.ndarray:
        u = np.random.default_rng(rng).random(size)
        return np.where(u < self.p_plus, 1.0, -1.0)


@dataclass(frozen=True)
class GaussBernoulli(Prior):
    """Spike and slab: x = 0 with probability 1 - rho, else x ~ N(mean, var)."""

    rho: float = 0.5
    mean: float = 0.0
    var: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "rho", check.probability("rho", self.rho))
        object.__setattr__(self, "mean", check.real("mean", self.mean))
        object.__setattr__(self, "var", check.positive("var", self.var))

    @property
    def second_moment(self) -> float:
        return self.rho * (self.var + self.mean**2)

    def _posterior(self, snr: float):
        """Nodes y, weights (Lebesgue), log p(y) and the slab responsibility pi_1(y)."""
        r, m, v = self.rho, self.mean, self.var
        s0 = 1.0 / np.sqrt(snr)
        s1 = np.sqrt(v + 1.0 / snr)
        y, w = panel_rule([0.0, m], [s0, s1])
        l0 = np.log1p(-r) - 0.5 * np.log(2 * np.pi) - np.log(s0) - 0.5 * (y / s0) ** 2
        l1 = np.log(r) - 0.5 * np.log(2 * np.pi) - np.log(s1) - 0.5 * ((y - m) / s1) ** 2
        logp = np.logaddexp(l0, l1)
        return y, w, logp, np.exp(l1 - logp)

    def mutual_information(self, snr: float) -> float:
        if np.isinf(snr):
            return np.inf if self.rho > 0 else 0.0
        if snr == 0.0 or self.rho == 0.0:
            return 0.0
        if self.rho == 1.0:
            return 0.5 * np.log1p(snr * self.var)
        y, w, logp, _ = self._posterior(snr)
        h_y = -np.dot(w, np.exp(logp) * logp)
        return float(max(h_y - 0.5 * np.log(2 * np.pi * np.e / snr), 0.0))

    def mmse(self, snr: float) -> float:
        if np.isinf(snr):
            return 0.0
        r, m, v = self.rho, self.mean, self.var
        if snr == 0.0 or r in (0.0, 1.0):
            return r * v / (1 + snr * v) if r == 1.0 else r * (v + m**2) - (r * m) ** 2
        y, w, logp, pi1 = self._posterior(snr)
        vpost = 1.0 / (1.0 / v + snr)
        mpost = vpost * (m / v + snr * y)
        var = pi1 * vpost + pi1 * (1 - pi1) * mpost**2
        return float(np.dot(w, np.exp(logp) * var))

    def sample(self, size, rng=None) -> np.ndarray:
        g = np.random.default_rng(rng)
        on = g.random(size) < self.rho
        return np.where(on, self.mean + np.sqrt(self.var) * g.standard_normal(size), 0.0)

