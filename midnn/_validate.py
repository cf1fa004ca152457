"""Argument validation: every bad input raises an error naming the argument.

Types are checked, never coerced: a wrong type (a string, a bool where a number is expected,
a float where an integer is expected) raises ``TypeError``; a value of the right type outside
its range raises ``ValueError`` with the allowed range.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np

__all__ = ["real", "integer", "noise", "positive", "probability", "boolean", "choice",
           "eigenvalues", "sequence", "instance", "per_layer"]


def _interval(low, high, low_open: bool, high_open: bool) -> str:
    lb = "-inf" if low is None else f"{low:g}"
    hb = "inf" if high is None else f"{high:g}"
    return (("(" if low_open or low is None else "[") + f"{lb}, {hb}"
            + (")" if high_open or high is None else "]"))


def real(name: str, value, *, low: float | None = None, high: float | None = None,
         low_open: bool = False, high_open: bool = False, finite: bool = True) -> float:
    """``value`` as a float: a real number (int, float or NumPy real scalar, not a bool or a
    string), finite unless ``finite=False`` (NaN is always refused), inside the range."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r} "
                        f"({type(value).__name__})")
    x = float(value)
    if math.isnan(x) or (finite and math.isinf(x)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    lo_ok = low is None or (x > low if low_open else x >= low)
    hi_ok = high is None or (x < high if high_open else x <= high)
    if not (lo_ok and hi_ok):
        raise ValueError(f"{name} must lie in {_interval(low, high, low_open, high_open)}, "
                         f"got {value!r}")
    return x


def integer(name: str, value, *, low: int | None = None, high: int | None = None) -> int:
    """``value`` as an int: an integer (int or NumPy integer, not a bool, a float or a
    string), inside [low, high]."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    n = int(value)
    if (low is not None and n < low) or (high is not None and n > high):
        raise ValueError(f"{name} must be an integer in {_interval(low, high, False, False)}, "
                         f"got {value!r}")
    return n


#: Largest noise variance accepted: beyond it the order parameters of a layer (precisions
#: ~1/noise, their squares and products with the noise) leave the range of float64.
MAX_NOISE = 1e150


def noise(name: str, value) -> float:
    """A noise variance: a real in [0, MAX_NOISE]."""
    return real(name, value, low=0.0, high=MAX_NOISE)


def positive(name: str, value) -> float:
    """A finite real > 0."""
    return real(name, value, low=0.0, low_open=True)


def probability(name: str, value) -> float:
    """A real in [0, 1]."""
    return real(name, value, low=0.0, high=1.0)


def boolean(name: str, value) -> bool:
    """True or False (a Python or NumPy bool, not 0/1 or a string)."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def choice(name: str, value, allowed: Sequence[str]) -> str:
    """One of the strings ``allowed``."""
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} must be one of {tuple(allowed)}, got {value!r}")
    return value


def instance(name: str, value, cls: type | tuple[type, ...], what: str):
    """``value`` itself when it is an instance of ``cls`` (``what`` names the expected type
    in the message)."""
    if not isinstance(value, cls):
        raise TypeError(f"{name} must be {what}, got {type(value).__name__}")
    return value


def sequence(name: str, value, *, min_len: int = 0) -> list:
    """A list from a sequence (list, tuple, or other non-string ``Sequence``; a 1-D array)."""
    if isinstance(value, str | bytes) or not (
            isinstance(value, Sequence) or (isinstance(value, np.ndarray) and value.ndim == 1)):
        raise TypeError(f"{name} must be a sequence (list or tuple), got "
                        f"{type(value).__name__}")
    out = list(value)
    if len(out) < min_len:
        raise ValueError(f"{name} must hold at least {min_len} entries, got {len(out)}")
    return out


def eigenvalues(name: str, values) -> np.ndarray:
    """A non-empty 1-D array of finite, non-negative real eigenvalues (round-off negatives down
    to -1e-10 max|lambda| are clipped to 0)."""
    arr = np.asarray(values)
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be an array of real numbers, got dtype {arr.dtype}")
    arr = arr.astype(float)
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


def per_layer(name: str, value, n_layers: int, validate, *, allow_none: bool = False) -> list:
    """One value per layer: a scalar repeated ``n_layers`` times or a sequence of that length,
    each entry checked by ``validate(name, value)`` (``None`` entries kept when
    ``allow_none``)."""
    if value is None and allow_none:
        return [None] * n_layers
    if isinstance(value, str | bytes) or np.ndim(value) == 0:
        return [validate(name, value)] * n_layers
    values = sequence(name, value)
    if len(values) != n_layers:
        raise ValueError(f"{name} must be a scalar or hold {n_layers} values (one per layer), "
                         f"got {len(values)}")
    return [None if v is None and allow_none else validate(f"{name}[{i}]", v)
            for i, v in enumerate(values)]
