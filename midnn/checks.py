"""Self-checks as library functions: identities and bounds a user can run on a new prior,
activation, spectrum or model.

Each function returns a :class:`CheckTable` (one row per check: value, reference, error,
tolerance, passed), which prints as a table and has ``passed`` / ``failures()``; the test
suite calls these same functions.

* :func:`i_mmse` -- the I-MMSE relation of a prior's scalar channel, dI/dÃ = mmse/2 (the
  V-update (55) is the derivative of the prior term of φ);
* :func:`channel_identities` -- the updates of a scalar channel are the derivatives of its
  terms of φ: A = 2 ∂I/∂Ṽ (eq. 51), V = 2 ∂I/∂Ã (eq. 54), and for the output A = 2 ∂H/∂Ṽ
  (eq. 52), by central finite differences;
* :func:`order_doubling` -- a model's replica values do not move when every quadrature
  order is doubled and the tolerance tightened;
* :func:`solver_agreement` -- the fixed-point iteration and ML-VAMP give the same values
  where both converge;
* :func:`invariants` -- the physical invariants of a replica result: converged, finite and
  without warnings; I >= 0; I <= H(X) for a discrete prior; the data-processing inequality
  along the chain (each layer observed through its own noise); and the maximum-entropy
  bound of every layer given its second moment (:func:`entropy_bound`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from dataclasses import asdict, dataclass

import numpy as np
from scipy.optimize import minimize_scalar

from .activations import Activation, PiecewiseLinear
from .model import Model
from .precision import using
from .priors import Prior
from .replica import ReplicaResult, replica

__all__ = ["Check", "CheckTable", "i_mmse", "channel_identities", "order_doubling",
           "solver_agreement", "invariants", "entropy_bound"]


@dataclass(frozen=True)
class Check:
    """One check: ``value`` against ``reference`` (or a bound), ``error`` its violation."""

    name: str
    value: float
    reference: float
    error: float
    tolerance: float
    passed: bool


class CheckTable(list):
    """A list of :class:`Check` rows that prints as a table."""

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self)

    def failures(self) -> list[Check]:
        return [c for c in self if not c.passed]

    def __str__(self) -> str:
        head = f"{'check':44s} {'value':>14s} {'reference':>14s} {'error':>9s} {'tol':>8s}  ok"
        rows = [head] + [f"{c.name[:44]:44s} {c.value:14.8g} {c.reference:14.8g} "
                         f"{c.error:9.2e} {c.tolerance:8.1e}  {'yes' if c.passed else 'NO'}"
                         for c in self]
        return "\n".join(rows)

    def to_dataframe(self):
        """The rows as a pandas DataFrame (pandas imported here)."""
        import pandas as pd

        return pd.DataFrame([asdict(c) for c in self])


def _equal(name: str, value: float, reference: float, rtol: float, atol: float) -> Check:
    err = abs(value - reference)
    tol = atol + rtol * abs(reference)
    ok = bool(np.isfinite(value) and np.isfinite(reference) and err <= tol) or value == reference
    return Check(name, float(value), float(reference), float(err), float(tol), ok)


def _at_most(name: str, value: float, bound: float, atol: float) -> Check:
    excess = max(value - bound, 0.0) if np.isfinite(value) else math.inf
    return Check(name, float(value), float(bound), float(excess), float(atol),
                 bool(excess <= atol))


def _at_least(name: str, value: float, bound: float, atol: float) -> Check:
    excess = max(bound - value, 0.0) if np.isfinite(value) else math.inf
    return Check(name, float(value), float(bound), float(excess), float(atol),
                 bool(excess <= atol))


# ---------------------------------------------------------------------------- scalar identities
def i_mmse(prior: Prior, snrs: Iterable[float] = (0.01, 0.5, 3.0, 30.0), *,
           step: float = 1e-5, rtol: float = 1e-5, atol: float = 1e-10) -> CheckTable:
    """dI/dÃ = mmse/2 for the scalar channel y = x + ξ/sqrt(Ã) of ``prior``, by central
    differences of relative step ``step`` (truncation ~step², rounding ~1e-16/step)."""
    out = CheckTable()
    for snr in snrs:
        h = step * snr
        fd = (prior.mutual_information(snr + h) - prior.mutual_information(snr - h)) / (2 * h)
        out.append(_equal(f"I-MMSE at Ã = {snr:g}", fd, prior.mmse(snr) / 2, rtol, atol))
    return out


def channel_identities(activation: Activation, rho_tilde: float,
                       points: Iterable[tuple[float, float]] = ((10.0, 0.25), (0.5, 0.4)),
                       *, step: float = 1e-4, rtol: float = 1e-6, atol: float = 1e-12,
                       output_points: Iterable[float] = (0.05, 0.3)) -> CheckTable:
    """The updates of the scalar channel of ``activation`` at ``rho_tilde`` against central
    differences (relative step ``step``) of its terms of φ: for each (Ã, Ṽ) in ``points``,
    A = 2 ∂I/∂Ṽ (eq. 51) and V = 2 ∂I/∂Ã (eq. 54); for each Ṽ in ``output_points``,
    A = 2 ∂H/∂Ṽ (eq. 52). ``rtol`` must exceed the quadrature error of I over the step, and
    ``atol`` the rounding error of the differences (~1e-16 / step)."""
    ch = activation.channel(rho_tilde)
    out = CheckTable()
    for A_t, V_t in points:
        v = ch.hidden(A_t, V_t)
        dV = (ch.hidden(A_t, V_t * (1 + step)).mutual_information
              - ch.hidden(A_t, V_t * (1 - step)).mutual_information) / (V_t * step)
        dA = (ch.hidden(A_t * (1 + step), V_t).mutual_information
              - ch.hidden(A_t * (1 - step), V_t).mutual_information) / (A_t * step)
        out.append(_equal(f"hidden A = 2 dI/dṼ at ({A_t:g}, {V_t:g})", v.A, dV, rtol, atol))
        out.append(_equal(f"hidden V = 2 dI/dÃ at ({A_t:g}, {V_t:g})", v.V, dA, rtol, atol))
    for V_t in output_points:
        dH = (ch.output_entropy(V_t * (1 + step))
              - ch.output_entropy(V_t * (1 - step))) / (V_t * step)
        out.append(_equal(f"output A = 2 dH/dṼ at {V_t:g}", ch.output_A(V_t), dH, rtol, atol))
    return out


# ---------------------------------------------------------------------------- model checks
_FIELDS = ("entropy", "mutual_information", "mmse")


def _replica_quiet(model: Model, **kwargs) -> tuple[ReplicaResult, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = replica(model, **kwargs)
    return res, [f"{w.category.__name__}: {w.message}" for w in caught]


def order_doubling(model: Model, *, multiplier: int = 2, tol: float = 1e-12,
                   atol: float = 1e-8, result: ReplicaResult | None = None) -> CheckTable:
    """The replica values (H, I, MMSE of every layer) at the default orders and tolerance
    against every quadrature order times ``multiplier`` and the tolerance ``tol``."""
    base = result if result is not None else _replica_quiet(model)[0]
    with using(order=multiplier):
        fine, _ = _replica_quiet(model, tol=tol)
    out = CheckTable()
    for q in _FIELDS:
        for l, (a, b) in enumerate(zip(getattr(base, q), getattr(fine, q), strict=True)):
            out.append(_equal(f"{q}[{l + 1}] order x{multiplier}", a, b, 0.0, atol))
    return out


def solver_agreement(model: Model, *, atol: float = 1e-8) -> CheckTable:
    """The fixed-point iteration and ML-VAMP select the same values (H, I, MMSE of every
    layer), where both converge; a layer where one does not converge is left out."""
    fp, _ = _replica_quiet(model, solver="fixed_point")
    vp, _ = _replica_quiet(model, solver="vamp")
    out = CheckTable()
    for l in range(model.n_layers):
        if not (fp.details[l].converged and vp.details[l].converged):
            continue
        for q in _FIELDS:
            out.append(_equal(f"{q}[{l + 1}] fixed point = ML-VAMP", getattr(fp, q)[l],
                              getattr(vp, q)[l], 0.0, atol))
    return out


def _mixed_bound(n_atoms: int, s: float) -> float:
    """max over p of h_b(p) + p log k + (1 - p) ½ log(2πe s / (1 - p)): the entropy (with
    respect to Lebesgue measure plus k Dirac masses) of a variable with k atoms of total
    mass p and second moment at most s (the continuous part then has second moment at most
    s/(1 - p), and its entropy is at most the Gaussian one)."""
    c = 0.5 * math.log(2 * math.pi * math.e * s)

    def neg(p):
        q = 1.0 - p
        hb = -(p * math.log(p) if p > 0 else 0.0) - (q * math.log(q) if q > 0 else 0.0)
        cont = q * c - 0.5 * (q * math.log(q) if q > 0 else 0.0)
        return -(hb + p * math.log(n_atoms) + cont)

    res = minimize_scalar(neg, bounds=(0.0, 1.0), method="bounded",
                          options={"xatol": 1e-12})
    return -min(res.fun, neg(0.0), neg(1.0))


def entropy_bound(activation: Activation, second_moment: float) -> float:
    """An upper bound on the entropy of one output unit t = f(z + ξ) with E t² =
    ``second_moment`` (nats; differential for a continuous t, Shannon for a discrete one,
    with respect to Lebesgue measure plus the atoms for a mixed one):

    * discrete: log(number of values);
    * continuous: the Gaussian maximum ½ log(2πe E t²), and log(length of the range) when
      f is bounded;
    * with atoms (flat pieces) and a continuous part: :func:`_mixed_bound`, and log(k +
      length of the continuous range) when bounded (the uniform law on that measure).
    """
    s = float(second_moment)
    if isinstance(activation, PiecewiseLinear):
        pieces = activation.pieces
        atoms = [p for p in pieces if p.slope == 0]
        lines = [p for p in pieces if p.slope != 0]
        if not lines:
            return math.log(len({p.intercept for p in atoms}))
        span = sum(abs(p.slope) * (p.hi - p.lo) for p in lines)
        gauss = (_mixed_bound(len(atoms), s) if atoms
                 else 0.5 * math.log(2 * math.pi * math.e * s))
        return min(gauss, math.log(len(atoms) + span)) if math.isfinite(span) else gauss
    lo, hi = (float(activation.f(np.array(x))) for x in (-1e300, 1e300))
    gauss = 0.5 * math.log(2 * math.pi * math.e * s)
    return min(gauss, math.log(hi - lo)) if math.isfinite(hi - lo) else gauss


def _own_noise_readout(model: Model) -> tuple[list[float], list[bool]]:
    """Readout noises equal to each layer's own noise, and which entries that describes (a
    continuous layer without noise has an infinite entropy: its entry gets a placeholder
    noise and is left out)."""
    noises, valid = [], []
    for layer in model.layers:
        act = layer.activation
        ok = act.noise > 0 or act.is_discrete
        noises.append(act.noise if ok else 1.0)
        valid.append(ok)
    return noises, valid


def invariants(model: Model, result: ReplicaResult | None = None, *,
               atol: float = 1e-8) -> CheckTable:
    """The physical invariants of the replica values of ``model`` (``result``: its
    ``replica(model)``, computed here when not given, with warnings recorded as failures).

    Per layer l: converged and finite; I(X; T_l) >= 0; I <= H(X) for a discrete prior;
    H(T_l)/n_0 <= α̃_l × :func:`entropy_bound` of its output unit (second moment from the
    readout noise); and, with every layer observed through its own noise (the actual
    Markov chain X -> T_1 -> T_2 ...), I(X; T_l) non-increasing in l (data processing).
    """
    out = CheckTable()
    if result is None:
        result, caught = _replica_quiet(model)
        out.append(Check("no warning: " + ("; ".join(caught) or "none"), float(len(caught)),
                         0.0, float(len(caught)), 0.0, not caught))
    out.append(Check("converged", float(result.converged), 1.0, float(not result.converged),
                     0.0, bool(result.converged)))
    rho, rho_t = model.second_moments()
    at = model.alpha_tilde
    h_x = model.prior.entropy if model.prior.is_discrete else None
    for l in range(model.n_layers):
        H, I = float(result.entropy[l]), float(result.mutual_information[l])
        finite = bool(np.isfinite(H) and np.isfinite(I) and np.isfinite(result.mmse[l]))
        out.append(Check(f"finite values[{l + 1}]", float(finite), 1.0, float(not finite), 0.0,
                         finite))
        out.append(_at_least(f"I[{l + 1}] >= 0", I, 0.0, atol))
        if h_x is not None:
            out.append(_at_most(f"I[{l + 1}] <= H(X)", I, h_x, atol))
        act = model.layers[l].activation.with_noise(result.readout_noise[l])
        bound = at[l + 1] * entropy_bound(act, act.second_moment(rho_t[l]))
        out.append(_at_most(f"H[{l + 1}] <= max-entropy bound", H, bound, atol))
    noises, valid = _own_noise_readout(model)
    own, caught = _replica_quiet(model, readout_noise=noises)
    idx = [l for l in range(model.n_layers) if valid[l]]
    for a, b in zip(idx[:-1], idx[1:], strict=True):
        out.append(_at_most(f"I[{b + 1}] <= I[{a + 1}] (data processing)",
                            float(own.mutual_information[b]),
                            float(own.mutual_information[a]), atol))
    if caught:
        out.append(Check("no warning (own-noise chain): " + "; ".join(caught),
                         float(len(caught)), 0.0, float(len(caught)), 0.0, False))
    return out

