"""Exact entropies and mutual informations of linear networks with a Gaussian input.

Gaussian input X ~ N(mean, var I) (or any input covariance), linear layers of any depth
with any noises: everything is a Gaussian log-determinant,

    Σ_0 = var I,   Σ_l = W_l Σ_{l-1} W_l^T + Δ_l I,
    C_0 = 0,       C_l = W_l C_{l-1} W_l^T + Δ_l I,

    H(T_L)   = ½ log det(2πe Σ_L),     H(T_L | X) = ½ log det(2πe C_L),
    I(X;T_L) = H(T_L) - H(T_L | X),
    mmse     = tr(Σ_X - Σ_XT Σ_T^{-1} Σ_TX) / n_0,

where C_l is the covariance of T_l given X (the noise propagated through the layers),
evaluated with Cholesky factors in float64 (stable for n in the thousands).
:func:`linear_gaussian_generative` feeds the network with the generative data model of the
paper's section 4 (X = W_dec Y + noise). Conventions as in the rest of midnn: nats per n_0,
noise = variance of the Gaussian noise added before the activation, W_l of shape
(n_l, n_{l-1}).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.linalg import cholesky, solve_triangular

from .. import _validate as check
from ..units import MMSE_PER_COMPONENT, NATS_PER_N0
from ._checks import _weights

__all__ = ["ExactResult", "linear_gaussian", "linear_gaussian_generative"]

_QUANTITIES = ("entropy", "conditional_entropy", "mutual_information", "mmse")

_LOG_2PI = math.log(2.0 * math.pi)
_LOG_2PIE = math.log(2.0 * math.pi * math.e)




@dataclass(frozen=True)
class ExactResult:
    """Exact information quantities of a linear Gaussian network, one entry per layer.

    Entry ``l`` (0-based) describes the chain X -> T_1 -> ... -> T_{l+1} in which the layers
    before l+1 keep their own noises and layer l+1 is observed with its readout noise.

    Attributes
    ----------
    entropy : ndarray
        H(T_l) / n (differential entropy, nats), n = n_0 or the ``normalization``.
    conditional_entropy : ndarray
        H(T_l | X) / n.
    mutual_information : ndarray
        I(X; T_l) / n = H(T_l)/n - H(T_l|X)/n.
    mmse : ndarray
        E ||X - E[X | T_l]||^2 / n_X: the minimum mean squared error of the network input X
        given T_l, per component of X (always divided by n_X = n_0, never by n).

    normalization : float
        n, the number the entropies are divided by.
    unit : str
        "nats per input unit (n_0)" or, with another ``normalization``, "nats per <n>".

    Entries whose observed layer has zero noise (only possible for l < L) are NaN: the
    differential entropy of a noiseless linear image diverges generically.
    """

    entropy: np.ndarray
    conditional_entropy: np.ndarray
    mutual_information: np.ndarray
    mmse: np.ndarray
    normalization: float = float("nan")
    unit: str = NATS_PER_N0

    def __repr__(self) -> str:
        def fmt(a):
            return "[" + ", ".join(f"{x:.6g}" for x in np.asarray(a, float)) + "]"
        return (f"ExactResult(H={fmt(self.entropy)}, I={fmt(self.mutual_information)}, "
                f"mmse={fmt(self.mmse)}, unit={self.unit!r})")

    def to_dict(self) -> dict:
        """A JSON-able dict (NaN entries as None)."""
        out = {q: [None if not np.isfinite(x) else float(x) for x in getattr(self, q)]
               for q in _QUANTITIES}
        return {**out, "normalization": float(self.normalization), "unit": self.unit}

    @classmethod
    def from_dict(cls, d) -> ExactResult:
        return cls(*(np.array([np.nan if x is None else x for x in d[q]], dtype=float)
                     for q in _QUANTITIES),
                   normalization=float(d["normalization"]), unit=d["unit"])

    def to_dataframe(self):
        """One row per layer (pandas, imported here); units in ``DataFrame.attrs``."""
        import pandas as pd

        df = pd.DataFrame({"layer": np.arange(1, len(self.entropy) + 1),
                           **{q: np.asarray(getattr(self, q), float) for q in _QUANTITIES}})
        df.attrs["units"] = {"entropy": self.unit, "conditional_entropy": self.unit,
                             "mutual_information": self.unit,
                             "mmse": MMSE_PER_COMPONENT}
        return df


class _Cov:
    """A covariance matrix stored either as ``scalar * I`` (``mat is None``) or densely."""

    __slots__ = ("scalar", "mat")

    def __init__(self, scalar: float = 0.0, mat: np.ndarray | None = None):
        self.scalar = scalar
        self.mat = mat

    def congruence(self, W: np.ndarray) -> _Cov:
        """W Sigma W^T (zero stays a scalar zero)."""
        if self.mat is None:
            if self.scalar == 0.0:
                return _Cov(0.0)
            M = self.scalar * (W @ W.T)
        else:
            M = W @ self.mat @ W.T
        return _Cov(mat=0.5 * (M + M.T))

    def plus_identity(self, delta: float) -> _Cov:
        if self.mat is None:
            return _Cov(self.scalar + delta)
        M = self.mat.copy()
        M[np.diag_indices_from(M)] += delta
        return _Cov(mat=M)

    def logdet(self, n: int, what: str) -> tuple[float, np.ndarray | None]:
        """log det and (for a dense matrix) its lower Cholesky factor."""
        if self.mat is None:
            if self.scalar <= 0.0:
                raise ValueError(f"the covariance of {what} is singular (zero noise)")
            return n * math.log(self.scalar), None
        try:
            L = cholesky(self.mat, lower=True, check_finite=False)
        except np.linalg.LinAlgError:
            raise ValueError(f"the covariance of {what} is not positive definite: its entropy "
                             "diverges (give that layer a positive noise)") from None
        return 2.0 * float(np.sum(np.log(np.diag(L)))), L


def linear_gaussian(
    weights: Sequence[ArrayLike],
    noises: float | Sequence[float],
    var: float = 1.0,
    readout_noise: float | Sequence[float | None] | None = None,
    *,
    input_cov: ArrayLike | None = None,
    normalization: float | None = None,
) -> ExactResult:
    r"""Exact H(T_l), H(T_l|X), I(X;T_l) and MMSE of a linear network with Gaussian input.

    The network is T_l = W_l T_{l-1} + xi_l, xi_l ~ N(0, Delta_l I_{n_l}), T_0 = X with
    X ~ N(mean, var I_{n_0}) (the mean is irrelevant) or X ~ N(0, ``input_cov``). With
    Sigma_l the covariance of T_l and C_l the covariance of T_l given X (``docs/derivations.md``),

    .. math::

        \Sigma_l = W_l \Sigma_{l-1} W_l^\top + \Delta_l I,\quad
        C_l = W_l C_{l-1} W_l^\top + \Delta_l I,\quad C_0 = 0,

        H(T_l) = \tfrac12 \log\det(2\pi e\,\Sigma_l),\quad
        H(T_l|X) = \tfrac12 \log\det(2\pi e\,C_l),\quad I = H(T_l) - H(T_l|X),

        \mathrm{mmse}_l = \operatorname{tr}(\Sigma_X - \Sigma_{XT}\Sigma_l^{-1}\Sigma_{TX})/n_0,
        \quad \Sigma_{TX} = W_l \cdots W_1 \Sigma_X .

    Log-determinants come from Cholesky factors and the MMSE from a triangular solve (no
    explicit inverse), all in float64; the cost is O(n^3) per layer.

    Parameters
    ----------
    weights : sequence of array_like
        W_1, ..., W_L, W_l of shape (n_l, n_{l-1}). A single 2-D array means L = 1.
    noises : float or sequence of float
        Delta_1, ..., Delta_L >= 0 (a scalar is used for every layer). Inner noises may be
        zero; the observed layer of the last entry must be noisy.
    var : float, default 1.0
        Variance of the i.i.d. Gaussian input components (ignored if ``input_cov`` is given).
    readout_noise : float or sequence of (float or None), optional
        Entry l of the result describes X -> ... -> T_l with the noise of layer l replaced by
        ``readout_noise`` (a scalar for all layers, or one value per layer; ``None`` keeps the
        layer's own noise). The noise that layer l passes on to deeper layers is always its
        own Delta_l. Same semantics as the replica API's ``readout_noise``.
    input_cov : array_like, optional
        Covariance Sigma_X of a zero-mean Gaussian input (n_0, n_0), symmetric positive
        semi-definite. Replaces ``var * I``.
    normalization : float, optional
        Number n the entropies and the mutual information are divided by (default n_0). The
        MMSE is always per component of X.

    Returns
    -------
    ExactResult
        One entry per layer.

    Raises
    ------
    ValueError
        Inconsistent shapes, negative noises, a zero noise on the observed last layer (the
        entropy diverges), a non-PSD ``input_cov`` or a covariance that is numerically not
        positive definite.
    """
    mats = _weights(weights)
    L = len(mats)
    own = check.per_layer("noises", noises, L, check.noise)
    read = check.per_layer("readout_noise", readout_noise, L, check.noise, allow_none=True)
    observed = [o if r is None else r for o, r in zip(own, read, strict=True)]
    if observed[-1] == 0.0:
        which = "readout_noise" if read[-1] is not None else "noises"
        raise ValueError(f"{which}[{L - 1}] is 0: the last layer must be noisy, otherwise the "
                         "differential entropy of T_L diverges")
    n0 = mats[0].shape[1]

    if input_cov is None:
        var = check.positive("var", var)
        sigma_x = _Cov(var)
        trace_x = var * n0
    else:
        sigma_x = _Cov(mat=_input_covariance(input_cov, n0))
        trace_x = float(np.trace(sigma_x.mat))
    norm = float(n0) if normalization is None else check.positive("normalization",
                                                                  normalization)

    S, C = sigma_x, _Cov(0.0)
    cross: np.ndarray | None = None  # Cov(T_l, X) = W_l ... W_1 Sigma_X
    out = np.full((4, L), np.nan)
    for l, W in enumerate(mats):
        n = W.shape[0]
        G, Gc = S.congruence(W), C.congruence(W)
        if cross is None:
            cross = W * sigma_x.scalar if sigma_x.mat is None else W @ sigma_x.mat
        else:
            cross = W @ cross
        r = observed[l]
        if r > 0.0:
            what = f"T_{l + 1}"
            logdet_s, chol = G.plus_identity(r).logdet(n, what)
            logdet_c, _ = Gc.plus_identity(r).logdet(n, f"{what} given X")
            Z = solve_triangular(chol, cross, lower=True, check_finite=False)
            explained = float(np.sum(Z * Z))
            out[:, l] = (
                0.5 * (n * _LOG_2PIE + logdet_s) / norm,
                0.5 * (n * _LOG_2PIE + logdet_c) / norm,
                0.5 * (logdet_s - logdet_c) / norm,
                max(trace_x - explained, 0.0) / n0,
            )
        S, C = G.plus_identity(own[l]), Gc.plus_identity(own[l])
    unit = NATS_PER_N0 if normalization is None else f"nats per {norm:g} units"
    return ExactResult(entropy=out[0], conditional_entropy=out[1], mutual_information=out[2],
                       mmse=out[3], normalization=norm, unit=unit)


def _input_covariance(input_cov: ArrayLike, n0: int) -> np.ndarray:
    try:
        M = np.array(input_cov, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("input_cov must be a real (n_0, n_0) matrix") from None
    if M.shape != (n0, n0):
        raise ValueError(f"input_cov must have shape ({n0}, {n0}) (n_0 = columns of "
                         f"weights[0]), got {M.shape}")
    if not np.all(np.isfinite(M)):
        raise ValueError("input_cov must be finite (no NaN or inf)")
    scale = max(float(np.max(np.abs(M))), np.finfo(float).tiny)
    if np.max(np.abs(M - M.T)) > 1e-10 * scale:
        raise ValueError("input_cov must be symmetric")
    M = 0.5 * (M + M.T)
    jitter = M.copy()
    jitter[np.diag_indices_from(jitter)] += 1e-10 * scale
    try:
        cholesky(jitter, lower=True, check_finite=False)
    except np.linalg.LinAlgError:
        raise ValueError("input_cov must be positive semi-definite") from None
    return M


def linear_gaussian_generative(
    decoder: ArrayLike,
    decoder_noise: float,
    weights: Sequence[ArrayLike],
    noises: float | Sequence[float],
    var: float = 1.0,
    readout_noise: float | Sequence[float | None] | None = None,
) -> ExactResult:
    """:func:`linear_gaussian` fed by the generative data model X = W_dec Y + noise.

    The latent code Y ~ N(0, var I_{n_Y}) is decoded into the network input
    X = W_dec Y + xi_dec, xi_dec ~ N(0, Delta_dec I_{n_X}), W_dec of shape (n_X, n_Y)
    (``docs/derivations.md``), so that Sigma_X = var W_dec W_dec^T + Delta_dec I. The network
    X -> T_1 -> ... -> T_L is then evaluated exactly as in :func:`linear_gaussian`.

    Parameters
    ----------
    decoder : array_like
        W_dec, shape (n_X, n_Y) with n_X = n_0 the input dimension of ``weights[0]``.
    decoder_noise : float
        Delta_dec >= 0 (zero gives a singular, rank-n_Y input covariance, which is allowed).
    weights, noises, readout_noise
        As in :func:`linear_gaussian`.
    var : float, default 1.0
        Variance of the latent components Y_i.

    Returns
    -------
    ExactResult
        H(T_l)/n_Y, H(T_l|X)/n_Y and I(X; T_l)/n_Y (normalized by the *latent* dimension, as in
        the paper's synthetic-data experiments), and the MMSE of X given T_l per component
        of X. Note that I(X; T_l) is the information about the network input X, not about Y
        (they differ when Delta_dec > 0).
    """
    try:
        D = np.array(decoder, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("decoder must be a real 2-D array (n_X, n_Y)") from None
    if D.ndim != 2 or D.size == 0 or not np.all(np.isfinite(D)):
        raise ValueError(f"decoder must be a finite non-empty 2-D array (n_X, n_Y), got shape "
                         f"{D.shape}")
    delta = check.noise("decoder_noise", decoder_noise)
    var = check.positive("var", var)
    mats = _weights(weights)
    if mats[0].shape[1] != D.shape[0]:
        raise ValueError(f"decoder has {D.shape[0]} rows but weights[0] has {mats[0].shape[1]} "
                         "columns: they must match (n_X)")
    cov = var * (D @ D.T)
    cov[np.diag_indices_from(cov)] += delta
    return linear_gaussian(mats, noises, readout_noise=readout_noise, input_cov=cov,
                           normalization=D.shape[1])


