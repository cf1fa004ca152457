"""Anderson mixing of a fixed-point map, the accelerator of the ML-VAMP sweeps."""

from __future__ import annotations

import math

import numpy as np
from scipy.linalg import get_lapack_funcs

__all__ = ["Anderson"]

_GELSD: dict = {}


def _lstsq(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """min |a g - b| for a small n x k matrix ``a``: LAPACK gelsd with the cutoff
    eps max(n, k), as ``numpy.linalg.lstsq(a, b, rcond=None)``, without its Python overhead
    (~9 -> ~4 us per call, once per Anderson step)."""
    n, k = a.shape
    if (n, k) not in _GELSD:
        gelsd, lwork = get_lapack_funcs(("gelsd", "gelsd_lwork"), (a, b))
        work, iwork, info = lwork(n, k, 1, -1)
        if info != 0:
            raise np.linalg.LinAlgError("gelsd workspace query failed")
        _GELSD[n, k] = (gelsd, int(work), int(iwork), np.finfo(float).eps * max(n, k))
    gelsd, lw, liw, cutoff = _GELSD[n, k]
    rhs = np.zeros((max(n, k), 1))  # gelsd returns the solution in the right-hand side
    rhs[:n, 0] = b
    x, _, _, info = gelsd(a, rhs, lw, liw, cutoff, False, False)
    if info != 0:
        raise np.linalg.LinAlgError(f"gelsd failed (info {info})")
    return x[:k, 0]


class Anderson:
    """Anderson mixing (depth ``m``) of a fixed-point map x -> G(x) on log-variables.

    Each step solves the least-squares problem of the last ``m`` residual differences and
    returns the mixed point. With ``safeguard`` the history is dropped whenever the residual
    |G(x) - x| grows by more than ``growth`` from one step to the next: far from the fixed
    point (an informative start) the secant model is poor and the mixed steps would
    otherwise wander (``docs/decisions.md`` records the choice of ``growth``).
    """

    def __init__(self, m: int = 3, safeguard: bool = True, growth: float = 3.0):
        self.m = m
        self.safeguard = safeguard
        self.growth = growth
        self.last_norm = np.inf
        self.X: list[np.ndarray] = []
        self.F: list[np.ndarray] = []

    def step(self, x: np.ndarray, gx: np.ndarray) -> np.ndarray:
        f = gx - x
        # (a dot product: np.all and np.linalg.norm cost ~3 us each; f @ f is inf or nan
        # when an entry of f is)
        sq = float(f @ f)
        norm = math.sqrt(sq) if math.isfinite(sq) else math.inf
        if self.safeguard and self.F and norm > self.growth * self.last_norm:
            # the residual grew: the history describes the map badly here (a transient far
            # from the fixed point); restart from a plain step
            self.reset()
        self.last_norm = norm
        self.X.append(gx)
        self.F.append(f)
        if len(self.F) > self.m + 1:
            self.X.pop(0)
            self.F.pop(0)
        if len(self.F) < 2:
            return gx
        F, X = np.array(self.F), np.array(self.X)
        dF, dX = (F[1:] - F[:-1]).T, (X[1:] - X[:-1]).T
        if not (math.isfinite(norm) and np.logical_and.reduce(np.isfinite(dF), axis=None)
                and np.logical_and.reduce(np.isfinite(dX), axis=None)):
            self.reset()
            return gx
        try:
            gamma = _lstsq(dF, f)
        except np.linalg.LinAlgError:
            self.reset()
            return gx
        out = gx - dX @ gamma
        return out if np.logical_and.reduce(np.isfinite(out)) else gx

    def reset(self) -> None:
        self.X.clear()
        self.F.clear()
