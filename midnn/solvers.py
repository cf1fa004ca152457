"""Extremization of the replica potential (digest section 3).

A *chain* is a prior-like object (``mmse``, ``mutual_information``) followed by layers, each
with a spectrum and a :class:`~midnn.channels.Channel`. Two iterative schemes find the
stationary points of phi (eq. 3):

* :func:`fixed_point` -- the saddle-point iteration of the paper's supplement (theta equation
  (50a), A-updates (51)-(52), V-updates (54)-(55)), digest section 3.2;
* :func:`vamp` -- the ML-VAMP state evolution (digest section 3.3), whose fixed points are the
  same stationary points and which only needs the LMMSE quantity (60) of each spectrum.

Both return a :class:`State` (the order parameters A, V, A^, V^, theta per layer) and
:func:`potential` evaluates phi at a state.
"""

from __future__ import annotations

import math
from contextlib import ExitStack
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.linalg import get_lapack_funcs

from .activations import Linear
from .channels import Channel, screening
from .spectra import Empirical, Spectrum, ThetaError

__all__ = ["Chain", "State", "SolveInfo", "fixed_point", "vamp", "potential"]

#: Variances below this are treated as exactly recovered (the layer is frozen).
_V_FREEZE = 1e-300


@dataclass
class Chain:
    """prior -> layer_1 -> ... -> layer_L, the object the solvers extremize phi for.

    ``prior`` needs ``mmse(A)``, ``mutual_information(A)`` and ``second_moment``;
    ``spectra[k]`` and ``channels[k]`` describe layer k+1 (0-based lists).
    """

    prior: object
    spectra: list[Spectrum]
    channels: list[Channel]

    @property
    def n_layers(self) -> int:
        return len(self.spectra)

    @property
    def alphas(self) -> np.ndarray:
        return np.array([s.alpha for s in self.spectra])

    @property
    def alpha_tilde(self) -> np.ndarray:
        return np.concatenate([[1.0], np.cumprod(self.alphas)])

    @property
    def rho(self) -> np.ndarray:
        """Second moments of the inputs of each layer (rho_k of the digest)."""
        out = [self.prior.second_moment]
        for ch in self.channels[:-1]:
            out.append(ch.activation.second_moment(ch.rho_tilde))
        return np.array(out)


@dataclass
class State:
    """Order parameters (digest section 2): arrays of length L (entry k = layer k+1)."""

    A: np.ndarray
    V: np.ndarray
    Ahat: np.ndarray
    Vhat: np.ndarray
    theta: np.ndarray

    def copy(self) -> State:
        return State(*(np.array(x, dtype=float) for x in
                       (self.A, self.V, self.Ahat, self.Vhat, self.theta)))

    @classmethod
    def initial(cls, V0: np.ndarray) -> State:
        V0 = np.asarray(V0, dtype=float)
        A = np.where(V0 > 0, 0.5 / np.where(V0 > 0, V0, 1.0), 1.0)
        z = np.zeros_like(V0)
        return cls(A, V0.copy(), z.copy(), z.copy(), z.copy())


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
    #: ``state`` (ML-VAMP: A^ one sweep older; equal to ``state`` within the tolerance).
    evaluated: State | None = field(default=None, repr=False)
    #: A run started with the screening rules that switched to the full ones (see
    #: :func:`vamp`'s ``full_below``) and converged there; the multi-start search also sets
    #: it on a start it solved at full precision throughout: its point needs no refinement.
    switched: bool = False
    #: The stationary points located by a multi-start search (best first), when one ran.
    screened: list = field(default_factory=list, repr=False)
    #: ML-VAMP's log-variables (log A^, log tau) after the last sweep of a converged run.
    point: list | None = field(default=None, repr=False)
    #: The run stopped next to the point given as ``near`` (see :func:`vamp`).
    merged: bool = False


def _theta(spec: Spectrum, x: float) -> float:
    if x <= 0:
        return 0.0
    return spec.theta(x)


def _hidden_A(chain: Chain, k: int, Ahat_next: float, Vhat: float) -> float:
    return chain.channels[k].hidden(Ahat_next, Vhat).A


def _hidden_V(chain: Chain, k: int, Ahat_next: float, Vhat: float) -> float:
    return chain.channels[k].hidden(Ahat_next, Vhat).V


def _prior_V(chain: Chain, Ahat: float) -> float:
    return chain.prior.mmse(Ahat)


def _settled(V, V_old, Ahat, Ahat_old, tol: float) -> bool:
    """Convergence test: sum |dV| < tol, |dV| < min(sqrt(tol), 1e-4) V for each layer, and the
    precisions A^ settled on the same scale
    (|dA^| V^2 is the change of V that dA^ induces). Testing V alone stops a warm start
    from another model's fixed point after one sweep, before A^ has moved.
    (Sequences of L floats; plain Python, as NumPy costs ~1 us per call on such arrays.)"""
    V, V_old, Ahat, Ahat_old = (x.tolist() if isinstance(x, np.ndarray) else x
                                for x in (V, V_old, Ahat, Ahat_old))
    dV = [abs(a - b) for a, b in zip(V, V_old, strict=True)]
    if sum(dV) >= tol:
        return False
    # small variances (an almost recovered layer) must also settle in relative terms, else
    # an iteration started near V = 0 "converges" before it has moved
    rel = min(math.sqrt(tol), 1e-4)
    if any(v > _V_FREEZE and d > rel * v for d, v in zip(dV, V, strict=True)):
        return False
    drift = sum((abs(a - b) if math.isfinite(a) and math.isfinite(b) else 0.0) * (v * v)
                for a, b, v in zip(Ahat, Ahat_old, V, strict=True))
    return drift < tol


def fixed_point(chain: Chain, init: State, *, tol: float = 1e-10, max_iter: int = 500,
                damping: float = 0.0, trace: bool = False) -> SolveInfo:
    """Saddle-point iteration of the paper (digest section 3.2).

    One sweep: backward over layers k = L..1 solving the theta equation (50a) at x = A_k V_k,
    setting V^_k = theta/A_k, updating A_k by (52) (output) or (51) (hidden), solving (50a)
    again and setting A^_k = alpha_k theta/V_k; then the V-updates (55) and (54).
    Convergence: sum_k |V_k - V_k^old| < tol and A^ settled (see :func:`_settled`).
    ``damping`` mixes the old V into the new one.
    """
    s = init.copy()
    L = chain.n_layers
    alphas = chain.alphas
    means = np.array([sp.mean for sp in chain.spectra])
    history = [] if trace else None
    try:
        for it in range(1, max_iter + 1):
            V_old = s.V.copy()
            Ah_old = s.Ahat.copy()
            for k in reversed(range(L)):
                if s.V[k] <= _V_FREEZE:
                    s.theta[k], s.Vhat[k] = 0.0, 0.0
                else:
                    s.theta[k] = _theta(chain.spectra[k], s.A[k] * s.V[k])
                    s.Vhat[k] = s.theta[k] / s.A[k]
                if k == L - 1:
                    s.A[k] = chain.channels[k].output_A(s.Vhat[k])
                else:
                    s.A[k] = _hidden_A(chain, k, s.Ahat[k + 1], s.Vhat[k])
                if s.V[k] <= _V_FREEZE and not np.isfinite(s.A[k]):
                    # input recovered and a noiseless activation: omega, hence t, is known
                    # exactly; the precision is infinite (VAMP's a1x = inf for such layers)
                    s.A[k] = np.inf
                if s.V[k] <= _V_FREEZE:
                    s.theta[k], s.Ahat[k] = 0.0, means[k] * s.A[k]
                else:
                    s.theta[k] = _theta(chain.spectra[k], s.A[k] * s.V[k])
                    s.Ahat[k] = alphas[k] * s.theta[k] / s.V[k]
            newV = np.empty(L)
            for k in reversed(range(L)):
                newV[k] = (_prior_V(chain, s.Ahat[0]) if k == 0 else
                           _hidden_V(chain, k - 1, s.Ahat[k], s.Vhat[k - 1]))
            s.V = (1 - damping) * newV + damping * V_old
            if not np.all(np.isfinite(s.V)) or np.any(s.V < 0):
                return SolveInfo(s, False, it, "fixed_point", message="non-finite variance")
            if trace:
                history.append(s.copy())
            if it > 1 and _settled(s.V, V_old, s.Ahat, Ah_old, tol):
                return SolveInfo(s, True, it, "fixed_point", trace=history)
    except ThetaError as err:
        return SolveInfo(s, False, it, "fixed_point", message=str(err), trace=history)
    return SolveInfo(s, False, max_iter, "fixed_point", message="max_iter reached",
                     trace=history)


def _fixed(x_in, x_out, tol: float) -> bool:
    """Residual test: one sweep moved every log-variable (log A^, log tau) by less than
    ``tol``, i.e. its input is a fixed point to relative precision ``tol`` (sequences of
    floats; an infinite entry must stay the same)."""
    return all(abs(b - a) < tol or (a == b and math.isinf(a))
               for a, b in zip(x_in, x_out, strict=True))


def _close(x, y, tol: float) -> bool:
    """Two ML-VAMP points (log A^ then log tau, per layer) within ``tol`` in every
    log-variable; a layer frozen in both (A^ = inf: V = 0, its input recovered) must match
    there and its tau, which then no longer enters the sweeps, is not compared."""
    L = len(x) // 2
    frozen = [math.isinf(a) and a == b for a, b in zip(x[:L], y[:L], strict=True)]
    return all(f or abs(a - b) < tol for f, a, b in zip(frozen, x[:L], y[:L], strict=True)) \
        and all(f or abs(a - b) < tol for f, a, b in zip(frozen, x[L:], y[L:], strict=True))


_GELSD: dict = {}


def _lstsq(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """min |a g - b| for a small n x k matrix ``a``: LAPACK gelsd with the cutoff
    eps max(n, k), as ``numpy.linalg.lstsq(a, b, rcond=None)``, without its Python overhead
    (~9 -> ~4 us per call, once per Anderson step)."""
    n, k = a.shape
    if (n, k) not in _GELSD:
        gelsd, lwork = get_lapack_funcs(("gelsd", "gelsd_lwork"), (a, b))
        work, iwork, info = lwork(n, k, 1, -1)
        if info != 0:
            raise np.linalg.LinAlgError("gelsd workspace query failed")
        _GELSD[n, k] = (gelsd, int(work), int(iwork), np.finfo(float).eps * max(n, k))
    gelsd, lw, liw, cutoff = _GELSD[n, k]
    rhs = np.zeros((max(n, k), 1))  # gelsd returns the solution in the right-hand side
    rhs[:n, 0] = b
    x, _, _, info = gelsd(a, rhs, lw, liw, cutoff, False, False)
    if info != 0:
        raise np.linalg.LinAlgError(f"gelsd failed (info {info})")
    return x[:k, 0]


class _Anderson:
    """Anderson mixing (depth ``m``) of a fixed-point map x -> G(x) on log-variables.

    With ``safeguard`` the history is dropped whenever the residual |G(x) - x| grows by more
    than ``growth`` from one step to the next: far from the fixed point (an informative
    start) the secant model is poor and the mixed steps would otherwise wander. Measured on
    the 30-model grid of the benchmark: 5% fewer sweeps with growth 3 (1089 -> 1034);
    growth 0.9 restarts too often (one grid model then needs 5x more sweeps).
    """

    def __init__(self, m: int = 3, safeguard: bool = True, growth: float = 3.0):
        self.m = m
        self.safeguard = safeguard
        self.growth = growth
        self.last_norm = np.inf
        self.X: list[np.ndarray] = []
        self.F: list[np.ndarray] = []

    def step(self, x: np.ndarray, gx: np.ndarray) -> np.ndarray:
        f = gx - x
        # (a dot product: np.all and np.linalg.norm cost ~3 us each; f @ f is inf or nan
        # when an entry of f is)
        sq = float(f @ f)
        norm = math.sqrt(sq) if math.isfinite(sq) else math.inf
        if self.safeguard and self.F and norm > self.growth * self.last_norm:
            # the residual grew: the history describes the map badly here (a transient far
            # from the fixed point); restart from a plain step
            self.reset()
        self.last_norm = norm
        self.X.append(gx)
        self.F.append(f)
        if len(self.F) > self.m + 1:
            self.X.pop(0)
            self.F.pop(0)
        if len(self.F) < 2:
            return gx
        F, X = np.array(self.F), np.array(self.X)
        dF, dX = (F[1:] - F[:-1]).T, (X[1:] - X[:-1]).T
        if not (math.isfinite(norm) and np.logical_and.reduce(np.isfinite(dF), axis=None)
                and np.logical_and.reduce(np.isfinite(dX), axis=None)):
            self.reset()
            return gx
        try:
            gamma = _lstsq(dF, f)
        except np.linalg.LinAlgError:
            self.reset()
            return gx
        out = gx - dX @ gamma
        return out if np.logical_and.reduce(np.isfinite(out)) else gx

    def reset(self) -> None:
        self.X.clear()
        self.F.clear()


def vamp(chain: Chain, init: State, *, tol: float = 1e-10, max_iter: int = 500,
         damping: float = 0.0, trace: bool = False, accelerate: bool = True,
         lagged: bool = True, full_below: float = 0.0, near: list | None = None,
         near_tol: float = 1e-2) -> SolveInfo:
    """ML-VAMP state evolution (digest section 3.3); same fixed points as :func:`fixed_point`.

    Variables per layer: v1x (= V), a1x (= A^), a2x, tau, a2z (= 1/V^) and g (= A). The
    initial ``State`` provides v1x = V and a1x = A^ (or 1/V when A^ = 0). One sweep (forward
    then backward pass) maps (A^, tau) to new values; with ``accelerate`` the sweeps are
    Anderson-mixed (on log A^, log tau), which falls back to plain sweeps whenever a mixed
    point is not admissible. With ``lagged`` (default) a nonlinear hidden channel is
    evaluated once per sweep: the forward pass computes its V-update (54) and its A-update
    (51) at the same point, and the backward pass uses that A (the A^ of the next layer is one
    half-sweep older). This halves the cost of a sweep and leaves the fixed points unchanged.
    Either way the fixed point is that of the plain sweep.
    With ``full_below`` > 0, a run started in the :func:`~midnn.channels.screening` context
    leaves it for the full-precision rules once a sweep moves every log-variable by less than
    ``full_below`` and goes on to ``tol`` (Anderson history kept: its secant steps are then
    still much larger than the ~1e-6 difference of the rules); ``switched`` is set in the
    result. A screened start is thereby finished without a separate refinement.
    With ``near`` (the ``point`` of a converged run of the same chain) the run stops, with
    ``merged`` set, once a sweep moves every log-variable by less than ``near_tol`` and its
    output is within ``near_tol`` of ``near`` in every log-variable (a layer frozen at
    V = 0 must be frozen in both, see :func:`_close`): the run is then settling on that
    fixed point. A run that only passes near it moves by more than ``near_tol`` per sweep,
    and one that approaches a frozen point without being frozen stays infinitely far.
    Convergence: two successive sweeps agree (:func:`_settled`), or one sweep moved every
    log A^ and log tau by less than ``tol`` (:func:`_fixed`: its input is a fixed point to
    that relative precision; with Anderson mixing this saves the confirming sweep, 7% of the
    sweeps on the benchmark grid, and a restart at a fixed point stops after one sweep).
    """
    L = chain.n_layers
    alphas = chain.alphas.tolist()
    spectra, channels = chain.spectra, chain.channels
    # the state as lists of Python floats: per-layer scalar arithmetic on NumPy arrays costs
    # ~0.1-1 us per operation
    v1x = np.array(init.V, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        a1x = np.where(init.Ahat > 0, init.Ahat, 1.0 / np.maximum(v1x, 1e-300)).tolist()
        a2z = np.where(init.Vhat > 0, 1.0 / np.maximum(init.Vhat, 1e-300), 1.0).tolist()
        tau = np.where((init.Vhat > 0) & (init.A > 0),
                       1.0 / np.maximum(init.A, 1e-300) - init.Vhat, 1.0)
    tau = np.where(tau > 0, tau, 1.0).tolist()
    v1x = v1x.tolist()
    g = np.array(init.A, dtype=float).tolist()
    a2x = [0.0] * L
    g_lag = [math.nan] * L
    # closed-form (linear) channels are cheap: their A-update is always recomputed
    lag = [lagged and not isinstance(ch.activation, Linear) for ch in channels]
    history = [] if trace else None
    mixer = _Anderson() if accelerate and not damping else None

    def as_state() -> State:
        a2z_, tau_ = np.array(a2z), np.array(tau)
        with np.errstate(divide="ignore", invalid="ignore"):
            theta = 1.0 / (1.0 + a2z_ * tau_)
            Vhat = np.where(np.isinf(a2z_), 0.0, 1.0 / a2z_)
        return State(np.array(g), np.array(v1x), np.array(a1x), Vhat, theta)

    def sweep(v_old: list) -> str:
        for k in range(L):
            if k == 0:
                v = float(_prior_V(chain, a1x[0]))
            else:
                hv = channels[k - 1].hidden(a1x[k], _inv(a2z[k - 1]))
                v = float(hv.V)
                g_lag[k - 1] = float(hv.A)
            if damping:
                v = (1 - damping) * v + damping * v_old[k]
            if v <= _V_FREEZE:
                v1x[k] = 0.0
                a2x[k] = math.inf
                a2z[k] = math.inf
                continue
            v1x[k] = v
            ax = 1.0 / v - a1x[k]
            a2x[k] = ax
            if not ax > 0:
                return f"negative precision a2x in layer {k + 1}"
            v2x = float(spectra[k].lmmse(ax, tau[k]))
            v1z = tau[k] * (1.0 - ax * v2x) / alphas[k]
            az = _inv(v1z) - 1.0 / tau[k]
            a2z[k] = az
            if not az > 0:
                return f"negative precision a2z in layer {k + 1}"
        for k in reversed(range(L)):
            az = a2z[k]
            finite = math.isfinite(az)
            if k == L - 1:
                gk = channels[k].output_A(1.0 / az if finite else 0.0)
            elif lag[k] and finite and math.isfinite(g_lag[k]):
                gk = g_lag[k]
            else:
                gk = _hidden_A(chain, k, a1x[k + 1], 1.0 / az if finite else 0.0)
            gk = g[k] = float(gk)
            if not finite:
                a1x[k] = math.inf
                continue
            t = _inv(gk) - 1.0 / az
            if not t > 0:
                return f"negative variance tau in layer {k + 1}"
            tau[k] = t
            a1x[k] = _inv(float(spectra[k].lmmse(a2x[k], t))) - a2x[k]
        if not all(math.isfinite(v) for v in v1x):
            return "non-finite variance"
        return ""

    it = 0
    mixed = False
    plain = None
    switched = False
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"), ExitStack() as stack:
        for it in range(1, max_iter + 1):
            v_old = v1x[:]
            a_old = a1x[:]
            x_in = np.log(a1x + tau)  # (NumPy's log and exp: the same iterates as before)
            err = sweep(v_old)
            if err:
                if mixed and plain is not None:  # undo the mixed step, continue plainly
                    a1x[:], tau[:] = plain
                    mixer = None
                    mixed = False
                    continue
                return SolveInfo(as_state(), False, it, "vamp", message=err)
            if trace:
                history.append(as_state())
            x_out = np.log(a1x + tau)
            xi, xo = x_in.tolist(), x_out.tolist()
            if near is not None and _fixed(xi, xo, near_tol) and _close(near, xo, near_tol):
                return SolveInfo(as_state(), True, it, "vamp", trace=history, merged=True,
                                 message="settling on the given point")
            if full_below and not switched and _fixed(xi, xo, full_below):
                # close to a fixed point of the screening rules: go on with the full ones
                # (this sweep used the screening rules: no convergence test on it)
                stack.enter_context(screening(False))
                switched = True
            elif (it > 1 and _settled(v1x, v_old, a1x, a_old, tol)) or _fixed(xi, xo, tol):
                info = SolveInfo(as_state(), True, it, "vamp", trace=history,
                                 switched=switched, point=xo)
                # where the last sweep evaluated the prior and the hidden channels (A^ from
                # before the sweep, V^ from its forward pass): phi is stationary there to
                # the tolerance too, and evaluating it there reuses the cached channels
                info.evaluated = replace(info.state, Ahat=np.array(a_old))
                return info
            mixed = False
            if (mixer is not None and all(math.isfinite(a) and a > 0 for a in a1x)
                    and all(math.isfinite(x) for x in xi)):
                plain = (a1x[:], tau[:])
                x_new = mixer.step(x_in, x_out)
                if x_new is not x_out and not np.logical_and.reduce(x_new == x_out):
                    new = np.exp(x_new).tolist()
                    a1x[:], tau[:] = new[:L], new[L:]
                    mixed = True
    return SolveInfo(as_state(), False, max_iter, "vamp", message="max_iter reached",
                     trace=history)


def _inv(x: float) -> float:
    """1/x as NumPy gives it (+-inf at +-0, no exception)."""
    try:
        return 1.0 / x
    except ZeroDivisionError:
        return math.copysign(math.inf, x)


def potential(chain: Chain, s: State) -> float:
    """phi of eq. (3) at the order parameters ``s`` (entropy per n_0 at a stationary point).

    phi = I(x; x + xi/sqrt(A^_1)) + sum_{k<L} at_k I(t_k; t_k + xi'/sqrt(A^_{k+1}) | xi_k)
          + at_L H(t_L | xi_L; V^_L) - 1/2 sum_k [at_{k-1} A^_k V_k + at_k A_k V^_k
          - at_{k-1} F_{W_k}(A_k V_k)],   at_k = n_k / n_0.
    """
    L = chain.n_layers
    at = chain.alpha_tilde
    val = chain.prior.mutual_information(s.Ahat[0]) if s.V[0] > _V_FREEZE else (
        chain.prior.mutual_information(np.inf))
    for k in range(L - 1):
        if s.V[k + 1] > _V_FREEZE:
            val += at[k + 1] * chain.channels[k].hidden(s.Ahat[k + 1], s.Vhat[k]).mutual_information
        else:
            val += at[k + 1] * _noiseless_information(chain.channels[k], s.Vhat[k])
    val += at[L] * chain.channels[L - 1].output_entropy(s.Vhat[L - 1])
    for k in range(L):
        if s.V[k] <= _V_FREEZE:
            continue
        x = s.A[k] * s.V[k]
        spec = chain.spectra[k]
        F = _spectral_F(spec, x, s.theta[k])
        val -= 0.5 * (at[k] * s.Ahat[k] * s.V[k] + at[k + 1] * s.A[k] * s.Vhat[k] - at[k] * F)
    return float(val)


def _spectral_F(spec: Spectrum, x: float, theta: float) -> float:
    """F_W(x) at the theta of eq. (50a); the solver's theta when (50a) cannot be solved."""
    if not isinstance(spec, Empirical):
        return spec.F(x)
    # eq. (50a) can have several roots when W^T W has eigenvalues close to 0; the solver's
    # theta is the one consistent with the other saddle-point equations, so it is used
    # whenever it solves (50a)
    if 0.0 <= theta <= 1.0 and abs(spec.theta_residual(theta, x)) >= 1e-9:
        # the state satisfies (50a) only to the solver's tolerance: the root it is on
        root = spec.theta_near(x, theta) if theta < 1.0 else None
        theta = root if root is not None else theta
    if 0.0 <= theta <= 1.0 and abs(spec.theta_residual(theta, x)) < 1e-9:
        with np.errstate(invalid="ignore", divide="ignore"):
            val = spec.F(x, theta)
        if np.isfinite(val):
            return val
    try:
        return spec.F(x)
    except ThetaError:
        with np.errstate(invalid="ignore", divide="ignore"):
            return spec.F(x, theta)


def _noiseless_information(channel: Channel, Vhat: float) -> float:
    """I(t; t | omega) = H(t | omega) of a layer whose output is exactly recovered.

    Finite for a discrete t; zero when t is a deterministic function of omega (V~ = 0 and a
    noiseless activation: the layer's input is itself exactly recovered, e.g. a discrete
    input seen through a noiseless hidden layer); infinite for a continuous t otherwise.
    """
    if channel.activation.is_discrete:
        return channel.output_entropy(Vhat)
    if max(Vhat, 0.0) + channel.noise <= 0.0:
        return 0.0
    return np.inf
