"""Activations with Gaussian noise before the non-linearity: t = f(z + xi), xi ~ N(0, noise).

This is the noise model of the paper (digest section 1.2). Each activation knows

* its deterministic function ``f`` (numpy) and ``torch_f`` (torch),
* how to ``sample`` t given pre-activations z,
* the second moment it propagates, rho_{k+1} = E_{z~N(0, rho~)} E[t^2 | z],
* for piecewise-linear functions, its ``pieces`` (breakpoints, slopes, intercepts), from which
  :mod:`midnn.channels` builds every scalar-channel quantity in closed form up to a
  one-dimensional quadrature.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

import numpy as np
import torch
from scipy.special import ndtr

from . import _validate as check
from .priors import as_generator
from .quadrature import hermite

__all__ = ["Activation", "PiecewiseLinear", "Linear", "ReLU", "LeakyReLU", "HardTanh", "Sign",
           "Tanh"]


@dataclass(frozen=True)
class Piece:
    """f(u) = slope * u + intercept for u in [lo, hi]."""

    lo: float
    hi: float
    slope: float
    intercept: float


class Activation:
    """Base class: t = f(z + xi), xi ~ N(0, noise)."""

    noise: float
    #: Output is discrete (Shannon entropy) rather than continuous (differential entropy).
    is_discrete: ClassVar[bool] = False

    def f(self, h: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def torch_f(self, h: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def with_noise(self, noise: float) -> Activation:
        """A copy with another noise variance."""
        return replace(self, noise=noise)

    def sample(self, z: np.ndarray, rng=None) -> np.ndarray:
        """t = f(z + sqrt(noise) * xi) with fresh Gaussian noise."""
        z = np.asarray(z, dtype=float)
        if self.noise > 0:
            z = z + np.sqrt(self.noise) * as_generator(rng).standard_normal(z.shape)
        return self.f(z)

    def second_moment(self, rho_tilde: float) -> float:
        """E_{u ~ N(0, rho_tilde + noise)} f(u)^2 (footnote p. 19 of the paper)."""
        z, w = hermite(200)
        return float(np.dot(w, self.f(np.sqrt(rho_tilde + self.noise) * z) ** 2))


class PiecewiseLinear(Activation):
    """An activation made of linear pieces (see :attr:`pieces`)."""

    @property
    def pieces(self) -> tuple[Piece, ...]:  # pragma: no cover - abstract
        raise NotImplementedError

    def second_moment(self, rho_tilde: float) -> float:
        s = np.sqrt(rho_tilde + self.noise)
        total = 0.0
        for p in self.pieces:
            a, b = p.lo / s, p.hi / s
            # E[(slope*s*g + c)^2 1{a<g<b}] for g ~ N(0,1): moments of a truncated normal
            m0 = ndtr(b) - ndtr(a)
            pa = 0.0 if np.isinf(a) else np.exp(-0.5 * a * a) / np.sqrt(2 * np.pi)
            pb = 0.0 if np.isinf(b) else np.exp(-0.5 * b * b) / np.sqrt(2 * np.pi)
            m1 = pa - pb
            m2 = m0 + (0.0 if np.isinf(a) else a * pa) - (0.0 if np.isinf(b) else b * pb)
            k = p.slope * s
            total += k * k * m2 + 2 * k * p.intercept * m1 + p.intercept**2 * m0
        return float(total)


def _noise(value) -> float:
    return check.noise("noise", value)


@dataclass(frozen=True)
class Linear(PiecewiseLinear):
    """t = z + xi."""

    noise: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "noise", _noise(self.noise))

    @property
    def pieces(self):
        return (Piece(-np.inf, np.inf, 1.0, 0.0),)

    def f(self, h):
        return np.asarray(h, dtype=float)

    def torch_f(self, h):
        return h

    def second_moment(self, rho_tilde: float) -> float:
        return float(rho_tilde + self.noise)


@dataclass(frozen=True)
class LeakyReLU(PiecewiseLinear):
    """t = max(u, slope * u), u = z + xi (``slope`` in [0, 1])."""

    slope: float = 0.01
    noise: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "slope", check.real("slope", self.slope, low=0.0, high=1.0))
        object.__setattr__(self, "noise", _noise(self.noise))

    @property
    def pieces(self):
        return (Piece(-np.inf, 0.0, self.slope, 0.0), Piece(0.0, np.inf, 1.0, 0.0))

    def f(self, h):
        h = np.asarray(h, dtype=float)
        return np.where(h > 0, h, self.slope * h)

    def torch_f(self, h):
        return torch.nn.functional.leaky_relu(h, self.slope)

    def second_moment(self, rho_tilde: float) -> float:
        return float(0.5 * (1 + self.slope**2) * (rho_tilde + self.noise))


@dataclass(frozen=True)
class ReLU(PiecewiseLinear):
    """t = max(z + xi, 0)."""

    noise: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "noise", _noise(self.noise))

    @property
    def pieces(self):
        return (Piece(-np.inf, 0.0, 0.0, 0.0), Piece(0.0, np.inf, 1.0, 0.0))

    def f(self, h):
        return np.maximum(np.asarray(h, dtype=float), 0.0)

    def torch_f(self, h):
        return torch.relu(h)

    def second_moment(self, rho_tilde: float) -> float:
        return float(0.5 * (rho_tilde + self.noise))


@dataclass(frozen=True)
class HardTanh(PiecewiseLinear):
    """t = clip(z + xi, -threshold, threshold)."""

    noise: float = 0.0
    threshold: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "noise", _noise(self.noise))
        object.__setattr__(self, "threshold", check.positive("threshold", self.threshold))

    @property
    def pieces(self):
        t = self.threshold
        return (Piece(-np.inf, -t, 0.0, -t), Piece(-t, t, 1.0, 0.0), Piece(t, np.inf, 0.0, t))

    def f(self, h):
        return np.clip(np.asarray(h, dtype=float), -self.threshold, self.threshold)

    def torch_f(self, h):
        return torch.clamp(h, -self.threshold, self.threshold)


@dataclass(frozen=True)
class Sign(PiecewiseLinear):
    """t = sign(z + xi) in {-1, +1} (the probit channel); a discrete output."""

    noise: float = 0.0
    is_discrete: ClassVar[bool] = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "noise", _noise(self.noise))

    @property
    def pieces(self):
        return (Piece(-np.inf, 0.0, 0.0, -1.0), Piece(0.0, np.inf, 0.0, 1.0))

    def f(self, h):
        return np.where(np.asarray(h, dtype=float) >= 0, 1.0, -1.0)

    def torch_f(self, h):
        return torch.where(h >= 0, torch.ones_like(h), -torch.ones_like(h))

    def second_moment(self, rho_tilde: float) -> float:
        return 1.0


@dataclass(frozen=True)
class Tanh(Activation):
    """t = tanh(z + xi): smooth, bounded, with bounded derivatives (Theorem 1's H2)."""

    noise: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "noise", _noise(self.noise))

    def f(self, h):
        return np.tanh(np.asarray(h, dtype=float))

    def torch_f(self, h):
        return torch.tanh(h)
