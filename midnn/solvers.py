"""The two iterative schemes that find the stationary points of φ (eq. 3).

* :class:`FixedPoint` -- the saddle-point iteration of the paper's supplement: the θ
  equation (50a), the A-updates (51)-(52) and the V-updates (54)-(55);
* :class:`MLVAMP` -- the state evolution of multi-layer VAMP, whose fixed points are the
  same stationary points (the supplement shows the equivalence) and which needs only the
  LMMSE quantity (60) of each spectrum.

Each has a ``sweep`` (one pass over the layers) and a ``solve`` (sweeps to convergence),
returning a :class:`SolveInfo`; :func:`fixed_point` and :func:`vamp` are the one-call forms.
The derivation of both schemes, in our notation, is in ``docs/derivations.md``.
"""

from __future__ import annotations

import math
from contextlib import ExitStack
from dataclasses import dataclass, field, replace

import numpy as np

from .anderson import Anderson
from .chain import Chain, State
from .potential import V_FREEZE
from .precision import using
from .spectra import Spectrum, ThetaError

__all__ = ["SolveInfo", "FixedPoint", "MLVAMP", "fixed_point", "vamp"]


@dataclass
class SolveInfo:
    """Outcome of one extremization."""

    state: State
    converged: bool
    iterations: int
    solver: str
    potential: float = np.nan
    message: str = ""
    trace: list | None = None
    #: The state at which the last sweep evaluated the channels, when it differs from
    #: ``state`` (ML-VAMP: Ã one sweep older; equal to ``state`` within the tolerance).
    evaluated_at: State | None = field(default=None, repr=False)
    #: The point was reached with the full-precision channel rules (a run started with the
    #: screening rules that switched, see :meth:`MLVAMP.solve`'s ``full_below``, or a start
    #: solved at full precision throughout): it needs no refinement.
    full_precision: bool = False
    #: The stationary points located by a multi-start search (best first), when one ran.
    located: list = field(default_factory=list, repr=False)
    #: ML-VAMP's log-variables (log Ã, then log τ, per layer) after the last sweep of a
    #: converged run.
    log_point: list | None = field(default=None, repr=False)
    #: The run stopped next to the point given as ``near`` (see :meth:`MLVAMP.solve`).
    settled_on_near: bool = False
    #: The fixed-point sweep reached an x = A V where eq. (50a) has no root (ML-VAMP,
    #: which solves no θ equation, is the remedy).
    no_theta_root: bool = False

    @property
    def evaluated_state(self) -> State:
        """The state where the channels were last evaluated (``state`` if not recorded)."""
        return self.evaluated_at if self.evaluated_at is not None else self.state


def _theta(spec: Spectrum, x: float) -> tuple[float, bool]:
    """(θ, stand-in): the first root of eq. (50a) at x, or, where it has none on a spectrum
    with W of full rank n_out < n_in (past the fold of its branches, docs/derivations.md
    section 3), θ = 1 as a stand-in: the root of the unreduced (50a), no stationary point,
    which lets the sweeps go on through such an x but is never accepted at convergence."""
    if x <= 0:
        return 0.0, False
    try:
        return spec.theta(x), False
    except ThetaError:
        if getattr(spec, "wide_full_rank", False):
            return 1.0, True
        raise


def _iterates_settled(V, V_old, A_tilde, A_tilde_old, tol: float) -> bool:
    """Convergence of two successive iterates: Σ|ΔV| < tol, |ΔV| < min(sqrt(tol), 1e-4) V for
    each layer, and the precisions Ã settled on the same scale (|ΔÃ| V² is the change of V
    that ΔÃ induces). Testing V alone would stop a warm start from another model's fixed
    point after one sweep, before Ã has moved. (Sequences of L floats, in plain Python:
    NumPy costs ~1 us per call on such short arrays.)"""
    V, V_old, A_tilde, A_tilde_old = (x.tolist() if isinstance(x, np.ndarray) else x
                                      for x in (V, V_old, A_tilde, A_tilde_old))
    dV = [abs(a - b) for a, b in zip(V, V_old, strict=True)]
    if sum(dV) >= tol:
        return False
    # small variances (an almost recovered layer) must also settle in relative terms, else
    # an iteration started near V = 0 "converges" before it has moved
    rel = min(math.sqrt(tol), 1e-4)
    if any(v > V_FREEZE and d > rel * v for d, v in zip(dV, V, strict=True)):
        return False
    drift = sum((abs(a - b) if math.isfinite(a) and math.isfinite(b) else 0.0) * (v * v)
                for a, b, v in zip(A_tilde, A_tilde_old, V, strict=True))
    return drift < tol


def moved_less_than(x_in, x_out, tol: float) -> bool:
    """One sweep moved every log-variable by less than ``tol``: its input is a fixed point
    to relative precision ``tol`` (sequences of floats; an infinite entry must stay the
    same)."""
    return all(abs(b - a) < tol or (a == b and math.isinf(a))
               for a, b in zip(x_in, x_out, strict=True))


def same_log_point(x, y, tol: float) -> bool:
    """Two ML-VAMP points (log Ã then log τ, per layer) within ``tol`` in every
    log-variable. A layer frozen in both (Ã = inf: V = 0, its input recovered) must match
    there, and its τ, which then no longer enters the sweeps, is not compared."""
    L = len(x) // 2
    frozen = [math.isinf(a) and a == b for a, b in zip(x[:L], y[:L], strict=True)]
    return all(f or abs(a - b) < tol for f, a, b in zip(frozen, x[:L], y[:L], strict=True)) \
        and all(f or abs(a - b) < tol for f, a, b in zip(frozen, x[L:], y[L:], strict=True))


def _close_to_fixed_point(step: float, last_step: float, V: np.ndarray, tol: float) -> bool:
    """The a posteriori bound of a contraction: the iterate after a step of size ``step``
    (Σ|ΔV|), the previous one having been ``last_step``, lies within κ/(1 - κ) ``step`` of
    the fixed point, κ = step/last_step. True when that is below ``tol``, or when ``step``
    is at the rounding level of V (successive steps then no longer measure κ)."""
    if step <= 64 * np.finfo(float).eps * float(np.sum(np.abs(V))):
        return True
    kappa = step / last_step if last_step > 0 else math.inf
    return kappa < 1.0 and step * kappa / (1.0 - kappa) < tol


def _inv(x: float) -> float:
    """1/x as NumPy gives it (+-inf at +-0, no exception)."""
    try:
        return 1.0 / x
    except ZeroDivisionError:
        return math.copysign(math.inf, x)


class FixedPoint:
    """The saddle-point iteration of the paper's supplement.

    One sweep: backward over layers k = L..1, solve the θ equation (50a) at x = A_k V_k, set
    Ṽ_k = θ/A_k, update A_k by (52) (output) or (51) (hidden), solve (50a) again and set
    Ã_k = α_k θ/V_k; then the V-updates (55) and (54). A layer with V_k = 0 (input recovered
    exactly) is frozen: θ_k = 0, Ã_k = E[λ_k] A_k. ``damping`` mixes the old V into the new.
    """

    name = "fixed_point"

    def __init__(self, chain: Chain, *, damping: float = 0.0):
        self.chain = chain
        self.damping = damping
        self._means = np.array([sp.mean for sp in chain.spectra])
        #: Per layer: θ = 1 stood in for a missing root of (50a) in the last sweep.
        self.stand_in = [False] * chain.n_layers

    def sweep(self, s: State) -> State:
        """One sweep from ``s`` (modified in place and returned); raises
        :class:`~midnn.spectra.ThetaError` where (50a) has no root, except on spectra of
        full rank n_out < n_in, where θ = 1 stands in (see :func:`_theta`) and
        ``self.stand_in[k]`` records it for the layers of this sweep."""
        chain, L = self.chain, self.chain.n_layers
        alphas = chain.alphas
        V_old = s.V.copy()
        stand_in = self.stand_in = [False] * L
        for k in reversed(range(L)):
            spec, ch = chain.spectra[k], chain.channels[k]
            if s.V[k] <= V_FREEZE:
                s.theta[k], s.V_tilde[k] = 0.0, 0.0
            else:
                s.theta[k], stand_in[k] = _theta(spec, s.A[k] * s.V[k])
                s.V_tilde[k] = s.theta[k] / s.A[k]
            if k == L - 1:
                s.A[k] = ch.output_A(s.V_tilde[k])
            else:
                s.A[k] = ch.hidden(s.A_tilde[k + 1], s.V_tilde[k]).A
            if s.V[k] <= V_FREEZE and not np.isfinite(s.A[k]):
                # input recovered and a noiseless activation: ω, hence t, is known exactly;
                # the precision is infinite (ML-VAMP's a1x = inf for such layers)
                s.A[k] = np.inf
            if s.V[k] <= V_FREEZE:
                s.theta[k], s.A_tilde[k] = 0.0, self._means[k] * s.A[k]
            else:
                s.theta[k], second = _theta(spec, s.A[k] * s.V[k])
                stand_in[k] = stand_in[k] or second
                s.A_tilde[k] = alphas[k] * s.theta[k] / s.V[k]
        newV = np.empty(L)
        for k in reversed(range(L)):
            newV[k] = (chain.prior.mmse(s.A_tilde[0]) if k == 0 else
                       chain.channels[k - 1].hidden(s.A_tilde[k], s.V_tilde[k - 1]).V)
        s.V = (1 - self.damping) * newV + self.damping * V_old
        return s

    def solve(self, init: State, *, tol: float = 1e-10, max_iter: int = 500,
              trace: bool = False) -> SolveInfo:
        """Sweeps from ``init`` until two successive iterates agree (Σ|ΔV| < ``tol`` and Ã
        settled) and the distance to the fixed point is below ``tol`` too, or ``max_iter``.

        The iteration is a contraction near a stable fixed point: with κ the ratio of two
        successive steps, the distance of the current iterate from the fixed point is at most
        κ/(1 - κ) times the last step. A slowly contracting map (κ close to 1) takes steps
        below ``tol`` far from its fixed point, so a step is accepted only when that bound is
        below ``tol`` as well (or the step is at the rounding level of V)."""
        s = init.copy()
        history = [] if trace else None
        it = 0
        last_step = math.inf
        # an inadmissible iterate (an infinite or zero A) is detected by the finiteness test
        # below and reported as non-convergence; it must not leak floating-point warnings
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            try:
                for it in range(1, max_iter + 1):
                    V_old, At_old = s.V.copy(), s.A_tilde.copy()
                    self.sweep(s)
                    if not np.all(np.isfinite(s.V)) or np.any(s.V < 0):
                        return SolveInfo(s, False, it, self.name,
                                         message="non-finite variance")
                    if trace:
                        history.append(s.copy())
                    step = float(np.sum(np.abs(s.V - V_old)))
                    if it > 1 and _iterates_settled(s.V, V_old, s.A_tilde, At_old, tol) \
                            and _close_to_fixed_point(step, last_step, s.V, tol):
                        if any(self.stand_in):
                            k = self.stand_in.index(True)
                            return SolveInfo(
                                s, False, it, self.name, trace=history, no_theta_root=True,
                                message=f"the iteration settled at x = {s.A[k] * s.V[k]:.6g} "
                                f"in layer {k + 1}, where the theta equation (50a) has no "
                                "root on its branch (theta = 1 stands in there)")
                        return SolveInfo(s, True, it, self.name, trace=history)
                    last_step = step
            except ThetaError as err:
                return SolveInfo(s, False, it, self.name, message=str(err), trace=history,
                                 no_theta_root=True)
        return SolveInfo(s, False, max_iter, self.name, message="max_iter reached",
                         trace=history)


class MLVAMP:
    """The ML-VAMP state evolution; the same fixed points as :class:`FixedPoint`.

    Variables per layer: v1x (= V), a1x (= Ã), a2x, τ, a2z (= 1/Ṽ) and g (= A). The
    initial :class:`~midnn.chain.State` gives v1x = V and a1x = Ã (or 1/V when Ã = 0). One
    sweep (a forward then a backward pass, :meth:`sweep`) maps (Ã, τ) to new values. With
    ``accelerate`` the sweeps are Anderson-mixed on (log Ã, log τ), falling back to plain
    sweeps whenever a mixed point is not admissible. With ``lagged`` a nonlinear hidden
    channel is evaluated once per sweep: the forward pass computes its V-update (54) and its
    A-update (51) at the same point and the backward pass uses that A (the Ã of the next
    layer is then one half-sweep older), which halves the cost of a sweep and leaves the
    fixed points unchanged. Either way the fixed point is that of the plain sweep.
    """

    name = "vamp"

    def __init__(self, chain: Chain, *, damping: float = 0.0, accelerate: bool = True,
                 lagged: bool = True):
        self.chain = chain
        self.damping = damping
        self.accelerate = accelerate
        # closed-form channels are cheap: their A-update is always recomputed
        self._lag = [lagged and not ch.closed_form for ch in chain.channels]
        self._alphas = chain.alphas.tolist()

    def _start(self, init: State) -> None:
        """The state as lists of Python floats: per-layer scalar arithmetic on NumPy arrays
        costs ~0.1-1 us per operation."""
        L = self.chain.n_layers
        v1x = np.array(init.V, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            a1x = np.where(init.A_tilde > 0, init.A_tilde, 1.0 / np.maximum(v1x, 1e-300))
            a2z = np.where(init.V_tilde > 0, 1.0 / np.maximum(init.V_tilde, 1e-300), 1.0)
            tau = np.where((init.V_tilde > 0) & (init.A > 0),
                           1.0 / np.maximum(init.A, 1e-300) - init.V_tilde, 1.0)
        self.a1x, self.a2z = a1x.tolist(), a2z.tolist()
        self.tau = np.where(tau > 0, tau, 1.0).tolist()
        self.v1x = v1x.tolist()
        self.g = np.array(init.A, dtype=float).tolist()
        self.a2x = [0.0] * L
        self.g_lag = [math.nan] * L

    def state(self) -> State:
        """The current iterate as a :class:`~midnn.chain.State` (θ = 1/(1 + a2z τ))."""
        a2z_, tau_ = np.array(self.a2z), np.array(self.tau)
        with np.errstate(divide="ignore", invalid="ignore"):
            theta = 1.0 / (1.0 + a2z_ * tau_)
            V_tilde = np.where(np.isinf(a2z_), 0.0, 1.0 / a2z_)
        return State(np.array(self.g), np.array(self.v1x), np.array(self.a1x), V_tilde, theta)

    def sweep(self, v_old: list) -> str:
        """One forward-backward sweep on the current iterate (in place); returns an error
        message when a precision or variance turns non-positive, else ""."""
        chain = self.chain
        L = chain.n_layers
        alphas, spectra, channels = self._alphas, chain.spectra, chain.channels
        a1x, a2x, a2z, tau, v1x = self.a1x, self.a2x, self.a2z, self.tau, self.v1x
        g, g_lag, damping = self.g, self.g_lag, self.damping
        for k in range(L):
            if k == 0:
                v = float(chain.prior.mmse(a1x[0]))
            else:
                hv = channels[k - 1].hidden(a1x[k], _inv(a2z[k - 1]))
                v = float(hv.V)
                g_lag[k - 1] = float(hv.A)
            if damping:
                v = (1 - damping) * v + damping * v_old[k]
            if v <= V_FREEZE:
                v1x[k] = 0.0
                a2x[k] = math.inf
                a2z[k] = math.inf
                continue
            v1x[k] = v
            ax = 1.0 / v - a1x[k]
            a2x[k] = ax
            if not ax > 0:
                return f"negative precision a2x in layer {k + 1}"
            _, K = spectra[k].lmmse_pair(ax, tau[k])
            v1z = tau[k] * K / alphas[k]
            az = _inv(v1z) - 1.0 / tau[k]
            a2z[k] = az
            if not az > 0:
                return f"negative precision a2z in layer {k + 1}"
        for k in reversed(range(L)):
            az = a2z[k]
            finite = math.isfinite(az)
            if k == L - 1:
                gk = channels[k].output_A(1.0 / az if finite else 0.0)
            elif self._lag[k] and finite and math.isfinite(g_lag[k]):
                gk = g_lag[k]
            else:
                gk = channels[k].hidden(a1x[k + 1], 1.0 / az if finite else 0.0).A
            gk = g[k] = float(gk)
            if not finite:
                a1x[k] = math.inf
                continue
            t = _inv(gk) - 1.0 / az
            if not t > 0:
                return f"negative variance tau in layer {k + 1}"
            tau[k] = t
            v2x, K = spectra[k].lmmse_pair(a2x[k], t)
            a1x[k] = K * _inv(v2x)  # = 1/v2x - a2x, without its cancellation
        if not all(math.isfinite(v) for v in v1x):
            return "non-finite variance"
        return ""

    def solve(self, init: State, *, tol: float = 1e-10, max_iter: int = 500,
              trace: bool = False, full_below: float = 0.0, near: list | None = None,
              near_tol: float = 1e-2) -> SolveInfo:
        """Sweeps from ``init`` to convergence: two successive sweeps agree
        (:func:`_iterates_settled`), or one sweep moved every log Ã and log τ by less than
        ``tol`` (:func:`moved_less_than`: its input is a fixed point to that relative
        precision; with Anderson mixing this saves the confirming sweep, and a restart at a
        fixed point stops after one sweep).

        With ``full_below`` > 0, a run started with the screening precision leaves it for
        the full-precision rules once a sweep moves every log-variable by less than
        ``full_below`` and goes on to ``tol`` (the Anderson history is kept: its secant steps
        are then still much larger than the ~1e-6 difference of the rules);
        ``full_precision`` is set in the result, and a screened start is thereby finished
        without a separate refinement.

        With ``near`` (the ``log_point`` of a converged run of the same chain) the run stops,
        with ``settled_on_near`` set, once a sweep moves every log-variable by less than
        ``near_tol`` and its output is within ``near_tol`` of ``near`` in every log-variable
        (:func:`same_log_point`): the run is then settling on that fixed point. A run that
        only passes near it moves by more than ``near_tol`` per sweep, and one that approaches
        a frozen point without being frozen stays infinitely far.
        """
        self._start(init)
        L = self.chain.n_layers
        a1x, tau, v1x = self.a1x, self.tau, self.v1x
        history = [] if trace else None
        mixer = Anderson() if self.accelerate and not self.damping else None
        it = 0
        mixed = False
        plain = None
        switched = False
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"), ExitStack() as stack:
            for it in range(1, max_iter + 1):
                v_old = v1x[:]
                a_old = a1x[:]
                x_in = np.log(a1x + tau)  # NumPy's log and exp for the mixed variables
                err = self.sweep(v_old)
                if err:
                    if mixed and plain is not None:  # undo the mixed step, continue plainly
                        a1x[:], tau[:] = plain
                        mixer = None
                        mixed = False
                        continue
                    return SolveInfo(self.state(), False, it, self.name, message=err)
                if trace:
                    history.append(self.state())
                x_out = np.log(a1x + tau)
                xi, xo = x_in.tolist(), x_out.tolist()
                if near is not None and moved_less_than(xi, xo, near_tol) \
                        and same_log_point(near, xo, near_tol):
                    return SolveInfo(self.state(), True, it, self.name, trace=history,
                                     settled_on_near=True,
                                     message="settling on the given point")
                if full_below and not switched and moved_less_than(xi, xo, full_below):
                    # close to a fixed point of the screening rules: go on with the full
                    # ones (this sweep used the screening rules: no convergence test on it)
                    stack.enter_context(using(screening=False))
                    switched = True
                elif (it > 1 and _iterates_settled(v1x, v_old, a1x, a_old, tol)) \
                        or moved_less_than(xi, xo, tol):
                    state = self.state()
                    # where the last sweep evaluated the prior and the hidden channels (Ã
                    # from before the sweep, Ṽ from its forward pass): φ is stationary there
                    # to the tolerance too, and evaluating it there reuses the cached channels
                    return SolveInfo(state, True, it, self.name, trace=history,
                                     full_precision=switched, log_point=xo,
                                     evaluated_at=replace(state, A_tilde=np.array(a_old)))
                mixed = False
                if (mixer is not None and all(math.isfinite(a) and a > 0 for a in a1x)
                        and all(math.isfinite(x) for x in xi)):
                    plain = (a1x[:], tau[:])
                    x_new = mixer.step(x_in, x_out)
                    if x_new is not x_out and not np.logical_and.reduce(x_new == x_out):
                        new = np.exp(x_new).tolist()
                        a1x[:], tau[:] = new[:L], new[L:]
                        mixed = True
        return SolveInfo(self.state(), False, max_iter, self.name, message="max_iter reached",
                         trace=history)


def fixed_point(chain: Chain, init: State, *, tol: float = 1e-10, max_iter: int = 500,
                damping: float = 0.0, trace: bool = False) -> SolveInfo:
    """:meth:`FixedPoint.solve` in one call."""
    return FixedPoint(chain, damping=damping).solve(init, tol=tol, max_iter=max_iter,
                                                    trace=trace)


def vamp(chain: Chain, init: State, *, tol: float = 1e-10, max_iter: int = 500,
         damping: float = 0.0, trace: bool = False, accelerate: bool = True,
         lagged: bool = True, full_below: float = 0.0, near: list | None = None,
         near_tol: float = 1e-2) -> SolveInfo:
    """:meth:`MLVAMP.solve` in one call."""
    return MLVAMP(chain, damping=damping, accelerate=accelerate, lagged=lagged).solve(
        init, tol=tol, max_iter=max_iter, trace=trace, full_below=full_below, near=near,
        near_tol=near_tol)
