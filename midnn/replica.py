"""The replica formula (Claim 1, eq. 2): entropies and mutual informations of every layer.

``replica(model)`` returns, for every l = 1..L, the replica values of

* H(T_l)/n_0 (``entropy``) -- phi of eq. (3) at its selected stationary point,
* H(T_l | X)/n_0 (``conditional_entropy``),
* I(X; T_l)/n_0 = H(T_l) - H(T_l | X) (``mutual_information``),
* the MMSE per component of X given T_l (``mmse`` = V_1 at the fixed point).

Entry l describes X -> T_1 -> ... -> T_l with the layers before l as given and layer l
observed through ``readout_noise`` (default: the last layer's noise), which reproduces the
paper's "noise only at the evaluated layer" when the inner noises are 0.

Conditional entropy. Given X, the first noisy layer j < l has independent components
t_{j,i} ~ P_j(. | z_i) with z_i = (W_j T_{j-1})_i known and distributed as N(0, rho~_j)
over i; layers before j are deterministic. H(T_l | X) is therefore the replica entropy of the
chain "T_j (a separable, non-identically distributed prior) -> layers j+1..l", times n_j/n_0.
Its prior term is the hidden-channel information at V~ = 0 (z known). With no noisy inner
layer, H(T_l | X)/n_0 = (n_l/n_0) E_z H(t_l | z).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from . import _validate as check
from .channels import Channel, screening
from .model import Model
from .priors import Gaussian
from .solvers import Chain, SolveInfo, State, fixed_point, potential, vamp

__all__ = ["replica", "replica_trajectory", "ReplicaResult", "ConvergenceWarning"]

_SOLVERS = ("auto", "fixed_point", "vamp")
#: Tolerance of the multi-start screening; the selected point is then refined to ``tol``
#: unless a start already reached it at full precision. 1e-4 instead of 1e-5: 2% fewer
#: sweeps, the same selected points (300 random models: the values agree to 1.3e-12).
#: Not 1e-3 (the reference code's tol_test): 4.5% fewer screening evaluations on the
#: benchmark grid, but a run that wanders near a marginally stable point (residuals
#: 7e-4..5e-3 for hundreds of sweeps) then passes the test at a point that is not stationary,
#: and the damped fallbacks that find the true minimum are never tried (random model 31 of
#: seed 99 selected a point 5e-3 too high).
_SCREEN_TOL = 1e-4
#: Screened stationary points whose potentials are closer than this are all refined.
_SCREEN_GAP = 1e-4
#: The second start of the screening switches to the full-precision channel rules once a
#: sweep moves every log-variable by less than this (see ``solvers.vamp``).
_FULL_BELOW = 1e-2


class ConvergenceWarning(RuntimeWarning):
    """The replica fixed point was not found to the requested tolerance."""


@dataclass
class ChannelPrior:
    """The layer-j channel seen as a prior: t = f(z + xi), z ~ N(0, rho~) known."""

    channel: Channel

    @property
    def second_moment(self) -> float:
        ch = self.channel
        return ch.activation.second_moment(ch.rho_tilde)

    @property
    def is_discrete(self) -> bool:
        return self.channel.activation.is_discrete

    def mutual_information(self, snr: float) -> float:
        if np.isinf(snr):
            return self.channel.output_entropy(0.0) if self.is_discrete else np.inf
        return self.channel.hidden(snr, 0.0).mutual_information

    def mmse(self, snr: float) -> float:
        if np.isinf(snr):
            return 0.0
        return self.channel.hidden(snr, 0.0).V


@dataclass
class ReplicaResult:
    """Replica predictions, one entry per layer (entry l-1 = layer l), nats per n_0."""

    entropy: np.ndarray
    mutual_information: np.ndarray
    conditional_entropy: np.ndarray
    mmse: np.ndarray
    converged: bool
    iterations: np.ndarray
    solver: str
    #: Per layer: the SolveInfo of the entropy extremization (warm starts use its state).
    details: list[SolveInfo] = field(default_factory=list, repr=False)
    #: Per layer: SolveInfo of the conditional-entropy chain (None when closed form).
    conditional_details: list[SolveInfo | None] = field(default_factory=list, repr=False)


def _readout(model: Model, readout_noise) -> list[float]:
    L = model.n_layers
    if readout_noise is None:
        return [model.layers[-1].activation.noise] * L
    if np.ndim(readout_noise) == 0:
        return [check.noise("readout_noise", readout_noise)] * L
    values = list(readout_noise)
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


def _initial_states(chain: Chain, solver: str = "fixed_point",
                    exhaustive: bool = True) -> list[State]:
    """Starting points of the multi-start search: all layers informative (V = 1e-6 rho), all
    uninformative (V = rho), and with ``exhaustive``, for L > 2, one uninformative layer at a
    time (the reference code's starts; see :func:`replica`).

    With a Gaussian prior, ML-VAMP's first message a2x_1 = 1/var does not depend on the
    start's V_1 (the prior's LMMSE is exact), so for ``solver`` "vamp" or "auto" starts that
    differ only in V_1 describe one trajectory and only the first of them is kept.
    """
    rho = chain.rho
    L = chain.n_layers
    delta = 1e-6
    V0s = [delta * rho, rho * (1 - 1e-6)]
    if exhaustive and L > 2:  # one uninformative layer at a time (L <= 2: the two above)
        for i in range(L):
            V0 = delta * rho.copy()
            V0[i] = rho[i] * (1 - 1e-6)
            V0s.append(V0)
    if solver != "fixed_point" and isinstance(chain.prior, Gaussian):
        kept = []
        for V0 in V0s:
            if not any(np.array_equal(V0[1:], k[1:]) for k in kept):
                kept.append(V0)
        V0s = kept
    return [State.initial(V0) for V0 in V0s]


def _potential(chain: Chain, info: SolveInfo) -> float:
    """phi at a converged solve: at the state where its last sweep evaluated the channels
    when it records one (within the tolerance of the final state; phi is stationary, so the
    two values differ by O(tol^2), and the channel values are cached there)."""
    return potential(chain, info.evaluated if info.evaluated is not None else info.state)


def _same_point(a: State, b: State) -> bool:
    """Two screened states describe the same stationary point (V within the screening
    precision, relative 1e-3 or absolute 1e-8)."""
    return bool(np.all(np.abs(a.V - b.V) <= 1e-3 * np.maximum(np.abs(a.V), np.abs(b.V)) + 1e-8))


def _run(chain: Chain, init: State, solver: str, tol: float, max_iter: int,
         near: list | None = None) -> SolveInfo:
    """One extremization with the requested scheme; "auto" falls back and damps. ``near``:
    a point for ML-VAMP to stop at when it settles there (see :func:`vamp`)."""
    if solver == "fixed_point":
        return fixed_point(chain, init, tol=tol, max_iter=max_iter)
    if solver == "vamp":
        return vamp(chain, init, tol=tol, max_iter=max_iter, near=near)
    attempts = [(vamp, 0.0), (fixed_point, 0.0), (vamp, 0.5), (fixed_point, 0.5),
                (fixed_point, 0.8)]
    info = None
    for scheme, damping in attempts:
        kw = {"near": near} if scheme is vamp else {}
        info = scheme(chain, init, tol=tol, max_iter=max_iter, damping=damping, **kw)
        if info.converged:
            if damping:
                info.message = f"damping {damping}"
            return info
    return info


def _finish(chain: Chain, init: State, solver: str, tol: float,
            max_iter: int, near: list | None = None) -> SolveInfo | None:
    """ML-VAMP from ``init`` to ``tol``, with the screening rules of the channels until a
    sweep moves every log-variable by less than _FULL_BELOW and the full ones from there on
    (the last sweeps, which set the result, are at full precision). None when the scheme is
    the fixed-point iteration; the caller takes its usual path unless the result is
    ``converged`` and ``switched`` (or ``merged``: it settled on ``near``, see vamp)."""
    if solver == "fixed_point":
        return None
    with screening():
        return vamp(chain, init, tol=tol, max_iter=max_iter, full_below=_FULL_BELOW,
                    near=near)


def _finished(info: SolveInfo | None) -> bool:
    """A :func:`_finish` run that reached its point with the full rules."""
    return info is not None and info.converged and info.switched


def _extremize(chain: Chain, solver: str, tol: float, max_iter: int,
               start: State | None, informative: State | None = None,
               exhaustive: bool = False, solved: bool = False) -> SolveInfo:
    """min over stationary points of phi (eq. 2): screen several starts, refine the best.

    ``informative``: a state near a stationary point that was reached from an informative
    configuration (the conditional chain's, read off the entropy chain; see
    :func:`_recovered`); it replaces the informative start. With ``solved`` that point was
    located at full precision: it is solved first, at full precision (a sweep or two), and
    the uninformative start may settle on it during its screening phase (vamp's ``near``).

    The screening locates each start's stationary point with the cheaper channel rules
    (tolerance _SCREEN_TOL), except the second (uninformative) start, which runs first and
    which ML-VAMP finishes with the full rules once it is close (:func:`_finish`); the best
    point is then refined at full precision unless that start already reached it. A chain
    with a single start is solved like the second one. The informative start stops as soon
    as it settles on the second start's point (vamp's ``near``): 5% fewer screening
    evaluations of hidden channels on the benchmark grid, 20% fewer full-precision ones on
    grid model #18 (no refinement of a duplicate point), the same values (bitwise on the
    grid, within 4e-11 of the previous search on 300 random models).
    """
    if start is not None:
        info = _run(chain, start, solver, tol, max_iter)
        if info.converged:
            info.potential = _potential(chain, info)
            best, extra = _released(chain, info, solver, tol, max_iter)
            best.iterations = info.iterations + extra
            return best
    candidates, wasted = [], 0
    inits = _initial_states(chain, solver, exhaustive)
    if informative is not None and len(inits) > 1:
        inits[0] = informative
    if len(inits) == 1:
        # a single start has nothing to be screened against: solve to full precision
        first = _finish(chain, inits[0], solver, tol, max_iter)
        info = first if _finished(first) else _run(chain, inits[0], solver, tol, max_iter)
        if info is not first and first is not None:
            info.iterations += first.iterations  # the sweeps of the failed attempt count
        if info.converged:
            info.potential = _potential(chain, info)
            return info
    # screening: the stationary points reached from each start, located with the cheaper
    # screening rules of the channels and the tolerance _SCREEN_TOL. The second start is
    # finished at full precision instead (ML-VAMP switches rules when close to its point):
    # in the common case where the two main starts agree a separate refinement of the
    # selected point is then not needed.
    finished = None  # a main start's point, when reached at full precision
    agree = False  # the two main starts reached the same stationary point
    order = [1, 0, *range(2, len(inits))] if len(inits) > 1 else [0]
    if solved and len(inits) > 1 and solver != "fixed_point":
        # the informative start is a point located at full precision (for another chain):
        # solved first, at full precision; its channel evaluations are mostly cached
        info = _run(chain, inits[0], solver, tol, max_iter)
        if info.converged:
            info.potential = _potential(chain, info)
            info.switched = True  # at full precision: no refinement (see below)
            candidates.append((info.potential, info))
            finished = info
            order.remove(0)
        else:
            wasted += info.iterations
    with screening():
        # the second start first: the first (informative) one can then stop as soon as it
        # settles on the point the second one reached (vamp's ``near``)
        for i in order:
            init = inits[i]
            if i == 2 and (agree or len(candidates) == 2 and _same_point(
                    candidates[0][1].state, candidates[1][1].state)):
                # the fully informative and fully uninformative starts reach the same
                # stationary point: the mixed starts (one uninformative layer at a time) are
                # skipped
                break
            near = finished.point if finished is not None else None
            info = None
            if i == 1:
                info = _finish(chain, init, solver, tol, max_iter, near=near)
                if _finished(info):
                    with screening(False):  # it ended at full precision
                        info.potential = _potential(chain, info)
                    candidates.append((info.potential, info))
                    finished = finished or info
                    continue
                if info is not None and not info.merged:
                    wasted += info.iterations  # failed: screened again below
                    info = None
            if info is None:
                info = _run(chain, init, solver, max(tol, _SCREEN_TOL), max_iter,
                            near=near if i == 0 else None)
            if info.merged:  # settled on the point a main start reached at full precision
                wasted += info.iterations
                agree = True
                continue
            if info.converged:
                candidates.append((_potential(chain, info), info))
    screened = sum(c[1].iterations for c in candidates)
    if not candidates:
        info = _run(chain, _initial_states(chain)[0], solver, tol, max_iter)
        info.potential = _potential(chain, info) if np.all(
            np.isfinite(info.state.V)) else np.nan
        info.iterations += wasted
        return info
    candidates.sort(key=lambda c: c[0])
    screened_points = [c for _, c in candidates]
    # refine at full precision the best point, and every distinct point whose screened
    # potential is within _SCREEN_GAP of it (the screening rules could order them wrongly);
    # a point some start already reached at full precision is taken as it is
    finalists = [candidates[0][1]]
    for phi, cand in candidates[1:]:
        if phi - candidates[0][0] < _SCREEN_GAP and not any(
                _same_point(cand.state, f.state) for f in finalists):
            finalists.append(cand)
    refined, extra = [], 0
    for cand in finalists:
        twin = cand if cand.switched else next(
            (c for _, c in candidates if c.switched and _same_point(c.state, cand.state)), None)
        if twin is not None:  # reached at full precision, its potential already evaluated
            refined.append(twin)
            continue
        info = _run(chain, cand.state, solver, tol, max_iter)
        extra += info.iterations
        if info.converged:
            info.potential = _potential(chain, info)
        refined.append(info)
    done = [r for r in refined if r.converged]
    if done:
        info, checked = _released(chain, min(done, key=lambda r: r.potential), solver, tol,
                                  max_iter)
        extra += checked
    else:
        info = refined[0]
        info.potential = candidates[0][0]
        info.message = "refinement did not converge: " + info.message
    info.iterations = screened + extra + wasted
    info.screened = screened_points
    return info


def _released(chain: Chain, info: SolveInfo, solver: str, tol: float,
              max_iter: int) -> tuple[SolveInfo, int]:
    """``info``, or the point its frozen layers lead to when released if that point is lower
    (see :func:`_unfreeze`); and the sweeps the check took."""
    probe = _unfreeze(chain, info, solver, tol, max_iter)
    if probe is None:
        return info, 0
    if probe.converged and probe.potential < info.potential:
        return probe, probe.iterations
    return info, probe.iterations


def _frozen(state: State) -> np.ndarray:
    """The layers whose input is recovered exactly at ``state`` (V = 0: ML-VAMP freezes them,
    see ``solvers._V_FREEZE``)."""
    return state.V == 0.0


def _unfreeze(chain: Chain, info: SolveInfo, solver: str, tol: float,
              max_iter: int) -> SolveInfo | None:
    """A point with frozen layers (V = 0) is absorbing for the sweeps: once a variance
    underflows (a discrete input seen at a large A^, e.g. during a transient), that layer
    stays frozen, and both starts can end there although phi has a lower stationary point
    nearby. The point is kept only if the iteration returns to it when the frozen layers are
    released: ML-VAMP from the point with A^ = 10/rho in those layers (signal-to-noise
    ratio 10), screened, and refined at full precision if it stays unfrozen. Measured
    against the fixed-point scheme of the paper (which has no absorbing state) on 600
    random models (seeds 5 and 99): without the probe 17 entries were 1e-10..3.2e-3 above
    it (e.g. model 32 of seed 99, one ReLU layer: 1.9e-3, mmse 2.3e-3 instead of 0); with
    A^ = 1/rho, 3 (up to 7e-7); with 10/rho, none.
    Returns the probe (``converged`` only when it found such a point, with its potential),
    or None when nothing is frozen.
    """
    frozen = _frozen(info.state)
    if not np.any(frozen) or solver == "fixed_point":
        return None
    state = info.state.copy()
    rho = chain.rho
    state.Ahat = np.where(frozen, 10.0 / rho, np.where(np.isfinite(state.Ahat), state.Ahat, 0.0))
    state.V = np.where(frozen, rho, state.V)
    with screening():
        probe = _run(chain, state, solver, max(tol, _SCREEN_TOL), max_iter)
    if not probe.converged or not np.any(probe.state.V[frozen] > 0.0):
        probe.converged = False  # back to the frozen point (or lost): nothing to add
        return probe
    # a point where the released layers stay unfrozen: at full precision
    info = _run(chain, probe.state, solver, tol, max_iter)
    info.iterations += probe.iterations
    if info.converged:
        info.potential = _potential(chain, info)
    return info


def _chain(prior, layers, rho_tilde, noises, shared: dict | None = None) -> Chain:
    """The chain prior -> layers, layer k with noise ``noises[k]``. Channels are taken from
    (and added to) ``shared``, keyed by (layer, noise), so that the chains of one model
    share their channel caches (the starts of successive chains often evaluate a layer at
    the same point first)."""
    shared = {} if shared is None else shared
    channels = []
    for k, (layer, rt, nz) in enumerate(zip(layers, rho_tilde, noises, strict=True)):
        key = (k, float(nz))
        if key not in shared:
            shared[key] = Channel(layer.activation.with_noise(nz), rt)
        channels.append(shared[key])
    return Chain(prior, [layer.spectrum for layer in layers], channels)


def _recovered(state: State, j: int) -> State | None:
    """The state of the conditional chain "T_j -> layers j+1..l" read off a state of the
    entropy chain that recovers X exactly (V_1 = ... = V_{j+1} = 0, the frozen state of a
    discrete prior observed at infinite precision), else None.

    On that slice of the entropy chain X, hence T_1 .. T_j (layers 1..j-1 are noiseless)
    and the pre-activations z_j = W_j T_{j-1}, are known: the prior term of phi is H(X) and
    layer j's hidden channel at V~_j = 0 is the conditional chain's prior
    (:class:`ChannelPrior`), so a stationary point of the entropy chain there gives one of
    the conditional chain, with phi = phi_cond + H(X) (per n_0). When it is the entropy
    chain's selected point it is the conditional chain's minimum: phi_cond(point) =
    H(T_l) - H(X) <= H(T_l | X) because I(X; T_l) <= H(X), and min phi_cond = H(T_l | X);
    the multi-start search is then replaced by a confirming sweep from this state. Any other
    such point was reached from an informative start of the entropy chain, and it replaces
    the conditional chain's informative start.
    """
    if not np.all(state.V[: j + 1] == 0.0):
        return None
    return State(*(np.array(x[j + 1:], dtype=float) for x in
                   (state.A, state.V, state.Ahat, state.Vhat, state.theta)))


def replica(model: Model, *, solver: str = "auto", tol: float = 1e-10, max_iter: int = 500,
            readout_noise=None, init: ReplicaResult | None = None,
            exhaustive: bool = False) -> ReplicaResult:
    """Replica entropies and mutual informations of every layer of ``model``.

    Parameters
    ----------
    model : Model
        Prior and layers (spectra of W_l^T W_l and noisy activations).
    solver : {"auto", "fixed_point", "vamp"}
        Extremization scheme (digest section 3). "auto" runs ML-VAMP, falls back to the
        fixed-point iteration, then to damped versions of both.
    tol : float
        Convergence threshold on sum_k |V_k - V_k^old|.
    max_iter : int
        Maximum number of sweeps per extremization.
    readout_noise : float or sequence of floats, optional
        Noise variance through which layer l is observed in entry l (default: the last
        layer's noise; the last entry is then the model exactly as given).
    init : ReplicaResult, optional
        An earlier result (e.g. the previous epoch of a training run) whose fixed points
        are used as starting points (warm start; skips the multi-start screening).
    exhaustive : bool
        The stationary point is selected among those reached from an informative start
        (V = 1e-6 rho) and an uninformative one (V = rho). With ``exhaustive``, chains of
        more than two layers whose two starts disagree also screen the other starts of the
        reference code, one uninformative layer at a time. Off by default: over 122 random
        3-layer chains whose two starts disagreed (``benchmarks/study_starts.py``), these
        starts never found a stationary point of lower potential, and they cost up to 40%
        of a model's time (grid model #23).

    Returns
    -------
    ReplicaResult
        Arrays ``entropy``, ``mutual_information``, ``conditional_entropy``, ``mmse``
        (entry l-1 for layer l), ``converged``, ``iterations``, ``solver``.
    """
    if not isinstance(model, Model):
        raise ValueError(f"model must be a midnn.Model, got {type(model).__name__}")
    if solver not in _SOLVERS:
        raise ValueError(f"solver must be one of {_SOLVERS}, got {solver!r}")
    tol = check.positive("tol", tol)
    if int(max_iter) < 1:
        raise ValueError(f"max_iter must be an integer >= 1, got {max_iter!r}")
    if not isinstance(exhaustive, bool | np.bool_):
        raise ValueError(f"exhaustive must be True or False, got {exhaustive!r}")
    exhaustive = bool(exhaustive)
    L = model.n_layers
    noises = _readout(model, readout_noise)
    for l in range(L):
        _check_output(model, l, noises[l])
    _, rho_t = model.second_moments()
    at = model.alpha_tilde
    H, Hc, mmse, its = (np.full(L, np.nan) for _ in range(4))
    details, cond_details, solvers = [], [], []
    converged = True
    shared: dict = {}
    for l in range(L):
        layers = model.layers[: l + 1]
        inner = [layer.activation.noise for layer in layers[:-1]]
        chain = _chain(model.prior, layers, rho_t[: l + 1], inner + [noises[l]], shared)
        start = None
        if init is not None and len(init.details) == L:
            start = init.details[l].state
        info = _extremize(chain, solver, tol, max_iter, start, exhaustive=exhaustive)
        H[l] = info.potential
        mmse[l] = info.state.V[0]
        its[l] = info.iterations
        details.append(info)
        solvers.append(info.solver)
        ok = info.converged
        # conditional entropy H(T_l | X)
        noisy = [j for j in range(l) if inner[j] > 0]
        if not noisy:
            Hc[l] = at[l + 1] * chain.channels[l].output_entropy(0.0)
            cond_details.append(None)
        else:
            j = noisy[0]
            sub_prior = ChannelPrior(chain.channels[j])
            sub = Chain(sub_prior, chain.spectra[j + 1:], chain.channels[j + 1:])
            cstart = seed = None
            if info.converged:
                cstart = _recovered(info.evaluated if info.evaluated is not None
                                    else info.state, j)
            solved = False
            if cstart is None:
                # a point located at full precision (a finished start, its channels cached
                # where it last evaluated them) is preferred: it needs no screening
                for c in sorted(info.screened, key=lambda c: not c.switched):
                    seed = _recovered(c.evaluated if c.switched and c.evaluated is not None
                                      else c.state, j)
                    if seed is not None:
                        solved = c.switched
                        break
            if cstart is None and init is not None and len(init.conditional_details) == L \
                    and init.conditional_details[l] is not None:
                cstart = init.conditional_details[l].state
            cinfo = _extremize(sub, solver, tol, max_iter, cstart, seed, exhaustive, solved)
            Hc[l] = at[j + 1] * cinfo.potential
            cond_details.append(cinfo)
            ok = ok and cinfo.converged
        if ok and not (np.isfinite(H[l]) and np.isfinite(Hc[l])):
            ok = False
            info.message = ("the potential is not finite at the stationary point (a continuous "
                            "layer exactly recovered while its input is not)")
        if not ok:
            converged = False
            msg = info.message if not info.converged else (
                cond_details[-1].message if cond_details[-1] is not None else info.message)
            warnings.warn(f"replica: layer {l + 1} did not converge ({msg}); its values are "
                          "not reliable", ConvergenceWarning, stacklevel=2)
    I = H - Hc
    solver_name = solvers[0] if len(set(solvers)) == 1 else "mixed"
    return ReplicaResult(H, I, Hc, mmse, converged, its.astype(int), solver_name,
                         details, cond_details)


def replica_trajectory(models, **kwargs) -> list[ReplicaResult]:
    """Replica results for a sequence of models (e.g. a training run), each warm-started
    from the previous fixed point. Keyword arguments are passed to :func:`replica`."""
    out: list[ReplicaResult] = []
    prev = kwargs.pop("init", None)
    for m in models:
        prev = replica(m, init=prev, **kwargs)
        out.append(prev)
    return out
