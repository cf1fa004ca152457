"""Tests of midnn.exact, the finite-size ground truth.

Tolerances and why:

* log-det formulas are exact linear algebra: compared with an independent dense computation
  (explicit joint covariance of X, T_1..T_L and numpy slogdet/inv) to 1e-10 (double rounding
  on matrices of size <= 50), and with the reference values of the authors' solver
  (tests/data/published_values.json, recipes included) to the digits they carry.
* the enumerated densities are exact: compared with a plain numpy/scipy sum over the inputs
  to 1e-10 in log p.
* Monte Carlo entropies are compared with deterministic integration within 4 standard errors
  (+ the integration accuracy); seeds are fixed so the tests are deterministic.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import pathlib

import numpy as np
import pytest
from scipy import integrate
from scipy.stats import norm

from midnn import exact
from midnn.activations import HardTanh, LeakyReLU, Linear, ReLU, Sign, Tanh

#: The authors' solver's values with their recipes (provenance in the file).
PUBLISHED = json.loads((pathlib.Path(__file__).parent / "data" /
                        "published_values.json").read_text())
#: Gaussian(0, 1) -> Linear(0.01) through the recipe matrix: one layer, where the replica
#: formula with the empirical spectrum equals the finite-size log-det (docs/derivations.md).
ONE_LAYER_LINEAR = PUBLISHED["cases"][0]
#: Gaussian(0, 1) -> Linear(0) -> Linear(0.01): its recipe draws W2 first.
TWO_LAYER_LINEAR = PUBLISHED["cases"][9]


def recipe_matrix() -> np.ndarray:
    """W of the one-layer recipes (np.random.seed(42); np.random.randn(100, 50)/sqrt(50))."""
    legacy = np.random.RandomState(42)
    return legacy.randn(100, 50) / np.sqrt(50)


# ---------------------------------------------------------------------------------------------
# (a) linear Gaussian networks
# ---------------------------------------------------------------------------------------------


def brute_linear(weights, noises, sigma_x):
    """H(T_L), H(T_L|X), I and MMSE from the explicit joint covariance of (X, T_L), all per n0.

    Z = (X, xi_1, ..., xi_L) has block-diagonal covariance; X = A_0 Z and T_L = A_L Z.
    """
    n0 = sigma_x.shape[0]
    dims = [n0] + [w.shape[0] for w in weights]
    offsets = np.cumsum([0] + dims)
    cov_z = np.zeros((offsets[-1], offsets[-1]))
    cov_z[:n0, :n0] = sigma_x
    for l, nz in enumerate(noises):
        sl = slice(offsets[l + 1], offsets[l + 2])
        cov_z[sl, sl] = nz * np.eye(dims[l + 1])
    A = np.zeros((n0, offsets[-1]))
    A[:, :n0] = np.eye(n0)
    A0 = A.copy()
    for l, W in enumerate(weights):
        A = W @ A
        A[:, offsets[l + 1]:offsets[l + 2]] += np.eye(dims[l + 1])
    J = np.vstack([A0, A]) @ cov_z @ np.vstack([A0, A]).T
    sx, st, sxt = J[:n0, :n0], J[n0:, n0:], J[:n0, n0:]

    def h(M):
        return 0.5 * np.linalg.slogdet(2 * np.pi * np.e * M)[1]

    H_t, H_x, H_xt = h(st), h(sx), h(J)
    mmse = np.trace(sx - sxt @ np.linalg.inv(st) @ sxt.T) / n0
    return np.array([H_t, H_xt - H_x, H_x + H_t - H_xt]) / n0, mmse


def random_chain(rng, dims):
    return [rng.standard_normal((dims[i + 1], dims[i])) / np.sqrt(dims[i])
            for i in range(len(dims) - 1)]


def test_one_layer_against_slogdet_and_the_published_values():
    W = recipe_matrix()
    res = exact.linear_gaussian([W], [0.01])
    # H(T_1)/n_0 = 1/(2 n_0) log det(2 pi e (W W^T + 0.01 I)) by numpy's slogdet
    direct = 0.5 * np.linalg.slogdet(2 * np.pi * np.e * (W @ W.T + 0.01 * np.eye(100)))[1] / 50
    assert abs(res.entropy[0] - direct) < 1e-12
    # the authors' replica values for this matrix (their unit test asserts 2.501166)
    assert abs(res.entropy[0] - ONE_LAYER_LINEAR["entropy"]) < 1e-12
    assert abs(res.mutual_information[0] - ONE_LAYER_LINEAR["mutual_information"]) < 1e-10
    # H(T|X) is the noise entropy n_1/2 log(2 pi e Delta) / n_0
    assert abs(res.conditional_entropy[0] - 100 / 50 * 0.5 * np.log(2 * np.pi * np.e * 0.01)) \
        < 1e-12
    # Finite-size MMSE in closed form: mean over the n_0 eigenvalues of W^T W of
    # Delta / (Delta + lambda) (posterior covariance (I + W^T W / Delta)^{-1}).
    lam = np.linalg.eigvalsh(W.T @ W)
    closed = np.mean(0.01 / (0.01 + lam))
    assert abs(res.mmse[0] - closed) < 1e-13
    # The published mmse is the replica's V_1, not this matrix's exact MMSE: they differ by
    # 1.5e-8 (relative 1.6e-6), so only agreement at the 5e-8 level holds.
    assert abs(res.mmse[0] - ONE_LAYER_LINEAR["mmse"]) < 5e-8
    assert abs(res.mmse[0] - ONE_LAYER_LINEAR["mmse"]) > 1e-9


def test_two_layer_linear_recipe():
    """The recipe of the authors' two-layer test (W2 drawn first): the exact entropy is
    0.244951 (6 digits; recomputed below with numpy's slogdet of the product), 5e-4 above
    their replica value 0.244437 (tests/data/published_values.json): a finite-size gap of
    the product of two matrices at n_0 = 100 (notebook 01 shows it shrink with n)."""
    legacy = np.random.RandomState(42)
    w2 = legacy.randn(20, 50) / np.sqrt(50)
    w1 = legacy.randn(50, 100) / np.sqrt(100)
    res = exact.linear_gaussian([w1, w2], [0.0, 0.01])
    assert abs(res.entropy[-1] - 0.244951) < 5e-7
    assert 3e-4 < res.entropy[-1] - TWO_LAYER_LINEAR["entropy"] < 1e-3
    # noiseless inner layer: same as the one-layer log-det of the product M = W2 W1
    M = w2 @ w1
    direct = 0.5 * np.linalg.slogdet(2 * np.pi * np.e * (M @ M.T + 0.01 * np.eye(20)))[1] / 100
    assert abs(res.entropy[-1] - direct) < 1e-12
    # entry 0 observes T_1 without noise: reported as NaN (divergent differential entropy)
    assert np.isnan(res.entropy[0]) and np.isnan(res.mutual_information[0])


@pytest.mark.parametrize("var", [1.0, 0.3])
def test_linear_gaussian_matches_dense_joint_covariance(var):
    rng = np.random.default_rng(0)
    Ws = random_chain(rng, [7, 9, 5, 6])
    noises = [0.2, 0.05, 0.1]
    res = exact.linear_gaussian(Ws, noises, var=var)
    for l in range(3):
        ref, mmse = brute_linear(Ws[:l + 1], noises[:l + 1], var * np.eye(7))
        got = [res.entropy[l], res.conditional_entropy[l], res.mutual_information[l]]
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-10)
        assert abs(res.mmse[l] - mmse) < 1e-10


def test_readout_noise_semantics():
    rng = np.random.default_rng(1)
    Ws = random_chain(rng, [6, 8, 4])
    noises = [0.0, 0.05]
    for readout in (0.02, [0.03, None]):
        res = exact.linear_gaussian(Ws, noises, readout_noise=readout)
        reads = [0.02, 0.02] if readout == 0.02 else [0.03, 0.05]
        for l in range(2):
            ref, mmse = brute_linear(Ws[:l + 1], noises[:l] + [reads[l]], np.eye(6))
            np.testing.assert_allclose([res.entropy[l], res.conditional_entropy[l],
                                        res.mutual_information[l]], ref, atol=1e-10, rtol=0)
            assert abs(res.mmse[l] - mmse) < 1e-10


def test_mmse_information_form():
    """MMSE = tr((Sigma_X^{-1} + A^T C^{-1} A)^{-1}) / n_0 (posterior covariance, no MC)."""
    rng = np.random.default_rng(2)
    Ws = random_chain(rng, [10, 6, 12])
    noises = [0.1, 0.3]
    res = exact.linear_gaussian(Ws, noises, var=2.0)
    A = Ws[1] @ Ws[0]
    C = noises[0] * Ws[1] @ Ws[1].T + noises[1] * np.eye(12)
    post = np.linalg.inv(np.eye(10) / 2.0 + A.T @ np.linalg.solve(C, A))
    assert abs(res.mmse[-1] - np.trace(post) / 10) < 1e-12


def test_generative_input():
    rng = np.random.default_rng(3)
    dec = rng.standard_normal((8, 4)) / 2.0
    Ws = random_chain(rng, [8, 5, 3])
    res = exact.linear_gaussian_generative(dec, 0.1, Ws, [0.0, 0.01], var=1.5)
    sigma_x = 1.5 * dec @ dec.T + 0.1 * np.eye(8)
    ref, mmse = brute_linear(Ws, [0.0, 0.01], sigma_x)
    # entropies per n_Y = 4 instead of per n_X = 8; the MMSE stays per component of X
    np.testing.assert_allclose([res.entropy[-1], res.conditional_entropy[-1],
                                res.mutual_information[-1]], ref * 8 / 4, atol=1e-10, rtol=0)
    assert abs(res.mmse[-1] - mmse) < 1e-10
    same = exact.linear_gaussian(Ws, [0.0, 0.01], input_cov=sigma_x, normalization=4)
    np.testing.assert_allclose(same.entropy, res.entropy, atol=1e-14, equal_nan=True)
    # a noiseless decoder gives a singular (rank n_Y < n_X) input covariance: still fine
    sing = exact.linear_gaussian_generative(dec, 0.0, Ws, [0.0, 0.01])
    assert np.isfinite(sing.entropy[-1]) and np.isfinite(sing.mmse[-1])


def test_large_n_stable():
    rng = np.random.default_rng(4)
    n = 1000
    W = rng.standard_normal((n, n)) / np.sqrt(n)  # square: W W^T has tiny eigenvalues
    res = exact.linear_gaussian([W], [1e-3])
    lam = np.linalg.eigvalsh(W @ W.T)
    H = 0.5 * np.sum(np.log(2 * np.pi * np.e * (lam + 1e-3))) / n
    I = 0.5 * np.sum(np.log1p(lam / 1e-3)) / n
    assert abs(res.entropy[0] - H) < 1e-10
    assert abs(res.mutual_information[0] - I) < 1e-10
    assert abs(res.mmse[0] - np.mean(1e-3 / (1e-3 + lam))) < 1e-10


def test_linear_gaussian_bad_input():
    W = np.ones((3, 2))
    with pytest.raises(ValueError, match="weights\\[1\\]"):
        exact.linear_gaussian([W, np.ones((2, 2))], [0.1, 0.1])
    with pytest.raises(ValueError, match="noises"):
        exact.linear_gaussian([W], [0.1, 0.1])
    with pytest.raises(ValueError, match="noises\\[0\\]"):
        exact.linear_gaussian([W], [-0.1])
    with pytest.raises(ValueError, match="noises\\[0\\] is 0"):
        exact.linear_gaussian([W], [0.0])
    with pytest.raises(ValueError, match="readout_noise\\[0\\] is 0"):
        exact.linear_gaussian([W], [0.1], readout_noise=0.0)
    with pytest.raises(ValueError, match="readout_noise"):
        exact.linear_gaussian([W], [0.1], readout_noise=[0.1, 0.2])
    with pytest.raises(ValueError, match="var"):
        exact.linear_gaussian([W], [0.1], var=0.0)
    with pytest.raises(ValueError, match="input_cov"):
        exact.linear_gaussian([W], [0.1], input_cov=np.eye(3))
    with pytest.raises(ValueError, match="input_cov must be positive semi-definite"):
        exact.linear_gaussian([W], [0.1], input_cov=-np.eye(2))
    with pytest.raises(ValueError, match="input_cov must be symmetric"):
        exact.linear_gaussian([W], [0.1], input_cov=[[1.0, 0.5], [0.0, 1.0]])
    with pytest.raises(ValueError, match="weights\\[0\\] must be finite"):
        exact.linear_gaussian([W * np.nan], [0.1])
    with pytest.raises(ValueError, match="decoder"):
        exact.linear_gaussian_generative(np.ones((4, 2)), 0.1, [W], [0.1])


def test_replica_agrees_with_exact_one_layer():
    from midnn import Layer, Model, replica
    from midnn.priors import Gaussian
    from midnn.spectra import Empirical

    W = recipe_matrix()
    res = replica(Model(Gaussian(0.0, 1.0), [Layer(Empirical.from_matrix(W), Linear(0.01))]))
    ex = exact.linear_gaussian([W], [0.01])
    assert abs(res.entropy[-1] - ex.entropy[0]) < 1e-9
    assert abs(res.mutual_information[-1] - ex.mutual_information[0]) < 1e-9
    # the replica MMSE (V_1) is asymptotic; it matches this matrix's exact MMSE to ~1.5e-8
    assert abs(res.mmse[-1] - ex.mmse[0]) < 5e-8


# ---------------------------------------------------------------------------------------------
# (b) +-1 inputs: exact enumeration
# ---------------------------------------------------------------------------------------------


def brute_mixture(weights, acts, p=0.5):
    """All inputs x, their probabilities and z(x) = W_L f(...f(W_1 x)) with plain numpy."""
    n0 = weights[0].shape[1]
    xs = np.array(list(itertools.product([-1.0, 1.0], repeat=n0)))
    P = np.prod(np.where(xs > 0, p, 1 - p), axis=1)
    h = xs
    for W, a in zip(weights[:-1], acts[:-1], strict=True):
        h = a.f(h @ W.T)
    return P, h @ weights[-1].T


def component_density(act, t, z):
    """p(t | z) for one output unit (density w.r.t. Lebesgue + atoms), numpy broadcasting."""
    s = np.sqrt(act.noise)
    if isinstance(act, Linear):
        return norm.pdf(t, z, s)
    if isinstance(act, Tanh):
        return norm.pdf(np.arctanh(t), z, s) / (1 - t * t)
    if isinstance(act, LeakyReLU):
        return np.where(t < 0, norm.pdf(t / act.slope, z, s) / act.slope, norm.pdf(t, z, s))
    if isinstance(act, ReLU):
        return np.where(t == 0, norm.cdf(-z / s), np.where(t > 0, norm.pdf(t, z, s), 0.0))
    if isinstance(act, HardTanh):
        return np.where(t == -1, norm.cdf((-1 - z) / s),
                        np.where(t == 1, norm.cdf((z - 1) / s), norm.pdf(t, z, s)))
    if isinstance(act, Sign):
        return norm.cdf(t * z / s)
    raise AssertionError


def brute_density(P, Z, act, t):
    t = np.atleast_2d(t)
    dens = np.ones((t.shape[0], Z.shape[0]))
    for i in range(Z.shape[1]):
        dens *= component_density(act, t[:, i:i + 1], Z[None, :, i])
    return dens @ P


OUTPUTS = [Linear(0.2), Tanh(0.2), LeakyReLU(0.2, slope=0.3), ReLU(0.2), HardTanh(0.2), Sign(0.2)]


def sample_points(act, rng, m, n):
    if isinstance(act, Sign):
        return rng.choice([-1.0, 1.0], size=(m, n))
    t = rng.uniform(-0.95, 0.95, size=(m, n))
    if isinstance(act, ReLU):
        t = np.where(t < 0, 0.0, t)  # atoms at 0 included
    if isinstance(act, HardTanh):
        t[0, 0], t[1, -1] = 1.0, -1.0
    return t


@pytest.mark.parametrize("act", OUTPUTS, ids=lambda a: type(a).__name__)
def test_log_density_is_exact(act):
    rng = np.random.default_rng(5)
    Ws = random_chain(rng, [5, 4, 3])
    acts = [Tanh(), act]
    t = sample_points(act, rng, 6, 3)
    got = exact.binary_log_density(Ws, acts, t, p_plus=0.3)
    P, Z = brute_mixture(Ws, acts, 0.3)
    np.testing.assert_allclose(got, np.log(brute_density(P, Z, act, t)), atol=1e-10, rtol=0)
    # several chunks of inputs and of points give the same numbers
    small = exact.binary_log_density(Ws, acts, t, p_plus=0.3, batch=8)
    np.testing.assert_allclose(small, got, atol=1e-12, rtol=0)


def quad_entropy_1d(P, Z, act):
    """-E log p(T) for n_L = 1 by adaptive quadrature (atoms handled separately)."""
    z, s = Z[:, 0], np.sqrt(act.noise)

    def dens(t):
        return float(component_density(act, np.array([t]), z) @ P)

    def plogp(t):
        d = dens(t)
        return -d * np.log(d) if d > 0 else 0.0

    if isinstance(act, Tanh):  # integrate in u = atanh(t): p_T dt = p_U du
        def ulog(u):
            pu = float(norm.pdf(u, z, s) @ P)
            return -pu * (np.log(pu) + 2 * np.log(np.cosh(u))) if pu > 0 else 0.0
        lo, hi = z.min() - 12 * s, z.max() + 12 * s
        return integrate.quad(ulog, lo, hi, points=sorted(z), limit=400, epsabs=1e-11)[0]
    atoms, (lo, hi) = [], (z.min() - 12 * s, z.max() + 12 * s)
    if isinstance(act, ReLU):
        atoms, lo = [0.0], 0.0
    if isinstance(act, HardTanh):
        atoms, lo, hi = [-1.0, 1.0], -1.0, 1.0
    H = sum(plogp(a) for a in atoms)
    pts = sorted(x for x in z if lo < x < hi)
    H += integrate.quad(lambda t: plogp(t) if lo < t < hi else 0.0, lo, hi, points=pts or None,
                        limit=400, epsabs=1e-11)[0]
    return H


def quad_conditional_entropy_1d(P, Z, act):
    z, s = Z[:, 0], np.sqrt(act.noise)
    total = 0.0
    for zi, pi in zip(z, P, strict=True):
        if isinstance(act, Tanh):
            f = lambda u, zi=zi: -norm.pdf(u, zi, s) * (norm.logpdf(u, zi, s)  # noqa: E731
                                                         + 2 * np.log(np.cosh(u)))
            h = integrate.quad(f, zi - 40 * s, zi + 40 * s, points=[0.0], limit=400,
                               epsabs=1e-12)[0]
        elif isinstance(act, ReLU):
            p0 = norm.cdf(-zi / s)
            h = -p0 * np.log(p0) - integrate.quad(
                lambda t, zi=zi: norm.pdf(t, zi, s) * norm.logpdf(t, zi, s), 0.0, np.inf,
                epsabs=1e-12)[0]
        else:
            h = 0.5 * np.log(2 * np.pi * np.e * act.noise)
        total += pi * h
    return total


@pytest.mark.parametrize("act", [Linear(0.3), ReLU(0.3), Tanh(0.3), Tanh(2.0)],
                         ids=["linear", "relu", "tanh", "tanh-wide-noise"])
def test_one_output_unit_vs_quadrature(act):
    rng = np.random.default_rng(6)
    Ws = random_chain(rng, [4, 1])
    P, Z = brute_mixture(Ws, [act])
    res = exact.binary_enumeration(Ws, [act], n_samples=4000, seed=1)
    n0 = 4
    h_cond = quad_conditional_entropy_1d(P, Z, act)
    assert abs(res.conditional_entropy * n0 - h_cond) < 1e-9  # exact (closed form/quadrature)
    H = quad_entropy_1d(P, Z, act)
    assert abs(res.entropy * n0 - H) < 4 * res.entropy_se * n0 + 1e-8
    assert res.entropy_se < 0.01 * max(abs(res.entropy), 0.1)  # the check is not vacuous


def test_two_output_units_linear_vs_dblquad():
    rng = np.random.default_rng(7)
    Ws = random_chain(rng, [3, 2])
    act = Linear(0.3)
    P, Z = brute_mixture(Ws, [act])
    res = exact.binary_enumeration(Ws, [act], n_samples=4000, seed=2)

    def plogp(y, x):
        d = brute_density(P, Z, act, np.array([[x, y]]))[0]
        return -d * np.log(d) if d > 0 else 0.0

    lo, hi = Z.min(0) - 6.0, Z.max(0) + 6.0  # 6 / sqrt(0.3) = 11 standard deviations
    H = integrate.dblquad(plogp, lo[0], hi[0], lo[1], hi[1], epsabs=1e-8)[0]
    assert abs(res.entropy * 3 - H) < 4 * res.entropy_se * 3 + 1e-6


def test_two_output_units_relu_vs_quadrature():
    """ReLU, n_L = 2: atom {0,0}, two half-lines with one atom, and the positive quadrant."""
    rng = np.random.default_rng(8)
    Ws = random_chain(rng, [3, 2])
    act = ReLU(0.3)
    P, Z = brute_mixture(Ws, [act])
    res = exact.binary_enumeration(Ws, [act], n_samples=4000, seed=3)

    def plogp(t1, t2):
        d = brute_density(P, Z, act, np.array([[t1, t2]]))[0]
        return -d * np.log(d) if d > 0 else 0.0

    top = Z.max() + 6.0
    H = plogp(0.0, 0.0)
    H += integrate.quad(lambda a: plogp(a, 0.0), 0, top, epsabs=1e-10, limit=200)[0]
    H += integrate.quad(lambda a: plogp(0.0, a), 0, top, epsabs=1e-10, limit=200)[0]
    H += integrate.dblquad(lambda b, a: plogp(a, b), 0, top, 0, top, epsabs=1e-8)[0]
    assert abs(res.entropy * 3 - H) < 4 * res.entropy_se * 3 + 1e-6


@pytest.mark.parametrize("n_out", [1, 2])
def test_sign_output_enumeration_is_exact(n_out):
    rng = np.random.default_rng(9)
    Ws = random_chain(rng, [5, 3, n_out])
    acts = [ReLU(), Sign(0.2)]
    P, Z = brute_mixture(Ws, acts, 0.6)
    ts = np.array(list(itertools.product([-1.0, 1.0], repeat=n_out)))
    p = brute_density(P, Z, acts[-1], ts)
    H = -np.sum(p * np.log(p))
    q = norm.cdf(Z / np.sqrt(0.2))
    Hc = P @ np.sum(-q * np.log(q) - (1 - q) * np.log(1 - q), axis=1)
    res = exact.binary_enumeration(Ws, acts, p_plus=0.6, n_samples=100)
    assert res.n_samples == 0 and res.entropy_se == 0.0
    assert abs(res.entropy * 5 - H) < 1e-12
    assert abs(res.conditional_entropy * 5 - Hc) < 1e-12
    assert abs(res.mutual_information * 5 - (H - Hc)) < 1e-12
    # forcing Monte Carlo instead agrees within its standard error
    mc = exact.binary_enumeration(Ws, acts, p_plus=0.6, n_samples=2000,
                                  output_enumeration=False)
    assert abs(mc.entropy - res.entropy) < 4 * mc.entropy_se


def test_noiseless_sign_output_is_shannon_entropy_of_patterns():
    rng = np.random.default_rng(10)
    Ws = random_chain(rng, [6, 4, 5])
    acts = [Sign(), Sign(0.0)]
    P, Z = brute_mixture(Ws, acts, 0.5)
    probs: dict[tuple, float] = {}
    for pattern, pr in zip(map(tuple, np.where(Z >= 0, 1, -1)), P, strict=True):
        probs[pattern] = probs.get(pattern, 0.0) + pr
    H = -sum(q * np.log(q) for q in probs.values())
    res = exact.binary_enumeration(Ws, acts, n_samples=64)
    assert res.conditional_entropy == 0.0
    assert abs(res.entropy * 6 - H) < 1e-12
    assert abs(res.mutual_information * 6 - H) < 1e-12


def test_injective_small_noise_mi_is_log2():
    """Digest 4.4: a +-1 input through an injective channel with small noise: I -> log 2."""
    rng = np.random.default_rng(11)
    Ws = random_chain(rng, [8, 16])
    for act in (Linear(1e-4), ReLU(1e-4)):
        res = exact.binary_enumeration(Ws, [act], n_samples=500, seed=4)
        assert abs(res.mutual_information - np.log(2)) < 1e-6
        assert res.mutual_information_se < 1e-6


def test_linear_large_noise_close_to_gaussian_logdet():
    """For a linear output U = W x + xi the Gaussian with the same covariance gives the upper
    bound I_G = 1/2 log det(I + W W^T / Delta) (p_plus = 1/2: Cov X = I); the gap is the
    negentropy of U, driven by the fourth cumulant of x (third is 0): J ~ sum (kappa_4)^2 / 48
    ~ Delta^{-4}. For Delta = 10 the estimate is ~1e-5 per n_0, so |I - I_G| <= 4 SE + 1e-4.
    """
    rng = np.random.default_rng(12)
    Ws = random_chain(rng, [10, 12])
    noise = 10.0
    res = exact.binary_enumeration(Ws, [Linear(noise)], n_samples=2000, seed=5)
    i_gauss = 0.5 * np.linalg.slogdet(np.eye(12) + Ws[0] @ Ws[0].T / noise)[1] / 10
    assert abs(res.gaussian_mutual_information - i_gauss) < 1e-13
    # the bound holds up to Monte Carlo error (this seed sits 2.8 SE above it; over 20 seeds
    # the mean of (I_G - I)/SE is 0.07, i.e. the true gap is far below the SE)
    assert res.mutual_information <= i_gauss + 4 * res.mutual_information_se
    assert abs(res.mutual_information - i_gauss) < 4 * res.mutual_information_se + 1e-4
    assert res.mutual_information_se < 1e-4


def test_standard_error_shrinks_like_inverse_sqrt():
    rng = np.random.default_rng(13)
    Ws = random_chain(rng, [8, 6])
    se = [exact.binary_enumeration(Ws, [ReLU(0.3)], n_samples=n, seed=6).entropy_se
          for n in (500, 2000)]
    # the ratio is 2 up to the fluctuation of the two sample standard deviations (~5%)
    assert 1.6 < se[0] / se[1] < 2.5


def test_deterministic_and_batch_independent():
    rng = np.random.default_rng(14)
    Ws = random_chain(rng, [9, 7, 5])
    acts = [Tanh(), HardTanh(0.1)]
    a = exact.binary_enumeration(Ws, acts, n_samples=300, seed=7)
    b = exact.binary_enumeration(Ws, acts, n_samples=300, seed=7, batch=4096)
    again = exact.binary_enumeration(Ws, acts, n_samples=300, seed=7)
    np.testing.assert_equal(dataclasses.astuple(a), dataclasses.astuple(again))
    assert abs(a.entropy - b.entropy) < 1e-12 and abs(a.entropy_se - b.entropy_se) < 1e-12


def test_enumeration_bad_input():
    W = np.ones((3, 2))
    with pytest.raises(ValueError, match="activations\\[0\\] has noise"):
        exact.binary_enumeration([W, np.ones((2, 3))], [Tanh(0.1), Linear(0.1)])
    with pytest.raises(ValueError, match="n0 too large for enumeration"):
        exact.binary_enumeration([np.ones((2, 25))], [Linear(0.1)])
    with pytest.raises(ValueError, match="activations must hold 1"):
        exact.binary_enumeration([W], [Linear(0.1), Linear(0.1)])
    with pytest.raises(ValueError, match="weights\\[1\\]"):
        exact.binary_enumeration([W, np.ones((2, 2))], [Linear(), Linear(0.1)])
    with pytest.raises(ValueError, match="activations\\[-1\\] must have noise > 0"):
        exact.binary_enumeration([W], [ReLU(0.0)])
    for p in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError, match="p_plus"):
            exact.binary_enumeration([W], [Linear(0.1)], p_plus=p)
    with pytest.raises(ValueError, match="n_samples"):
        exact.binary_enumeration([W], [Linear(0.1)], n_samples=1)
    with pytest.raises(ValueError, match="batch"):
        exact.binary_enumeration([W], [Linear(0.1)], batch=0)
    with pytest.raises(ValueError, match="output_enumeration"):
        exact.binary_enumeration([W], [Linear(0.1)], output_enumeration=True)
    with pytest.raises(ValueError, match="activations\\[0\\] must be"):
        exact.binary_enumeration([W], ["relu"])
    with pytest.raises(ValueError, match="t must"):
        exact.binary_log_density([W], [Linear(0.1)], np.zeros((2, 2)))
    with pytest.raises(ValueError, match="t must lie in"):
        exact.binary_log_density([W], [Tanh(0.1)], np.ones((1, 3)))


def test_entropy_is_mi_plus_conditional():
    rng = np.random.default_rng(15)
    Ws = random_chain(rng, [6, 5])
    res = exact.binary_enumeration(Ws, [LeakyReLU(0.05, slope=0.2)], n_samples=200, seed=8)
    assert math.isclose(res.entropy, res.mutual_information + res.conditional_entropy,
                        abs_tol=1e-14)
    assert res.mutual_information <= np.log(2) + 3 * res.mutual_information_se
