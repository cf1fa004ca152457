"""Synthetic data sets of Gabrie et al. 2018 (their Figure 1), with their replica description.

Two models:

* **Teacher-student** (:func:`teacher_student`). X in R^{n_X} has i.i.d. components from a
  midnn prior P_0. A teacher GLM with Gaussian weights produces Y_teacher; the targets are
  Y_teacher (regression) or labels derived from it (classification). A student trained on
  X gives the replica chain X -> T_1 -> ... -> T_l directly (X is i.i.d.), and its replica
  quantities per n_X are H(T_l)/n_X and I(X; T_l)/n_X.
* **Generative "decoder-encoder"** (:func:`generative`). A latent Y in R^{n_Y} has i.i.d.
  components from P_0; a random decoder produces the (correlated) inputs X; the targets are
  derived from Y. The replica chain is Y -> X -> T_1 -> ... -> T_l: the decoder layers are
  prepended to the student layers, and the replica quantities are per n_Y, e.g.
  I(Y; T_l)/n_Y.

Every data set carries what the replica formula needs about its input chain:
``input_prior`` (the prior of the i.i.d. variable at the bottom: P_0 of X or of Y),
``input_layers`` (empty, or the decoder layers) and ``n_input`` (n_X or n_Y). For a student
network ``net`` (:class:`midnn.usv.USVNetwork`)::

    model = ds.replica_model(net.replica_layers(l, noise=1e-5))
    # == Model(ds.input_prior, [*ds.input_layers, *net.replica_layers(l, noise=1e-5)])

Layer widths of generating networks are lists that *include* the input dimension:
``teacher_widths = [n_X, ..., n_out]`` and ``decoder_widths = [n_Y, ..., n_X]``. Every
generating layer computes t = f(W t_prev + xi), xi ~ N(0, noise) (the noise model of
eq. 1), with W_{ij} i.i.d. N(0, 1/n_in).

Targets
-------
The target source S is the teacher output (teacher-student) or the first
n_rel = max(1, round(fraction_relevant n_Y)) latent components (generative).

* ``task="regression"``: targets are S (float32, shape (N, dim S)).
* ``task="classification"``: if S has one column, label = 1{S_1 > 0} (two classes; for the
  generative model with the default fraction this is the paper's sign(Y_1) label, with
  class 1 = "Y_1 > 0"); if S has k >= 2 columns, label = argmax_j S_j (k classes, ties go
  to the first index). Labels are int64 class indices, as ``torch.nn.CrossEntropyLoss``
  expects.

Samples are i.i.d.; the first N - N_test form the training set and the last
N_test = round(test_fraction N) the test set. The seed is split (``numpy.random.SeedSequence``)
into a stream for the weights and one for the samples, so the generating weights do not
depend on ``n_samples``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch

from . import _validate as check
from .activations import ACTIVATIONS, Activation, Linear, from_name
from .model import Layer, Model
from .priors import Gaussian, Prior
from .sampling import propagate
from .spectra import Empirical

__all__ = ["Dataset", "teacher_student", "generative", "make_dataset", "as_activation"]

def as_activation(value, name: str = "activation") -> Activation:
    """A midnn Activation, or one built from a registry name
    (:data:`midnn.activations.ACTIVATIONS`) with zero noise."""
    if isinstance(value, Activation):
        return value
    if isinstance(value, str) and value.lower() in ACTIVATIONS:
        return from_name(value)
    raise ValueError(f"{name} must be a midnn Activation or one of {sorted(ACTIVATIONS)}, "
                     f"got {value!r}")


@dataclass(frozen=True)
class Dataset:
    """A synthetic data set and the replica description of its input chain.

    Attributes
    ----------
    x_train, y_train, x_test, y_test : torch.Tensor
        Inputs X (float32, (N, n_X)) and targets (float32 (N, d) for regression, int64 (N,)
        class indices for classification).
    kind : str
        ``"teacher_student"`` or ``"generative"``.
    task : str
        ``"regression"`` or ``"classification"``.
    n_classes : int or None
        Number of classes (classification) or None.
    config : dict
        The arguments the data set was built with.
    seed : int
        The seed actually used (drawn from OS entropy when None was passed).
    input_prior : midnn.priors.Prior
        Prior of the i.i.d. variable at the bottom of the chain (X or Y).
    input_layers : tuple of midnn.model.Layer
        Replica description of the layers between that variable and X: empty for
        teacher-student, the decoder layers ``Layer(Empirical.from_matrix(W), f.with_noise(
        Delta))`` for the generative model.
    n_input : int
        The dimension that normalizes the replica quantities (n_X or n_Y).
    weights : tuple of numpy.ndarray
        The generating matrices (teacher or decoder), each (n_out, n_in).
    generator_layers : tuple of midnn.model.Layer
        Replica description of the generating network (teacher or decoder; for the decoder
        the same as ``input_layers``).
    latent_train, latent_test : torch.Tensor or None
        Y (float32) for the generative model, None for teacher-student.
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    kind: str
    task: str
    n_classes: int | None
    config: dict[str, Any]
    seed: int
    input_prior: Prior
    input_layers: tuple[Layer, ...]
    n_input: int
    weights: tuple[np.ndarray, ...] = field(repr=False)
    generator_layers: tuple[Layer, ...] = field(repr=False)
    latent_train: torch.Tensor | None = field(default=None, repr=False)
    latent_test: torch.Tensor | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        src = "n_Y" if self.input_layers else "n_X"
        classes = "" if self.n_classes is None else f", n_classes={self.n_classes}"
        return (f"Dataset(kind={self.kind!r}, task={self.task!r}, n_train={self.n_train}, "
                f"n_test={self.n_test}, n_features={self.n_features}, "
                f"n_input={self.n_input} ({src}){classes}, seed={self.seed})")

    @property
    def n_features(self) -> int:
        """n_X, the input dimension of a student."""
        return int(self.x_train.shape[1])

    @property
    def n_train(self) -> int:
        return int(self.x_train.shape[0])

    @property
    def n_test(self) -> int:
        return int(self.x_test.shape[0])

    def replica_model(self, student_layers: Sequence[Layer]) -> Model:
        """Model(input_prior, input_layers + student_layers): the chain whose replica entropy
        and MI of its last layer, per :attr:`n_input`, are H(T_l)/n and I(input; T_l)/n."""
        return Model(self.input_prior, [*self.input_layers, *student_layers])

    def to(self, device: torch.device | str) -> Dataset:
        """A copy with every tensor moved to ``device``."""
        moved = {name: getattr(self, name).to(device)
                 for name in ("x_train", "y_train", "x_test", "y_test", "latent_train",
                              "latent_test") if getattr(self, name) is not None}
        return replace(self, **moved)


# ----------------------------------------------------------------------------- validation

def _int(name: str, value, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def _widths(name: str, widths) -> list[int]:
    try:
        widths = list(widths)
    except TypeError:
        raise ValueError(f"{name} must be a sequence of positive integers, got "
                         f"{widths!r}") from None
    if len(widths) < 2:
        raise ValueError(f"{name} must contain at least 2 entries (input and output "
                         f"dimensions), got {widths!r}")
    return [_int(f"{name}[{i}]", w) for i, w in enumerate(widths)]


def _activations(name: str, acts, n_layers: int) -> list[Activation]:
    if acts is None:
        return [Linear() for _ in range(n_layers)]
    if isinstance(acts, (str, Activation)):
        acts = [acts] * n_layers
    acts = list(acts)
    if len(acts) != n_layers:
        raise ValueError(f"{name} must have {n_layers} entries (one per layer), got "
                         f"{len(acts)}")
    return [as_activation(a, f"{name}[{i}]") for i, a in enumerate(acts)]


def _noises(name: str, noise, acts: list[Activation]) -> list[Activation]:
    """Activations with their noise set: ``noise`` is a float, a per-layer list, or None
    (keep each activation's own noise)."""
    if noise is None:
        return list(acts)
    if np.ndim(noise) == 0:
        noise = [noise] * len(acts)
    noise = list(noise)
    if len(noise) != len(acts):
        raise ValueError(f"{name} must be a number or have {len(acts)} entries, got "
                         f"{len(noise)}")
    return [a.with_noise(check.noise(f"{name}[{i}]" if len(noise) > 1 else name, v))
            for i, (a, v) in enumerate(zip(acts, noise, strict=True))]


def _common(prior, task, n_samples, test_fraction, fraction_relevant, seed):
    if not isinstance(prior, Prior):
        raise ValueError(f"prior must be a midnn.priors.Prior, got {type(prior).__name__}")
    if task not in ("regression", "classification"):
        raise ValueError(f"task must be 'regression' or 'classification', got {task!r}")
    n_samples = _int("n_samples", n_samples, low=2)
    test_fraction = check.real("test_fraction", test_fraction, low=0.0, high=1.0,
                               low_open=True, high_open=True)
    n_test = int(round(test_fraction * n_samples))
    if not 1 <= n_test <= n_samples - 1:
        raise ValueError(f"test_fraction={test_fraction:g} with n_samples={n_samples} leaves "
                         "an empty training or test set")
    fraction_relevant = check.real("fraction_relevant", fraction_relevant, low=0.0, high=1.0,
                                   low_open=True)
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1)[0])
    else:
        seed = _int("seed", seed, low=0)
    return n_samples, n_test, test_fraction, fraction_relevant, seed


def _rngs(seed: int) -> tuple[np.random.Generator, np.random.Generator]:
    w_seq, s_seq = np.random.SeedSequence(seed).spawn(2)
    return np.random.default_rng(w_seq), np.random.default_rng(s_seq)


def _targets(source: np.ndarray, task: str) -> tuple[torch.Tensor, int | None]:
    if task == "regression":
        return torch.as_tensor(source, dtype=torch.float32), None
    if source.shape[1] == 1:
        return torch.as_tensor((source[:, 0] > 0).astype(np.int64)), 2
    return torch.as_tensor(np.argmax(source, axis=1).astype(np.int64)), source.shape[1]


def _split(arr, n_test: int):
    n_train = arr.shape[0] - n_test
    return arr[:n_train], arr[n_train:]


def _f32(a: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(np.ascontiguousarray(a), dtype=torch.float32)


# ----------------------------------------------------------------------------- constructors

def _dataset(kind: str, X: np.ndarray, source: np.ndarray, task: str, n_test: int,
             config: dict, seed, prior, *, weights, **fields) -> Dataset:
    """The :class:`Dataset` of inputs ``X`` whose targets are derived from ``source`` (the
    teacher's output, or the relevant latents), the last ``n_test`` samples held out."""
    targets, n_classes = _targets(source, task)
    x_tr, x_te = _split(X, n_test)
    y_tr, y_te = _split(targets, n_test)
    return Dataset(x_train=_f32(x_tr), y_train=y_tr, x_test=_f32(x_te), y_test=y_te, kind=kind,
                   task=task, n_classes=n_classes, config=config, seed=seed,
                   input_prior=prior, weights=tuple(weights), **fields)


def teacher_student(teacher_widths: Sequence[int] = (100, 4),
                    teacher_activations: Sequence[Activation | str] | Activation | str | None
                    = None,
                    teacher_noise: float | Sequence[float] | None = 0.01, *,
                    prior: Prior | None = None, task: str = "regression",
                    fraction_relevant: float = 1.0, n_samples: int = 20000,
                    test_fraction: float = 0.5, seed: int | None = None) -> Dataset:
    """Teacher-student data (the paper's first synthetic model): X_i i.i.d. ~ P_0, targets
    from a teacher GLM.

    Parameters
    ----------
    teacher_widths : sequence of int
        [n_X, n_1, ..., n_out]; the first entry is the input dimension n_X.
    teacher_activations : Activation, str, or sequence of them, optional
        One per teacher layer (default: all linear).
    teacher_noise : float, sequence of float or None
        Variance of the Gaussian noise before each teacher activation (one value for all
        layers, or one per layer; None keeps each activation's own ``noise``).
    prior : midnn.priors.Prior
        P_0 of the components of X (default N(0, 1)).
    task : {"regression", "classification"}
        See the module docstring for the label definition (1{Y_1 > 0} for a one-output
        teacher, argmax of the teacher outputs otherwise).
    fraction_relevant : float in (0, 1]
        Only the first n_rel = max(1, round(fraction_relevant n_X)) inputs feed the teacher:
        the first teacher matrix has zero columns beyond n_rel and N(0, 1/n_rel) entries
        on the others (so the pre-activation variance does not depend on the fraction).
    n_samples, test_fraction, seed
        Total number of samples, fraction held out for testing (in (0, 1)), seed.

    Returns
    -------
    Dataset
        ``input_prior = prior``, ``input_layers = ()``, ``n_input = n_X``; the student's
        replica quantities are per n_X (I(X; T_l)/n_X).
    """
    prior = Gaussian() if prior is None else prior
    n_samples, n_test, test_fraction, fraction_relevant, seed = _common(
        prior, task, n_samples, test_fraction, fraction_relevant, seed)
    widths = _widths("teacher_widths", teacher_widths)
    acts = _noises("teacher_noise",
                   teacher_noise,
                   _activations("teacher_activations", teacher_activations, len(widths) - 1))
    n_x = widths[0]
    n_rel = max(1, int(round(fraction_relevant * n_x)))
    w_rng, s_rng = _rngs(seed)
    weights = []
    for l in range(len(widths) - 1):
        n_in, n_out = widths[l], widths[l + 1]
        if l == 0:
            W = np.zeros((n_out, n_in))
            W[:, :n_rel] = w_rng.standard_normal((n_out, n_rel)) / np.sqrt(n_rel)
        else:
            W = w_rng.standard_normal((n_out, n_in)) / np.sqrt(n_in)
        weights.append(W)
    X = prior.sample((n_samples, n_x), s_rng)
    source = propagate(X, weights, acts, s_rng)[0][-1]
    config = dict(teacher_widths=widths, teacher_activations=acts, teacher_noise=teacher_noise,
                  prior=prior, task=task, fraction_relevant=fraction_relevant,
                  n_relevant=n_rel, n_samples=n_samples, test_fraction=test_fraction)
    layers = tuple(Layer(Empirical.from_matrix(W), a) for W, a in zip(weights, acts, strict=True))
    return _dataset("teacher_student", X, source, task, n_test, config, seed, prior,
                    input_layers=(), n_input=n_x, weights=weights, generator_layers=layers)


def generative(decoder_widths: Sequence[int] = (20, 100),
               decoder_activations: Sequence[Activation | str] | Activation | str | None = None,
               decoder_noise: float | Sequence[float] | None = 0.01, *,
               prior: Prior | None = None, task: str = "classification",
               fraction_relevant: float | None = None, n_samples: int = 20000,
               test_fraction: float = 0.5, seed: int | None = None) -> Dataset:
    """Generative "decoder-encoder" data (the paper's second synthetic model): latent
    Y_i i.i.d. ~ P_0, X = decoder(Y).

    Parameters
    ----------
    decoder_widths : sequence of int
        [n_Y, ..., n_X]; the first entry is the latent dimension n_Y, the last the input
        dimension n_X of the student.
    decoder_activations : Activation, str, or sequence of them, optional
        One per decoder layer (default: all linear).
    decoder_noise : float, sequence of float or None
        Variance Delta of the Gaussian noise before each decoder activation (None keeps each
        activation's own ``noise``). The generated X includes this noise, consistently with
        the replica description.
    prior : midnn.priors.Prior
        P_0 of the latent components (default N(0, 1)).
    task : {"classification", "regression"}
        Targets from the first n_rel latent components: classification label 1{Y_1 > 0}
        when n_rel = 1 (the paper's sign(Y_1), 2 classes), argmax_{j <= n_rel} Y_j otherwise;
        regression targets Y_{1..n_rel}.
    fraction_relevant : float in (0, 1], optional
        n_rel = max(1, round(fraction_relevant n_Y)); default: 1/n_Y (only Y_1; the paper's
        0.05 with n_Y = 20).
    n_samples, test_fraction, seed
        As in :func:`teacher_student`.

    Returns
    -------
    Dataset
        ``input_prior = prior`` (of Y), ``input_layers`` = the decoder layers,
        ``n_input = n_Y``; a student's replica quantities are per n_Y (I(Y; T_l)/n_Y).
    """
    prior = Gaussian() if prior is None else prior
    widths = _widths("decoder_widths", decoder_widths)
    n_y = widths[0]
    if fraction_relevant is None:
        fraction_relevant = 1.0 / n_y
    n_samples, n_test, test_fraction, fraction_relevant, seed = _common(
        prior, task, n_samples, test_fraction, fraction_relevant, seed)
    acts = _noises("decoder_noise",
                   decoder_noise,
                   _activations("decoder_activations", decoder_activations, len(widths) - 1))
    n_rel = max(1, int(round(fraction_relevant * n_y)))
    w_rng, s_rng = _rngs(seed)
    weights = [w_rng.standard_normal((widths[l + 1], widths[l])) / np.sqrt(widths[l])
               for l in range(len(widths) - 1)]
    Y = prior.sample((n_samples, n_y), s_rng)
    X = propagate(Y, weights, acts, s_rng)[0][-1]
    layers = tuple(Layer(Empirical.from_matrix(W), a) for W, a in zip(weights, acts, strict=True))
    config = dict(decoder_widths=widths, decoder_activations=acts, decoder_noise=decoder_noise,
                  prior=prior, task=task, fraction_relevant=fraction_relevant,
                  n_relevant=n_rel, n_samples=n_samples, test_fraction=test_fraction)
    lat_tr, lat_te = _split(Y, n_test)
    return _dataset("generative", X, Y[:, :n_rel], task, n_test, config, seed, prior,
                    input_layers=layers, n_input=n_y, weights=weights, generator_layers=layers,
                    latent_train=_f32(lat_tr), latent_test=_f32(lat_te))


def make_dataset(kind: str, **kwargs) -> Dataset:
    """``teacher_student(**kwargs)`` or ``generative(**kwargs)`` according to ``kind``."""
    if kind in ("teacher_student", "teacher-student"):
        return teacher_student(**kwargs)
    if kind in ("generative", "decoder_encoder", "decoder-encoder"):
        return generative(**kwargs)
    raise ValueError(f"kind must be 'teacher_student' or 'generative', got {kind!r}")
