"""Argument validation helpers: every bad input raises a ValueError naming the argument."""

from __future__ import annotations

import math

import numpy as np


def real(name: str, value, *, low: float | None = None, high: float | None = None,
         low_open: bool = False, high_open: bool = False) -> float:
    """Return ``value`` as a float, checking it is finite and inside the given range."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number, got {value!r}") from None
    if math.isnan(x) or math.isinf(x):
        raise ValueError(f"{name} must be finite, got {value!r}")
    lo_ok = low is None or (x > low if low_open else x >= low)
    hi_ok = high is None or (x < high if high_open else x <= high)
    if not (lo_ok and hi_ok):
        lb = "-inf" if low is None else f"{low:g}"
        hb = "inf" if high is None else f"{high:g}"
        interval = ("(" if low_open or low is None else "[") + f"{lb}, {hb}" + (
            ")" if high_open or high is None else "]")
        raise ValueError(f"{name} must lie in {interval}, got {value!r}")
    return x


def noise(name: str, value) -> float:
    """A noise variance: finite and >= 0."""
    return real(name, value, low=0.0)


def positive(name: str, value) -> float:
    return real(name, value, low=0.0, low_open=True)


def probability(name: str, value) -> float:
    return real(name, value, low=0.0, high=1.0)


def eigenvalues(name: str, values) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of eigenvalues, got shape "
                         f"{arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    scale = max(float(np.max(np.abs(arr))), 1.0)
    if np.min(arr) < -1e-10 * scale:
        raise ValueError(f"{name} must be >= 0 (eigenvalues of W^T W), got min "
                         f"{np.min(arr):.3g}")
    return np.clip(arr, 0.0, None)
