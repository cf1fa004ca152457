"""Forward sampling of the stochastic network of eq. (1) from actual weight matrices."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .activations import Activation

__all__ = ["propagate"]


def propagate(x: np.ndarray, weights: Sequence[np.ndarray], activations: Sequence[Activation],
              rng=None) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The layers T_1..T_L of a batch of inputs ``x`` (rows are samples).

    Layer l computes z = T_{l-1} W_l^T and T_l = f_l(z + ξ_l) with fresh Gaussian noise of the
    activation's variance (drawn from ``rng``, a seed or a Generator, in layer order).
    Returns ``(t, clean)``: t[l-1] = T_l with its noise, and clean[l-1] = f_l(z), the
    noise-free activation of layer l given the sampled T_{l-1}.
    """
    g = np.random.default_rng(rng)
    t, clean, prev = [], [], np.asarray(x, dtype=float)
    for W, act in zip(weights, activations, strict=True):
        z = prev @ np.asarray(W, dtype=float).T
        clean.append(act.f(z))
        prev = act.sample(z, g) if act.noise > 0 else clean[-1]
        t.append(prev)
    return t, clean
