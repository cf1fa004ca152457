"""The two branches of a first-order transition, and the phase diagram they draw.

The model is the simplest one with a first-order transition in the paper's sense (section 3:
the replica potential φ of eq. (3) has several stationary points and the formula selects the
lowest): a separable prior P_0 -> one linear layer with Marchenko-Pastur(α) weights and
noise Δ, ``T = W X + sqrt(Δ) ξ``.

The one-dimensional picture
---------------------------
For a Marchenko-Pastur spectrum θ*(x) = x, so every saddle-point equation but the prior's
V-update (55) is solved for a given V_1 = V: Ṽ = V, A = 1/(Δ + V) (eq. 52 for a linear
output), Ã = α A. Along this *stationary manifold* the fixed-point iteration of the paper
(:func:`midnn.solvers.fixed_point`) is the scalar map

    V  ->  g(V) = mmse_P0(α / (Δ + V)),

which is increasing in V (more noise on x, larger error). Its iterates from V ≈ 0 therefore
increase monotonically to the *smallest* fixed point (the informative branch) and those from
V ≈ ρ = E x² decrease to the *largest* (the uninformative branch): the two starts find the
two extreme stationary points, which differ exactly where g has three fixed points (two
stable, one unstable in between): the coexistence region bounded by the two spinodal lines.
Inside it the replica formula selects the branch of lowest φ; the selected MMSE jumps where
the two potentials cross (the transition line), while φ -- hence I(X;T) = φ - H(T|X), with
H(T|X) = (α/2) log(2πeΔ) the same on both branches -- is continuous there, with a kink.

:func:`branch_task` evaluates both branches and :func:`midnn.replica`'s own selection at one
(α, Δ) (a task for :func:`midnn.sweeps.sweep`); :func:`transition` reads the transition
line, the spinodals and the jumps off a sweep along α; :func:`manifold_potential` is φ along
the stationary manifold (its stationary points are the fixed points).
"""

from __future__ import annotations

import numpy as np

from . import _validate as check
from .activations import Linear
from .chain import Chain, State
from .model import Layer, Model
from .potential import potential
from .priors import Binary, GaussBernoulli, Gaussian, Prior
from .replica import replica
from .solvers import fixed_point
from .spectra import MarchenkoPastur

__all__ = ["PRIORS", "make_prior", "one_layer", "branch_task", "manifold_potential",
           "select", "transition", "transition_lines", "distinct"]

#: Priors by name: N(0, 1), +-1 with probability 1/2, Gauss-Bernoulli of density ``rho``.
PRIORS = ("gaussian", "binary", "gauss_bernoulli")
#: Relative start of the informative (V = START ρ) and uninformative (V = (1 - START) ρ) runs
#: (the starts of :func:`midnn.search.initial_states`).
START = 1e-6
#: Two branches are distinct when their MMSEs differ by more than this fraction of ρ: at a
#: spinodal a branch disappears with a finite gap (saddle-node), at the critical point the
#: gap closes continuously.
DISTINCT = 1e-3


def make_prior(prior: str, rho: float = 0.2) -> Prior:
    """The prior named ``prior`` (:data:`PRIORS`); ``rho`` is the density of Gauss-Bernoulli."""
    prior = check.choice("prior", prior, PRIORS)
    if prior == "gaussian":
        return Gaussian()
    if prior == "binary":
        return Binary(0.5)
    return GaussBernoulli(check.probability("rho", rho))


def one_layer(alpha: float, noise: float, prior: str = "binary", rho: float = 0.2) -> Model:
    """prior -> ``Layer(MarchenkoPastur(alpha), Linear(noise))``."""
    return Model(make_prior(prior, rho), [Layer(MarchenkoPastur(check.positive("alpha", alpha)),
                                               Linear(check.positive("noise", noise)))])


def branch_task(alpha: float, noise: float, *, prior: str = "binary", rho: float = 0.2,
                tol: float = 1e-12, max_iter: int = 20000) -> dict:
    """Both branches and the replica selection at one (α, Δ): a task for
    :func:`midnn.sweeps.sweep`.

    Returns scalars (nats per n_0; MMSE per component of X):

    * ``mmse_informative``, ``potential_informative``, ``converged_informative``,
      ``iterations_informative``: the fixed-point iteration from V = 1e-6 ρ;
    * the same with ``_uninformative``: from V = (1 - 1e-6) ρ;
    * ``mutual_information_informative`` and ``_uninformative``: φ - H(T|X) on each branch;
    * ``entropy``, ``mutual_information``, ``conditional_entropy``, ``mmse``, ``converged``:
      what :func:`midnn.replica` selects with its own multi-start search (same ``tol``).
    """
    model = one_layer(alpha, noise, prior, rho)
    chain = Chain.from_model(model)
    rho1 = model.prior.second_moment
    out: dict = {}
    for name, V0 in (("informative", START * rho1), ("uninformative", (1 - START) * rho1)):
        info = fixed_point(chain, State.initial(np.array([V0])), tol=tol, max_iter=max_iter)
        out[f"mmse_{name}"] = float(info.state.V[0])
        out[f"potential_{name}"] = float(potential(chain, info.state))
        out[f"converged_{name}"] = bool(info.converged)
        out[f"iterations_{name}"] = int(info.iterations)
    # the same tolerance as the branches: replica()'s default (1e-10 on the change of V per
    # sweep) leaves errors near 1e-7 in φ where V ~ 1e-7 converges slowly (informative
    # branch of the Gauss-Bernoulli prior at Δ ~ 1e-7)
    res = replica(model, tol=tol)
    # H(T|X) = (α/2) log(2πeΔ) does not depend on the branch: I = φ - H(T|X) on each
    for name in ("informative", "uninformative"):
        out[f"mutual_information_{name}"] = out[f"potential_{name}"] - float(
            res.conditional_entropy[0])
    out.update(entropy=float(res.entropy[0]), mutual_information=float(res.mutual_information[0]),
               conditional_entropy=float(res.conditional_entropy[0]), mmse=float(res.mmse[0]),
               converged=bool(res.converged))
    return out


#: Units of the outputs of :func:`branch_task` (netCDF attributes of a sweep's variables).
UNITS = {"mmse": "per component of X", "potential": "nats per n_0", "entropy": "nats per n_0",
         "mutual_information": "nats per n_0", "conditional_entropy": "nats per n_0"}


def manifold_potential(alpha: float, noise: float, V, prior: str = "binary",
                       rho: float = 0.2) -> np.ndarray:
    """φ on the stationary manifold of :func:`one_layer`, at the values ``V`` of V_1 (every
    saddle-point equation but V = mmse_P0(Ã) solved: Ṽ = V, A = 1/(Δ + V), Ã = α A, θ = A V).
    Its stationary points in V are the fixed points of the replica equations."""
    chain = Chain.from_model(one_layer(alpha, noise, prior, rho))
    out = []
    for v in np.atleast_1d(np.asarray(V, dtype=float)):
        A = chain.channels[0].output_A(v)
        th = chain.spectra[0].theta(A * v)
        state = State(*(np.array([x]) for x in (A, v, alpha * th / v, th / A, th)))
        out.append(potential(chain, state))
    return np.array(out)


def distinct(mmse_informative, mmse_uninformative, rho1: float) -> np.ndarray:
    """Where the two branches are different stationary points (:data:`DISTINCT`)."""
    return np.abs(np.asarray(mmse_uninformative) - np.asarray(mmse_informative)) > DISTINCT * rho1


def select(branches) -> dict:
    """The replica prescription applied to the two branches: ``mmse``, ``mutual_information``
    and ``potential`` of the branch of lower φ (the informative one on ties), elementwise."""
    win = np.asarray(branches["potential_informative"]) <= np.asarray(
        branches["potential_uninformative"])
    return {q: np.where(win, branches[f"{q}_informative"], branches[f"{q}_uninformative"])
            for q in ("mmse", "mutual_information", "potential")}


def transition(alpha, branches, rho1: float) -> dict:
    """The transition along one line of α at fixed Δ, from :func:`branch_task`'s outputs.

    Parameters
    ----------
    alpha : 1-D array, increasing.
    branches : mapping with the arrays ``mmse_<branch>``, ``potential_<branch>`` and
        ``mutual_information_<branch>`` of both branches along ``alpha``.
    rho1 : second moment of the prior.

    Returns
    -------
    dict of floats (NaN where undefined)
        ``spinodal_low`` / ``spinodal_high``: the first and last α of the grid where the
        branches are distinct (the coexistence region, to the grid's resolution);
        ``alpha_c``: where φ_informative - φ_uninformative changes sign inside it (linear
        interpolation between the two bracketing grid points); ``mmse_jump``: the gap
        MMSE_uninformative - MMSE_informative at ``alpha_c`` (interpolated);
        ``cell``: index i of the grid cell [α_i, α_{i+1}] holding ``alpha_c``;
        ``mmse_step`` and ``mi_step``: the change of the *selected* MMSE and I(X;T) (the
        branch of lower φ, :func:`select`) across that cell; ``mmse_branch_step`` and
        ``mi_branch_step``: the largest change of either branch across the same cell (what
        a continuous curve may change by there);
        ``slope_jump``: dI/dα of the uninformative minus the informative branch at
        ``alpha_c`` (one-sided differences on the grid; the kink of I).
    """
    a = np.asarray(alpha, dtype=float)
    b = {k: np.asarray(v, dtype=float) for k, v in branches.items()}
    nan = float("nan")
    out = dict(spinodal_low=nan, spinodal_high=nan, alpha_c=nan, mmse_jump=nan, cell=-1,
               mmse_step=nan, mi_step=nan, mmse_branch_step=nan, mi_branch_step=nan,
               slope_jump=nan)
    both = distinct(b["mmse_informative"], b["mmse_uninformative"], rho1)
    if not both.any():
        return out
    idx = np.flatnonzero(both)
    out["spinodal_low"], out["spinodal_high"] = float(a[idx[0]]), float(a[idx[-1]])
    gap = b["potential_informative"] - b["potential_uninformative"]
    # the informative branch wins (gap < 0) at large α: the crossing where gap goes from
    # > 0 to <= 0 between two grid points that both hold two branches
    cells = [i for i in idx[:-1] if both[i + 1] and gap[i] > 0 >= gap[i + 1]]
    if not cells:
        return out
    i = cells[0]
    w = gap[i] / (gap[i] - gap[i + 1])
    out["alpha_c"] = float(a[i] + w * (a[i + 1] - a[i]))
    mu = (1 - w) * b["mmse_uninformative"][i] + w * b["mmse_uninformative"][i + 1]
    mi = (1 - w) * b["mmse_informative"][i] + w * b["mmse_informative"][i + 1]
    out["mmse_jump"] = float(mu - mi)
    out["cell"] = int(i)
    sel = select(b)
    out["mmse_step"] = float(abs(sel["mmse"][i + 1] - sel["mmse"][i]))
    out["mi_step"] = float(abs(sel["mutual_information"][i + 1] - sel["mutual_information"][i]))
    out["mmse_branch_step"] = float(max(
        abs(b[f"mmse_{k}"][i + 1] - b[f"mmse_{k}"][i]) for k in ("informative", "uninformative")))
    out["mi_branch_step"] = float(max(
        abs(b[f"mutual_information_{k}"][i + 1] - b[f"mutual_information_{k}"][i])
        for k in ("informative", "uninformative")))
    da = a[i + 1] - a[i]
    mi_u, mi_i = b["mutual_information_uninformative"], b["mutual_information_informative"]
    out["slope_jump"] = float((mi_u[i + 1] - mi_u[i] - mi_i[i + 1] + mi_i[i]) / da)
    return out


_BRANCH_KEYS = tuple(f"{q}_{b}" for q in ("mmse", "potential", "mutual_information")
                     for b in ("informative", "uninformative"))


def transition_lines(ds, rho1: float):
    """:func:`transition` at every noise of a :func:`branch_task` sweep over (``noise``,
    ``alpha``): an ``xarray.Dataset`` along ``noise`` (xarray imported here)."""
    import xarray as xr

    alpha = ds["alpha"].values
    rows = [transition(alpha, {k: ds[k].sel(noise=nz).values for k in _BRANCH_KEYS}, rho1)
            for nz in ds["noise"].values]
    return xr.Dataset({k: ("noise", np.array([r[k] for r in rows])) for k in rows[0]},
                      coords={"noise": ds["noise"].values})
