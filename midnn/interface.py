"""The protocols of the package, structural (``typing.Protocol``).

This module imports nothing from midnn, so that every module can use it. The first two are
those of the ``bmi`` benchmark of mutual-information estimators (cbg-ethz/bmi,
``bmi.interface``), so that bmi's estimators run on midnn's tasks and midnn's estimators on
bmi's; midnn does not depend on bmi. They count information in total nats, as bmi does
(:mod:`midnn.units`).

* :class:`Sampler` -- a joint law of (X, Y) with a known mutual information
  (:meth:`midnn.tasks.Task.sampler`);
* :class:`MutualInformationEstimator` -- ``estimate(x, y)`` and ``parameters()``
  (:mod:`midnn.estimators`);
* :class:`Prior`, :class:`ScalarChannel`, :class:`Spectrum` -- what the replica engine
  needs of a prior, of an activation's channel and of a weight spectrum;
* :data:`RUN_RESULT_FIELDS` -- the columns of one estimator run in bmi's results.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np

__all__ = ["Sampler", "MutualInformationEstimator", "Prior", "ScalarChannel", "Spectrum",
           "RUN_RESULT_FIELDS"]

#: The fields of bmi's ``RunResult`` (one estimator on one task with one seed).
RUN_RESULT_FIELDS = ("task_id", "seed", "estimator_id", "mi_estimate", "time_in_seconds",
                     "estimator_params", "task_params")


@runtime_checkable
class Sampler(Protocol):
    """A distribution P(X, Y) with its mutual information (bmi's ``ISampler``)."""

    @property
    def dim_x(self) -> int: ...

    @property
    def dim_y(self) -> int: ...

    def sample(self, n_points: int, rng: Any) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) of shapes (n_points, dim_x) and (n_points, dim_y), paired."""
        ...

    def mutual_information(self) -> float:
        """I(X; Y) in nats (total)."""
        ...


@runtime_checkable
class MutualInformationEstimator(Protocol):
    """A point estimator of I(X; Y) from paired samples (bmi's
    ``IMutualInformationPointEstimator``)."""

    def estimate(self, x: Any, y: Any) -> float:
        """The estimate in nats (total) from arrays of shapes (n, dim_x) and (n, dim_y)."""
        ...

    def parameters(self) -> dict:
        """The estimator's hyper-parameters."""
        ...


@runtime_checkable
class Prior(Protocol):
    """A separable prior P_0 and its scalar Gaussian channel y = x + ξ/sqrt(Ã)."""

    is_discrete: bool

    @property
    def second_moment(self) -> float: ...

    def mutual_information(self, snr: float) -> float: ...

    def mmse(self, snr: float) -> float: ...


@runtime_checkable
class ScalarChannel(Protocol):
    """The scalar channel of one layer: output and hidden terms of the potential."""

    closed_form: bool

    def output(self, V_tilde: float) -> tuple[float, float]:
        """(H(t | ω), A = 2 ∂H/∂Ṽ)."""
        ...

    def hidden(self, A_tilde: float, V_tilde: float) -> Any:
        """(I(t; y | ω), A = 2 ∂I/∂Ṽ, V = 2 ∂I/∂Ã) as attributes ``mutual_information``,
        ``A`` and ``V``."""
        ...


@runtime_checkable
class Spectrum(Protocol):
    """The limiting spectrum of W^T W and α = n_out/n_in."""

    alpha: float

    @property
    def mean(self) -> float: ...

    def lmmse_pair(self, a: float, tau: float) -> tuple[float, float]: ...

    def theta(self, x: float, guess: float | None = None) -> float: ...

    def F(self, x: float, theta: float | None = None) -> float: ...
