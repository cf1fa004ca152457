"""The replica formula (Claim 1, eq. 2): entropies and mutual informations of every layer.

``replica(model)`` returns, for every l = 1..L, the replica values of

* H(T_l)/n_0 (``entropy``) -- φ of eq. (3) at its selected stationary point,
* H(T_l | X)/n_0 (``conditional_entropy``),
* I(X; T_l)/n_0 = H(T_l) - H(T_l | X) (``mutual_information``),
* the MMSE per component of X given T_l (``mmse`` = V_1 at the fixed point),

all in nats per input unit n_0 (the paper's normalization). Entry l describes the chain
X -> T_1 -> ... -> T_l with the layers before l as given and layer l observed through the
``readout_noise`` (default: the last layer's noise): each entry is its own chain. With
noiseless inner layers this is the paper's "noise only at the evaluated layer".

Conditional entropy. Given X, the first noisy layer j < l has independent components
t_{j,i} ~ P_j(. | z_i) with z_i = (W_j T_{j-1})_i known and distributed as N(0, ρ̃_j) over
i; layers before j are deterministic. H(T_l | X) is therefore the replica entropy of the chain
"T_j (a separable, non-identically distributed prior, :class:`~midnn.chain.ChannelPrior`) ->
layers j+1..l", times n_j/n_0. With no noisy inner layer, H(T_l | X)/n_0 =
(n_l/n_0) E_z H(t_l | z).
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field

import numpy as np

from . import _validate as check
from .chain import Chain, ChannelPrior, State
from .model import Model
from .precision import Precision, using
from .search import SOLVERS, MultiStartSearch
from .solvers import SolveInfo
from .units import MMSE_PER_COMPONENT, NATS_PER_N0

__all__ = ["replica", "replica_trajectory", "ReplicaResult", "ConvergenceWarning", "UNIT"]

#: The unit of every entropy and mutual information of the package (:mod:`midnn.units`).
UNIT = NATS_PER_N0
_QUANTITIES = ("entropy", "mutual_information", "conditional_entropy", "mmse")
_UNITS = {"entropy": UNIT, "mutual_information": UNIT, "conditional_entropy": UNIT,
          "mmse": MMSE_PER_COMPONENT, "iterations": "sweeps"}


class ConvergenceWarning(RuntimeWarning):
    """The replica fixed point was not found to the requested tolerance."""


@dataclass
class ReplicaResult:
    """Replica predictions, one entry per layer (entry l-1 = layer l), nats per n_0.

    Besides the values it carries what produced them: the ``model``, the ``readout_noise``
    of each entry, the solver and tolerance, the ``unit`` and the midnn ``version``.
    :meth:`to_dict` / :meth:`from_dict` round-trip through JSON, :meth:`to_dataframe` gives
    one row per layer and :meth:`to_xarray` a Dataset along ``layer``.
    """

    entropy: np.ndarray
    mutual_information: np.ndarray
    conditional_entropy: np.ndarray
    mmse: np.ndarray
    converged: bool
    iterations: np.ndarray
    solver: str
    model: Model | None = None
    readout_noise: list[float] = field(default_factory=list)
    tol: float = float("nan")
    precision: Precision = field(default_factory=Precision)
    unit: str = UNIT
    version: str = ""
    #: Per layer: the SolveInfo of the entropy extremization (warm starts use its state).
    details: list[SolveInfo] = field(default_factory=list, repr=False, compare=False)
    #: Per layer: SolveInfo of the conditional-entropy chain (None when closed form).
    conditional_details: list[SolveInfo | None] = field(default_factory=list, repr=False,
                                                        compare=False)

    def __repr__(self) -> str:
        def fmt(a):
            return "[" + ", ".join(f"{x:.6g}" for x in np.asarray(a, float)) + "]"
        return (f"ReplicaResult(H={fmt(self.entropy)}, I={fmt(self.mutual_information)}, "
                f"mmse={fmt(self.mmse)}, converged={self.converged}, solver={self.solver!r}, "
                f"unit={self.unit!r})")

    @property
    def n_layers(self) -> int:
        return len(self.entropy)

    def to_dict(self) -> dict:
        """A JSON-able dict of the values and of what produced them (not the solver
        states)."""
        from .serialize import model_to_dict

        out = {q: [float(x) for x in getattr(self, q)] for q in _QUANTITIES}
        out.update(converged=bool(self.converged),
                   iterations=[int(x) for x in self.iterations], solver=self.solver,
                   readout_noise=[float(x) for x in self.readout_noise], tol=float(self.tol),
                   precision={"order": self.precision.order,
                              "screening": self.precision.screening},
                   unit=self.unit, version=self.version,
                   model=None if self.model is None else model_to_dict(self.model))
        return out

    @classmethod
    def from_dict(cls, d) -> ReplicaResult:
        """The result written by :meth:`to_dict` (without solver states: no warm start)."""
        from .serialize import model_from_dict

        return cls(*(np.asarray(d[q], dtype=float) for q in _QUANTITIES),
                   converged=bool(d["converged"]),
                   iterations=np.asarray(d["iterations"], dtype=int), solver=d["solver"],
                   model=None if d.get("model") is None else model_from_dict(d["model"]),
                   readout_noise=list(d.get("readout_noise", [])),
                   tol=float(d.get("tol", float("nan"))),
                   precision=Precision(**d.get("precision", {})),
                   unit=d.get("unit", UNIT), version=d.get("version", ""))

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    def to_dataframe(self):
        """One row per layer (pandas, imported here); units in ``DataFrame.attrs``."""
        import pandas as pd

        df = pd.DataFrame({"layer": np.arange(1, self.n_layers + 1),
                           **{q: np.asarray(getattr(self, q), float) for q in _QUANTITIES},
                           "readout_noise": np.asarray(self.readout_noise, float),
                           "iterations": np.asarray(self.iterations, int)})
        df.attrs.update(units=dict(_UNITS), solver=self.solver, converged=self.converged,
                        tol=self.tol, version=self.version)
        return df

    def to_xarray(self):
        """An ``xarray.Dataset`` along ``layer`` (xarray imported here); units as attributes."""
        import xarray as xr

        layer = np.arange(1, self.n_layers + 1)
        data = {q: ("layer", np.asarray(getattr(self, q), float), {"units": _UNITS[q]})
                for q in _QUANTITIES}
        data["readout_noise"] = ("layer", np.asarray(self.readout_noise, float),
                                 {"units": "variance"})
        data["iterations"] = ("layer", np.asarray(self.iterations, int), {"units": "sweeps"})
        # per-result values are variables (they stay apart when results are concatenated)
        data["converged"] = ((), bool(self.converged))
        data["solver"] = ((), str(self.solver))
        return xr.Dataset(data, coords={"layer": layer},
                          attrs={"tol": self.tol, "unit": self.unit, "version": self.version})


def _readout(model: Model, readout_noise) -> list[float]:
    L = model.n_layers
    if readout_noise is None:
        return [model.layers[-1].activation.noise] * L
    if np.ndim(readout_noise) == 0:
        return [check.noise("readout_noise", readout_noise)] * L
    values = check.sequence("readout_noise", readout_noise)
    if len(values) != L:
        raise ValueError(f"readout_noise must be a float or hold one value per layer ({L}), "
                         f"got {len(values)}")
    return [check.noise(f"readout_noise[{i}]", v) for i, v in enumerate(values)]


def _check_output(model: Model, l: int, noise: float) -> None:
    act = model.layers[l].activation
    if noise <= 0 and not act.is_discrete:
        which = "readout_noise" if l < model.n_layers - 1 else "the last layer's noise"
        raise ValueError(f"{which} must be > 0 for the continuous output of layer {l + 1} "
                         f"({type(act).__name__}): its differential entropy diverges")


#: Slack of the test I(X;T) <= H(X) on a discrete prior (values are converged to ~1e-10).
_ABOVE_H_X = 1e-8


def _check_init(init, model: Model):
    """``init`` is None or a ReplicaResult of a model with the same layers (its states are
    the warm starts)."""
    if init is None:
        return None
    check.instance("init", init, ReplicaResult, "a midnn.ReplicaResult (or None)")
    if len(init.details) != model.n_layers or any(
            d.state.V.size != l + 1 for l, d in enumerate(init.details)):
        n = len(init.details)
        raise ValueError(f"init must be the result of a model with {model.n_layers} layers "
                         f"(its solver states are the warm starts), got one with {n}"
                         + (" (a result read from a dict carries no solver states)"
                            if n == 0 else ""))
    return init


def _chain(prior, layers, rho_tilde, noises, shared: dict) -> Chain:
    """The chain prior -> layers, layer k with noise ``noises[k]``. Channels are taken from
    (and added to) ``shared``, keyed by (layer, noise), so that the chains of one model share
    their channel caches (the starts of successive chains often evaluate a layer at the same
    point first)."""
    channels = []
    for k, (layer, rt, nz) in enumerate(zip(layers, rho_tilde, noises, strict=True)):
        key = (k, float(nz))
        if key not in shared:
            shared[key] = layer.activation.with_noise(nz).channel(rt)
        channels.append(shared[key])
    return Chain(prior, [layer.spectrum for layer in layers], channels)


def _recovered(state: State, j: int) -> State | None:
    """The state of the conditional chain "T_j -> layers j+1..l" read off a state of the
    entropy chain that recovers X exactly (V_1 = ... = V_{j+1} = 0, the frozen state of a
    discrete prior observed at infinite precision), else None.

    On that slice of the entropy chain X, hence T_1 .. T_j (layers 1..j-1 are noiseless)
    and the pre-activations z_j = W_j T_{j-1}, are known: the prior term of φ is H(X) and
    layer j's hidden channel at Ṽ_j = 0 is the conditional chain's prior, so a stationary
    point of the entropy chain there gives one of the conditional chain, with
    φ = φ_cond + H(X) (per n_0). When it is the entropy chain's selected point it is the
    conditional chain's minimum: φ_cond(point) = H(T_l) - H(X) <= H(T_l | X) because
    I(X; T_l) <= H(X), and min φ_cond = H(T_l | X); the multi-start search is then replaced
    by a confirming sweep from this state. Any other such point was reached from an
    informative start of the entropy chain, and it replaces the conditional chain's
    informative start.
    """
    if not np.all(state.V[: j + 1] == 0.0):
        return None
    return state.tail(j + 1)


def _conditional(info: SolveInfo, chain: Chain, j: int, init_state: State | None,
                 search_args: tuple) -> SolveInfo:
    """The search of the conditional chain "T_j -> layers j+1..l" (j the first noisy inner
    layer), started from what the entropy chain's search found when it applies."""
    sub = Chain(ChannelPrior(chain.channels[j]), chain.spectra[j + 1:], chain.channels[j + 1:])
    start = informative = None
    solved = False
    if info.converged:
        start = _recovered(info.evaluated_state, j)
    if start is None:
        # a point located at full precision (a finished start, its channels cached where it
        # last evaluated them) is preferred: it needs no screening
        for c in sorted(info.located, key=lambda c: not c.full_precision):
            informative = _recovered(c.evaluated_state if c.full_precision else c.state, j)
            if informative is not None:
                solved = c.full_precision
                break
    if start is None:
        start = init_state
    return MultiStartSearch(sub, *search_args).run(start, informative, solved)


def replica(model: Model, *, solver: str = "auto", tol: float = 1e-10, max_iter: int = 500,
            readout_noise=None, init: ReplicaResult | None = None,
            exhaustive: bool = False, precision: Precision | None = None) -> ReplicaResult:
    """Replica entropies and mutual informations of every layer of ``model``.

    Parameters
    ----------
    model : Model
        Prior and layers (spectra of W_l^T W_l and noisy activations).
    solver : {"auto", "fixed_point", "vamp"}
        Extremization scheme (:mod:`midnn.solvers`). "auto" runs ML-VAMP, falls back to the
        fixed-point iteration, then to damped versions of both. "fixed_point" (the paper's
        scheme) has two known limitations, both absent from ML-VAMP: it reaches only the
        stationary points that are stable under its map, so it can miss the exact-recovery
        point of a discrete input (it then stops where I(X;T) > H(X), which is reported as
        non-convergence); and it follows one branch of roots of eq. (50a), so on an empirical
        spectrum where the stationary point lies on another branch it meets an x = A V
        without a root on its own branch and reports non-convergence (``docs/derivations.md``
        section 3, ``docs/decisions.md``). ``midnn.checks.solver_agreement`` compares the
        schemes.
    tol : float
        Convergence threshold on Σ_k |V_k - V_k^old|, in (0, 1e-3] (the screening of the
        multi-start search runs at 1e-4; a looser tolerance would let it pass
        non-stationary points).
    max_iter : int
        Maximum number of sweeps per extremization, >= 1.
    readout_noise : float or sequence of floats, optional
        Noise variance through which layer l is observed in entry l (default: the last
        layer's noise; the last entry is then the model exactly as given). Each entry is its
        own chain: ``readout_noise=1e-5`` with noiseless inner layers gives the paper's
        I(X; T_l) of every layer.
    init : ReplicaResult, optional
        An earlier result for a model with the same number of layers (e.g. the previous
        epoch of a training run) whose fixed points are the starting points (warm start;
        skips the multi-start screening).
    exhaustive : bool
        Also screen the reference code's starts with one uninformative layer at a time
        (chains of more than two layers whose informative and uninformative starts
        disagree). Off by default: ``benchmarks/study_starts.py`` never found them to lower
        the selected potential (see ``docs/decisions.md``).
    precision : Precision, optional
        Quadrature settings (default: the one in force, :func:`midnn.precision.current`).

    Returns
    -------
    ReplicaResult
        ``entropy``, ``mutual_information``, ``conditional_entropy``, ``mmse`` (entry l-1 for
        layer l, nats per n_0), ``converged``, ``iterations``, ``solver``, and what produced
        them. Non-convergence sets ``converged=False`` and emits a
        :class:`ConvergenceWarning`.
    """
    check.instance("model", model, Model, "a midnn.Model")
    check.choice("solver", solver, SOLVERS)
    tol = check.real("tol", tol, low=0.0, high=1e-3, low_open=True)
    max_iter = check.integer("max_iter", max_iter, low=1)
    exhaustive = check.boolean("exhaustive", exhaustive)
    noises = _readout(model, readout_noise)
    init = _check_init(init, model)
    if precision is not None:
        check.instance("precision", precision, Precision, "a midnn.precision.Precision")
    for l in range(model.n_layers):
        _check_output(model, l, noises[l])
    with using(precision) as used:
        res = _solve(model, noises, solver, tol, max_iter, init, exhaustive)
    res.precision = used
    return res


def _solve(model: Model, noises: list[float], solver: str, tol: float, max_iter: int,
           init: ReplicaResult | None, exhaustive: bool) -> ReplicaResult:
    from . import __version__

    L = model.n_layers
    _, rho_t = model.second_moments()
    at = model.alpha_tilde
    H, Hc, mmse, its = (np.full(L, np.nan) for _ in range(4))
    details, cond_details, solvers = [], [], []
    converged = True
    shared: dict = {}
    search_args = (solver, tol, max_iter, exhaustive)
    for l in range(L):
        layers = model.layers[: l + 1]
        inner = [layer.activation.noise for layer in layers[:-1]]
        chain = _chain(model.prior, layers, rho_t[: l + 1], inner + [noises[l]], shared)
        start = init.details[l].state if init is not None else None
        info = MultiStartSearch(chain, *search_args).run(start)
        H[l], mmse[l], its[l] = info.potential, info.state.V[0], info.iterations
        details.append(info)
        solvers.append(info.solver)
        ok = info.converged
        noisy = [j for j in range(l) if inner[j] > 0]
        if not noisy:  # H(T_l | X) in closed form: layers before l are deterministic
            Hc[l] = at[l + 1] * chain.channels[l].output_entropy(0.0)
            cond_details.append(None)
        else:
            j = noisy[0]
            cstart = (init.conditional_details[l].state if init is not None
                      and init.conditional_details[l] is not None else None)
            cinfo = _conditional(info, chain, j, cstart, search_args)
            Hc[l] = at[j + 1] * cinfo.potential
            cond_details.append(cinfo)
            ok = ok and cinfo.converged
        no_root = any(d is not None and d.no_theta_root for d in (info, cond_details[-1]))
        advice = ("use solver 'vamp' or 'auto' (ML-VAMP solves no theta equation)" if no_root
                  else "raise max_iter or the readout noise")
        if ok and not (np.isfinite(H[l]) and np.isfinite(Hc[l])):
            ok = False
            info.message = ("the potential is not finite at the stationary point (a continuous "
                            "layer exactly recovered while its input is not)")
        h_x = model.prior.entropy
        if ok and h_x is not None and H[l] - Hc[l] > h_x + _ABOVE_H_X:
            # I(X;T) <= H(X) at the minimum of the potential: a point above the bound is
            # another stationary point, and the minimum was missed (with the fixed-point
            # scheme: the exact-recovery point, which its map does not reach)
            ok = info.converged = False
            info.message = (f"the stationary point reached has I(X;T) = {H[l] - Hc[l]:.6g} > "
                            f"H(X) = {h_x:.6g}: it is not the minimum of the potential")
            advice = ("use solver 'vamp' or 'auto', which locate the exact-recovery point"
                      if info.solver == "fixed_point" else
                      "try exhaustive=True, which adds starts to the search")
        if not ok:
            converged = False
            msg = info.message if not info.converged else (
                cond_details[-1].message if cond_details[-1] is not None else info.message)
            warnings.warn(f"replica: layer {l + 1} did not converge ({msg}); its values are "
                          f"not reliable (solver {solver!r}, tol {tol:g}, max_iter "
                          f"{max_iter}: {advice})", ConvergenceWarning, stacklevel=3)
    solver_name = solvers[0] if len(set(solvers)) == 1 else "mixed"
    return ReplicaResult(H, H - Hc, Hc, mmse, converged, its.astype(int), solver_name,
                         model=model, readout_noise=noises, tol=tol, version=__version__,
                         details=details, conditional_details=cond_details)


def replica_trajectory(models, **kwargs) -> list[ReplicaResult]:
    """Replica results for a sequence of models (e.g. a training run), each warm-started
    from the previous fixed point. Keyword arguments are passed to :func:`replica`."""
    out: list[ReplicaResult] = []
    prev = kwargs.pop("init", None)
    for m in models:
        prev = replica(m, init=prev, **kwargs)
        out.append(prev)
    return out
