"""Tests of midnn.interpolation (two-layer adaptive interpolation, Gaussian-linear case)."""

import math

import numpy as np
import pytest

from midnn import Layer, Model, replica
from midnn.activations import HardTanh, Linear, Tanh
from midnn.exact import binary_enumeration, linear_gaussian
from midnn.interpolation import (
    BinaryPath,
    GaussianPath,
    adaptive_sum_rule,
    binary_interpolation_point,
    fixed_sum_rule,
    interpolation_point,
    linear_interpolation_point,
    linear_replica_fixed_point,
)
from midnn.priors import Gaussian
from midnn.spectra import MarchenkoPastur


def _path(n0=40, a1=1.0, a2=0.75, delta2=0.1, seed=0):
    rng = np.random.default_rng(seed)
    n1, n2 = int(a1 * n0), int(a2 * a1 * n0)
    W1 = rng.standard_normal((n1, n0)) / math.sqrt(n0)
    W2 = rng.standard_normal((n2, n1)) / math.sqrt(n1)
    return GaussianPath(W1, W2, var=1.0, delta1=0.0, delta2=delta2)


def test_endpoints_are_true_and_decoupled_models():
    p = _path()
    ex = linear_gaussian([p.W1, p.W2], [0.0, p.delta2])
    h0 = linear_interpolation_point(p, 0.0, 0.0, 0.0, 0.0, 0.0).h
    assert h0 == pytest.approx(ex.entropy[1] + 0.5 * p.n1 / p.n0 * math.log(2 * math.pi * math.e),
                               abs=1e-10)
    R1, R2 = 0.7, 0.3
    h1 = linear_interpolation_point(p, 1.0, R1, R2, 0.0, 0.0).h
    side = linear_gaussian([math.sqrt(R1) * p.W1], [1.0]).entropy[0]
    out = 0.5 * p.n2 / p.n0 * math.log(2 * math.pi * math.e * (p.delta2 + p.rho - R2))
    assert h1 == pytest.approx(side + out, abs=1e-10)


@pytest.mark.parametrize("t", [0.01, 0.4, 0.9])
def test_derivative_matches_finite_differences(t):
    p = _path(seed=1)
    d1, d2 = 0.8, 0.5
    R1, R2, eps = 0.3, 0.05, 1e-5
    pt = linear_interpolation_point(p, t, R1, R2, d1, d2)
    lo = max(t - eps, 0.0)
    hi = t + eps
    hp = linear_interpolation_point(p, hi, R1 + (hi - t) * d1, R2 + (hi - t) * d2, d1, d2).h
    hm = linear_interpolation_point(p, lo, R1 + (lo - t) * d1, R2 + (lo - t) * d2, d1, d2).h
    assert pt.dh == pytest.approx((hp - hm) / (hi - lo), abs=1e-6)
    assert pt.remainder == pytest.approx(pt.product_term + pt.fluctuation_term, abs=1e-12)


def test_sum_rule_and_adaptive_remainder():
    p = _path(n0=60, seed=2)
    ad = adaptive_sum_rule(p, 1.0, n_steps=16)
    # exact sum rule up to the quadrature error of the trapezoid rule
    assert ad.h0 == pytest.approx(ad.h1 - ad.integrated_derivative, abs=1e-3)
    assert np.allclose([q.product_term for q in ad.points], 0.0, atol=1e-12)
    bad = fixed_sum_rule(p, 1.0, 0.0, n_steps=16)
    assert abs(bad.integrated_remainder) > 2 * abs(ad.integrated_remainder)


def test_linear_fixed_point_matches_replica():
    for a1, a2 in [(1.0, 0.75), (0.5, 2.0)]:
        model = Model(Gaussian(0.0, 1.0), [Layer(MarchenkoPastur(a1), Linear(0.0)),
                                           Layer(MarchenkoPastur(a2), Linear(0.1))])
        fp = linear_replica_fixed_point(a1, a2, 1.0, 0.1)
        assert fp["entropy"] == pytest.approx(replica(model).entropy[1], abs=1e-9)


def test_invalid_arguments():
    p = _path(n0=10)
    with pytest.raises(ValueError):
        linear_interpolation_point(p, 1.5, 0.0, 0.0, 0.0, 0.0)
    with pytest.raises(ValueError):
        linear_interpolation_point(p, 0.5, 0.0, 10.0, 0.0, 0.0)
    with pytest.raises(ValueError):
        GaussianPath(np.ones((3, 4)), np.ones((2, 5)))


def _binary_path(n0=8, a1=1.0, a2=0.5, delta2=0.1, seed=0, hidden=None, n_samples=300):
    rng = np.random.default_rng(seed)
    n1, n2 = int(a1 * n0), int(a2 * a1 * n0)
    W1 = rng.standard_normal((n1, n0)) / math.sqrt(n0)
    W2 = rng.standard_normal((n2, n1)) / math.sqrt(n1)
    return BinaryPath(W1, W2, hidden or Tanh(0.0), delta2, n_samples=n_samples, seed=seed + 1)


def test_binary_endpoints_match_enumeration():
    """t = 0: H(T_2) of the true model; t = 1: output channel + one-layer side channel."""
    p = _binary_path(n0=9)
    const = 0.5 * p.n1 / p.n0 * math.log(2 * math.pi * math.e)
    pt0 = binary_interpolation_point(p, 0.0, 0.0, 0.0)
    ex = binary_enumeration([p.W1, p.W2], [Tanh(0.0), Linear(p.delta2)], 0.5, n_samples=300,
                            seed=7)
    err = math.hypot(pt0.h_se, ex.entropy_se)
    assert 0 < pt0.h_se < 0.01
    assert abs(pt0.h - const - ex.entropy) < 4 * err
    R1, R2 = 1.5, 0.2
    pt1 = binary_interpolation_point(p, 1.0, R1, R2)
    side = binary_enumeration([p.W1, math.sqrt(R1) * np.eye(p.n1)], [Tanh(0.0), Linear(1.0)],
                              0.5, n_samples=300, seed=7)
    out = 0.5 * p.n2 / p.n0 * math.log(2 * math.pi * math.e * (p.delta2 + p.rho - R2))
    assert abs(pt1.h - side.entropy - out) < 4 * math.hypot(pt1.h_se, side.entropy_se)
    # the decoupled output carries no information on X
    pt1_no_side = binary_interpolation_point(p, 1.0, 0.0, R2)
    assert pt1_no_side.mi == pytest.approx(0.0, abs=1e-12)
    assert pt1_no_side.h == pytest.approx(out + const, abs=1e-12)


def test_binary_rho_and_mmse_limits():
    p = _binary_path(n0=8, hidden=HardTanh(0.0))
    T1 = HardTanh(0.0).f(p._x @ p.W1.T)
    assert p.rho == pytest.approx(np.mean(((T1 @ p.W2.T) ** 2).sum(1)) / p.n2, rel=1e-12)
    # no information at all: MMSE of T_1 = its variance per component
    pt = binary_interpolation_point(p, 1.0, 0.0, 0.0)
    var_t1 = np.mean((T1 - T1.mean(0)) ** 2)
    assert pt.e == pytest.approx(var_t1, rel=1e-10)
    # a very strong side channel reveals T_1 (the input, here): MMSE -> 0
    assert binary_interpolation_point(p, 1.0, 1e4, 0.0).e < 1e-3


@pytest.mark.parametrize("t", [0.3, 0.7])
def test_binary_derivative_matches_finite_differences(t):
    """I-MMSE: the derivative formula holds for the mixture (MC error of e and b only)."""
    p = _binary_path(n0=8, seed=3, n_samples=2000)
    d1, d2, R1, R2, eps = 1.2, 0.2, 0.4, 0.05, 1e-4
    pt = interpolation_point(p, t, R1, R2, d1, d2)
    hp = binary_interpolation_point(p, t + eps, R1 + eps * d1, R2 + eps * d2).h
    hm = binary_interpolation_point(p, t - eps, R1 - eps * d1, R2 - eps * d2).h
    assert pt.dh == pytest.approx((hp - hm) / (2 * eps), abs=5e-3)
    assert pt.remainder == pytest.approx(pt.product_term + pt.fluctuation_term, abs=1e-12)


def test_binary_adaptive_sum_rule():
    p = _binary_path(n0=8, seed=4)
    ad = adaptive_sum_rule(p, 1.8, n_steps=8)
    assert np.allclose([q.product_term for q in ad.points], 0.0, atol=1e-12)
    assert ad.h0 == pytest.approx(ad.h1 - ad.integrated_derivative, abs=0.01)
    assert ad.h0 == pytest.approx(ad.h1 - ad.bilinear - ad.integrated_remainder, abs=0.01)


def test_binary_invalid_arguments():
    rng = np.random.default_rng(0)
    W1, W2 = rng.standard_normal((4, 4)), rng.standard_normal((2, 4))
    with pytest.raises(ValueError):
        BinaryPath(W1, W2, Tanh(0.1))
    with pytest.raises(ValueError):
        BinaryPath(W1, np.ones((2, 3)), Tanh(0.0))
    with pytest.raises(ValueError):
        BinaryPath(W1, W2, Tanh(0.0), delta2=0.0)
    p = BinaryPath(W1, W2, Tanh(0.0), n_samples=10)
    with pytest.raises(ValueError):
        binary_interpolation_point(p, 0.5, 0.0, 100.0)
    with pytest.raises(ValueError):
        binary_interpolation_point(p, -0.1, 0.0, 0.0)
