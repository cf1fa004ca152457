"""What the solvers extremize: a chain prior -> layers, and the order parameters at a point.

A :class:`Chain` is a prior-like object (``mmse``, ``mutual_information``, ``second_moment``)
followed by layers, each with a spectrum and a scalar channel. The replica formula builds
one chain per quantity: X -> T_1 -> ... -> T_l for the entropy of layer l, and, for the
conditional entropy H(T_l | X), the chain that starts at the first noisy layer seen as a
prior (:class:`ChannelPrior`).

A :class:`State` holds the order parameters of eq. (3) per layer: A_k, V_k, Ã_k, Ṽ_k and the
θ_k of eq. (50a).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .channels import ScalarChannel
from .spectra import Spectrum, WidthRatios

__all__ = ["Chain", "State", "ChannelPrior"]


@dataclass
class Chain(WidthRatios):
    """prior -> layer_1 -> ... -> layer_L: ``spectra[k]`` and ``channels[k]`` describe layer
    k+1 (0-based lists)."""

    prior: object
    spectra: list[Spectrum]
    channels: list[ScalarChannel]

    @classmethod
    def from_model(cls, model, noises=None) -> Chain:
        """The chain X -> T_1 -> ... -> T_L of ``model`` (a :class:`midnn.Model`), layer k
        with noise ``noises[k]`` (default: the layers' own noises)."""
        _, rho_tilde = model.second_moments()
        if noises is None:
            noises = [layer.activation.noise for layer in model.layers]
        channels = [layer.activation.with_noise(nz).channel(rt)
                    for layer, rt, nz in zip(model.layers, rho_tilde, noises, strict=True)]
        return cls(model.prior, [layer.spectrum for layer in model.layers], channels)

    @property
    def n_layers(self) -> int:
        return len(self.spectra)

    @property
    def rho(self) -> np.ndarray:
        """ρ_k, the second moment of the input of each layer."""
        out = [self.prior.second_moment]
        for ch in self.channels[:-1]:
            out.append(ch.activation.second_moment(ch.rho_tilde))
        return np.array(out)


@dataclass
class State:
    """Order parameters of eq. (3): arrays of length L (entry k = layer k+1)."""

    A: np.ndarray
    V: np.ndarray
    A_tilde: np.ndarray
    V_tilde: np.ndarray
    theta: np.ndarray

    def copy(self) -> State:
        return State(*(np.array(x, dtype=float) for x in
                       (self.A, self.V, self.A_tilde, self.V_tilde, self.theta)))

    @classmethod
    def initial(cls, V0: np.ndarray) -> State:
        """The start of the reference code: V = V0, A = 1/(2 V0) (1 where V0 = 0), and
        Ã = Ṽ = θ = 0."""
        V0 = np.asarray(V0, dtype=float)
        A = np.where(V0 > 0, 0.5 / np.where(V0 > 0, V0, 1.0), 1.0)
        z = np.zeros_like(V0)
        return cls(A, V0.copy(), z.copy(), z.copy(), z.copy())

    def tail(self, start: int) -> State:
        """The state of layers ``start+1..L`` (a chain that begins after layer ``start``)."""
        return State(*(np.array(x[start:], dtype=float) for x in
                       (self.A, self.V, self.A_tilde, self.V_tilde, self.theta)))


@dataclass
class ChannelPrior:
    """The channel of layer j seen as the prior of the chain that follows it: t = f(z + ξ)
    with z ~ N(0, ρ̃) known (a separable prior, not identically distributed over the
    components, whose scalar Gaussian channel is the layer's hidden channel at Ṽ = 0)."""

    channel: ScalarChannel

    @property
    def second_moment(self) -> float:
        ch = self.channel
        return ch.activation.second_moment(ch.rho_tilde)

    @property
    def is_discrete(self) -> bool:
        return self.channel.is_discrete

    def mutual_information(self, snr: float) -> float:
        if np.isinf(snr):
            return self.channel.output_entropy(0.0) if self.is_discrete else np.inf
        return self.channel.hidden(snr, 0.0).mutual_information

    def mmse(self, snr: float) -> float:
        if np.isinf(snr):
            return 0.0
        return self.channel.hidden(snr, 0.0).V
