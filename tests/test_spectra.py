"""The θ equation (50a) of an empirical spectrum, against independent ground truths: the
full (unreduced) residual summed over every eigenvalue, the stationary points of the bracket
of eq. (6) located by finite differences of ``Empirical.F``, and the Marchenko-Pastur root
θ*(x) = x. The derivation of the reduced form is in docs/derivations.md (section 3)."""

import numpy as np
import pytest

from midnn.spectra import Empirical, MarchenkoPastur, ThetaError

#: A full-rank 57 x 60 layer (alpha = 0.95, 3 exact zeros) whose nonzero spectrum has a gap
#: above 0, like benchmark model 613: (50a) then has two branches of roots, meeting at a fold.
ALPHA = 0.95
NONZERO = np.linspace(0.08, 8.6, 57)
GAPPED = Empirical(np.concatenate([np.zeros(3), NONZERO]), ALPHA)
X_C = (1 - ALPHA) * np.mean(1 / NONZERO)  # the branch crossing theta = 1 does so here


def _full_residual(lam, alpha, theta, x):
    """(1 - θ) E[1/(xλ + (1-θ)(1-αθ))] - 1 over all n_in eigenvalues, zeros included."""
    return (1 - theta) * np.mean(1 / (x * lam + (1 - theta) * (1 - alpha * theta))) - 1


def _dF_dtheta(spec, x, theta, h=1e-6):
    return (spec.F(x, theta + h) - spec.F(x, theta - h)) / (2 * h)


def _stationary_points(spec, x, n=20001):
    """The zeros of dF/dθ on the domain of eq. (6), located by sign changes of central
    differences of F on a grid and refined by bisection (independent of ``theta``)."""
    top = spec.theta_max(x) * (1 - 1e-9)
    grid = np.linspace(1e-6, top - 1e-6, n)
    d = np.array([_dF_dtheta(spec, x, t, 1e-7) for t in grid])
    roots = []
    for i in np.nonzero(np.sign(d[:-1]) != np.sign(d[1:]))[0]:
        lo, hi = grid[i], grid[i + 1]
        for _ in range(40):
            mid = 0.5 * (lo + hi)
            if np.sign(_dF_dtheta(spec, x, mid, 1e-7)) == np.sign(d[i]):
                lo = mid
            else:
                hi = mid
        roots.append(0.5 * (lo + hi))
    return roots


@pytest.mark.parametrize("seed", range(4))
def test_reduced_residual_is_the_full_one_over_its_factor(seed):
    """(1 - θ)E[...] - 1 = α (1 - θ)/(1 - αθ) r(θ) for a full-rank W with alpha < 1."""
    rng = np.random.default_rng(seed)
    n_in = 80
    alpha = float(rng.choice([0.25, 0.5, 0.75, 0.95]))
    n_out = round(alpha * n_in)
    W = rng.standard_normal((n_out, n_in)) * rng.uniform(0.2, 3, size=(n_out, 1)) / np.sqrt(n_in)
    spec = Empirical.from_matrix(W)
    for theta, x in zip(rng.uniform(0, 1, 20), 10 ** rng.uniform(-3, 1, 20), strict=True):
        factor = alpha * (1 - theta) / (1 - alpha * theta)
        np.testing.assert_allclose(factor * spec.theta_residual(theta, x),
                                   _full_residual(spec.eigvals, alpha, theta, x),
                                   rtol=1e-10, atol=1e-13)


def test_derivative_of_F_is_the_reduced_residual_times_its_factor():
    """dF/dθ = α c'(θ) r(θ)/(1 - αθ), c'(θ) = 2αθ - 1 - α, on both sides of θ = 1."""
    for x in (0.5 * X_C, 3 * X_C):
        for theta in np.linspace(0.05, 0.98 * GAPPED.theta_max(x), 9):
            c_prime = 2 * ALPHA * theta - 1 - ALPHA
            expected = ALPHA * c_prime * GAPPED.theta_residual(theta, x) / (1 - ALPHA * theta)
            assert _dF_dtheta(GAPPED, x, theta) == pytest.approx(expected, rel=1e-6, abs=1e-8)


def test_theta_one_is_not_a_stationary_point():
    """θ = 1 solves the full form of (50a) at every x, but dF/dθ there is α(1 - x_c/x):
    nonzero away from x_c, so it is no root (an earlier version returned it past the end
    of the first branch, and the fixed-point iteration converged there, off the log-det)."""
    for x in (0.5 * X_C, 2 * X_C, 5 * X_C):
        assert _full_residual(GAPPED.eigvals, ALPHA, 1.0 - 1e-12, x) == pytest.approx(0, abs=1e-9)
        assert _dF_dtheta(GAPPED, x, 1.0) == pytest.approx(ALPHA * (1 - X_C / x), rel=1e-6)
        assert abs(GAPPED.theta_residual(1.0, x)) > 1e-3


@pytest.mark.parametrize("x", [0.999 * X_C, 1.001 * X_C, 2 * X_C])
def test_roots_are_the_stationary_points_of_F(x):
    """Both branches: the first root (``theta``) and the other one (``theta_near`` from the
    finite-difference estimate), which lies above 1 for x < x_c and below it for x > x_c."""
    found = _stationary_points(GAPPED, x)
    assert len(found) == 2, found
    low, high = found
    roots = GAPPED.theta(x), GAPPED.theta_near(x, high)
    np.testing.assert_allclose(roots, found, rtol=0, atol=1e-6)
    assert (roots[1] > 1.0) == (x < X_C)
    for theta in roots:
        assert abs(GAPPED.theta_residual(theta, x)) < 1e-12


def test_no_root_beyond_the_fold():
    """Past the fold where the two branches meet, dF/dθ keeps one sign on the whole domain:
    (50a) has no root, and ``theta`` says so instead of returning θ = 1."""
    x = 20 * X_C
    assert _stationary_points(GAPPED, x) == []
    with pytest.raises(ThetaError, match="no root"):
        GAPPED.theta(x)


def test_marchenko_pastur_sample_follows_theta_equal_x_through_one():
    """For a large Gaussian W (alpha = 0.5) the root tracks the limit θ*(x) = x of the
    Marchenko-Pastur law, past θ = 1 as well (the earlier root rule stopped at 1)."""
    lam = MarchenkoPastur(0.5).sample_eigvals(2000, rng=1)
    spec = Empirical(lam, 0.5)
    xs = np.array([0.3, 0.9, 1.05, 1.15])
    np.testing.assert_allclose([spec.theta(x) for x in xs], xs, atol=1e-2)
    assert MarchenkoPastur(0.5).theta(1.15) == 1.15
