"""Benchmark tasks: random deep stochastic networks with a known (replica) information content.

A :class:`Task` draws the Gaussian weight matrices of a network X -> T_1 -> ... -> T_L,

    T_l = f_l(W_l T_{l-1} + xi_l),   W_l[i, j] ~ N(0, sigma_l^2 / n_{l-1}),   xi_l ~ N(0, Delta_l),

samples (X, T_l) pairs from it, and gives the ground truth I(X; T_l) and H(T_l) from the
replica formula evaluated with the *empirical* spectra of the actual matrices
(:class:`midnn.spectra.Empirical`), and, for linear networks with a Gaussian input, the exact
log-determinant values of :func:`midnn.exact.linear_gaussian`.  This is the setting of the
paper's Figure 2: a benchmark of non-parametric MI estimators
(:mod:`midnn.estimators`) on deep, high-dimensional data with a known answer.

Noise and observed layers
-------------------------
``noise`` is the variance Delta_L of the last layer (the evaluated layer of the paper, 1e-5);
the hidden layers are noiseless unless ``hidden_noise`` is given.  The ground truth of entry
l (layer l) is that of the chain X -> ... -> T_l in which T_l is observed through the
``readout_noise`` (default: the last layer's noise), as in :func:`midnn.replica`; for the
last layer this is the network as sampled.

Samples
-------
:meth:`Task.sample` returns ``(x, t)`` where ``t[l-1]`` is T_l *with* its own noise (what the
network outputs; for noiseless hidden layers it is deterministic given x).
:meth:`Task.sample_with_clean` also returns ``clean[l-1] = f_l(W_l T_{l-1})``, the noise-free
activation of layer l computed from the sampled input T_{l-1} of that layer: these are the
mixture centres that :class:`midnn.estimators.KDEBound` and :class:`~midnn.estimators.Binning`
take (for a linear last layer T_L = clean_L + N(0, Delta_L I) exactly; for a non-linear one
midnn puts the noise before f, the KDE convention after f).

Units: nats; ``per_n0`` values are divided by the input dimension n_0 (the replica
convention), totals are not.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import _validate as check
from .activations import Activation, Linear, from_name
from .estimators import (
    Binning,
    KDEBound,
    MutualInformationEstimator,
)
from .exact import ExactResult, linear_gaussian
from .model import Layer, Model
from .priors import Gaussian, Prior
from .replica import ReplicaResult, replica
from .sampling import propagate
from .spectra import Empirical

__all__ = ["Task", "TaskSample", "LayerSampler", "make_activation", "estimate_mi"]


def make_activation(spec, noise: float = 0.0) -> Activation:
    """An :class:`Activation` from a registry name (:data:`midnn.activations.ACTIVATIONS`) or
    an instance, with ``noise``."""
    if isinstance(spec, Activation):
        return spec.with_noise(check.noise("noise", noise))
    return from_name(spec, noise=check.noise("noise", noise))


def _int_at_least(name: str, value, low: int) -> int:
    return check.integer(name, value, low=low)


class TaskSample(tuple):
    """``(x, t, clean)``: input, noisy layers T_1..T_L, noise-free activations (lists)."""

    __slots__ = ()

    def __new__(cls, x, t, clean):
        return super().__new__(cls, (x, t, clean))

    x = property(lambda self: self[0])
    t = property(lambda self: self[1])
    clean = property(lambda self: self[2])


class Task:
    """A random deep stochastic network with its replica (and, if linear, exact) information.

    Parameters
    ----------
    prior : midnn.priors.Prior or None
        Law of the i.i.d. input components (default N(0, 1)).
    widths : sequence of int
        [n_0, n_1, ..., n_L] (at least two entries, all >= 1).
    activations : sequence of (str or Activation)
        L activations ('linear', 'relu', 'hardtanh', 'tanh', 'sign', 'leaky_relu' or
        instances; their own noise is replaced by the task's noises).
    sigma : float or sequence of float
        Weight scale: W_l has i.i.d. N(0, sigma_l^2 / n_{l-1}) entries (one value for all
        layers, or one per layer).
    noise : float
        Noise variance Delta_L > 0 of the last (evaluated) layer; default 1e-5 as in the paper.
    seed : int
        Seed of the weight matrices (samples take their own ``rng``).
    hidden_noise : float or sequence of float
        Noise variance(s) of the hidden layers 1..L-1 (default 0: deterministic).
    readout_noise : float, optional
        Noise through which a hidden layer is observed in the ground truth (default: ``noise``).
    """

    def __init__(self, prior: Prior | None, widths: Sequence[int], activations: Sequence,
                 sigma=1.0, noise: float = 1e-5,
                 seed: int = 0, *, hidden_noise=0.0, readout_noise: float | None = None):
        prior = Gaussian() if prior is None else prior
        if not isinstance(prior, Prior):
            raise ValueError(f"prior must be a midnn.priors.Prior, got {type(prior).__name__}")
        if isinstance(widths, (str, bytes)) or np.ndim(widths) != 1:
            raise ValueError(f"widths must be a sequence [n_0, ..., n_L], got {widths!r}")
        widths = [_int_at_least(f"widths[{i}]", w, 1) for i, w in enumerate(widths)]
        if len(widths) < 2:
            raise ValueError(f"widths must hold at least [n_0, n_1], got {widths}")
        L = len(widths) - 1
        if isinstance(activations, (str, Activation)):
            activations = [activations]
        activations = list(activations)
        if len(activations) != L:
            raise ValueError(f"activations must hold {L} entries (one per layer), got "
                             f"{len(activations)}")
        self.noise = check.positive("noise", noise)
        hidden = check.per_layer("hidden_noise", hidden_noise, L - 1, check.noise) if L > 1 else []
        self.noises = [*hidden, self.noise]
        self.readout_noise = (self.noise if readout_noise is None
                              else check.positive("readout_noise", readout_noise))
        self.sigmas = check.per_layer("sigma", sigma, L, check.positive)
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise ValueError(f"seed must be an integer, got {seed!r}")
        self.seed = int(seed)
        self.prior = prior
        self.widths = widths
        self.activations = [make_activation(a, nz)
                            for a, nz in zip(activations, self.noises, strict=True)]
        g = np.random.default_rng(self.seed)
        self.weights = [s / np.sqrt(n_in) * g.standard_normal((n_out, n_in))
                        for s, n_in, n_out in zip(self.sigmas, widths[:-1], widths[1:],
                                                  strict=True)]
        self.model = Model(prior, [Layer(Empirical.from_matrix(W), a)
                                   for W, a in zip(self.weights, self.activations, strict=True)])
        self._replica: ReplicaResult | None = None

    # ------------------------------------------------------------------ description
    @property
    def n0(self) -> int:
        return self.widths[0]

    @property
    def n_layers(self) -> int:
        return len(self.widths) - 1

    @property
    def is_linear_gaussian(self) -> bool:
        """All layers linear and a Gaussian input: :meth:`exact` is available."""
        return isinstance(self.prior, Gaussian) and all(
            isinstance(a, Linear) for a in self.activations)

    def __repr__(self) -> str:
        acts = "-".join(type(a).__name__ for a in self.activations)
        sig = f"{self.sigmas[0]:g}" if len(set(self.sigmas)) == 1 else str(self.sigmas)
        return (f"Task(widths={self.widths}, activations={acts}, sigma={sig}, "
                f"noise={self.noise:g}, seed={self.seed})")

    def _layer(self, layer) -> int:
        if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)):
            raise ValueError(f"layer must be an integer in 1..{self.n_layers}, got {layer!r}")
        if not 1 <= layer <= self.n_layers:
            raise ValueError(f"layer must be in 1..{self.n_layers}, got {layer}")
        return int(layer)

    # ------------------------------------------------------------------ samples
    def sample_with_clean(self, n_samples: int, rng=None) -> TaskSample:
        """``(x, t, clean)``: x (N, n_0), t[l-1] = T_l with its noise, and
        clean[l-1] = f_l(W_l T_{l-1}), the noise-free activation of layer l (see module doc)."""
        n = _int_at_least("n_samples", n_samples, 1)
        g = np.random.default_rng(rng)
        x = self.prior.sample((n, self.n0), g)
        t, clean = propagate(x, self.weights, self.activations, g)
        return TaskSample(x, t, clean)

    def sample(self, n_samples: int, rng=None) -> tuple[np.ndarray, list[np.ndarray]]:
        """``(x, t)``: x of shape (N, n_0) and t[l-1] = T_l (N, n_l) *with* its noise."""
        x, t, _ = self.sample_with_clean(n_samples, rng)
        return x, t

    # ------------------------------------------------------------------ ground truth
    def replica(self, **kwargs) -> ReplicaResult:
        """Replica result of every layer, nats per n_0.

        ``kwargs`` go to :func:`midnn.replica` (``solver``, ``tol``, ``init``,
        ``readout_noise``, ...); the readout noise defaults to the task's. The result with
        the default arguments is computed once and kept: it is the ground truth of the
        ``true_*`` methods and of the samplers.
        """
        if kwargs:
            return replica(self.model, **{"readout_noise": self.readout_noise, **kwargs})
        if self._replica is None:
            self._replica = replica(self.model, readout_noise=self.readout_noise)
        return self._replica

    def sampler(self, layer: int | None = None) -> LayerSampler:
        """The joint law of (X, T_layer) (default: the last layer) with its replica mutual
        information, in the form of the ``bmi`` benchmark's samplers
        (:class:`midnn.interface.Sampler`)."""
        layer = self.n_layers if layer is None else self._layer(layer)
        return LayerSampler(self, layer)

    def exact(self) -> ExactResult:
        """Exact log-det values per n_0 (:func:`midnn.exact.linear_gaussian`); linear only."""
        if not self.is_linear_gaussian:
            raise ValueError("exact() needs a Gaussian prior and linear activations only")
        return linear_gaussian(self.weights, self.noises, var=self.prior.var,
                               readout_noise=self.readout_noise)

    def true_mutual_information(self, layer: int | None = None, *, total: bool = False) -> float:
        """Replica I(X; T_layer) per n_0 (``total=True``: in nats for the whole layer)."""
        layer = self.n_layers if layer is None else self._layer(layer)
        v = float(self.replica().mutual_information[layer - 1])
        return v * self.n0 if total else v

    def true_entropy(self, layer: int | None = None, *, total: bool = False) -> float:
        """Replica H(T_layer) per n_0 (``total=True``: in nats for the whole layer)."""
        layer = self.n_layers if layer is None else self._layer(layer)
        v = float(self.replica().entropy[layer - 1])
        return v * self.n0 if total else v


class LayerSampler:
    """(X, T_l) of a :class:`Task` as a sampler of the ``bmi`` benchmark
    (:class:`midnn.interface.Sampler`): ``sample(n_points, rng) -> (x, t_l)`` with T_l
    observed through the task's readout noise (the chain of entry l of its replica result),
    ``dim_x`` = n_0, ``dim_y`` = n_l, and ``mutual_information()`` the replica
    I(X; T_l) in **total** nats (bmi's convention; ``mutual_information_per_n0`` is
    midnn's)."""

    def __init__(self, task: Task, layer: int):
        self.task = task
        self.layer = layer

    def __repr__(self) -> str:
        return f"LayerSampler({self.task!r}, layer={self.layer})"

    @property
    def dim_x(self) -> int:
        return self.task.n0

    @property
    def dim_y(self) -> int:
        return self.task.widths[self.layer]

    @property
    def dim_total(self) -> int:
        return self.dim_x + self.dim_y

    @property
    def mutual_information_per_n0(self) -> float:
        return self.task.true_mutual_information(self.layer)

    def mutual_information(self) -> float:
        """Replica I(X; T_l) in nats (total, not per unit)."""
        return self.task.true_mutual_information(self.layer, total=True)

    def sample(self, n_points: int, rng=None) -> tuple[np.ndarray, np.ndarray]:
        """``n_points`` pairs (x, t_l), t_l observed through the readout noise."""
        task = self.task
        n = _int_at_least("n_points", n_points, 1)
        g = np.random.default_rng(rng)
        x = task.prior.sample((n, task.n0), g)
        acts = list(task.activations[: self.layer])
        acts[-1] = acts[-1].with_noise(task.readout_noise)
        t, _ = propagate(x, task.weights[: self.layer], acts, g)
        return x, t[-1]


# ---------------------------------------------------------------------------- estimation


def estimate_mi(task: Task, estimator: MutualInformationEstimator, n_samples: int,
                layer: int | None = None, rng=None, *, sample: TaskSample | None = None,
                use_clean: bool | None = None) -> float:
    """An estimator's I(X; T_layer) on samples of ``task``, in nats per n_0.

    KDE bounds and binning are given the noise-free activations (their convention: the KDE
    adds its own kernel noise, binning discretises the deterministic layer); other estimators
    get the noisy T_l.  ``use_clean`` overrides the choice, ``sample`` reuses a draw.
    """
    if not isinstance(estimator, MutualInformationEstimator):
        raise ValueError(f"estimator must be a MutualInformationEstimator, got "
                         f"{type(estimator).__name__}")
    layer = task.n_layers if layer is None else task._layer(layer)
    s = task.sample_with_clean(n_samples, rng) if sample is None else sample
    if use_clean is None:
        use_clean = isinstance(estimator, (KDEBound, Binning))
    t = (s.clean if use_clean else s.t)[layer - 1]
    return float(estimator.estimate(s.x, t)) / task.n0
