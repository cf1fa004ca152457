"""Activations with Gaussian noise before the non-linearity: t = f(z + ξ), ξ ~ N(0, noise).

This is the noise model of eq. (1) of the paper (arXiv:1805.09785v2, section 2): the
conditional law P_l(t | z) of a layer is that of f(z + ξ). An activation is one class, here,
which knows

* its function ``f`` (NumPy) and ``torch_f`` (the same on a torch tensor, by tensor methods:
  this module does not import torch);
* how to ``sample`` t given pre-activations z;
* the second moment it propagates, ρ_{l+1} = E_{z ~ N(0, ρ̃_l)} E[t² | z];
* its scalar channel, ``channel(rho_tilde)`` (:mod:`midnn.channels`): the free entropy and
  the updates of the replica potential for this activation. A piecewise-linear activation
  only declares its ``pieces`` and gets :class:`~midnn.channels.PiecewiseLinearChannel`.

Every class registers itself under its ``name`` (:data:`ACTIVATIONS`, :func:`from_name`).
``docs/new_activation.md`` shows how to add one.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, replace
from typing import ClassVar

import numpy as np
from scipy.special import ndtr

from . import _validate as check
from .channels import LinearChannel, PiecewiseLinearChannel, ScalarChannel, TanhChannel
from .quadrature import hermite

__all__ = ["Activation", "PiecewiseLinear", "Piece", "Linear", "ReLU", "LeakyReLU",
           "HardTanh", "HardSigmoid", "Sign", "Tanh", "ACTIVATIONS", "from_name"]

#: Every activation class by its ``name`` (filled by :meth:`Activation.__init_subclass__`).
ACTIVATIONS: dict[str, type[Activation]] = {}


@dataclass(frozen=True)
class Piece:
    """f(u) = slope * u + intercept for u in [lo, hi]."""

    lo: float
    hi: float
    slope: float
    intercept: float


class Activation:
    """Base class: t = f(z + ξ), ξ ~ N(0, noise). Subclasses are frozen dataclasses whose
    first field is ``noise`` (the only positional argument); other parameters are
    keyword-only."""

    noise: float
    #: Registry key (lower case); None for abstract bases.
    name: ClassVar[str | None] = None
    #: Output is discrete (Shannon entropy) rather than continuous (differential entropy).
    is_discrete: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("name") is not None:
            ACTIVATIONS[cls.name] = cls

    #: Validators of the parameters besides ``noise``: name -> check(name, value) -> value.
    parameter_checks: ClassVar[dict] = {}

    def __post_init__(self) -> None:
        object.__setattr__(self, "noise", check.noise("noise", self.noise))
        for field_name, validate in self.parameter_checks.items():
            object.__setattr__(self, field_name, validate(field_name, getattr(self, field_name)))

    def f(self, h: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        """The activation function on a NumPy array."""
        raise NotImplementedError

    def torch_f(self, h):  # pragma: no cover - abstract
        """The activation function on a torch tensor (tensor methods only)."""
        raise NotImplementedError

    def channel(self, rho_tilde: float) -> ScalarChannel:  # pragma: no cover - abstract
        """The scalar channel of this activation at pre-activation second moment ρ̃."""
        raise NotImplementedError

    def with_noise(self, noise: float) -> Activation:
        """A copy with another noise variance."""
        return replace(self, noise=noise)

    def sample(self, z: np.ndarray, rng=None) -> np.ndarray:
        """t = f(z + sqrt(noise) ξ) with fresh Gaussian noise (``rng``: seed or Generator)."""
        z = np.asarray(z, dtype=float)
        if self.noise > 0:
            z = z + np.sqrt(self.noise) * np.random.default_rng(rng).standard_normal(z.shape)
        return self.f(z)

    def second_moment(self, rho_tilde: float) -> float:
        """E_{u ~ N(0, ρ̃ + noise)} f(u)², the second moment ρ_{l+1} of the layer's output
        (Gauss-Hermite, 200 nodes)."""
        z, w = hermite(200)
        return float(np.dot(w, self.f(np.sqrt(rho_tilde + self.noise) * z) ** 2))


class PiecewiseLinear(Activation):
    """An activation made of linear pieces (see :attr:`pieces`); flat pieces are atoms."""

    @property
    def pieces(self) -> tuple[Piece, ...]:  # pragma: no cover - abstract
        raise NotImplementedError

    def channel(self, rho_tilde: float) -> ScalarChannel:
        return PiecewiseLinearChannel(self, rho_tilde)

    def f(self, h):
        h = np.asarray(h, dtype=float)
        out = np.empty_like(h)
        for p in self.pieces:
            inside = (h >= p.lo) & (h <= p.hi)
            out[inside] = p.slope * h[inside] + p.intercept
        return out

    def second_moment(self, rho_tilde: float) -> float:
        """Sum over pieces of E[(slope u + intercept)² 1{u in piece}], u ~ N(0, ρ̃ + noise),
        from the moments of a truncated standard normal (closed form)."""
        s = np.sqrt(rho_tilde + self.noise)
        total = 0.0
        for p in self.pieces:
            a, b = p.lo / s, p.hi / s
            m0 = ndtr(b) - ndtr(a)
            pa = 0.0 if np.isinf(a) else np.exp(-0.5 * a * a) / np.sqrt(2 * np.pi)
            pb = 0.0 if np.isinf(b) else np.exp(-0.5 * b * b) / np.sqrt(2 * np.pi)
            m1 = pa - pb
            m2 = m0 + (0.0 if np.isinf(a) else a * pa) - (0.0 if np.isinf(b) else b * pb)
            k = p.slope * s
            total += k * k * m2 + 2 * k * p.intercept * m1 + p.intercept**2 * m0
        return float(total)


@dataclass(frozen=True)
class Linear(PiecewiseLinear):
    """t = z + ξ."""

    noise: float = 0.0
    name: ClassVar[str] = "linear"

    @property
    def pieces(self):
        return (Piece(-np.inf, np.inf, 1.0, 0.0),)

    def channel(self, rho_tilde: float) -> ScalarChannel:
        return LinearChannel(self, rho_tilde)

    def f(self, h):
        return np.asarray(h, dtype=float)

    def torch_f(self, h):
        return h

    def second_moment(self, rho_tilde: float) -> float:
        return float(rho_tilde + self.noise)


@dataclass(frozen=True)
class LeakyReLU(PiecewiseLinear):
    """t = max(u, slope u), u = z + ξ, ``slope`` in [0, 1] (keyword-only)."""

    noise: float = 0.0
    _: KW_ONLY
    slope: float = 0.01
    name: ClassVar[str] = "leaky_relu"
    parameter_checks: ClassVar[dict] = {"slope": check.probability}

    @property
    def pieces(self):
        return (Piece(-np.inf, 0.0, self.slope, 0.0), Piece(0.0, np.inf, 1.0, 0.0))

    def f(self, h):
        h = np.asarray(h, dtype=float)
        return np.where(h > 0, h, self.slope * h)

    def torch_f(self, h):
        import torch.nn.functional as F  # noqa: N812 -- loaded already when h is a tensor

        return F.leaky_relu(h, self.slope)

    def second_moment(self, rho_tilde: float) -> float:
        return float(0.5 * (1 + self.slope**2) * (rho_tilde + self.noise))


@dataclass(frozen=True)
class ReLU(PiecewiseLinear):
    """t = max(z + ξ, 0)."""

    noise: float = 0.0
    name: ClassVar[str] = "relu"

    @property
    def pieces(self):
        return (Piece(-np.inf, 0.0, 0.0, 0.0), Piece(0.0, np.inf, 1.0, 0.0))

    def f(self, h):
        return np.maximum(np.asarray(h, dtype=float), 0.0)

    def torch_f(self, h):
        return h.relu()

    def second_moment(self, rho_tilde: float) -> float:
        return float(0.5 * (rho_tilde + self.noise))


@dataclass(frozen=True)
class HardTanh(PiecewiseLinear):
    """t = clip(z + ξ, -threshold, threshold) (``threshold`` > 0, keyword-only)."""

    noise: float = 0.0
    _: KW_ONLY
    threshold: float = 1.0
    name: ClassVar[str] = "hardtanh"
    parameter_checks: ClassVar[dict] = {"threshold": check.positive}

    @property
    def pieces(self):
        t = self.threshold
        return (Piece(-np.inf, -t, 0.0, -t), Piece(-t, t, 1.0, 0.0), Piece(t, np.inf, 0.0, t))

    def f(self, h):
        return np.clip(np.asarray(h, dtype=float), -self.threshold, self.threshold)

    def torch_f(self, h):
        return h.clamp(-self.threshold, self.threshold)


@dataclass(frozen=True)
class HardSigmoid(PiecewiseLinear):
    """t = clip(u/6 + 1/2, 0, 1), u = z + ξ (``torch.nn.Hardsigmoid``): a piecewise-linear
    activation that is neither odd nor of unit slope, with atoms at 0 and 1. It is the worked
    example of ``docs/new_activation.md``: declaring the pieces is all its channel needs."""

    noise: float = 0.0
    name: ClassVar[str] = "hardsigmoid"

    @property
    def pieces(self):
        return (Piece(-np.inf, -3.0, 0.0, 0.0), Piece(-3.0, 3.0, 1.0 / 6.0, 0.5),
                Piece(3.0, np.inf, 0.0, 1.0))

    def torch_f(self, h):
        import torch.nn.functional as F  # noqa: N812 -- loaded already when h is a tensor

        return F.hardsigmoid(h)


@dataclass(frozen=True)
class Sign(PiecewiseLinear):
    """t = sign(z + ξ) in {-1, +1} (the probit channel); a discrete output."""

    noise: float = 0.0
    name: ClassVar[str] = "sign"
    is_discrete: ClassVar[bool] = True

    @property
    def pieces(self):
        return (Piece(-np.inf, 0.0, 0.0, -1.0), Piece(0.0, np.inf, 0.0, 1.0))

    def f(self, h):
        return np.where(np.asarray(h, dtype=float) >= 0, 1.0, -1.0)

    def torch_f(self, h):
        return (h >= 0).to(h.dtype) * 2.0 - 1.0

    def second_moment(self, rho_tilde: float) -> float:
        return 1.0


@dataclass(frozen=True)
class Tanh(Activation):
    """t = tanh(z + ξ): smooth, bounded, with bounded derivatives (Theorem 1's H2)."""

    noise: float = 0.0
    name: ClassVar[str] = "tanh"

    def f(self, h):
        return np.tanh(np.asarray(h, dtype=float))

    def torch_f(self, h):
        return h.tanh()

    def channel(self, rho_tilde: float) -> ScalarChannel:
        return TanhChannel(self, rho_tilde)


def from_name(name: str, **params) -> Activation:
    """An activation from its registry ``name`` (:data:`ACTIVATIONS`) and parameters, e.g.
    ``from_name("relu", noise=1e-5)``."""
    if not isinstance(name, str) or name.lower() not in ACTIVATIONS:
        raise ValueError(f"activation name must be one of {sorted(ACTIVATIONS)}, got {name!r}")
    return ACTIVATIONS[name.lower()](**params)
