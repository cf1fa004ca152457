"""Argument checks shared by the exact ground truths."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from .. import _validate as check


def _weights(weights: Sequence[ArrayLike], name: str = "weights") -> list[np.ndarray]:
    """Float64 copies of the weight matrices, checking shapes (n_l, n_{l-1}) chain up."""
    if isinstance(weights, np.ndarray) and weights.ndim == 2:
        weights = [weights]
    try:
        mats = [np.array(w, dtype=np.float64) for w in weights]
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a sequence of 2-D real arrays") from None
    if len(mats) == 0:
        raise ValueError(f"{name} must contain at least one matrix")
    for i, w in enumerate(mats):
        if w.ndim != 2 or w.size == 0:
            raise ValueError(f"{name}[{i}] must be a non-empty 2-D array (n_out, n_in), got "
                             f"shape {w.shape}")
        if not np.all(np.isfinite(w)):
            raise ValueError(f"{name}[{i}] must be finite (no NaN or inf)")
        if i > 0 and w.shape[1] != mats[i - 1].shape[0]:
            raise ValueError(f"{name}[{i}] has {w.shape[1]} columns, expected "
                             f"{mats[i - 1].shape[0]} (the rows of {name}[{i - 1}])")
    return mats


def _per_layer(name: str, values, n_layers: int, *, allow_none: bool) -> list[float | None]:
    """A scalar or a sequence of ``n_layers`` noise variances (``None`` entries if allowed)."""
    if values is None and allow_none:
        return [None] * n_layers
    if np.ndim(values) == 0:
        values = [values] * n_layers
    values = list(values)
    if len(values) != n_layers:
        raise ValueError(f"{name} must hold {n_layers} values (one per layer), got {len(values)}")
    out: list[float | None] = []
    for i, v in enumerate(values):
        if v is None and allow_none:
            out.append(None)
        else:
            out.append(check.noise(f"{name}[{i}]", v))
    return out


