"""Non-parametric entropy and mutual-information estimators of the information-bottleneck debate.

These are the estimators that the paper compares the replica formula with (its Figure 2):

* :class:`KDEBound` -- the pairwise-distance bounds of Kolchinsky, Tracey & Wolpert (2017,
  "Estimating mixture entropy with pairwise distances"), as used by Saxe et al. (ICLR 2018);
* :class:`Binning` -- discretisation of every unit and plug-in entropies (Shwartz-Ziv &
  Tishby 2017);
* :class:`KLEntropy` -- the Kozachenko-Leonenko k-nearest-neighbour entropy estimator;
* :class:`KSG` -- the Kraskov-Stoegbauer-Grassberger k-NN mutual-information estimator
  (algorithm 1 of Kraskov et al. 2004) between multivariate X and T.

Interface (the protocol of the ``bmi`` benchmark, :mod:`midnn.interface`)
-------------------------------------------------------------------------
Every estimator is a frozen dataclass whose fields are its hyper-parameters (noise variance,
bin width or count, k, device, chunk size), returned by ``parameters()`` as a JSON-compatible
dict.  Mutual-information estimators implement ``estimate(x, y) -> float`` (total nats, as
bmi's ``IMutualInformationPointEstimator``) and entropy estimators ``entropy(t) -> float``.
Samples are 2-D arrays of shape ``(n_samples, n_dims)`` (numpy arrays, array-likes or torch
tensors); a 1-D array is refused rather than guessed, use ``a.reshape(-1, 1)``.

Units.  All results are in **nats** and are **totals** for the whole layer (not per unit).
The replica values are per input unit, H/n_0; use :func:`per_unit` (or divide by
the relevant width yourself) to compare.

Noise convention (:class:`KDEBound`).  ``noise`` is the *variance* sigma^2 of the isotropic
Gaussian noise added to the layer: T = f(X) + xi, xi ~ N(0, sigma^2 I), and the estimator is
given the noise-free activations f(x_i).  For a linear layer this is exactly midnn's
convention (:mod:`midnn.activations`: t = f(z + xi), xi ~ N(0, noise), with f the identity).
For a non-linear f the KDE convention (noise after f, as in Saxe et al.) differs from midnn's
(noise before f); the paper's comparison uses a small noise at the evaluated layer (1e-5 in
the authors' code).

What the KDE bounds bound
-------------------------
Given centres mu_i = f(x_i), i = 1..N, the bounds are rigorous for the entropy of the
*empirical* mixture p_N = (1/N) sum_i N(mu_i, sigma^2 I): with H(T|C) = d/2 log(2 pi e sigma^2)
(the entropy of one component),

    H_BC(p_N) = H(T|C) - (1/N) sum_i log (1/N) sum_j exp(-||mu_i - mu_j||^2 / (8 sigma^2))
              <= H(p_N) <=
    H_KL(p_N) = H(T|C) - (1/N) sum_i log (1/N) sum_j exp(-||mu_i - mu_j||^2 / (2 sigma^2)),

since the Bhattacharyya distance and the KL divergence between N(mu_i, s I) and N(mu_j, s I)
are ||mu_i - mu_j||^2/(8 s) and ||mu_i - mu_j||^2/(2 s).  The mutual-information bounds are
I = H - H(T|X) with H(T|X) = H(T|C) = d/2 log(2 pi e sigma^2), so that both lie in [0, log N].

With respect to the *population* entropy H(p), p = E_x N(f(x), sigma^2 I):

* E H(p_N) = H(p) - E KL(p_N || p) <= H(p) (concavity), so the lower bound is a lower bound of
  H(p) in expectation, for every N;
* the upper bound is **not** a bound of H(p) in general: it never exceeds log N + H(T|C), so
  it falls below H(p) as soon as the true I(X;T) > log N (high dimension, small noise: the
  saturation at log N seen in the IB literature).  For large N at fixed sigma it tends to a
  limit above H(p); for Gaussian f(X) ~ N(0, S) the limits are given by
  :func:`kde_bounds_gaussian_limit` (upper: H(p) + 1/2 tr(S (S + sigma^2)^-1)).

:func:`kde_bounds_many` gives the bounds for several kernel variances from one pass over the
pairs (the squared distances do not depend on the variance).  The pairwise sums are computed
in torch, in row blocks (one logsumexp per row), so that the
N x N distance matrix is never formed when it is large (blocks of ``DEFAULT_BLOCK_ELEMENTS``
entries by default): 20,000 samples x 1,000 dimensions ran with an 870 MiB peak process RSS,
torch and the 153 MiB input included (~75 s on 2 CPU cores, 0.1 s on an H100).
Squared distances come from the Gram matrix of the centred activations,
with an absolute round-off of about eps_mach ||mu_i - mean||^2 that is then divided by
2 sigma^2: with float64 (the default) and the paper's sigma^2 = 1e-5 this is ~1e-7 for
activations of squared norm ~1e4; float32 (eps_mach ~ 1e-7) is unusable at such noise levels.
Exact self-distances are set to 0.

Binning
-------
Every unit is discretised into bins of a given width or a given count over a range that is by
default adaptive, min..max of the data (a fixed [-1, 1] is wrong for ReLU layers, whose
activations are unbounded above).  H(T_bin) is the plug-in entropy of the distinct binned rows.
The plug-in MI is I(X; T_bin) = H(X) + H(T_bin) - H(X, T_bin) with X taken as its distinct
rows.  T_bin is a deterministic function of X, so H(T_bin | X) = 0 and I(X; T_bin) = H(T_bin);
with distinct inputs (the usual case) this is H(T_bin) <= log N.  Doubling the bin count
(fixed range) refines the partition, so the binned entropy is non-decreasing along n, 2n, 4n...;
for non-nested bin counts it need not be monotone.

k-nearest neighbours -- why our own implementation
--------------------------------------------------
Maintained Python libraries were checked when this module was written (installed next to
numpy 2.4 / scipy 1.17 / Python 3.11, compared with this module on Gaussian data):

* ennemi 1.5.0 (MIT, light): its ``estimate_mi`` only accepts a one-dimensional y ("y must be
  one-dimensional"), so it cannot give I(X; T) between two multivariate variables;
* npeet-plus 0.2.0 (MIT): correct multivariate KSG/KL (agrees with this module), but pulls in
  scikit-learn, reports bits by default and perturbs the data with unseeded noise from
  numpy's global random state (results not reproducible without seeding the global RNG);
* infomeasure 0.6.3: correct multivariate KSG/KL (agrees with this module), but AGPL-3.0
  licensed (midnn is MIT) and pulls in numba, llvmlite and sparse.

The two estimators are short, so they are implemented here with :class:`scipy.spatial.cKDTree`:
deterministic, no extra dependency, input validation consistent with midnn.  kd-trees become
slow in high dimension (beyond ~20 dimensions they approach brute force); k-NN estimators are
in any case unreliable there, which is one of the points of the paper.

* KL entropy: H = psi(N) - psi(k) + log V_d + (d/N) sum_i log eps_i, eps_i the distance from
  x_i to its k-th neighbour and V_d the volume of the unit ball of the norm used
  (pi^(d/2)/Gamma(d/2 + 1) for the Euclidean norm, 2^d for the max-norm).
* KSG (algorithm 1): with eps_i the max-norm distance to the k-th neighbour in the joint
  space, n_x(i) and n_y(i) the numbers of other points strictly closer than eps_i in each
  marginal space (max-norm), I = psi(k) + psi(N) - < psi(n_x + 1) + psi(n_y + 1) >.
  In high dimension the neighbours are found by brute force instead (``algorithm="brute"``,
  the default from 16 joint dimensions): max-norm distance blocks in torch
  (``torch.cdist(p=inf)``), the same distances and counts as the kd-trees, ~10x faster at
  N = 3000, d_x = d_y = 1000 (16-27 s against 217 s on one core).

Both need distinct points (a zero k-NN distance makes log eps = -inf): duplicates raise a
ValueError unless a small ``jitter`` (standard deviation of Gaussian noise added to the data,
in the data's units, drawn from ``seed``) is requested.
"""

from __future__ import annotations

import dataclasses
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
from scipy.spatial import cKDTree
from scipy.special import digamma, gammaln

from . import _validate as check

__all__ = [
    "MutualInformationEstimator",
    "EntropyEstimator",
    "KDEBounds",
    "KDEBound",
    "kde_bounds",
    "kde_bounds_many",
    "kde_bounds_gaussian_limit",
    "Binning",
    "KLEntropy",
    "KSG",
    "per_unit",
    "gaussian_entropy",
]

#: Default number of entries of one block of the pairwise-distance matrix (float64: 64 MiB).
DEFAULT_BLOCK_ELEMENTS = 2**23


# --------------------------------------------------------------------------- interface


def _jsonable(value):
    """A hyper-parameter as a JSON-compatible value (torch dtypes and devices by name)."""
    if isinstance(value, (torch.dtype, torch.device)):
        return str(value).removeprefix("torch.")
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


class _Estimator:
    """``parameters()`` for the estimators: the fields of a dataclass estimator."""

    def parameters(self) -> dict:
        """The hyper-parameters, as a JSON-compatible dict (bmi's ``parameters()``).

        For a dataclass estimator, its fields; a subclass that is not a dataclass returns
        ``{}`` unless it overrides this method.
        """
        if not dataclasses.is_dataclass(self):
            return {}
        return {f.name: _jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}


class MutualInformationEstimator(_Estimator, ABC):
    """Estimates I(X; Y) in nats (total, not per unit) from paired samples.

    It satisfies :class:`midnn.interface.MutualInformationEstimator` (bmi's protocol):
    ``estimate(x, y)`` and ``parameters()``.
    """

    @abstractmethod
    def estimate(self, x, y) -> float:
        """I(X; Y) in nats from samples ``x`` (N, d_x) and ``y`` (N, d_y)."""


class EntropyEstimator(_Estimator, ABC):
    """Estimates the (differential or Shannon) entropy of a sample in nats (total)."""

    @abstractmethod
    def entropy(self, t) -> float:
        """H(T) in nats from samples ``t`` of shape (N, d)."""


def per_unit(value: float, n_units: int) -> float:
    """``value / n_units``: a total entropy or MI (nats) expressed per unit, e.g. per n_0."""
    n = _int_at_least("n_units", n_units, 1)
    return float(value) / n


def gaussian_entropy(cov) -> float:
    """Differential entropy 1/2 logdet(2 pi e cov) of N(m, cov), in nats (reference value)."""
    c = np.atleast_2d(np.asarray(cov, dtype=float))
    if c.ndim != 2 or c.shape[0] != c.shape[1]:
        raise ValueError(f"cov must be a square matrix, got shape {c.shape}")
    sign, logdet = np.linalg.slogdet(2 * np.pi * np.e * c)
    if sign <= 0:
        raise ValueError("cov must be positive definite")
    return 0.5 * float(logdet)


# --------------------------------------------------------------------------- validation


def _int_at_least(name: str, value, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    if value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def _samples(name: str, a, min_rows: int = 1) -> np.ndarray:
    """A finite float64 2-D numpy array of samples (rows) from an array-like or tensor."""
    if isinstance(a, torch.Tensor):
        a = a.detach().cpu().numpy()
    try:
        arr = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a numeric array of shape (n_samples, n_dims)") from None
    return _check_samples(name, arr, min_rows)


def _check_samples(name: str, arr, min_rows: int):
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array of shape (n_samples, n_dims), got shape "
                         f"{tuple(arr.shape)} (use reshape(-1, 1) for one-dimensional data)")
    if arr.shape[0] < min_rows or arr.shape[1] < 1:
        raise ValueError(f"{name} must have at least {min_rows} sample(s) and 1 dimension, "
                         f"got shape {tuple(arr.shape)}")
    finite = torch.isfinite(arr).all().item() if isinstance(arr, torch.Tensor) else (
        np.isfinite(arr).all())
    if not finite:
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    return arr


def _same_rows(x, y, name_y: str = "y") -> None:
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"{name_y} must have as many samples as x: got {y.shape[0]} and "
                         f"{x.shape[0]}")


def _entropy_from_counts(counts: np.ndarray) -> float:
    counts = np.asarray(counts, dtype=np.float64)
    n = counts.sum()
    return float(np.log(n) - np.dot(counts, np.log(counts)) / n)


# --------------------------------------------------------------------------- KDE bounds


class KDEBounds(NamedTuple):
    """Pairwise-distance bounds on the empirical Gaussian mixture (nats, totals)."""

    h_lower: float  #: Bhattacharyya lower bound on H(T)
    h_upper: float  #: KL upper bound on H(T)
    i_lower: float  #: h_lower - H(T|X)
    i_upper: float  #: h_upper - H(T|X)


def _resolve_device(device) -> torch.device:
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"device must be a torch device or a string such as 'cpu' or 'cuda', "
                         f"got {device!r}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} requested but CUDA is not available")
    return dev


def _torch_samples(name: str, t, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    if isinstance(t, torch.Tensor):
        tt = t.detach().to(device=device, dtype=dtype)
    else:
        tt = torch.as_tensor(_samples(name, t), dtype=dtype, device=device)
    return _check_samples(name, tt, 1)


def _pairwise_logsumexp(mu: torch.Tensor, scales: tuple[float, ...],
                        chunk_size: int | None) -> torch.Tensor:
    """Row-wise logsumexp_j(-c ||mu_i - mu_j||^2) for each c in ``scales``: shape (len, N).

    The squared-distance matrix is formed ``chunk_size`` rows at a time.
    """
    n = mu.shape[0]
    mu = mu - mu.mean(dim=0, keepdim=True)  # distances are shift invariant; less cancellation
    sq = (mu * mu).sum(dim=1)
    if chunk_size is None:
        chunk_size = max(1, min(n, DEFAULT_BLOCK_ELEMENTS // max(n, 1)))
    out = torch.empty((len(scales), n), dtype=mu.dtype, device=mu.device)
    for i0 in range(0, n, chunk_size):
        i1 = min(n, i0 + chunk_size)
        d2 = torch.addmm(sq[i0:i1, None] + sq[None, :], mu[i0:i1], mu.T, alpha=-2.0)
        d2.clamp_(min=0.0)
        rows = torch.arange(i1 - i0, device=mu.device)
        d2[rows, rows + i0] = 0.0  # exact zero self-distance
        for s, c in enumerate(scales):
            out[s, i0:i1] = torch.logsumexp(d2 * (-c), dim=1)
    return out


def kde_bounds(t, noise: float, *, device=None, chunk_size: int | None = None,
               dtype: torch.dtype = torch.float64) -> KDEBounds:
    """Both pairwise-distance bounds for T = t + N(0, noise I), in one pass over the pairs.

    Parameters
    ----------
    t : (N, d) array or tensor
        Noise-free activations f(x_i), the centres of the mixture components.
    noise : float > 0
        Variance sigma^2 of the isotropic Gaussian noise added to the layer.
    device : torch device or str, optional
        Where to compute; default CUDA when available, else CPU.
    chunk_size : int, optional
        Rows of the distance matrix per block; default such that a block has about
        ``DEFAULT_BLOCK_ELEMENTS`` entries.
    dtype : torch dtype
        float64 by default (see the module docstring about float32).

    The MI bounds are clipped to [0, log N], where they lie in exact arithmetic.
    """
    return kde_bounds_many(t, (noise,), device=device, chunk_size=chunk_size, dtype=dtype)[0]


def kde_bounds_many(t, noises, *, device=None, chunk_size: int | None = None,
                    dtype: torch.dtype = torch.float64) -> tuple[KDEBounds, ...]:
    """:func:`kde_bounds` for several noise (kernel) variances, in one pass over the pairs.

    The squared distances do not depend on the variance: each block of them is formed once
    and reduced for every variance.  ``kde_bounds_many(t, noises)[i]`` equals
    ``kde_bounds(t, noises[i])`` exactly (same operations on the same blocks).

    Parameters
    ----------
    t : (N, d) array or tensor
        Noise-free activations f(x_i), the centres of the mixture components.
    noises : sequence of float > 0
        Variances sigma^2 of the isotropic Gaussian noise added to the layer (at least one).
    device, chunk_size, dtype
        As for :func:`kde_bounds`.

    Returns
    -------
    tuple of KDEBounds
        One per variance, in the order given (nats, totals).
    """
    if isinstance(noises, (str, bytes)) or np.ndim(noises) != 1 or len(noises) == 0:
        raise ValueError(f"noises must be a non-empty sequence of variances, got {noises!r}")
    noises = [check.positive(f"noises[{i}]", v) for i, v in enumerate(noises)]
    if chunk_size is not None:
        chunk_size = _int_at_least("chunk_size", chunk_size, 1)
    dev = _resolve_device(device)
    mu = _torch_samples("t", t, dev, dtype)
    n, d = mu.shape
    scales = tuple(c for s in noises for c in (1.0 / (8.0 * s), 1.0 / (2.0 * s)))
    lse = _pairwise_logsumexp(mu, scales, chunk_size)
    # -(1/N) sum_i log (1/N) sum_j e^{-D_ij} = log N - mean_i logsumexp_j(-D_ij)
    values = (math.log(n) - lse.mean(dim=1)).tolist()
    out = []
    for k, noise in enumerate(noises):
        # round-off can push a bound a hair outside [0, log N]; in exact math it cannot be
        i_lower = min(max(values[2 * k], 0.0), math.log(n))
        i_upper = min(max(values[2 * k + 1], 0.0), math.log(n))
        h_cond = 0.5 * d * math.log(2 * math.pi * math.e * noise)
        out.append(KDEBounds(h_lower=h_cond + i_lower, h_upper=h_cond + i_upper,
                             i_lower=i_lower, i_upper=i_upper))
    return tuple(out)


def kde_bounds_gaussian_limit(cov, noise: float) -> KDEBounds:
    """N -> infinity limit of :func:`kde_bounds` when the centres are f(X) ~ N(m, cov).

    (1/N) sum_j exp(-||mu_i - mu_j||^2/(2 c s)) tends to (2 pi c s)^(d/2) N(mu_i; m, S + c s I)
    (c = 1 for KL, 4 for Bhattacharyya, s = noise), whence

    * h_upper -> d/2 + 1/2 logdet(2 pi (S + s)) + 1/2 tr(S (S + s)^-1)
      = H(p) + 1/2 tr(S (S + s)^-1) >= H(p);
    * h_lower -> d/2 (1 - log 4) + 1/2 logdet(2 pi (S + 4 s)) + 1/2 tr(S (S + 4 s)^-1) <= H(p),

    with H(p) = 1/2 logdet(2 pi e (S + s)) the exact entropy of T.  Even with infinite data
    the pairwise bounds do not converge to H(T) when the components overlap.
    """
    s = check.positive("noise", noise)
    S = np.atleast_2d(np.asarray(cov, dtype=float))
    if S.ndim != 2 or S.shape[0] != S.shape[1] or not np.all(np.isfinite(S)):
        raise ValueError(f"cov must be a finite square matrix, got shape {S.shape}")
    lam = np.linalg.eigvalsh(0.5 * (S + S.T))
    if lam.min() < -1e-10 * max(1.0, lam.max()):
        raise ValueError("cov must be positive semi-definite")
    lam = np.clip(lam, 0.0, None)
    d = lam.size

    def limit(c: float) -> float:
        v = lam + c * s
        return float(0.5 * d * (1 - math.log(c)) + 0.5 * np.sum(np.log(2 * np.pi * v))
                     + 0.5 * np.sum(lam / v))

    h_cond = 0.5 * d * math.log(2 * math.pi * math.e * s)
    h_lo, h_up = limit(4.0), limit(1.0)
    return KDEBounds(h_lower=h_lo, h_upper=h_up, i_lower=h_lo - h_cond, i_upper=h_up - h_cond)


@dataclass(frozen=True)
class KDEBound(MutualInformationEstimator, EntropyEstimator):
    """Kolchinsky-Tracey pairwise-distance bound for T = f(X) + N(0, noise I).

    ``bound="upper"`` (KL divergence, the estimator of Saxe et al.) or ``"lower"``
    (Bhattacharyya distance).  ``estimate(x, t)`` and ``entropy(t)`` take the *noise-free*
    activations t = f(x); ``x`` only fixes the pairing and is checked for shape (with the
    Gaussian noise of known variance, H(T|X) = d/2 log(2 pi e noise) whatever x is).
    :meth:`bounds` returns both bounds at the cost of one.
    """

    noise: float
    bound: str = "upper"
    device: str | None = None
    chunk_size: int | None = None
    dtype: torch.dtype = torch.float64

    def __post_init__(self) -> None:
        object.__setattr__(self, "noise", check.positive("noise", self.noise))
        if self.bound not in ("upper", "lower"):
            raise ValueError(f"bound must be 'upper' or 'lower', got {self.bound!r}")
        if self.chunk_size is not None:
            object.__setattr__(self, "chunk_size",
                               _int_at_least("chunk_size", self.chunk_size, 1))
        if self.dtype not in (torch.float32, torch.float64):
            raise ValueError(f"dtype must be torch.float32 or torch.float64, got {self.dtype}")
        _resolve_device(self.device)

    def bounds(self, t) -> KDEBounds:
        """Lower and upper bounds on H(T) and I(X; T) (nats, totals)."""
        return kde_bounds(t, self.noise, device=self.device, chunk_size=self.chunk_size,
                          dtype=self.dtype)

    def entropy(self, t) -> float:
        b = self.bounds(t)
        return b.h_upper if self.bound == "upper" else b.h_lower

    def estimate(self, x, y) -> float:
        x = _samples("x", x) if not isinstance(x, torch.Tensor) else _check_samples(
            "x", x.detach(), 1)
        if isinstance(y, torch.Tensor):
            _check_samples("y", y.detach(), 1)
        else:
            y = _samples("y", y)
        _same_rows(x, y)
        b = self.bounds(y)
        return b.i_upper if self.bound == "upper" else b.i_lower


# --------------------------------------------------------------------------- binning


@dataclass(frozen=True)
class Binning(MutualInformationEstimator, EntropyEstimator):
    """Discretise each unit and compute plug-in entropies (Shwartz-Ziv & Tishby 2017).

    Exactly one of ``n_bins`` (equal bins over the range) and ``bin_width`` must be given.
    ``range`` is ``None`` (adaptive: min..max of the data; over the whole layer, or of each
    unit when ``per_unit_range``) or a fixed ``(low, high)``; with a fixed range, values
    outside it go to the first/last bin (like the IB code, which clips to the edge bins).
    """

    n_bins: int | None = None
    bin_width: float | None = None
    range: tuple[float, float] | None = None
    per_unit_range: bool = False

    def __post_init__(self) -> None:
        if (self.n_bins is None) == (self.bin_width is None):
            raise ValueError("exactly one of n_bins and bin_width must be given")
        if self.n_bins is not None:
            object.__setattr__(self, "n_bins", _int_at_least("n_bins", self.n_bins, 1))
        else:
            object.__setattr__(self, "bin_width", check.positive("bin_width", self.bin_width))
        if self.range is not None:
            try:
                lo, hi = self.range
            except (TypeError, ValueError):
                raise ValueError(f"range must be None or a pair (low, high), got "
                                 f"{self.range!r}") from None
            lo, hi = check.real("range[0]", lo), check.real("range[1]", hi)
            if not hi > lo:
                raise ValueError(f"range must satisfy low < high, got {self.range!r}")
            if self.per_unit_range:
                raise ValueError("per_unit_range needs range=None (adaptive range)")
            object.__setattr__(self, "range", (lo, hi))

    def digitize(self, t) -> np.ndarray:
        """Integer bin index of every entry of ``t`` (N, d)."""
        t = _samples("t", t)
        if self.range is not None:
            lo, hi = self.range
        elif self.per_unit_range:
            lo, hi = t.min(axis=0), t.max(axis=0)
        else:
            lo, hi = t.min(), t.max()
        lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
        span = np.where(hi > lo, hi - lo, 1.0)
        u = (t - lo) / span  # in [0, 1] on the range; the same u for every bin count
        if self.n_bins is not None:
            idx = np.floor(u * self.n_bins)
            top = self.n_bins - 1
        else:
            idx = np.floor(u * (span / self.bin_width))
            top = np.floor(span / self.bin_width)
        idx = np.clip(idx, 0, top)  # max of the range -> last bin; fixed range: clip
        return idx.astype(np.int64)

    def _labels(self, t) -> tuple[np.ndarray, np.ndarray]:
        """Inverse labels and counts of the distinct binned rows."""
        idx = self.digitize(t)
        small = idx.max() < np.iinfo(np.int16).max
        idx = np.ascontiguousarray(idx.astype(np.int16 if small else np.int64))
        _, inverse, counts = np.unique(idx, axis=0, return_inverse=True, return_counts=True)
        return inverse.reshape(-1), counts

    def entropy(self, t) -> float:
        """Plug-in Shannon entropy H(T_bin) of the distinct binned rows (<= log N)."""
        return _entropy_from_counts(self._labels(t)[1])

    def estimate(self, x, y) -> float:
        """Plug-in I(X; T_bin) = H(X) + H(T_bin) - H(X, T_bin), X by its distinct rows.

        Since T_bin is a function of X this equals H(T_bin) (= H(T_bin) <= log N for
        distinct inputs).
        """
        x = _samples("x", x)
        y = _samples("y", y)
        _same_rows(x, y)
        _, lx, cx = np.unique(x, axis=0, return_inverse=True, return_counts=True)
        lt, ct = self._labels(y)
        _, cj = np.unique(np.stack([lx.reshape(-1), lt], axis=1), axis=0, return_counts=True)
        mi = _entropy_from_counts(cx) + _entropy_from_counts(ct) - _entropy_from_counts(cj)
        return max(mi, 0.0)


# --------------------------------------------------------------------------- k-NN


def _knn_prepare(name: str, a, k: int, jitter: float, rng: np.random.Generator) -> np.ndarray:
    arr = _samples(name, a)
    if arr.shape[0] <= k:
        raise ValueError(f"{name} must have more than k = {k} samples, got {arr.shape[0]}")
    if jitter > 0:
        arr = arr + jitter * rng.standard_normal(arr.shape)
    return arr


def _no_zero_distance(eps: np.ndarray, name: str) -> None:
    if np.any(eps <= 0):
        raise ValueError(f"{name} has duplicated points (zero k-NN distance); remove them or "
                         f"pass a small jitter > 0")


@dataclass(frozen=True)
class KLEntropy(EntropyEstimator):
    """Kozachenko-Leonenko k-NN differential entropy (nats, total).

    ``metric`` is ``"euclidean"`` (unit-ball volume pi^(d/2)/Gamma(d/2+1)) or ``"max"``
    (volume 2^d).  ``jitter`` > 0 adds N(0, jitter^2) noise (seeded by ``seed``) to break ties;
    ``workers`` is passed to :meth:`scipy.spatial.cKDTree.query`.
    """

    k: int = 3
    metric: str = "euclidean"
    jitter: float = 0.0
    seed: int | None = 0
    workers: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "k", _int_at_least("k", self.k, 1))
        if self.metric not in ("euclidean", "max"):
            raise ValueError(f"metric must be 'euclidean' or 'max', got {self.metric!r}")
        object.__setattr__(self, "jitter", check.noise("jitter", self.jitter))

    def entropy(self, t) -> float:
        t = _knn_prepare("t", t, self.k, self.jitter, np.random.default_rng(self.seed))
        n, d = t.shape
        p = 2 if self.metric == "euclidean" else np.inf
        eps = cKDTree(t).query(t, k=self.k + 1, p=p, workers=self.workers)[0][:, self.k]
        _no_zero_distance(eps, "t")
        if self.metric == "euclidean":
            log_vol = 0.5 * d * math.log(math.pi) - gammaln(0.5 * d + 1)
        else:
            log_vol = d * math.log(2.0)
        return float(digamma(n) - digamma(self.k) + log_vol + d * np.mean(np.log(eps)))


#: Joint dimension d_x + d_y from which ``KSG(algorithm="auto")`` searches neighbours by brute
#: force. Measured on one core (ReLU layer samples): N = 10000, d_x = d_y = 2: kd-trees 0.2 s,
#: brute force 3.1 s; d_x = d_y = 8: 5.1 s and 3.9 s; N = 3000, d_x = d_y = 30: 5.0 s and
#: 0.8 s; d_x = d_y = 1000: 217 s and 16-27 s.
KSG_BRUTE_FROM = 16


def _ksg_brute(x: np.ndarray, y: np.ndarray, k: int) -> tuple[np.ndarray, ...]:
    """eps_i (k-th neighbour, joint max-norm) and the counts n_x + 1, n_y + 1 of points
    strictly closer than eps_i, by brute force in row blocks (torch, max-norm distances)."""
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    n = x.shape[0]
    rows = max(1, min(n, DEFAULT_BLOCK_ELEMENTS // (2 * n)))
    eps = np.empty(n)
    nx1 = np.empty(n, dtype=np.int64)
    ny1 = np.empty(n, dtype=np.int64)
    for i0 in range(0, n, rows):
        i1 = min(n, i0 + rows)
        dx = torch.cdist(xt[i0:i1], xt, p=float("inf"))
        dy = torch.cdist(yt[i0:i1], yt, p=float("inf"))
        # (k+1)-th smallest joint distance: the point itself (0) and its k neighbours
        e = torch.kthvalue(torch.maximum(dx, dy), k + 1, dim=1).values
        eps[i0:i1] = e.numpy()
        nx1[i0:i1] = (dx < e[:, None]).sum(dim=1).numpy()
        ny1[i0:i1] = (dy < e[:, None]).sum(dim=1).numpy()
    return eps, nx1, ny1


@dataclass(frozen=True)
class KSG(MutualInformationEstimator):
    """Kraskov-Stoegbauer-Grassberger estimator (algorithm 1) of I(X; Y), nats, total.

    X and Y may be multivariate; distances are max-norms in each space and in the joint space.
    The estimator is not invariant to rescaling one coordinate relative to the others:
    standardise the variables first if their scales differ a lot.  Like every k-NN estimator
    it underestimates large MI.  ``algorithm`` is ``"kd_tree"`` (scipy; ``workers=-1`` uses
    all cores), ``"brute"`` (torch, max-norm distance blocks; torch's threads) or ``"auto"``:
    brute force from :data:`KSG_BRUTE_FROM` joint dimensions, where kd-trees approach brute
    force anyway.  Both find the same distances and counts, hence the same estimate.
    """

    k: int = 3
    jitter: float = 0.0
    seed: int | None = 0
    workers: int = 1
    algorithm: str = "auto"

    def __post_init__(self) -> None:
        object.__setattr__(self, "k", _int_at_least("k", self.k, 1))
        object.__setattr__(self, "jitter", check.noise("jitter", self.jitter))
        object.__setattr__(self, "algorithm",
                           check.choice("algorithm", self.algorithm, ("auto", "kd_tree", "brute")))

    def estimate(self, x, y) -> float:
        rng = np.random.default_rng(self.seed)
        x = _knn_prepare("x", x, self.k, self.jitter, rng)
        y = _knn_prepare("y", y, self.k, self.jitter, rng)
        _same_rows(x, y)
        n = x.shape[0]
        brute = self.algorithm == "brute" or (
            self.algorithm == "auto" and x.shape[1] + y.shape[1] >= KSG_BRUTE_FROM)
        if brute:
            eps, nx1, ny1 = _ksg_brute(x, y, self.k)
            _no_zero_distance(eps, "the joint sample (x, y)")
        else:
            z = np.hstack([x, y])
            eps = cKDTree(z).query(z, k=self.k + 1, p=np.inf, workers=self.workers)[0][:, self.k]
            _no_zero_distance(eps, "the joint sample (x, y)")
            r = np.nextafter(eps, 0.0)  # strictly closer than eps
            # counts include the point itself: n_x + 1
            nx1 = cKDTree(x).query_ball_point(x, r, p=np.inf, return_length=True,
                                              workers=self.workers)
            ny1 = cKDTree(y).query_ball_point(y, r, p=np.inf, return_length=True,
                                              workers=self.workers)
        return float(digamma(self.k) + digamma(n) - np.mean(digamma(nx1) + digamma(ny1)))
