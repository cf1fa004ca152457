"""Scalar channels and priors: derivative identities and independent quadrature.

* I-MMSE: dI/dA = mmse/2 for every prior (``midnn.checks.i_mmse``: central differences of
  relative step 1e-5, truncation ~1e-10, rounding ~1e-11/1e-5).
* Channel updates are derivatives of the potential terms (``midnn.checks.channel_identities``):
  A = 2 dI/dṼ (eq. 51), V = 2 dI/dÃ (eq. 54), output A = 2 dH/dṼ (eq. 52).
* Independent ground truths (``tests/references.py``, stored with their recipe in
  ``tests/data/channel_references.json``): the output entropy and the hidden-channel
  information by nested adaptive quadrature, and the hidden channel on a dense 3-D grid.
"""

from __future__ import annotations

import json
import pathlib
import warnings

import numpy as np
import pytest

from midnn import checks, quadrature
from midnn.activations import HardSigmoid, HardTanh, LeakyReLU, Linear, ReLU, Sign, Tanh
from midnn.precision import using
from midnn.priors import Binary, GaussBernoulli, Gaussian
from midnn.serialize import decode_activation

REFERENCES = json.loads((pathlib.Path(__file__).parent / "data" /
                         "channel_references.json").read_text())


def _cases(kind: str):
    return [pytest.param(decode_activation(c["activation"]), c, id=f"{c['activation']}-{i}")
            for i, c in enumerate(REFERENCES[kind])]


@pytest.mark.parametrize("prior", [Gaussian(0.3, 2.0), Binary(0.5), Binary(0.2),
                                   GaussBernoulli(0.2), GaussBernoulli(0.3, 0.5, 2.0)])
@pytest.mark.parametrize("snr", [0.01, 0.5, 3.0, 30.0])
def test_i_mmse(prior, snr):
    table = checks.i_mmse(prior, [snr])
    assert table.passed, str(table)


POINTS = [(10.0, 0.25), (300.0, 0.01), (0.5, 0.4)]
ACTS = [ReLU(0.01), HardTanh(0.01), LeakyReLU(0.01, slope=0.2), HardTanh(0.0), Tanh(0.01),
        Sign(0.0), Sign(0.05), HardSigmoid(0.01), Linear(0.01)]


@pytest.mark.parametrize("act", ACTS, ids=repr)
def test_channel_updates_are_derivatives(act):
    """The quadrature error of I (< 1e-11 here, every channel) over the step 1e-4 leaves
    ~1e-7."""
    table = checks.channel_identities(act, 0.5, POINTS, step=1e-4, rtol=1e-6,
                                      output_points=(0.001, 0.05, 0.3))
    assert table.passed, str(table)


def _hidden_at_doubled_order(act, rho, A_tilde, V_tilde, multiplier: int = 2):
    """The hidden channel at the default quadrature orders and at every order times
    ``multiplier`` (doubled by default)."""
    base = act.channel(rho).hidden(A_tilde, V_tilde)
    with using(order=multiplier):
        fine = act.channel(rho).hidden(A_tilde, V_tilde)
    return base, fine


@pytest.mark.parametrize("act,case", _cases("output_entropy"))
def test_output_entropy_against_nested_quad(act, case):
    """H(t | omega) against nested adaptive quadrature, the linear pieces (closed form in
    midnn) included; Ṽ = 1e-4 leaves the Gaussian of omega 7x wider than the kinks' scale
    (no centre panels), Ṽ = 0.49 makes it 7x narrower (measured agreement <= 5e-16)."""
    got = act.channel(case["rho"]).output_entropy(case["V_tilde"])
    assert got == pytest.approx(case["value"], abs=case["tolerance"])


@pytest.mark.parametrize("act,case", _cases("dense_grid"))
def test_hidden_channel_against_dense_grid(act, case):
    """I, A and V against the dense-grid reference (accurate to ~1e-5)."""
    v = act.channel(case["rho"]).hidden(case["A_tilde"], case["V_tilde"])
    assert v.mutual_information == pytest.approx(case["I"], abs=2e-5)
    assert v.A == pytest.approx(case["A"], rel=2e-4)
    assert v.V == pytest.approx(case["V"], rel=2e-4)


@pytest.mark.parametrize("act,rho,A_tilde,V_tilde", [
    (ReLU(0.01), 0.5, 10.0, 0.25),
    (HardTanh(0.0), 0.5, 10.0, 0.25),
    (Sign(0.05), 0.5, 10.0, 0.25),
    # sign: weak and strong observations, sharp pre-activation (v << m), large noise
    (Sign(0.0), 1.0, 0.1, 0.01),
    (Sign(0.0), 1.0, 1.0, 1e-4),
    (Sign(0.0), 1.0, 3.0, 0.01),
    (Sign(0.05), 2.0, 30.0, 0.02),
    (Sign(0.0), 1.0, 1e4, 0.01),
    (Sign(0.3), 0.5, 1.0, 0.45),
], ids=repr)
def test_doubling_the_quadrature_order(act, rho, A_tilde, V_tilde):
    """Fixed rules are converged: doubling every order moves I by < 1e-9, A and V by < 1e-7
    relative (measured: ReLU/hard tanh 1e-11 and 1e-9; sign < 1e-14 and < 2e-13)."""
    base, fine = _hidden_at_doubled_order(act, rho, A_tilde, V_tilde)
    assert fine.mutual_information == pytest.approx(base.mutual_information, abs=1e-9)
    assert fine.A == pytest.approx(base.A, rel=1e-7)
    assert fine.V == pytest.approx(base.V, rel=1e-7)


@pytest.mark.parametrize("act,rho,A_tilde,V_tilde", [
    (ReLU(0.0), 1.0, 1e3, 0.02),
    (HardTanh(0.05), 1.0, 1e3, 0.02),
    (ReLU(0.0), 1.0, 1e4, 0.1),
    (HardTanh(0.0), 0.5, 1e5, 0.01),
], ids=repr)
def test_doubling_at_sharp_observations(act, rho, A_tilde, V_tilde):
    """Observations much sharper than the pre-activation (Ã v = 20..1000): doubling every
    order moves I by < 1.5e-9 and A, V by < 3e-7 relative (measured: 4.5e-10 and 1.1e-7;
    with fixed orders V moved by 4e-6)."""
    base, fine = _hidden_at_doubled_order(act, rho, A_tilde, V_tilde)
    assert fine.mutual_information == pytest.approx(base.mutual_information, abs=1.5e-9)
    assert fine.A == pytest.approx(base.A, rel=3e-7)
    assert fine.V == pytest.approx(base.V, rel=3e-7)


@pytest.mark.parametrize("act,rho,A_tilde,V_tilde,rel", [
    (ReLU(0.01), 1.0, 0.25, 0.1, 1e-10),  # Ã v = 0.0275: inner orders (8, 8)
    (HardTanh(0.0), 0.8, 1.0, 0.08, 1e-10),  # 0.08: (8, 12)
    (LeakyReLU(1e-4, slope=0.1), 1.5, 0.1, 0.9, 1e-10),  # 0.09
    (ReLU(0.0), 0.5, 1.0, 0.25, 1e-10),  # 0.25: (12, 16)
    (HardTanh(0.05), 1.0, 3.0, 0.1, 1e-10),  # 0.45
    (HardTanh(0.01), 1.0, 8.0, 0.09, 1e-8),  # 0.8: (12, 20)
    (ReLU(0.0), 0.7, 3.0, 0.3, 1e-8),  # 0.9
], ids=repr)
def test_graded_inner_orders_at_weak_observations(act, rho, A_tilde, V_tilde, rel):
    """The lower inner orders used at Ã v <= 1 (see channels._inner_orders) against triple
    orders: I to 1e-12, A and V to ``rel`` (measured over 150-200 random points per band:
    < 3e-11 relative up to Ã v = 0.5, 1e-9 up to 1; the margins cover points outside those
    samples)."""
    base, fine = _hidden_at_doubled_order(act, rho, A_tilde, V_tilde, multiplier=3)
    assert fine.mutual_information == pytest.approx(base.mutual_information, abs=1e-12)
    assert fine.A == pytest.approx(base.A, rel=rel)
    assert fine.V == pytest.approx(base.V, rel=rel)


@pytest.mark.parametrize("act,rho,A_tilde,V_tilde", [
    (HardTanh(0.05), 1.0, 3.0, 0.1),
    (HardTanh(0.0), 0.5, 1e5, 0.01),  # sharp observation
    (HardTanh(0.1, threshold=0.5), 2.0, 0.3, 1.9),
    (HardTanh(0.01), 1.0, 50.0, 1.0),  # m = 0: omega known to be 0
], ids=repr)
@pytest.mark.parametrize("screened", [False, True], ids=["full", "screening"])
def test_odd_activation_integrated_over_half_the_plane(act, rho, A_tilde, V_tilde, screened):
    """Hard tanh is odd: the rules of its hidden channel cover the upper flat piece and the
    mu > 0 half of the linear piece, counted twice (``PiecewiseLinearChannel.mirror_modes``).
    Against the rules of every piece in full: equal to 1e-12 relative (summation order only;
    measured < 5e-15)."""
    from midnn.channels import PiecewiseLinearChannel

    half = act.channel(rho)
    full = PiecewiseLinearChannel(act, rho, symmetry=False)
    assert half.mirror_modes == ("skip", "half", "double") and full.mirror_modes is None
    with using(screening=screened):
        a, b = half.hidden(A_tilde, V_tilde), full.hidden(A_tilde, V_tilde)
    assert a.mutual_information == pytest.approx(b.mutual_information, rel=1e-12, abs=1e-15)
    assert a.A == pytest.approx(b.A, rel=1e-12)
    assert a.V == pytest.approx(b.V, rel=1e-12)


@pytest.mark.parametrize("act,case", _cases("hidden_mi"))
def test_hidden_information_against_nested_quad(act, case):
    """The 2-D fixed rule of the hidden channel against nested adaptive quadrature (sharp
    observations measured 2e-13 to 4.5e-10; sign < 2e-14)."""
    hv = act.channel(case["rho"]).hidden(case["A_tilde"], case["V_tilde"])
    assert hv.mutual_information == pytest.approx(case["value"], abs=case["tolerance"])


_TRUNCATED_CASES = [(-1, 1), (0.5, 2), (-3, -2.9), (-40, -39), (-1e4, -9999.5), (-1e9, -1e9 + 1),
                    (1e9, 1e9 + 2), (5, 6), (-np.inf, -30), (-np.inf, 3), (2, np.inf),
                    (-1e12, np.inf), (-np.inf, -1e12), (30, np.inf), (-0.1, 0.2),
                    (-1e20, -1e20 + 1e5), (-8, -7.99)]


@pytest.mark.parametrize("a,b", _TRUNCATED_CASES)
def test_truncated_normal_against_mpmath(a, b):
    """log Z, E[g] and E[g^2] of N(0,1) on [a, b] to 1e-13 relative (narrow intervals lose a
    few digits in phi(a) - phi(b)), deep tails included
    (the iterates of a solver near exact recovery produce standardized bounds ~1e10-1e20)."""
    mp = pytest.importorskip("mpmath")
    from midnn.gaussian import truncated, truncated_normal

    mp.mp.dps = 60
    A = mp.mpf(a) if np.isfinite(a) else mp.ninf
    B = mp.mpf(b) if np.isfinite(b) else mp.inf
    Z = mp.ncdf(B) - mp.ncdf(A) if a <= 0 else mp.ncdf(-A) - mp.ncdf(-B)
    pa = mp.npdf(A) if np.isfinite(a) else mp.mpf(0)
    pb = mp.npdf(B) if np.isfinite(b) else mp.mpf(0)
    ta = A * pa if np.isfinite(a) else 0
    tb = B * pb if np.isfinite(b) else 0
    ref = [float(mp.log(Z)), float((pa - pb) / Z), float(1 + (ta - tb) / Z)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = [truncated_normal(np.array([a]), np.array([b]))]
        if np.isinf(a) or np.isinf(b):
            got.append(truncated(a if np.isinf(a) else -5.0, b if np.isinf(b) else 5.0,
                                  np.array([a]), np.array([b])))
    for res in got:
        for x, y in zip(res, ref, strict=True):
            assert float(np.ravel(x)[0]) == pytest.approx(y, rel=1e-13, abs=1e-300)


@pytest.mark.parametrize("a,b", _TRUNCATED_CASES)
def test_interval_moments_against_mpmath(a, b):
    """The scalar Z = P(a < g < b) and Z s2 = E[g^2 1{a < g < b}] of the output channel's
    closed-form linear pieces, to 1e-13 relative, or to 1e-300 absolute where Z underflows
    (such an interval carries no weight)."""
    mp = pytest.importorskip("mpmath")
    from midnn.gaussian import interval_moments

    mp.mp.dps = 60
    A = mp.mpf(a) if np.isfinite(a) else mp.ninf
    B = mp.mpf(b) if np.isfinite(b) else mp.inf
    Z = mp.ncdf(B) - mp.ncdf(A) if a <= 0 else mp.ncdf(-A) - mp.ncdf(-B)
    ta = A * mp.npdf(A) if np.isfinite(a) else 0
    tb = B * mp.npdf(B) if np.isfinite(b) else 0
    got = interval_moments(float(a), float(b))
    for x, y in zip(got, (Z, Z + ta - tb), strict=True):
        assert x == pytest.approx(float(y), rel=1e-13, abs=1e-300)


TANH = json.loads((pathlib.Path(__file__).parent / "data" /
                   "tanh_references.json").read_text())["points"]


@pytest.mark.parametrize("case", TANH, ids=[c["label"] for c in TANH])
def test_tanh_hidden_channel_against_nested_quad(case):
    """The tanh hidden channel against nested adaptive quadrature (tests/data/
    tanh_references.json, tolerances 1e-11..1e-13, recipe in tests/data/tanh_reference/) over
    A in [0, 1e8], m in [0, 50], v in [1e-10, 1e6]: weak, sharp, saturated (huge v) and
    nearly deterministic (tiny v) observations (measured |dI| <= 1.2e-11, A and V within
    4e-9 relative)."""
    from midnn.channels.tanh import tanh_hidden

    I, A, V = tanh_hidden(case["A"], case["m"], case["v"])
    assert I == pytest.approx(case["I"], abs=1e-10, rel=1e-9)
    assert A == pytest.approx(case["A_upd"], rel=1e-7, abs=1e-300)
    assert V == pytest.approx(case["V_upd"], rel=1e-7, abs=1e-300)


@pytest.mark.parametrize("A,m,v", [(10.0, 0.5, 0.2), (1e4, 0.5, 1.0), (1e6, 0.2, 1e5),
                                   (1e4, 1.0, 1e-8), (50.0, 5.0, 0.05)])
def test_tanh_hidden_channel_doubling(A, m, v):
    """Doubling every order moves I by < 1e-9 and A, V by < 1e-7 relative (measured over
    1000 random points: 2.1e-10 and 6.2e-9)."""
    from midnn.channels.tanh import tanh_hidden

    base = tanh_hidden(A, m, v)
    with using(order=2):
        fine = tanh_hidden(A, m, v)
    assert fine[0] == pytest.approx(base[0], abs=1e-9)
    assert fine[1] == pytest.approx(base[1], rel=1e-7)
    assert fine[2] == pytest.approx(base[2], rel=1e-7)


def test_tanh_hidden_channel_limits():
    """No observation (A = 0): I = A-update = 0 and V = E Var(t | omega); a weak one:
    I ~ (A/2) E Var(t | omega); a noiseless one: I infinite, A = 1/v; a huge v: t is +-1
    with probability 1/2 whatever omega, so A -> 0 and I tends to the information of the
    binary channel +-1 -> y at precision A (log 2 when A >= 100), not to 0, the continuous
    part of t (mass ~ 1/sqrt(v)) adding a gap that shrinks like 1/sqrt(v)."""
    from midnn.channels.tanh import tanh_hidden

    I0, A0, V0 = tanh_hidden(0.0, 0.5, 0.5)
    assert I0 == 0.0 and A0 == 0.0 and 0.0 < V0 < 1.0
    Iw, _, _ = tanh_hidden(1e-9, 0.5, 0.5)
    assert Iw == pytest.approx(0.5e-9 * V0, rel=1e-6)
    assert tanh_hidden(1e300, 0.5, 0.5) == (np.inf, 2.0, 0.0)
    I4, _, _ = tanh_hidden(1e4, 1.0, 1e4)
    I6, A6, _ = tanh_hidden(1e4, 1.0, 1e6)
    assert A6 < 1e-6
    assert 0.0 < I6 - np.log(2.0) < 0.02 and I6 - np.log(2.0) < (I4 - np.log(2.0)) / 5


def test_segment_rules_integrate_clustered_features():
    """quadrature.segment_rules against closed forms: a sinh-mapped segment integrates
    1/(x - e + s) on [e, e + L] (a feature of width s at the clustered end; exact value
    log((L + s)/s)) to 1e-12 with 16 + 5 asinh(L/s) nodes, in both directions; a plain
    segment integrates a polynomial of degree 2n - 1 exactly; and the nodes of each segment
    stay inside it."""
    s, L = 1e-4, 3.0
    n = int(np.ceil(16 + 5 * np.arcsinh(L / s)))
    edge = np.array([0.5, 0.5, -2.0])
    scale = np.array([s, s, 0.0])
    length = np.array([L, L, 4.0])
    direction = np.array([1.0, -1.0, 1.0])
    x, w, seg = quadrature.segment_rules(edge, scale, length, direction, [n, n, 8])
    right = np.sum(w[seg == 0] / (x[seg == 0] - 0.5 + s))
    left = np.sum(w[seg == 1] / (0.5 - x[seg == 1] + s))
    exact = np.log((L + s) / s)
    assert right == pytest.approx(exact, rel=1e-12)
    assert left == pytest.approx(exact, rel=1e-12)
    poly = np.sum(w[seg == 2] * x[seg == 2] ** 15)  # int_{-2}^{2} x^15 = 0, of x^14 below
    assert poly == pytest.approx(0.0, abs=1e-9)
    assert np.sum(w[seg == 2] * x[seg == 2] ** 14) == pytest.approx(2 * 2.0**15 / 15, rel=1e-13)
    assert np.all((x[seg == 0] > 0.5) & (x[seg == 0] < 3.5))
    assert np.all((x[seg == 1] < 0.5) & (x[seg == 1] > -2.5))
    assert np.all(np.diff(seg) >= 0)
