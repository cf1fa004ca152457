"""Argument checks shared by the exact ground truths."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike


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
