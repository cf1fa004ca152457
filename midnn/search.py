"""The "min extr" of eq. (2): the stationary point of lowest potential, by a multi-start search.

φ can have several stationary points (first-order phase transitions, section 3 of the
paper), and the entropy is φ at the one of lowest potential. :class:`MultiStartSearch`
finds it with these strategies, tried in order:

1. **warm start** -- from a given state (the previous checkpoint of a training run): one
   solve, then the release check of step 5;
2. **single start** -- a chain with one start (one layer with a Gaussian prior) is solved
   at full precision directly;
3. **screening** -- each start (:func:`initial_states`: all layers informative, all
   uninformative and, on request, one uninformative layer at a time) is solved with the
   screening precision (:class:`midnn.precision.Precision`), which locates its stationary
   point cheaply. The uninformative start runs first and ML-VAMP finishes it with the full
   rules once it is close (:meth:`~midnn.solvers.MLVAMP.solve`'s ``full_below``); the
   informative one stops as soon as it settles on that point (``near``);
4. **selection** -- the located points are ordered by their potential; the best one, and
   any distinct point within the screening accuracy of it, is refined at full precision
   unless a start already reached it there; the lowest wins;
5. **release** -- a point whose input is recovered exactly in some layers (V = 0,
   absorbing for the sweeps) can hide a lower stationary point next to it: the frozen layers
   of every located point are released (:meth:`MultiStartSearch._release_others`) and the
   selected point is kept only if the iteration returns to it when they are released
   (:meth:`MultiStartSearch._released`).

The scheme ("auto") runs ML-VAMP, falls back to the fixed-point iteration, then to damped
versions of both. ``docs/decisions.md`` records how the tolerances below were chosen.
"""

from __future__ import annotations

import numpy as np

from .chain import Chain, State
from .potential import potential
from .precision import using
from .priors import Gaussian
from .solvers import SolveInfo, fixed_point, vamp

__all__ = ["MultiStartSearch", "initial_states", "SOLVERS"]

SOLVERS = ("auto", "fixed_point", "vamp")
#: Tolerance of the screening solves; the selected point is then refined to ``tol``.
SCREEN_TOL = 1e-4
#: Located points whose screened potentials are closer than this are all refined (the
#: screening rules could order them wrongly).
SCREEN_GAP = 1e-4
#: A screened start switches to the full-precision rules once a sweep moves every
#: log-variable by less than this (see :meth:`midnn.solvers.MLVAMP.solve`).
FULL_BELOW = 1e-2
#: The "auto" scheme: ML-VAMP, the fixed-point iteration, then damped versions of both.
_AUTO = ((vamp, 0.0), (fixed_point, 0.0), (vamp, 0.5), (fixed_point, 0.5), (fixed_point, 0.8))
#: Ã given to a released layer: signal-to-noise ratio 10 on its input.
_RELEASE_SNR = 10.0


def initial_states(chain: Chain, solver: str = "fixed_point",
                   exhaustive: bool = True) -> list[State]:
    """The starts of the search: all layers informative (V = 1e-6 ρ), all uninformative
    (V = ρ), and with ``exhaustive``, for L > 2, one uninformative layer at a time (the
    reference code's starts).

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


def _same_stationary_point(a: State, b: State) -> bool:
    """Two screened states describe the same stationary point (V within the screening
    precision: relative 1e-3 or absolute 1e-8)."""
    return bool(np.all(np.abs(a.V - b.V) <= 1e-3 * np.maximum(np.abs(a.V), np.abs(b.V)) + 1e-8))


def _reached_at_full_precision(info: SolveInfo | None) -> bool:
    """A :meth:`MultiStartSearch._finish` run that converged with the full rules."""
    return info is not None and info.converged and info.full_precision


class MultiStartSearch:
    """min over the stationary points of φ for one chain (see the module docstring).

    Parameters
    ----------
    chain : Chain
    solver : {"auto", "fixed_point", "vamp"}
    tol, max_iter : convergence tolerance and sweeps per solve.
    exhaustive : bool
        Also screen the starts with one uninformative layer at a time (chains of more than
        two layers whose two main starts disagree).
    """

    def __init__(self, chain: Chain, solver: str, tol: float, max_iter: int,
                 exhaustive: bool = False):
        self.chain = chain
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.exhaustive = exhaustive

    # ------------------------------------------------------------------ one solve
    def solve(self, init: State, tol: float | None = None,
              near: list | None = None) -> SolveInfo:
        """One extremization from ``init`` with the requested scheme ("auto": the fallbacks
        of :data:`_AUTO` until one converges). ``near``: a point for ML-VAMP to stop at when
        it settles there."""
        tol = self.tol if tol is None else tol
        if self.solver == "fixed_point":
            return fixed_point(self.chain, init, tol=tol, max_iter=self.max_iter)
        if self.solver == "vamp":
            return vamp(self.chain, init, tol=tol, max_iter=self.max_iter, near=near)
        info, failures = None, []
        for scheme, damping in _AUTO:
            kw = {"near": near} if scheme is vamp else {}
            info = scheme(self.chain, init, tol=tol, max_iter=self.max_iter, damping=damping,
                          **kw)
            if info.converged:
                if damping:
                    info.message = f"damping {damping}"
                return info
            failures.append(f"{info.solver}{f' damped {damping}' if damping else ''}: "
                            f"{info.message}")
        info.message = "no scheme converged (" + "; ".join(failures) + ")"
        return info

    def _finish(self, init: State, near: list | None = None) -> SolveInfo | None:
        """ML-VAMP from ``init`` to ``tol``, with the screening rules until a sweep moves
        every log-variable by less than :data:`FULL_BELOW` and the full ones from there on
        (the last sweeps, which set the result, are at full precision). None when the scheme
        is the fixed-point iteration."""
        if self.solver == "fixed_point":
            return None
        with using(screening=True):
            return vamp(self.chain, init, tol=self.tol, max_iter=self.max_iter,
                        full_below=FULL_BELOW, near=near)

    def potential(self, info: SolveInfo) -> float:
        """φ at a converged solve, at the state where its last sweep evaluated the channels
        (within the tolerance of the final state; φ is stationary, so the two values differ
        by O(tol²), and the channel values are cached there)."""
        return potential(self.chain, info.evaluated_state)

    # ------------------------------------------------------------------ the search
    def run(self, start: State | None = None, informative: State | None = None,
            informative_solved: bool = False) -> SolveInfo:
        """The selected stationary point.

        ``start``: a warm start (strategy 1). ``informative``: a state near a stationary
        point reached from an informative configuration (a conditional chain's, read off the
        entropy chain; see :func:`midnn.replica.replica`); it replaces the informative start.
        With ``informative_solved`` that point was located at full precision: it is solved
        first, at full precision, and the uninformative start may settle on it while
        screening.
        """
        if start is not None:
            info = self._from_warm_start(start)
            if info is not None:
                return info
        inits = initial_states(self.chain, self.solver, self.exhaustive)
        if informative is not None and len(inits) > 1:
            inits[0] = informative
        if len(inits) == 1:
            info = self._single_start(inits[0])
            if info is not None:
                return info
        located, wasted = self._screen(inits, informative_solved)
        if not located:
            return self._last_resort(wasted)
        return self._select(located, wasted)

    def _from_warm_start(self, start: State) -> SolveInfo | None:
        """Strategy 1: one solve from ``start``, then the release check; None if it fails."""
        info = self.solve(start)
        if not info.converged:
            return None
        info.potential = self.potential(info)
        best, extra = self._released(info)
        best.iterations = info.iterations + extra
        return best

    def _single_start(self, init: State) -> SolveInfo | None:
        """Strategy 2: a single start has nothing to be screened against; it is solved to
        full precision (None if it fails)."""
        first = self._finish(init)
        info = first if _reached_at_full_precision(first) else self.solve(init)
        if info is not first and first is not None:
            info.iterations += first.iterations  # the sweeps of the failed attempt count
        if not info.converged:
            return None
        info.potential = self.potential(info)
        return info

    def _screen(self, inits: list[State],
                informative_solved: bool) -> tuple[list[tuple[float, SolveInfo]], int]:
        """Strategy 3: the stationary points located from each start, with their potentials,
        and the sweeps of the runs that located nothing new."""
        located: list[tuple[float, SolveInfo]] = []
        wasted = 0
        finished = None  # a main start's point, when reached at full precision
        agree = False  # the two main starts reached the same stationary point
        order = [1, 0, *range(2, len(inits))] if len(inits) > 1 else [0]
        if informative_solved and len(inits) > 1 and self.solver != "fixed_point":
            # the informative start is a point located at full precision for another chain:
            # solved first, at full precision (its channel evaluations are mostly cached)
            info = self.solve(inits[0])
            if info.converged:
                info.potential = self.potential(info)
                info.full_precision = True
                located.append((info.potential, info))
                finished = info
                order.remove(0)
            else:
                wasted += info.iterations
        with using(screening=True):
            for i in order:
                if i == 2 and (agree or len(located) == 2 and _same_stationary_point(
                        located[0][1].state, located[1][1].state)):
                    # the two main starts reach the same point: the mixed starts (one
                    # uninformative layer at a time) are skipped
                    break
                near = finished.log_point if finished is not None else None
                info = None
                if i == 1:  # the uninformative start, finished at full precision
                    info = self._finish(inits[i], near=near)
                    if _reached_at_full_precision(info):
                        with using(screening=False):
                            info.potential = self.potential(info)
                        located.append((info.potential, info))
                        finished = finished or info
                        continue
                    if info is not None and not info.settled_on_near:
                        wasted += info.iterations  # failed: screened again below
                        info = None
                if info is None:
                    info = self.solve(inits[i], max(self.tol, SCREEN_TOL),
                                      near=near if i == 0 else None)
                if info.settled_on_near:  # on the point a main start reached at full precision
                    wasted += info.iterations
                    agree = True
                    continue
                if info.converged:
                    located.append((self.potential(info), info))
        return located, wasted

    def _last_resort(self, wasted: int) -> SolveInfo:
        """No start converged: the first one again, at full precision (reported as it ends)."""
        info = self.solve(initial_states(self.chain)[0])
        info.potential = self.potential(info) if np.all(np.isfinite(info.state.V)) else np.nan
        info.iterations += wasted
        return info

    def _select(self, located: list[tuple[float, SolveInfo]], wasted: int) -> SolveInfo:
        """Strategy 4: refine at full precision the best located point and every distinct
        point whose screened potential is within :data:`SCREEN_GAP` of it (a point some
        start already reached at full precision is taken as it is); the lowest wins, after
        the release check (strategy 5)."""
        screened = sum(c[1].iterations for c in located)
        located.sort(key=lambda c: c[0])
        released = self._release_others(located)
        screened += sum(c.iterations for _, c in released)
        if released:
            located = sorted(located + released, key=lambda c: c[0])
        best_phi = located[0][0]
        finalists = [located[0][1]]
        for phi, cand in located[1:]:
            if phi - best_phi < SCREEN_GAP and not any(
                    _same_stationary_point(cand.state, f.state) for f in finalists):
                finalists.append(cand)
        refined, extra = [], 0
        for cand in finalists:
            twin = cand if cand.full_precision else next(
                (c for _, c in located
                 if c.full_precision and _same_stationary_point(c.state, cand.state)), None)
            if twin is not None:  # reached at full precision, its potential evaluated there
                refined.append(twin)
                continue
            info = self.solve(cand.state)
            extra += info.iterations
            if info.converged:
                info.potential = self.potential(info)
            refined.append(info)
        done = [r for r in refined if r.converged]
        if done:
            info, checked = self._released(min(done, key=lambda r: r.potential))
            extra += checked
        else:
            info = refined[0]
            info.potential = best_phi
            info.message = "refinement did not converge: " + info.message
        info.iterations = screened + extra + wasted
        info.located = [c for _, c in located]
        return info

    # ------------------------------------------------------------------ release check
    def _release_others(self, located: list[tuple[float, SolveInfo]]
                        ) -> list[tuple[float, SolveInfo]]:
        """The new points reached by releasing the frozen layers of the located points other
        than the best (which strategy 5 releases after selection): a frozen point can hide a
        stationary point next to it that is lower than every located one. Each is solved at
        full precision, its potential evaluated (``full_precision`` set); a release that
        lands on a point already located adds nothing."""
        out = []
        for _, cand in located[1:]:
            probe = self._release_probe(cand)
            if probe is not None and probe.converged and not any(
                    _same_stationary_point(probe.state, c.state) for _, c in located + out):
                probe.full_precision = True
                out.append((probe.potential, probe))
        return out

    def _released(self, info: SolveInfo) -> tuple[SolveInfo, int]:
        """Strategy 5: ``info``, or the point its frozen layers lead to when released if
        that point is lower; and the sweeps the check took.

        A point with frozen layers (V = 0) is absorbing for the sweeps: once a variance
        underflows (a discrete input seen at a large Ã, e.g. during a transient), that layer
        stays frozen, and both starts can end there although φ has a lower stationary point
        nearby (the paper's fixed-point scheme has no such absorbing state). The point is
        kept only if ML-VAMP returns to it from Ã = 10/ρ in the frozen layers (screened,
        then refined at full precision if it stays unfrozen).
        """
        probe = self._release_probe(info)
        if probe is None:
            return info, 0
        if probe.converged and probe.potential < info.potential:
            return probe, probe.iterations
        return info, probe.iterations

    def _release_probe(self, info: SolveInfo) -> SolveInfo | None:
        """The run from ``info`` with its frozen layers released (``converged`` only when it
        found a point where they stay unfrozen, with its potential), or None when nothing is
        frozen or the scheme is the fixed-point iteration."""
        rho = self.chain.rho
        # a layer whose input has no variance (a constant, e.g. a point-mass prior) is known
        # exactly at every stationary point: nothing to release
        frozen = (info.state.V == 0.0) & (rho > 0.0)
        if not np.any(frozen) or self.solver == "fixed_point":
            return None
        state = info.state.copy()
        state.A_tilde = np.where(frozen, _RELEASE_SNR / rho,
                                 np.where(np.isfinite(state.A_tilde), state.A_tilde, 0.0))
        state.V = np.where(frozen, rho, state.V)
        with using(screening=True):
            probe = self.solve(state, max(self.tol, SCREEN_TOL))
        if not probe.converged or not np.any(probe.state.V[frozen] > 0.0):
            probe.converged = False  # back to the frozen point (or lost): nothing to add
            return probe
        refined = self.solve(probe.state)
        refined.iterations += probe.iterations
        if refined.converged:
            refined.potential = self.potential(refined)
        return refined
