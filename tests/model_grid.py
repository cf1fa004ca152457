"""Seeded random models for the property tests and the benchmarks (a test fixture).

* :func:`random_model` -- the benchmark grid of ``benchmarks/bench_replica.py`` (1-3
  Marchenko-Pastur layers, the priors Gaussian(0, 1), Binary(0.5), GaussBernoulli(0.3)):
  the grid on which every refactoring of the engine is checked to leave the values equal
  (``tests/data/grid_values.json``);
* :func:`whole_class_model` -- a model drawn over the whole public model class (every
  prior with random parameters, every activation in every position, Sign at the output,
  Marchenko-Pastur and empirical spectra, noiseless inner layers), for the invariants of
  ``midnn.checks``.

Benchmarks import this module with ``tests/`` on ``sys.path``.
"""

from __future__ import annotations

import numpy as np

from midnn import Layer, Model
from midnn.activations import HardSigmoid, HardTanh, LeakyReLU, Linear, ReLU, Sign, Tanh
from midnn.priors import Binary, GaussBernoulli, Gaussian
from midnn.spectra import Empirical, MarchenkoPastur


def random_model(rng: np.random.Generator, max_layers: int = 3) -> Model:
    """Prior among Gaussian(0, 1), Binary(0.5), GaussBernoulli(0.3); 1 to ``max_layers``
    Marchenko-Pastur layers with alpha uniform in [0.2, 4] and noise log-uniform in
    [1e-6, 1]; the last activation among Linear, ReLU, Sign, HardTanh (always noisy), the
    hidden ones among Linear, ReLU, HardTanh (noiseless with probability 1/2)."""
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


def _activation(rng: np.random.Generator, noise: float, output: bool):
    kinds = (["linear", "relu", "leaky_relu", "hardtanh", "hardsigmoid", "tanh"]
             + (["sign"] if output else []))
    kind = kinds[rng.integers(len(kinds))]
    if kind == "leaky_relu":
        return LeakyReLU(noise, slope=float(rng.uniform(0.0, 1.0)))
    if kind == "hardtanh":
        return HardTanh(noise, threshold=float(10 ** rng.uniform(-0.5, 0.5)))
    return {"linear": Linear, "relu": ReLU, "tanh": Tanh, "sign": Sign,
            "hardsigmoid": HardSigmoid}[kind](noise)


def _spectrum(rng: np.random.Generator, alpha: float, n_in: int = 60):
    kind = rng.integers(3)
    if kind == 0:
        return MarchenkoPastur(alpha)
    n_out = max(int(round(alpha * n_in)), 1)
    if kind == 1:  # a Gaussian matrix
        W = rng.standard_normal((n_out, n_in)) / np.sqrt(n_in)
    else:  # orthogonal x diagonal: W = U diag(s) V^T with log-normal singular values
        r = min(n_in, n_out)
        U = np.linalg.qr(rng.standard_normal((n_out, n_out)))[0][:, :r]
        V = np.linalg.qr(rng.standard_normal((n_in, n_in)))[0][:, :r]
        W = (U * np.exp(rng.normal(0.0, 0.5, r))) @ V.T
    return Empirical.from_matrix(W)


def whole_class_model(rng: np.random.Generator, max_layers: int = 4) -> Model:
    """A model over the whole public class: prior Gaussian (mean in [-1, 1], variance
    log-uniform in [0.1, 10]), Binary (p_plus in [0.05, 0.95]) or GaussBernoulli (rho in
    [0.05, 1], mean in [-1, 1], variance in [0.1, 10]); 1 to ``max_layers`` layers, alpha in
    [0.2, 4], Marchenko-Pastur or empirical spectra (Gaussian or orthogonal x diagonal, 60
    inputs); any activation in any position (Sign at the output only); noises log-uniform
    in [1e-6, 1], inner layers noiseless with probability 0.3 (never after a discrete
    layer or input, whose noiseless image would be discrete and continuous at once)."""
    kind = rng.integers(3)
    if kind == 0:
        prior = Gaussian(float(rng.uniform(-1, 1)), float(10 ** rng.uniform(-1, 1)))
    elif kind == 1:
        prior = Binary(float(rng.uniform(0.05, 0.95)))
    else:
        prior = GaussBernoulli(float(rng.uniform(0.05, 1.0)), float(rng.uniform(-1, 1)),
                               float(10 ** rng.uniform(-1, 1)))
    L = int(rng.integers(1, max_layers + 1))
    layers = []
    for k in range(L):
        alpha = float(rng.uniform(0.2, 4.0))
        noise = float(10 ** rng.uniform(-6, 0))
        if k < L - 1 and rng.random() < 0.3:
            noise = 0.0
        layers.append(Layer(_spectrum(rng, alpha), _activation(rng, noise, k == L - 1)))
    return Model(prior, layers)
