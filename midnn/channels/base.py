"""The scalar channel of one layer: the seam between an activation and the solvers.

For a layer with activation f, noise variance Δ, pre-activation second moment ρ̃ and overlap
parameter Ṽ, the pre-activation splits into a known part and a Gaussian unknown:

    z = ω + sqrt(Ṽ) z̃,   ω ~ N(0, m),  m = ρ̃ - Ṽ,
    t = f(u),   u = z + ξ ~ N(ω, v) given ω,  v = Ṽ + Δ.

Two scalar problems enter the potential φ of eq. (3) of the paper (arXiv:1805.09785v2):

* the **output channel** (the last layer, eq. 5): H(t | ω), the conditional entropy of t
  (Shannon for a discrete t; differential, with respect to Lebesgue measure plus Dirac masses,
  for a piecewise-linear t), and its A-update A = 2 ∂H/∂Ṽ (eq. 52);
* the **hidden channel** (eq. 4): t observed through y = t + ξ'/sqrt(Ã), with
  I(t; y | ω) and its updates A = 2 ∂I/∂Ṽ (eq. 51; = E g_out², g_out = ∂_ω log p(y | ω))
  and V = 2 ∂I/∂Ã (eq. 54; = E Var(t | y, ω)).

An activation provides its channel through :meth:`midnn.activations.Activation.channel`;
a channel class implements :meth:`ScalarChannel._output`, :meth:`ScalarChannel._hidden` and
:meth:`ScalarChannel._conditional_variance` for m >= 0 and v > 0 (and Ã > 0 for the
hidden channel), while this base class owns the boundary cases, the split into (m, v) and the
cache. ``docs/new_activation.md`` walks through adding one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from ..precision import current as current_precision

__all__ = ["HiddenValues", "ScalarChannel"]

#: Cached evaluations per channel before the cache is emptied (a solve revisits a few dozen
#: points; a bounded cache keeps long training runs from growing without bound).
_CACHE_SIZE = 256


@dataclass(frozen=True)
class HiddenValues:
    """I(t; y | ω), the A-update (eq. 51) and the V-update (eq. 54) at one point."""

    mutual_information: float
    A: float
    V: float


class ScalarChannel:
    """Scalar channel of one layer (activation with its noise, and ρ̃).

    Parameters
    ----------
    activation : midnn.activations.Activation
        The layer's activation; its ``noise`` is Δ.
    rho_tilde : float
        ρ̃, the second moment of the pre-activation z.
    """

    #: The updates are closed form (cheap): the ML-VAMP sweep recomputes the A-update of such
    #: a channel rather than reusing the one of its forward pass.
    closed_form: ClassVar[bool] = False

    def __init__(self, activation, rho_tilde: float):
        self.activation = activation
        self.rho_tilde = float(rho_tilde)
        self.noise = float(activation.noise)
        self.is_discrete = bool(activation.is_discrete)
        self._cache: dict = {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.activation!r}, rho_tilde={self.rho_tilde:.6g})"

    def split(self, V_tilde: float) -> tuple[float, float]:
        """(m, v) = (ρ̃ - Ṽ, Ṽ + Δ), clipped at 0 (a state may overshoot by round-off)."""
        return max(self.rho_tilde - V_tilde, 0.0), max(V_tilde, 0.0) + self.noise

    def _cached(self, key, compute):
        try:
            return self._cache[key]
        except KeyError:
            pass
        value = compute()
        if len(self._cache) > _CACHE_SIZE:
            self._cache.clear()
        self._cache[key] = value
        return value

    # ---------------------------------------------------------------------- output side
    def output(self, V_tilde: float) -> tuple[float, float]:
        """(H(t | ω; Ṽ, ρ̃) of eq. (5), A = 2 ∂H/∂Ṽ of eq. (52))."""
        return self._cached(("out", V_tilde, current_precision()),
                            lambda: self._output_at(*self.split(V_tilde)))

    def output_entropy(self, V_tilde: float) -> float:
        """H(t | ω; Ṽ, ρ̃) of eq. (5) (Shannon for a discrete output)."""
        return self.output(V_tilde)[0]

    def output_A(self, V_tilde: float) -> float:
        """The A-update of the output layer, A = 2 ∂H/∂Ṽ (eq. 52)."""
        return self.output(V_tilde)[1]

    def _output_at(self, m: float, v: float) -> tuple[float, float]:
        if math.isnan(m + v):  # an inadmissible solver iterate: the solver reports it
            return math.nan, math.nan
        if v <= 0:
            if self.is_discrete:  # t is a known function of ω: no entropy, infinite A
                return 0.0, math.inf
            raise ValueError(f"the output of a continuous layer ({self.activation!r}) needs "
                             "noise + Ṽ > 0: its differential entropy diverges")
        return self._output(m, v)

    # ---------------------------------------------------------------------- hidden side
    def hidden(self, A_tilde: float, V_tilde: float) -> HiddenValues:
        """I(t; t + ξ'/sqrt(Ã) | ω), the A-update (eq. 51) and the V-update (eq. 54)."""
        return self._cached(("hid", A_tilde, V_tilde, current_precision()),
                            lambda: self._hidden_at(A_tilde, *self.split(V_tilde)))

    def _hidden_at(self, A_tilde: float, m: float, v: float) -> HiddenValues:
        if math.isnan(A_tilde + m + v):  # an inadmissible solver iterate: the solver reports it
            return HiddenValues(math.nan, math.nan, math.nan)
        if v <= 0:
            # t is a deterministic function of the known ω: nothing to learn, and, when t is
            # observed, the precision on ω is infinite (NaN here: the solvers freeze the layer)
            return HiddenValues(0.0, 0.0 if A_tilde <= 0 else math.nan, 0.0)
        if A_tilde <= 0:
            return HiddenValues(0.0, 0.0, self._conditional_variance(m, v))
        return self._hidden(A_tilde, m, v)

    # ---------------------------------------------------------------------- to implement
    def _output(self, m: float, v: float) -> tuple[float, float]:  # pragma: no cover
        """(H, A) of the output channel for m >= 0, v > 0."""
        raise NotImplementedError

    def _hidden(self, A_tilde: float, m: float, v: float) -> HiddenValues:  # pragma: no cover
        """(I, A, V) of the hidden channel for Ã > 0, m >= 0, v > 0."""
        raise NotImplementedError

    def _conditional_variance(self, m: float, v: float) -> float:  # pragma: no cover
        """E_ω Var(t | ω), the V-update at Ã = 0, for m >= 0, v > 0."""
        raise NotImplementedError
