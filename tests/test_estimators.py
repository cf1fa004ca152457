"""Tests of midnn.estimators against known answers.

Every numerical tolerance is stated with its reason.  Statistical tolerances were set from the
spread over 30 seeds measured when the tests were written (quoted as "SD"), at 4 SD plus the
measured bias, so a fixed seed passes with a wide margin while a wrong constant of order one
(a missing log 2, a factor 2 in a divergence, a wrong unit-ball volume) fails.  Off-by-one
errors in the k-NN counts (psi(n_x) for psi(n_x + 1), <= for <) are O(1/n_x) and hide inside
statistical tolerances, so the k-NN formulas are also checked exactly on hand-worked examples.
"""

from __future__ import annotations

import dataclasses
import json
import math
import pathlib

import numpy as np
import pytest
import torch

from midnn import estimators as E
from midnn import interface
from midnn.activations import Linear, ReLU
from midnn.priors import Gaussian

LOG2PIE = math.log(2 * math.pi * math.e)
DATA = pathlib.Path(__file__).parent / "data"


def _gauss(n, d, seed):
    return Gaussian().sample((n, d), rng=seed)


def _h_comp(d, noise):
    return 0.5 * d * math.log(2 * math.pi * math.e * noise)


# --------------------------------------------------------------------------- KDE bounds


def test_kde_identical_centres_give_component_entropy():
    # One component (or N identical ones): the mixture is a single Gaussian, both bounds are
    # exact and I = 0; only round-off remains (1e-12).
    d, noise = 3, 0.2
    for t in (np.zeros((1, d)), np.tile([[1.0, -2.0, 0.5]], (50, 1))):
        b = E.kde_bounds(t, noise, device="cpu")
        assert b.h_lower == pytest.approx(_h_comp(d, noise), abs=1e-12)
        assert b.h_upper == pytest.approx(_h_comp(d, noise), abs=1e-12)
        assert b.i_lower == pytest.approx(0.0, abs=1e-12)
        assert b.i_upper == pytest.approx(0.0, abs=1e-12)


def test_kde_well_separated_mixture():
    # K = 4 equally weighted centres 20 sigma apart: the cross terms are < exp(-400/8) ~ 2e-22,
    # so both bounds equal log K + entropy of one component up to round-off (1e-10).
    K, d, noise, per = 4, 3, 0.01, 100
    centres = 20 * math.sqrt(noise) * np.array(
        [[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=float)
    t = np.repeat(centres, per, axis=0)
    x = np.repeat(np.arange(K, dtype=float)[:, None], per, axis=0)
    b = E.kde_bounds(t, noise, device="cpu")
    expected = math.log(K) + _h_comp(d, noise)
    assert b.h_lower == pytest.approx(expected, abs=1e-10)
    assert b.h_upper == pytest.approx(expected, abs=1e-10)
    for bound in ("lower", "upper"):
        est = E.KDEBound(noise, bound=bound, device="cpu")
        assert est.estimate(x, t) == pytest.approx(math.log(K), abs=1e-10)
        assert est.entropy(t) == pytest.approx(expected, abs=1e-10)


def _mixture_entropy_quadrature(mu, noise, n_grid):
    """H of (1/N) sum_i N(mu_i, noise I) in d = 1 or 2 by the trapezoid rule on a grid.

    The integrand p log p is smooth and analytic and decays like a Gaussian beyond the grid
    (10 sigma from the outermost centre), so the tensor trapezoid rule with ~12 points per
    sigma is accurate to far below 1e-9.
    """
    s = math.sqrt(noise)
    axes = [np.linspace(mu[:, j].min() - 10 * s, mu[:, j].max() + 10 * s, n_grid)
            for j in range(mu.shape[1])]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, mu.shape[1])
    d2 = ((grid[:, None, :] - mu[None, :, :]) ** 2).sum(-1)
    p = np.exp(-d2 / (2 * noise)).mean(1) / (2 * np.pi * noise) ** (mu.shape[1] / 2)
    plogp = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    cell = np.prod([a[1] - a[0] for a in axes])
    return -cell * plogp.sum()


@pytest.mark.parametrize("d, noise, n_grid", [(1, 0.05, 6001), (1, 0.5, 3001),
                                              (2, 0.2, 401), (2, 1.0, 201)])
def test_kde_bounds_sandwich_empirical_mixture_entropy(d, noise, n_grid):
    # The guarantee of Kolchinsky & Tracey: the bounds sandwich the entropy of the empirical
    # mixture itself, for every sample.  Quadrature error << 1e-9 (see helper); the gaps are
    # checked to be > 1e-3 so the comparison is not vacuous.
    mu = 1.5 * _gauss(30, d, seed=10 + d)
    h = _mixture_entropy_quadrature(mu, noise, n_grid)
    b = E.kde_bounds(mu, noise, device="cpu")
    assert b.h_lower + 1e-3 < h < b.h_upper - 1e-3


def test_kde_large_n_limit_for_gaussian_centres():
    # mu = W x, x ~ N(0, I): with N = 3000 the bounds are within sampling error of their
    # N -> inf limits (kde_bounds_gaussian_limit).  The sampling SD of a mean over rows of
    # log p(mu_i) is <= sqrt(d / (2N)) = 0.018; tolerance 0.07 ~ 4 SD (measured deviations
    # over seeds: <= 0.02).  The limits themselves straddle the exact entropy.
    d, noise, n = 2, 0.5, 3000
    W = np.array([[1.0, 0.3], [-0.4, 0.8]])
    cov = W @ W.T
    b = E.kde_bounds(_gauss(n, d, seed=3) @ W.T, noise, device="cpu")
    lim = E.kde_bounds_gaussian_limit(cov, noise)
    for got, want in zip(b, lim, strict=True):
        assert got == pytest.approx(want, abs=0.07)
    exact = E.gaussian_entropy(cov + noise * np.eye(d))
    assert lim.h_lower < exact < lim.h_upper
    # closed form of the upper-bound excess: 1/2 tr(S (S + s)^-1)
    excess = 0.5 * np.trace(cov @ np.linalg.inv(cov + noise * np.eye(d)))
    assert lim.h_upper - exact == pytest.approx(excess, rel=1e-12)


@pytest.mark.parametrize("d", [2, 3, 5])
def test_kde_bounds_vs_exact_linear_gaussian_layer(d):
    # T = W X + xi, X ~ N(0, I_n0), xi ~ N(0, s I_d) (midnn's Linear(noise) layer).
    # Exact: H(T) = 1/2 logdet(2 pi e (W W^T + s I)), I(X;T) = 1/2 logdet(I + W W^T / s).
    # Guaranteed: E h_lower <= E H(p_N) <= H(T) (concavity of the entropy), tested on the mean
    # of 3 seeds.  Not guaranteed in general but true in this well-sampled regime (N = 1000,
    # noise comparable to the signal): h_upper >= H(T); its limit excess 1/2 tr(...) >= 0.4
    # here dwarfs the sampling SD (~0.03).
    n0, noise, n = d + 1, 0.5, 1000
    rng = np.random.default_rng(d)
    W = rng.standard_normal((d, n0)) / math.sqrt(n0)
    h_exact = E.gaussian_entropy(W @ W.T + noise * np.eye(d))
    i_exact = 0.5 * np.linalg.slogdet(np.eye(d) + W @ W.T / noise)[1]
    assert i_exact == pytest.approx(h_exact - 0.5 * d * math.log(2 * math.pi * math.e * noise),
                                    abs=1e-12)
    layer = Linear(noise=noise)
    runs = []
    for seed in range(3):
        x = _gauss(n, n0, seed=100 + seed)
        z = x @ W.T
        t_noisy = layer.sample(z, rng=seed)  # what the network would output
        assert t_noisy.shape == z.shape
        runs.append(E.kde_bounds(z, noise, device="cpu"))  # the estimator takes f(x) = z
    mean = np.mean(np.array(runs), axis=0)
    assert mean[0] <= h_exact and mean[2] <= i_exact
    assert all(r.h_upper >= h_exact and r.i_upper >= i_exact for r in runs)


def test_kde_upper_bound_saturates_at_log_n_below_the_truth():
    # i_upper <= log N always (the j = i term), so when the true I(X;T) exceeds log N (high
    # dimension, small noise) the "upper bound" lies below the true H(T): it bounds the
    # empirical mixture, not the population.  Deterministic inequality; 1e-12 for round-off.
    d, noise, n = 20, 0.01, 200
    t = _gauss(n, d, seed=5)
    b = E.kde_bounds(t, noise, device="cpu")
    i_exact = 0.5 * d * math.log1p(1 / noise)
    assert b.i_upper <= math.log(n) + 1e-12 and i_exact > math.log(n)
    assert b.h_upper < E.gaussian_entropy((1 + noise) * np.eye(d))
    assert b.i_upper == pytest.approx(math.log(n), abs=1e-9)  # components are separated


def test_kde_paper_regime_noise_1e5():
    # The paper's measurement noise 1e-5 on a wide layer with large, off-centre activations.
    # Distinct points: every off-diagonal kernel underflows and both MI bounds are log N
    # (1e-12).  Each point duplicated: each row sums to exactly 2 kernels, so I = log(N/2);
    # the duplicate's squared distance comes from the Gram formula, whose round-off after
    # centring is ~1e-16 ||t - mean||^2 ~ 1e-12, i.e. ~1e-7 in the exponent after division by
    # 2e-5: tolerance 1e-6 (without centring the error is ~2e-3).
    n = 100
    t = 10.0 * _gauss(n, 200, seed=6) + 1000.0
    b = E.kde_bounds(t, 1e-5, device="cpu", chunk_size=33)
    assert b.i_lower == pytest.approx(math.log(n), abs=1e-12)
    assert b.i_upper == pytest.approx(math.log(n), abs=1e-12)
    b2 = E.kde_bounds(np.repeat(t, 2, axis=0), 1e-5, device="cpu", chunk_size=33)
    assert b2.i_lower == pytest.approx(math.log(n), abs=1e-6)
    assert b2.i_upper == pytest.approx(math.log(n), abs=1e-6)


def test_kde_chunked_equals_unchunked_and_input_types():
    # Row blocks only change the order of independent row computations: agreement to 1e-12.
    t = 0.7 * _gauss(257, 6, seed=1)
    full = E.kde_bounds(t, 0.3, device="cpu", chunk_size=257)
    for chunk in (1, 7, 100, None):
        np.testing.assert_allclose(E.kde_bounds(t, 0.3, device="cpu", chunk_size=chunk), full,
                                   rtol=0, atol=1e-12)
    tt = torch.as_tensor(t)
    np.testing.assert_allclose(E.kde_bounds(tt, 0.3, device="cpu"), full, rtol=0, atol=1e-12)
    est = E.KDEBound(0.3, bound="lower", device="cpu", chunk_size=7)
    assert est.entropy(t) == pytest.approx(full.h_lower, abs=1e-12)
    assert est.bounds(t) == pytest.approx(tuple(full), abs=1e-12)
    assert est.estimate(tt, tt) == pytest.approx(full.i_lower, abs=1e-12)


def test_kde_bounds_many_equals_one_at_a_time():
    # One pass over the pairs for several kernel variances: the same operations on the same
    # distance blocks as one call per variance, so the values are equal bitwise.
    t = 0.5 * _gauss(300, 40, seed=4)
    noises = (1e-5, 1e-2, 0.3, 10.0)
    many = E.kde_bounds_many(t, noises, device="cpu", chunk_size=64)
    assert len(many) == len(noises)
    for got, s in zip(many, noises, strict=True):
        assert got == E.kde_bounds(t, s, device="cpu", chunk_size=64)


def test_kde_device_argument():
    t = _gauss(64, 4, seed=2)
    cpu = E.kde_bounds(t, 0.1, device="cpu")
    assert E.kde_bounds(t, 0.1, device=torch.device("cpu")) == cpu
    default = E.kde_bounds(t, 0.1)  # cuda when available, else cpu
    np.testing.assert_allclose(default, cpu, rtol=0, atol=1e-10)
    if torch.cuda.is_available():  # float64 on GPU: only summation order differs
        np.testing.assert_allclose(E.kde_bounds(t, 0.1, device="cuda", chunk_size=5), cpu,
                                   rtol=0, atol=1e-10)


# --------------------------------------------------------------------------- k-NN


def test_knn_formulas_on_hand_worked_examples():
    # KSG, k = 1, points A(0,0) B(1,2) C(3,1) D(7,5).  Joint max-norm k-NN distances:
    # eps = 2, 2, 2, 4.  Points strictly closer than eps_i in x: n_x = 1, 1, 0, 0 (B-C at
    # exactly 2 = eps_B does not count); in y: n_y = 1, 1, 2, 1.  Exact to round-off.
    from scipy.special import digamma as psi
    x = np.array([[0.0], [1.0], [3.0], [7.0]])
    y = np.array([[0.0], [2.0], [1.0], [5.0]])
    want = psi(1) + psi(4) - (4 * psi(2) + (psi(1) + psi(3)) + (psi(1) + psi(2))) / 4
    assert E.KSG(k=1).estimate(x, y) == pytest.approx(want, abs=1e-14)
    # KL, k = 1: 1-D points 0, 1, 3 -> eps = 1, 1, 2, unit ball volume 2 (both norms)
    t = np.array([[0.0], [1.0], [3.0]])
    for metric in ("euclidean", "max"):
        assert E.KLEntropy(k=1, metric=metric).entropy(t) == pytest.approx(
            psi(3) - psi(1) + math.log(2) + math.log(2) / 3, abs=1e-14)
    # 2-D points (0,0) (1,0) (0,2): eps = 1, 1, 2 for both norms; volumes pi and 4
    t = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    assert E.KLEntropy(k=1).entropy(t) == pytest.approx(
        psi(3) - psi(1) + math.log(math.pi) + 2 * math.log(2) / 3, abs=1e-14)
    assert E.KLEntropy(k=1, metric="max").entropy(t) == pytest.approx(
        psi(3) - psi(1) + math.log(4) + 2 * math.log(2) / 3, abs=1e-14)


@pytest.mark.parametrize("metric", ["euclidean", "max"])
@pytest.mark.parametrize("d", [1, 2, 3, 4, 5])
def test_kl_entropy_gaussian(d, metric):
    # N = 2000, k = 3.  Measured over 30 seeds: SD ~ sqrt(d / (2N)) (the CLT SD of -log p(X)
    # for a Gaussian) and a negative bias growing with d up to -0.06 at d = 5.
    # Tolerance: 0.02 d (bias) + 4 sqrt(d / (2N)).
    n = 2000
    A = np.random.default_rng(100).standard_normal((d, d))
    cov = A @ A.T / d + 0.5 * np.eye(d)
    t = _gauss(n, d, seed=d) @ np.linalg.cholesky(cov).T
    h = E.KLEntropy(k=3, metric=metric).entropy(t)
    assert h == pytest.approx(E.gaussian_entropy(cov), abs=0.02 * d + 4 * math.sqrt(d / (2 * n)))


def test_kl_entropy_separated_mixture():
    # 4 equal Gaussian clusters of width 0.1, 20 widths apart, d = 2: H = log 4 + H(cluster)
    # (overlap negligible).  Same tolerance rule as above (d = 2: 0.04 + 4 * 0.016).
    n, d, w = 2000, 2, 0.1
    centres = np.array([[0, 0], [2, 0], [0, 2], [2, 2]], dtype=float)
    t = np.repeat(centres, n // 4, axis=0) + w * _gauss(n, d, seed=4)
    expected = math.log(4) + 0.5 * d * math.log(2 * math.pi * math.e * w**2)
    assert E.KLEntropy(k=3).entropy(t) == pytest.approx(expected, abs=0.11)


def test_ksg_bivariate_gaussian():
    # rho = 0.8: I = -1/2 log(1 - rho^2) = 0.511.  N = 2000, k = 3: SD 0.025, |bias| < 0.01
    # over 30 seeds; tolerance 0.1.
    rho, n = 0.8, 2000
    z = _gauss(n, 2, seed=7) @ np.linalg.cholesky([[1, rho], [rho, 1]]).T
    assert E.KSG(k=3).estimate(z[:, :1], z[:, 1:]) == pytest.approx(
        -0.5 * math.log(1 - rho**2), abs=0.1)


def test_ksg_multivariate_gaussian_and_independence():
    # X ~ N(0, I_3), Y = B X + N(0, I_2): I = 1/2 logdet(I + B B^T) = 0.766.  N = 2000, k = 3:
    # SD 0.021, bias -0.03 over 30 seeds (KSG underestimates large MI); tolerance 0.12.
    # Independent X, Y: SD 0.016, tolerance 0.07.
    n = 2000
    B = np.array([[1.0, 0.5, -0.3], [0.2, -0.8, 0.6]])
    x = _gauss(n, 3, seed=8)
    y = x @ B.T + _gauss(n, 2, seed=9)
    exact = 0.5 * np.linalg.slogdet(np.eye(2) + B @ B.T)[1]
    assert E.KSG(k=3).estimate(x, y) == pytest.approx(exact, abs=0.12)
    assert E.KSG(k=3).estimate(x, _gauss(n, 2, seed=10)) == pytest.approx(0.0, abs=0.07)


@pytest.mark.parametrize("n, dx, dy, decimals", [(400, 1, 1, None), (300, 3, 2, None),
                                                 (250, 12, 20, None), (300, 2, 2, 1)])
def test_ksg_brute_force_equals_kd_trees(n, dx, dy, decimals):
    # Both searches compute max-norm distances as max |a - b| in float64 and count the points
    # strictly inside eps: the same counts, hence bitwise the same estimate, ties included
    # (rounded data: many equal distances).
    x = _gauss(n, dx, seed=dx)
    y = x[:, :1] + _gauss(n, dy, seed=dy + 50)
    if decimals is not None:
        x, y = np.round(x, decimals), np.round(y, decimals)
    kd = E.KSG(k=3, algorithm="kd_tree").estimate(x, y)
    assert E.KSG(k=3, algorithm="brute").estimate(x, y) == kd
    assert E.KSG(k=3).estimate(x, y) == kd  # auto picks one of them


def test_knn_jitter_breaks_ties_reproducibly():
    # ReLU outputs have exact zeros: without jitter the zero distances are refused; with a
    # seeded jitter the result is finite and reproducible.
    t = ReLU().f(_gauss(500, 2, seed=11))
    with pytest.raises(ValueError, match="jitter"):
        E.KLEntropy().entropy(t)
    est = E.KLEntropy(jitter=1e-6, seed=1)
    assert np.isfinite(est.entropy(t)) and est.entropy(t) == est.entropy(t)


def test_knn_agrees_with_reference_library():
    # npeet-plus 0.2.0 (an independent implementation, not a dependency) on the same data;
    # values and recipe in tests/data/. npeet adds 1e-10 uniform noise, so the agreement is
    # ~1e-8 rather than round-off.
    ref = json.loads((DATA / "npeet_references.json").read_text())
    z = np.random.default_rng(12).standard_normal((800, 5))
    z = z @ np.random.default_rng(0).standard_normal((5, 5))
    k = ref["k"]
    assert E.KSG(k=k).estimate(z[:, :3], z[:, 3:]) == pytest.approx(
        ref["ksg_mi_x_y"], abs=1e-8)
    assert E.KLEntropy(k=k, metric="max").entropy(z) == pytest.approx(
        ref["kl_entropy_max_norm_z"], abs=1e-8)


# --------------------------------------------------------------------------- binning


def test_binning_four_points_gives_log_4():
    # X uniform on 4 well-separated points (100 copies each), T = tanh(X) per unit: every
    # point falls in its own bin, so H(T_bin) = log 4 exactly; and since X repeats, the
    # plug-in I(X; T_bin) = H(T_bin) - H(T_bin|X) = log 4, not log N.  Round-off only: 1e-12.
    pts = np.array([[-3.0, 1.0], [-1.0, -2.0], [1.0, 0.0], [3.0, 2.0]])
    x = np.repeat(pts, 100, axis=0)
    t = np.tanh(x)
    for est in (E.Binning(n_bins=30), E.Binning(bin_width=0.05),
                E.Binning(n_bins=30, per_unit_range=True)):
        assert est.entropy(t) == pytest.approx(math.log(4), abs=1e-12)
        assert est.estimate(x, t) == pytest.approx(math.log(4), abs=1e-12)


def test_binning_mi_with_distinct_inputs_is_entropy_and_at_most_log_n():
    n = 300
    x = _gauss(n, 5, seed=13)
    t = np.tanh(x @ np.random.default_rng(1).standard_normal((5, 3)))
    for nb in (2, 10, 10_000):
        est = E.Binning(n_bins=nb)
        h = est.entropy(t)
        assert est.estimate(x, t) == pytest.approx(h, abs=1e-12)
        assert h <= math.log(n) + 1e-12
    assert E.Binning(n_bins=10_000).entropy(t) == pytest.approx(math.log(n), abs=1e-12)


def test_binning_range_is_adaptive_for_relu():
    # ReLU activations lie in [0, max] with max ~ 9 here: the adaptive range spreads the 30
    # bins over [0, max] (bin 0 .. bin 29 all reachable), whereas a fixed [-1, 1] range wastes
    # the 15 negative bins and piles every value > 1 into the last bin.
    t = ReLU().f(3.0 * _gauss(2000, 1, seed=14))
    idx = E.Binning(n_bins=30).digitize(t)
    assert idx.min() == 0 and idx.max() == 29
    assert t.min() == 0.0
    fixed = E.Binning(n_bins=30, range=(-1.0, 1.0))
    assert set(np.unique(fixed.digitize(t))) <= set(range(15, 30))
    assert E.Binning(n_bins=30).entropy(t) > fixed.entropy(t) + 0.5


def test_binning_monotone_under_refinement():
    # With a fixed (here adaptive = data) range, doubling the bin count refines the partition,
    # so H(T_bin) cannot decrease; it starts at 0 (one bin) and reaches log N.
    n = 500
    t = ReLU().f(_gauss(n, 3, seed=15))
    hs = [E.Binning(n_bins=2**j).entropy(t) for j in range(0, 14)]
    assert hs[0] == 0.0
    assert np.all(np.diff(hs) >= -1e-12)
    assert hs[-1] <= math.log(n) + 1e-12


def test_binning_bin_width():
    t = np.array([[0.2], [0.7], [1.3], [2.5], [2.9]])
    # range [0.2, 2.9], width 1: bins [0.2,1.2) [1.2,2.2) [2.2,3.2) -> counts 2, 1, 2
    idx = E.Binning(bin_width=1.0).digitize(t)
    np.testing.assert_array_equal(idx.ravel(), [0, 0, 1, 2, 2])
    expected = -(2 * 0.4 * math.log(0.4) + 0.2 * math.log(0.2))
    assert E.Binning(bin_width=1.0).entropy(t) == pytest.approx(expected, abs=1e-12)
    assert E.Binning(n_bins=5).entropy(np.ones((10, 2))) == 0.0  # constant layer


# --------------------------------------------------------------------------- misc / errors


ALL_ESTIMATORS = [E.KDEBound(0.1), E.KDEBound(1e-3, bound="lower", device="cpu", chunk_size=8),
                  E.Binning(n_bins=10), E.Binning(bin_width=0.1, range=(-1.0, 1.0)),
                  E.KSG(k=4, algorithm="brute"), E.KLEntropy(metric="max")]


@pytest.mark.parametrize("est", ALL_ESTIMATORS, ids=lambda e: type(e).__name__)
def test_parameters_are_the_fields_as_json(est):
    # bmi's parameters(): every hyper-parameter (the dataclass fields), JSON-compatible
    params = est.parameters()
    assert set(params) == {f.name for f in dataclasses.fields(est)}
    assert json.loads(json.dumps(params)) == params
    if isinstance(est, E.KDEBound):
        assert params["dtype"] == "float64" and params["noise"] == est.noise
    if isinstance(est, E.Binning) and est.range is not None:
        assert params["range"] == [-1.0, 1.0]


def test_estimators_follow_the_bmi_protocol():
    # midnn's MI estimators are bmi point estimators (structural, runtime-checkable); the
    # entropy-only KL estimator has no estimate(x, y) and is not one
    for est in ALL_ESTIMATORS:
        is_mi = isinstance(est, E.MutualInformationEstimator)
        assert isinstance(est, interface.MutualInformationEstimator) == is_mi
    assert not isinstance(E.KLEntropy(), interface.MutualInformationEstimator)

    class Custom(E.MutualInformationEstimator):  # not a dataclass: no declared fields
        def estimate(self, x, y):
            return 0.0

    assert Custom().parameters() == {}
    assert isinstance(Custom(), interface.MutualInformationEstimator)


def test_per_unit_and_gaussian_entropy():
    assert E.per_unit(3.0, 4) == 0.75
    assert E.gaussian_entropy(np.eye(3)) == pytest.approx(1.5 * LOG2PIE, abs=1e-14)


X10 = np.zeros((10, 2))
NAN = np.full((10, 2), np.nan)


@pytest.mark.parametrize("make, name", [
    (lambda: E.KDEBound(noise=-1.0), "noise"),
    (lambda: E.KDEBound(noise=0.0), "noise"),
    (lambda: E.kde_bounds(X10, -0.1), "noise"),
    (lambda: E.KDEBound(noise=0.1, bound="middle"), "bound"),
    (lambda: E.kde_bounds(X10, 0.1, chunk_size=0), "chunk_size"),
    (lambda: E.kde_bounds(X10, 0.1, device="not-a-device"), "device"),
    (lambda: E.kde_bounds(np.zeros(10), 0.1), "t must be a 2-D"),
    (lambda: E.kde_bounds(NAN, 0.1, device="cpu"), "t must be finite"),
    (lambda: E.kde_bounds(torch.full((4, 2), float("nan")), 0.1, device="cpu"), "t must be"),
    (lambda: E.KDEBound(0.1, device="cpu").estimate(X10, X10[:9]), "y must have as many"),
    (lambda: E.KSG(k=0), "k must"),
    (lambda: E.KSG(k=2.5), "k must"),
    (lambda: E.KSG(algorithm="ball_tree"), "algorithm"),
    (lambda: E.KSG(algorithm="brute").estimate(np.zeros((10, 1)), np.zeros((10, 1))),
     "duplicated"),
    (lambda: E.kde_bounds_many(X10, []), "noises"),
    (lambda: E.kde_bounds_many(X10, 0.1), "noises"),
    (lambda: E.kde_bounds_many(X10, [0.1, -1.0]), r"noises\[1\]"),
    (lambda: E.KLEntropy(k=0), "k must"),
    (lambda: E.KLEntropy(metric="manhattan"), "metric"),
    (lambda: E.KLEntropy(jitter=-1.0), "jitter"),
    (lambda: E.KSG().estimate(_gauss(10, 2, 0), _gauss(9, 2, 1)), "y must have as many"),
    (lambda: E.KSG().estimate(_gauss(10, 2, 0), np.zeros((10, 2, 1))), "y must be a 2-D"),
    (lambda: E.KSG().estimate(NAN, _gauss(10, 2, 1)), "x must be finite"),
    (lambda: E.KSG(k=3).estimate(_gauss(3, 1, 0), _gauss(3, 1, 1)), "more than k"),
    (lambda: E.KSG().estimate(np.zeros((10, 1)), np.zeros((10, 1))), "duplicated"),
    (lambda: E.KLEntropy().entropy(np.zeros(10)), "t must be a 2-D"),
    (lambda: E.Binning(), "exactly one"),
    (lambda: E.Binning(n_bins=3, bin_width=0.1), "exactly one"),
    (lambda: E.Binning(n_bins=0), "n_bins"),
    (lambda: E.Binning(bin_width=-0.1), "bin_width"),
    (lambda: E.Binning(n_bins=3, range=(1.0, 0.0)), "range"),
    (lambda: E.Binning(n_bins=3).estimate(X10, X10[:5]), "y must have as many"),
    (lambda: E.Binning(n_bins=3).entropy(NAN), "t must be finite"),
    (lambda: E.kde_bounds_gaussian_limit(np.ones((2, 3)), 0.1), "cov"),
    (lambda: E.per_unit(1.0, 0), "n_units"),
])
def test_bad_input_raises_value_error_naming_the_argument(make, name):
    with pytest.raises(ValueError, match=name):
        make()
