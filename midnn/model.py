"""The stochastic multi-layer network X -> T_1 -> ... -> T_L of eq. (1)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .activations import Activation
from .priors import Prior
from .spectra import Spectrum

__all__ = ["Layer", "Model", "random_model"]


@dataclass(frozen=True)
class Layer:
    """One layer T_l = activation(W_l T_{l-1} + xi_l), W_l described by its ``spectrum``."""

    spectrum: Spectrum
    activation: Activation

    def __post_init__(self) -> None:
        if not isinstance(self.spectrum, Spectrum):
            raise ValueError(f"spectrum must be a midnn.spectra.Spectrum, got "
                             f"{type(self.spectrum).__name__}")
        if not isinstance(self.activation, Activation):
            raise ValueError(f"activation must be a midnn.activations.Activation, got "
                             f"{type(self.activation).__name__}")

    @property
    def alpha(self) -> float:
        return self.spectrum.alpha


@dataclass(frozen=True)
class Model:
    """Prior P_0 of X and the list of layers (digest section 1).

    Derived quantities follow the digest's notation: ``alphas[k-1]`` = alpha_k = n_k/n_{k-1},
    ``alpha_tilde[k]`` = n_k/n_0 (``alpha_tilde[0]`` = 1), ``rho[k-1]`` = rho_k = E t_{k-1}^2
    (second moment of the input of layer k) and ``rho_tilde[k-1]`` = E lambda_k rho_k / alpha_k
    (second moment of the pre-activation of layer k). ``rho`` has L+1 entries, the last being
    E t_L^2.
    """

    prior: Prior
    layers: tuple[Layer, ...]

    def __init__(self, prior: Prior, layers: Sequence[Layer]):
        if not isinstance(prior, Prior):
            raise ValueError(f"prior must be a midnn.priors.Prior, got {type(prior).__name__}")
        layers = tuple(layers)
        if len(layers) == 0:
            raise ValueError("layers must contain at least one Layer")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise ValueError(f"layers[{i}] must be a midnn.Layer, got {type(layer).__name__}")
        object.__setattr__(self, "prior", prior)
        object.__setattr__(self, "layers", layers)

    @property
    def n_layers(self) -> int:
        return len(self.layers)

    @property
    def alphas(self) -> np.ndarray:
        return np.array([layer.alpha for layer in self.layers])

    @property
    def alpha_tilde(self) -> np.ndarray:
        return np.concatenate([[1.0], np.cumprod(self.alphas)])

    def second_moments(self) -> tuple[np.ndarray, np.ndarray]:
        """(rho, rho_tilde): see the class docstring (digest section 1.5)."""
        rho = [self.prior.second_moment]
        rho_t = []
        for layer in self.layers:
            rt = layer.spectrum.mean * rho[-1] / layer.alpha
            rho_t.append(rt)
            rho.append(layer.activation.second_moment(rt))
        return np.array(rho), np.array(rho_t)

    def truncated(self, n_layers: int, readout_noise: float | None = None) -> Model:
        """The chain X -> T_1 -> ... -> T_{n_layers}, last layer's noise set to readout_noise."""
        layers = list(self.layers[:n_layers])
        if readout_noise is not None:
            last = layers[-1]
            layers[-1] = Layer(last.spectrum, last.activation.with_noise(readout_noise))
        return Model(self.prior, layers)

    def sample(self, n_samples: int, weights: Sequence[np.ndarray], rng=None) -> list[np.ndarray]:
        """Samples [X, T_1, ..., T_L] (rows = samples) for given weight matrices W_l."""
        from .priors import as_generator

        g = as_generator(rng)
        if len(weights) != self.n_layers:
            raise ValueError(f"weights must hold {self.n_layers} matrices, got {len(weights)}")
        n0 = np.asarray(weights[0]).shape[1]
        out = [self.prior.sample((n_samples, n0), g)]
        for i, (layer, W) in enumerate(zip(self.layers, weights, strict=True)):
            W = np.asarray(W, dtype=float)
            if W.shape[1] != out[-1].shape[1]:
                raise ValueError(f"weights[{i}] has {W.shape[1]} columns, expected "
                                 f"{out[-1].shape[1]}")
            out.append(layer.activation.sample(out[-1] @ W.T, g))
        return out


def random_model(rng: np.random.Generator, max_layers: int = 3) -> Model:
    """A random valid model: the grid of the property test and of the benchmark.

    Prior among Gaussian(0, 1), Binary(0.5), GaussBernoulli(0.3); 1 to ``max_layers``
    Marchenko-Pastur layers with alpha uniform in [0.2, 4] and noise log-uniform in
    [1e-6, 1]; the last activation among Linear, ReLU, Sign, HardTanh (always noisy), the
    hidden ones among Linear, ReLU, HardTanh (noiseless with probability 1/2).
    """
    from .activations import HardTanh, Linear, ReLU, Sign
    from .priors import Binary, GaussBernoulli, Gaussian
    from .spectra import MarchenkoPastur

    priors = [Gaussian(0, 1), Binary(0.5), GaussBernoulli(0.3)]
    last = [Linear, ReLU, Sign, HardTanh]
    inner = [Linear, ReLU, HardTanh]
    L = int(rng.integers(1, max_layers + 1))
    layers = []
    for k in range(L):
        alpha = float(rng.uniform(0.2, 4.0))
        noise = float(10 ** rng.uniform(-6, 0))
        cls = last[rng.integers(len(last))] if k == L - 1 else inner[rng.integers(len(inner))]
        nz = noise if k == L - 1 else (0.0 if rng.random() < 0.5 else noise)
        layers.append(Layer(MarchenkoPastur(alpha), cls(noise=nz)))
    return Model(priors[rng.integers(len(priors))], layers)
