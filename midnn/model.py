"""The stochastic multi-layer network X -> T_1 -> ... -> T_L of eq. (1)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import _validate as check
from .activations import Activation
from .priors import Prior
from .spectra import Spectrum, WidthRatios

__all__ = ["Layer", "Model"]


@dataclass(frozen=True)
class Layer:
    """One layer T_l = activation(W_l T_{l-1} + ξ_l), W_l described by its ``spectrum``
    (the eigenvalues of W_l^T W_l and α_l = n_l / n_{l-1})."""

    spectrum: Spectrum
    activation: Activation

    def __post_init__(self) -> None:
        check.instance("spectrum", self.spectrum, Spectrum, "a midnn.spectra.Spectrum")
        check.instance("activation", self.activation, Activation,
                       "a midnn.activations.Activation")

    @property
    def alpha(self) -> float:
        return self.spectrum.alpha


@dataclass(frozen=True)
class Model(WidthRatios):
    """The prior P_0 of the components of X and the layers (eq. 1).

    Derived quantities in the paper's notation (section 2): ``alphas[k-1]`` = α_k =
    n_k/n_{k-1}, ``alpha_tilde[k]`` = α̃_k = n_k/n_0 (``alpha_tilde[0]`` = 1), and, from
    :meth:`second_moments`, ρ_k = E t_{k-1}² (the second moment of the input of layer k;
    L+1 entries, the last being E t_L²) and ρ̃_k = E[λ_k] ρ_k / α_k (the second moment of
    the pre-activation of layer k, λ_k an eigenvalue of W_k^T W_k).
    """

    prior: Prior
    layers: tuple[Layer, ...]

    def __init__(self, prior: Prior, layers: Sequence[Layer]):
        check.instance("prior", prior, Prior, "a midnn.priors.Prior")
        layers = tuple(check.sequence("layers", layers, min_len=1))
        for i, layer in enumerate(layers):
            check.instance(f"layers[{i}]", layer, Layer, "a midnn.Layer")
        object.__setattr__(self, "prior", prior)
        object.__setattr__(self, "layers", layers)

    def __repr__(self) -> str:
        inner = ", ".join(f"{layer.spectrum!r} -> {layer.activation!r}" for layer in self.layers)
        return f"Model({self.prior!r}: {inner})"

    @property
    def n_layers(self) -> int:
        return len(self.layers)

    @property
    def spectra(self) -> list[Spectrum]:
        """The spectrum of every layer."""
        return [layer.spectrum for layer in self.layers]

    def second_moments(self) -> tuple[np.ndarray, np.ndarray]:
        """(ρ, ρ̃): see the class docstring (propagated layer by layer, section 2)."""
        rho = [self.prior.second_moment]
        rho_t = []
        for layer in self.layers:
            rt = layer.spectrum.mean * rho[-1] / layer.alpha
            rho_t.append(rt)
            rho.append(layer.activation.second_moment(rt))
        return np.array(rho), np.array(rho_t)
