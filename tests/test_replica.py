"""The replica engine against independent ground truths.

Tolerances: the published values come from the authors' code run at tol 1e-7..1e-11 and are
asserted to 1e-5 (the brief's contract; we reach 1e-9 or better). Linear Gaussian chains have
an exact answer (log-determinants): the replica formula with the empirical spectrum of the
same matrix is exact for one layer, so 1e-10 (float64 log-det noise is ~1e-14).
"""

from __future__ import annotations

import json
import pathlib
import warnings

import numpy as np
import pytest
from model_grid import random_model
from scipy import integrate

from midnn import ConvergenceWarning, Layer, Model, exact, replica, replica_trajectory
from midnn.activations import HardTanh, LeakyReLU, Linear, ReLU, Sign, Tanh
from midnn.priors import Binary, GaussBernoulli, Gaussian
from midnn.spectra import Empirical, MarchenkoPastur

#: Reference values of the authors' solver, vendored with their recipes and provenance.
PUBLISHED = json.loads((pathlib.Path(__file__).parent / "data" /
                        "published_values.json").read_text())


def recipe_matrix():
    """The 100 x 50 matrix of the one-layer recipes of tests/data/published_values.json."""
    np.random.seed(42)
    return np.random.randn(100, 50) / np.sqrt(50)


def _prior(text: str):
    name = text.split("(")[0]
    return {"Gaussian": Gaussian(0.0, 1.0), "Binary": Binary(0.5),
            "GaussBernoulli": GaussBernoulli(0.2, 0.0, 1.0)}[name]


def _act(text: str):
    return {"Linear": Linear(0.01), "Sign": Sign(0.01), "ReLU": ReLU(0.01)}[text.split("(")[0]]


def _published():
    return PUBLISHED


#: The nine one-layer cases but Binary -> Sign, whose published entropy is not a stationary
#: point (test_published_binary_sign_is_the_reference_freeze_artifact).
ONE_LAYER = [(p, a) for p in ("Gaussian", "Binary", "GaussBernoulli")
             for a in ("Linear", "Sign", "ReLU") if (p, a) != ("Binary", "Sign")]


@pytest.mark.parametrize("prior,act", ONE_LAYER)
def test_published_one_layer(prior, act):
    data = _published()
    case = next(c for c in data["cases"][:9] if c["prior"].startswith(prior)
                and c["layers"][0]["activation"].startswith(act))
    model = Model(_prior(prior), [Layer(Empirical.from_matrix(recipe_matrix()), _act(act))])
    res = replica(model)
    assert res.converged
    assert abs(res.entropy[0] - case["entropy"]) < 1e-5
    assert abs(res.mutual_information[0] - case["mutual_information"]) < 1e-5
    assert abs(res.mmse[0] - case["mmse"]) < 1e-5


def test_published_binary_sign_is_the_reference_freeze_artifact():
    """Binary prior -> Sign(0.01): the published entropy 0.8368021 is not a stationary point
    of phi. It is exactly phi evaluated at the reference code's 'frozen' state V_1 = 0,
    Ã_1 = alpha A_1 (A_1 the output A-update at Ṽ = 0), which is inconsistent (the prior's
    mmse at that Ã is 2.4e-4, not 0). The true minimum over stationary points is lower."""
    data = _published()
    case = next(c for c in data["cases"] if c["prior"].startswith("Binary")
                and c["layers"][0]["activation"].startswith("Sign"))
    spec = Empirical.from_matrix(recipe_matrix())
    model = Model(Binary(0.5), [Layer(spec, Sign(0.01))])
    res = replica(model)
    ch = res.details[0]
    assert ch.converged and res.mmse[0] > 1e-4  # not perfect recovery
    out = Sign(0.01).channel(model.second_moments()[1][0])
    A1 = out.output_A(0.0)
    artifact = (Binary(0.5).mutual_information(spec.alpha * A1)
                + spec.alpha * out.output_entropy(0.0))
    assert abs(artifact - case["entropy"]) < 1e-12
    assert res.entropy[0] < case["entropy"] - 1e-5
    # the conditional entropy (closed form) agrees with the published one
    assert abs(res.conditional_entropy[0] - (case["entropy"] - case["mutual_information"])) < 1e-10


def test_published_two_layer_linear():
    case = _published()["cases"][9]
    np.random.seed(42)
    w2 = np.random.randn(20, 50) / np.sqrt(50)
    w1 = np.random.randn(50, 100) / np.sqrt(100)
    model = Model(Gaussian(0, 1), [Layer(Empirical.from_matrix(w1), Linear(0.0)),
                                   Layer(Empirical.from_matrix(w2), Linear(0.01))])
    for solver in ("vamp", "fixed_point"):
        res = replica(model, solver=solver)
        assert res.converged
        assert abs(res.entropy[-1] - case["entropy"]) < 1e-9
        assert abs(res.mutual_information[-1] - case["mutual_information"]) < 1e-9
        assert abs(res.mmse[-1] - case["mmse"]) < 1e-6


def test_published_flagship_hardtanh_relu():
    case = _published()["cases"][10]
    np.random.seed(42)
    W1 = np.random.randn(1500, 1000) / np.sqrt(1000)
    W2 = np.random.randn(1125, 1500) / np.sqrt(1500)
    model = Model(Gaussian(0, 1), [Layer(Empirical.from_matrix(W1), HardTanh(0.0)),
                                   Layer(Empirical.from_matrix(W2), ReLU(1e-5))])
    res = replica(model)
    assert res.converged
    assert abs(res.entropy[-1] - case["entropy"]) < 1e-7
    assert abs(res.mutual_information[-1] - case["mutual_information"]) < 1e-7
    assert abs(res.mmse[-1] - case["mmse"]) < 1e-5


def test_published_scalar_channel():
    ref = _published()["scalar_channel"]
    for act in (ReLU(0.01), LeakyReLU(0.01, slope=0.0)):
        v = act.channel(0.5).hidden(10.0, 0.25)
        eval_i = 0.5 * 10.0 * act.second_moment(0.5) - v.mutual_information
        assert abs(eval_i - ref["eval_i"]) < 1e-6
        assert abs(v.A - ref["A_update"]) < 1e-6
        assert abs(v.V - ref["V_update"]) < 1e-6
    lin = Linear(0.01).channel(0.5).hidden(10.0, 0.25)
    leaky = LeakyReLU(0.01, slope=1.0).channel(0.5).hidden(10.0, 0.25)
    assert np.allclose([lin.mutual_information, lin.A, lin.V],
                       [leaky.mutual_information, leaky.A, leaky.V], rtol=1e-9, atol=1e-12)


# ------------------------------------------------------------------- exact ground truths
def test_one_layer_empirical_equals_logdet():
    W = np.random.default_rng(3).standard_normal((60, 80)) / np.sqrt(80)  # alpha < 1
    for noise in (1e-3, 0.1, 1.0):
        res = replica(Model(Gaussian(0, 1), [Layer(Empirical.from_matrix(W), Linear(noise))]))
        ex = exact.linear_gaussian([W], [noise])
        assert abs(res.entropy[0] - ex.entropy[0]) < 1e-10
        assert abs(res.mutual_information[0] - ex.mutual_information[0]) < 1e-10


def test_nonzero_mean_gaussian_prior_equals_logdet():
    """The mean of a Gaussian input shifts T and leaves every entropy unchanged (the
    reference code is off by mean^2/(2 var) here)."""
    W = recipe_matrix()
    res = replica(Model(Gaussian(1.5, 2.0), [Layer(Empirical.from_matrix(W), Linear(0.01))]))
    ex = exact.linear_gaussian([W], [0.01], var=2.0)
    assert abs(res.entropy[0] - ex.entropy[0]) < 1e-10
    assert abs(res.mutual_information[0] - ex.mutual_information[0]) < 1e-10


def _mp_expect(f, alpha):
    """E f(lambda) for the MP law of W^T W (W: n_out x n_in, N(0, 1/n_in), alpha=n_out/n_in)."""
    c = 1.0 / alpha  # lambda = alpha * mu, mu ~ MP(c) with unit variance
    a, b = (1 - np.sqrt(c)) ** 2, (1 + np.sqrt(c)) ** 2
    dens = lambda x: np.sqrt(max((b - x) * (x - a), 0.0)) / (2 * np.pi * c * x)  # noqa: E731
    val, _ = integrate.quad(lambda x: f(alpha * x) * dens(x), a, b, epsabs=1e-13, epsrel=1e-13)
    if c > 1:
        val += (1 - 1 / c) * f(0.0)
    return val


@pytest.mark.parametrize("alpha,noise", [(2.0, 0.01), (0.5, 0.01), (1.0, 0.1)])
def test_marchenko_pastur_one_layer_closed_form(alpha, noise):
    res = replica(Model(Gaussian(0, 1), [Layer(MarchenkoPastur(alpha), Linear(noise))]))
    I = 0.5 * _mp_expect(lambda lam: np.log1p(lam / noise), alpha)
    H = I + 0.5 * alpha * np.log(2 * np.pi * np.e * noise)
    mmse = _mp_expect(lambda lam: noise / (noise + lam), alpha)
    assert abs(res.mutual_information[0] - I) < 1e-9
    assert abs(res.entropy[0] - H) < 1e-9
    assert abs(res.mmse[0] - mmse) < 1e-9


def test_noisy_inner_layers_conditional_entropy_is_exact():
    """I(X;T_L) = H - H(T_L|X) with noisy inner layers, against the Gaussian formula."""
    rng = np.random.default_rng(5)
    n = 300
    Ws = [rng.standard_normal((n, n)) / np.sqrt(n), rng.standard_normal((n // 2, n)) / np.sqrt(n)]
    noises = [0.05, 0.01]
    model = Model(Gaussian(0, 1), [Layer(Empirical.from_matrix(W), Linear(nz))
                                   for W, nz in zip(Ws, noises, strict=True)])
    res = replica(model)
    ex = exact.linear_gaussian(Ws, noises, readout_noise=noises[-1])
    # finite-size product effect ~1/n (see notebook 01); conditional entropy of layer 1 exact
    assert abs(res.conditional_entropy[0] - ex.conditional_entropy[0]) < 1e-10
    assert abs(res.conditional_entropy[1] - ex.conditional_entropy[1]) < 5e-3
    assert abs(res.mutual_information[1] - ex.mutual_information[1]) < 5e-3
    # and the conditional entropy is not the naive output-channel entropy
    naive = 0.5 * 0.5 * np.log(2 * np.pi * np.e * noises[1])
    assert abs(res.conditional_entropy[1] - naive) > 1e-2


def _conditional_search(model, j, l):
    """H(T_l | X)/n_0 by the multi-start search of the chain "T_j -> layers j+1..l" alone
    (layer j, 0-based, the first noisy inner layer; layer l observed through the default
    readout noise, the last layer's), without the entropy chain's points."""
    from midnn.chain import Chain, ChannelPrior
    from midnn.search import MultiStartSearch

    layers = model.layers[: l + 1]
    noises = [la.activation.noise for la in layers[:-1]] + [model.layers[-1].activation.noise]
    chain = Chain.from_model(Model(model.prior, layers), noises)
    sub = Chain(ChannelPrior(chain.channels[j]), chain.spectra[j + 1:], chain.channels[j + 1:])
    info = MultiStartSearch(sub, "auto", 1e-10, 500).run()
    return model.alpha_tilde[j + 1] * info.potential, info


def test_conditional_chain_read_off_a_point_that_recovers_x():
    """A +-1 input recovered exactly through a noisy hidden layer (V_1 = 0 at the selected
    point): H(T_2|X) is read off the entropy chain's point with one confirming sweep instead
    of a multi-start search of its own, and agrees with that search to 1e-11 (both are the
    same stationary point at tol 1e-10; the potential's error is O(tol^2)); I(X;T_2) = H(X)."""
    model = Model(Binary(), [Layer(MarchenkoPastur(4.0), HardTanh(0.01)),
                             Layer(MarchenkoPastur(4.0), HardTanh(1e-6))])
    res = replica(model)
    assert res.converged and res.mmse[-1] == 0.0
    assert res.conditional_details[-1].iterations <= 2
    h_cond, searched = _conditional_search(model, 0, 1)
    assert searched.iterations > 5
    assert abs(res.conditional_entropy[-1] - h_cond) < 1e-11
    assert abs(res.mutual_information[-1] - np.log(2.0)) < 1e-11


def test_conditional_chain_informative_start_from_the_entropy_chain():
    """Three layers, +-1 input, noisy hidden layers: the entropy chain of layer 3 finds a point
    that recovers X exactly without selecting it (V_1 = 0.022). The conditional chain starts
    from that point instead of its informative start (fewer sweeps) and selects the same
    stationary point as its own search: equal to 1e-11 (both end with the same
    full-precision solve to tol 1e-10). Layer 2's conditional chain is seeded from a point
    its entropy chain's finishing start reached at full precision (solved first, its
    channels cached; the uninformative start settles on it while screening)."""
    model = Model(Binary(), [Layer(MarchenkoPastur(3.35), HardTanh(0.078)),
                             Layer(MarchenkoPastur(3.9), HardTanh(0.11)),
                             Layer(MarchenkoPastur(0.53), Sign(2e-5))])
    res = replica(model)
    assert res.converged and res.mmse[-1] > 0
    for l in (1, 2):
        h_cond, searched = _conditional_search(model, 0, l)
        assert res.conditional_details[l].iterations < searched.iterations
        assert abs(res.conditional_entropy[l] - h_cond) < 1e-11


def test_a_frozen_point_is_released_once():
    """+-1 input, one ReLU layer: the best point ML-VAMP's starts reach is frozen at V = 0
    (X recovered: an absorbing state once the prior's variance underflows during a
    transient), but the minimum of phi is a stationary point with mmse 3e-3, which the
    fixed-point scheme of the paper finds and the release probe of the frozen point reaches
    too: equal to 1e-9. The frozen point's potential is 2.3e-3 higher."""
    from midnn.chain import Chain
    from midnn.potential import potential

    model = Model(Binary(), [Layer(MarchenkoPastur(0.8), ReLU(0.045))])
    res = replica(model)
    ref = replica(model, solver="fixed_point")
    assert res.converged and ref.converged
    assert res.mmse[0] > 1e-3
    assert abs(res.entropy[0] - ref.entropy[0]) < 1e-9
    best = res.details[0].located[0]  # the lowest point the starts reached, before the release
    assert best.state.V[0] == 0.0
    assert potential(Chain.from_model(model), best.state) > res.entropy[0] + 1e-3


def test_a_frozen_point_that_is_not_the_best_is_released_too():
    """+-1 input through one linear layer next to the critical point of the first-order
    transition (notebook 07): the informative start ends frozen at V = 0 (potential 0.6981),
    above the uninformative start's point (0.6952); releasing the frozen point reaches the
    true minimum (0.6935, mmse 6.6e-3), which the fixed-point scheme of the paper finds too."""
    model = Model(Binary(), [Layer(MarchenkoPastur(0.54), Linear(0.05964))])
    res, ref = replica(model), replica(model, solver="fixed_point")
    assert res.converged and ref.converged
    assert abs(res.entropy[0] - ref.entropy[0]) < 1e-9
    assert res.mmse[0] == pytest.approx(ref.mmse[0], rel=1e-6) and res.mmse[0] < 0.01


def test_deep_linear_close_to_logdet_of_random_products():
    """Three Gaussian layers (widths 300 -> 450 -> 225 -> 180): the replica entropy with the
    Marchenko-Pastur spectra matches the exact log-det of one draw of the product to the
    size of its finite-n fluctuations (~1e-3 at n = 300, measured over draws)."""
    n, widths = 300, [300, 450, 225, 180]
    rng = np.random.default_rng(11)
    Ws = [rng.standard_normal((b, a)) / np.sqrt(a)
          for a, b in zip(widths, widths[1:], strict=False)]
    noises = [0.0, 0.0, 0.1]
    ex = exact.linear_gaussian(Ws, noises)
    mp = replica(Model(Gaussian(0, 1), [Layer(MarchenkoPastur(b / a), Linear(nz)) for a, b, nz
                                        in zip(widths, widths[1:], noises, strict=False)]))
    emp = replica(Model(Gaussian(0, 1), [Layer(Empirical.from_matrix(W), Linear(nz))
                                         for W, nz in zip(Ws, noises, strict=True)]))
    assert mp.converged and emp.converged
    assert abs(mp.entropy[-1] - ex.entropy[-1]) < 1e-2
    assert abs(emp.entropy[-1] - ex.entropy[-1]) < 1e-2
    assert n == widths[0]


@pytest.mark.parametrize("alphas,H,I", [((1.0, 1.0), 0.730510, 1.614157),
                                        ((2.0, 0.5), 0.898108, 1.781755)])
def test_two_layer_gaussian_ensemble_matches_reference_code(alphas, H, I):
    """Digest section 7.7 (authors' code, 6 digits): Normal -> Linear(0) -> Linear(0.01)."""
    res = replica(Model(Gaussian(0, 1), [Layer(MarchenkoPastur(alphas[0]), Linear(0.0)),
                                         Layer(MarchenkoPastur(alphas[1]), Linear(0.01))]))
    assert abs(res.entropy[-1] - H) < 2e-6
    assert abs(res.mutual_information[-1] - I) < 2e-6


# ------------------------------------------------------------------- solvers and selection
@pytest.mark.parametrize("prior", [Gaussian(0, 1), GaussBernoulli(0.3, 0.0, 1.0)])
@pytest.mark.parametrize("act", [Linear(0.01), ReLU(0.01), Sign(0.05), HardTanh(0.01)])
def test_fixed_point_and_vamp_agree(prior, act):
    spec = MarchenkoPastur(1.3)
    model = Model(prior, [Layer(spec, act)])
    a = replica(model, solver="vamp")
    b = replica(model, solver="fixed_point")
    assert a.converged and b.converged
    assert abs(a.entropy[0] - b.entropy[0]) < 1e-7
    assert abs(a.mmse[0] - b.mmse[0]) < 1e-6


def test_two_layer_relu_fixed_point_and_vamp_agree():
    model = Model(Gaussian(0, 1), [Layer(MarchenkoPastur(1.2), ReLU(0.0)),
                                   Layer(MarchenkoPastur(0.8), Linear(1e-3))])
    a = replica(model, solver="vamp")
    b = replica(model, solver="fixed_point")
    assert a.converged and b.converged
    np.testing.assert_allclose(a.entropy, b.entropy, atol=1e-7)


def test_warm_start_reproduces_and_is_cheaper():
    spec = Empirical.from_matrix(recipe_matrix())
    model = Model(GaussBernoulli(0.2), [Layer(spec, ReLU(0.01))])
    cold = replica(model)
    warm = replica(model, init=cold)
    assert abs(cold.entropy[0] - warm.entropy[0]) < 1e-9
    assert warm.iterations[0] < cold.iterations[0]
    traj = replica_trajectory([model, model])
    assert abs(traj[1].entropy[0] - cold.entropy[0]) < 1e-9


def test_warm_start_from_another_model_converges_to_its_own_fixed_point():
    """A warm start from a different model (e.g. the previous epoch, or a linear network for
    a ReLU one) must iterate to the new fixed point, not stop at the old one."""
    lin = Model(Gaussian(0, 1), [Layer(MarchenkoPastur(1.2), Linear(0.0)),
                                 Layer(MarchenkoPastur(0.8), Linear(1e-3))])
    rel = Model(Gaussian(0, 1), [Layer(MarchenkoPastur(1.2), ReLU(0.0)),
                                 Layer(MarchenkoPastur(0.8), Linear(1e-3))])
    for solver in ("vamp", "fixed_point"):
        cold = replica(rel, solver=solver)
        warm = replica(rel, solver=solver, init=replica(lin, solver=solver))
        np.testing.assert_allclose(warm.entropy, cold.entropy, atol=1e-8)
        np.testing.assert_allclose(warm.mmse, cold.mmse, atol=1e-7)


def test_square_empirical_layers_match_logdet():
    """alpha = 1 empirical spectra have eigenvalues close to 0, for which eq. (50a) has
    several roots; the entropy must use the root of the fixed point (found by ML-VAMP)."""
    from midnn.exact import linear_gaussian

    rng = np.random.default_rng(0)
    for _ in range(10):
        G = rng.standard_normal((30, 30)) / np.sqrt(30)
        res = replica(Model(Gaussian(0, 1), [Layer(Empirical.from_matrix(G), Linear(1e-5))]))
        ex = linear_gaussian([G], [1e-5])
        assert abs(res.entropy[0] - ex.entropy[0]) < 1e-8
        assert abs(res.mmse[0] - ex.mmse[0]) < 1e-8


@pytest.mark.parametrize("alpha", [0.27, 0.295, 0.305, 0.315, 0.34])
def test_min_over_stationary_points_near_the_transition(alpha):
    """Gauss-Bernoulli(0.2) through a linear layer with noise 1e-5: two stationary points
    coexist near alpha ~ 0.3; replica() must return the one of minimal phi, found here
    independently by long fixed-point runs from V ~ 0 and V ~ rho."""
    from midnn.chain import Chain, State
    from midnn.potential import potential
    from midnn.solvers import fixed_point

    model = Model(GaussBernoulli(0.2), [Layer(MarchenkoPastur(alpha), Linear(1e-5))])
    chain = Chain.from_model(model)
    phis = []
    for v0 in (1e-10, 0.2 * (1 - 1e-6)):
        info = fixed_point(chain, State.initial(np.array([v0])), tol=1e-13, max_iter=5000)
        assert info.converged
        phis.append(potential(chain, info.state))
    assert abs(replica(model).entropy[0] - min(phis)) < 1e-8


def test_mi_monotone_in_output_snr():
    mis = [replica(Model(Gaussian(0, 1), [Layer(MarchenkoPastur(1.0), ReLU(nz))]))
           .mutual_information[0] for nz in (1.0, 0.1, 0.01, 1e-3)]
    assert np.all(np.diff(mis) > 0)


def test_discrete_prior_mi_bounded_by_input_entropy():
    for act in (Linear(1e-4), ReLU(1e-4), Sign(0.01)):
        res = replica(Model(Binary(0.5), [Layer(MarchenkoPastur(2.0), act)]))
        assert res.mutual_information[0] <= np.log(2) + 1e-12
        assert res.mutual_information[0] > 0.5


def test_tanh_output_information_equals_linear():
    """tanh is invertible: I(X; tanh(Z + xi)) = I(X; Z + xi)."""
    spec = MarchenkoPastur(0.7)
    a = replica(Model(Gaussian(0, 1), [Layer(spec, Tanh(0.01))]))
    b = replica(Model(Gaussian(0, 1), [Layer(spec, Linear(0.01))]))
    assert abs(a.mutual_information[0] - b.mutual_information[0]) < 1e-10
    assert a.entropy[0] < b.entropy[0]  # tanh contracts


def test_readout_noise_semantics():
    layers = [Layer(MarchenkoPastur(1.0), Linear(0.0)), Layer(MarchenkoPastur(1.0), Linear(0.01))]
    model = Model(Gaussian(0, 1), layers)
    res = replica(model)
    one = replica(Model(Gaussian(0, 1), [Layer(MarchenkoPastur(1.0), Linear(0.01))]))
    assert abs(res.entropy[0] - one.entropy[0]) < 1e-10
    res2 = replica(model, readout_noise=[0.1, 0.01])
    one2 = replica(Model(Gaussian(0, 1), [Layer(MarchenkoPastur(1.0), Linear(0.1))]))
    assert abs(res2.entropy[0] - one2.entropy[0]) < 1e-10
    assert abs(res2.entropy[1] - res.entropy[1]) < 1e-12


# ------------------------------------------------------------------- bad input
@pytest.mark.parametrize("build,match", [
    (lambda: Linear(noise=-1.0), "noise"),
    (lambda: ReLU(noise=float("nan")), "noise"),
    (lambda: MarchenkoPastur(alpha=0.0), "alpha"),
    (lambda: Empirical(np.array([1.0, -2.0]), 1.0), "eigvals"),
    (lambda: Empirical(np.array([1.0, np.nan]), 1.0), "eigvals"),
    (lambda: Empirical(np.ones(10), 0.5), "eigvals"),
    (lambda: Gaussian(0.0, 0.0), "var"),
    (lambda: Binary(1.5), "p_plus"),
    (lambda: GaussBernoulli(-0.1), "rho"),
    (lambda: HardTanh(0.0, threshold=0.0), "threshold"),
])
def test_bad_input_raises(build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_zero_noise_continuous_output_raises():
    with pytest.raises(ValueError, match="noise"):
        replica(Model(Gaussian(0, 1), [Layer(MarchenkoPastur(1.0), ReLU(0.0))]))
    with pytest.raises(ValueError, match="readout_noise"):
        replica(Model(Gaussian(0, 1), [Layer(MarchenkoPastur(1.0), ReLU(0.0)),
                                       Layer(MarchenkoPastur(1.0), Linear(0.1))]),
                readout_noise=[0.0, 0.1])
    with pytest.raises(ValueError, match="solver"):
        replica(Model(Gaussian(0, 1), [Layer(MarchenkoPastur(1.0), Linear(0.1))]), solver="x")
    with pytest.raises(TypeError, match="exhaustive"):
        replica(Model(Gaussian(0, 1), [Layer(MarchenkoPastur(1.0), Linear(0.1))]),
                exhaustive="yes")


def test_exhaustive_screens_the_reference_starts_too():
    """A 3-layer chain whose informative and uninformative starts reach different stationary
    points (X recovered or not at layer 3): ``exhaustive=True`` also screens the three starts
    with one uninformative layer, which reach the same two points; the selected point is the
    same (values equal to 1e-12: the same final full-precision solve)."""
    model = Model(Binary(), [Layer(MarchenkoPastur(3.35), HardTanh(0.078)),
                             Layer(MarchenkoPastur(3.9), HardTanh(0.11)),
                             Layer(MarchenkoPastur(0.53), Sign(2e-5))])
    res = replica(model)
    full = replica(model, exhaustive=True)
    assert len(res.details[-1].located) == 2
    assert len(full.details[-1].located) == 5
    assert full.iterations[-1] > res.iterations[-1] + 10
    for a, b in ((res.entropy, full.entropy), (res.mutual_information, full.mutual_information),
                 (res.mmse, full.mmse)):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


def test_non_convergence_is_reported():
    model = Model(GaussBernoulli(0.2), [Layer(MarchenkoPastur(0.4), Linear(1e-5))])
    with pytest.warns(ConvergenceWarning, match="layer 1"):
        res = replica(model, max_iter=2)
    assert not res.converged


# ------------------------------------------------------------------- property grid
def test_random_grid_of_models():
    """30 random models (the grid of benchmarks/bench_replica.py): all converge, no warning."""
    rng = np.random.default_rng(2024)
    for _ in range(30):
        model = random_model(rng)
        prior, layers = model.prior, model.layers
        desc = f"{prior} {[(l.alpha, l.activation) for l in layers]}"
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = replica(model)
        assert res.converged, desc
        assert not caught, desc + str([str(w.message) for w in caught])
        for arr in (res.entropy, res.mutual_information, res.conditional_entropy, res.mmse):
            assert np.all(np.isfinite(arr)), desc
        assert np.all(res.mutual_information > -1e-9), desc
        if prior.is_discrete:
            assert np.all(res.mutual_information <= prior.entropy + 1e-9), desc


@pytest.mark.parametrize("hidden", [HardTanh(0.0), ReLU(0.0)], ids=repr)
def test_discrete_input_recovered_through_noiseless_hidden_layer(hidden):
    """+-1 input, noiseless hidden layer with alpha = 4: the fixed point has V_1 = V_2 = 0 (X,
    hence T_1, exactly recovered), where I(X;T_2) = H(X) = log 2 per input. Exact
    enumeration at n0 = 10 (400 samples) gives log 2 to 1e-12: the +-1 inputs are separated
    far beyond the noise 1e-3."""
    rng = np.random.default_rng(0)
    W1 = rng.standard_normal((40, 10)) / np.sqrt(10)
    W2 = rng.standard_normal((40, 40)) / np.sqrt(40)
    ref = exact.binary_enumeration([W1, W2], [hidden, Linear(1e-3)], n_samples=400, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = replica(Model(Binary(0.5), [Layer(MarchenkoPastur(4.0), hidden),
                                          Layer(MarchenkoPastur(1.0), Linear(1e-3))]))
    assert res.converged
    assert res.mmse == pytest.approx([0.0, 0.0], abs=1e-12)
    assert res.mutual_information == pytest.approx([np.log(2)] * 2, abs=1e-12)
    assert ref.mutual_information == pytest.approx(np.log(2), abs=1e-12)
    # H(T_2) = H(X) + H(T_2 | X), the latter the Gaussian noise entropy per input (n2 = 4 n0)
    assert res.entropy[-1] == pytest.approx(np.log(2) + 4 * 0.5 * np.log(2 * np.pi * np.e
                                                                         * 1e-3), abs=1e-10)


@pytest.mark.parametrize("layers", [
    [Layer(MarchenkoPastur(0.27), ReLU(0.0)), Layer(MarchenkoPastur(2.05), HardTanh(5.9e-6))],
    [Layer(MarchenkoPastur(0.22), HardTanh(0.0)), Layer(MarchenkoPastur(1.56), Linear(2.3e-5))],
    [Layer(MarchenkoPastur(1.26), HardTanh(0.0)), Layer(MarchenkoPastur(2.56), ReLU(0.0)),
     Layer(MarchenkoPastur(0.99), Sign(5.1e-5))],
], ids=["relu-hardtanh", "hardtanh-linear", "hardtanh-relu-sign"])
def test_fixed_point_and_vamp_agree_when_the_input_is_recovered(layers):
    """+-1 input exactly recovered through noiseless hidden layers (V = 0 at the fixed point;
    standardized bounds of order 1e20 in the channels along the way): both schemes converge
    without warnings to the same point, I = H(X) = log 2."""
    model = Model(Binary(0.5), layers)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = replica(model, solver="vamp")
        b = replica(model, solver="fixed_point")
    assert a.converged and b.converged
    np.testing.assert_allclose(a.entropy, b.entropy, atol=1e-9)
    np.testing.assert_allclose(a.mutual_information, np.log(2), atol=1e-9)


def test_screening_precision_does_not_reach_the_result(monkeypatch):
    """The multi-start screening uses half-order channel rules; the returned values are
    those of a full-precision refinement, equal (to the solver tolerance) to a search done
    entirely at full precision."""
    import contextlib

    import midnn.search
    from midnn import precision

    model = Model(Gaussian(0, 1), [Layer(MarchenkoPastur(1.5), HardTanh(0.0)),
                                   Layer(MarchenkoPastur(0.75), ReLU(1e-4))])
    fast = replica(model)
    monkeypatch.setattr(midnn.search, "using", lambda *a, **k: contextlib.nullcontext())
    full = replica(model)
    assert fast.converged and full.converged
    np.testing.assert_allclose(fast.entropy, full.entropy, rtol=0, atol=1e-9)
    np.testing.assert_allclose(fast.mmse, full.mmse, rtol=0, atol=1e-8)
    assert not precision.current().screening  # the context is left at full precision


@pytest.mark.parametrize("layers", [
    [Layer(MarchenkoPastur(1.5), HardTanh(1e-3))],
    [Layer(MarchenkoPastur(1.5), ReLU(0.0)), Layer(MarchenkoPastur(0.8), Linear(1e-3))],
], ids=["1 layer", "2 layers"])
def test_gaussian_prior_start_of_the_first_layer_does_not_matter(layers):
    """With a Gaussian prior the ML-VAMP iteration does not depend on the start's V_1 (the
    multi-start search keeps one of two such starts): plain sweeps from V_1 = 1e-6 rho and
    V_1 = rho, the other layers alike, give the same iterates to rounding."""
    from midnn.chain import Chain, State
    from midnn.search import initial_states
    from midnn.solvers import vamp

    model = Model(Gaussian(0.3, 2.0), layers)
    chain = Chain.from_model(model)
    rho = chain.rho
    traces = []
    for v1 in (1e-6 * rho[0], rho[0]):
        V0 = 1e-6 * rho
        V0[0] = v1
        traces.append(vamp(chain, State.initial(V0), tol=1e-12, trace=True,
                           accelerate=False).trace)
    n = min(len(traces[0]), len(traces[1]))
    assert n > 5
    for a, b in zip(traces[0][:n], traces[1][:n], strict=True):
        np.testing.assert_allclose(a.A_tilde, b.A_tilde, rtol=1e-9)
        np.testing.assert_allclose(a.V[1:], b.V[1:], rtol=1e-9)
    assert len(initial_states(chain, "auto")) == len(layers)
    assert len(initial_states(chain, "fixed_point")) == 2


def test_entropy_is_the_potential_at_the_final_state():
    """The entropy is phi where the last ML-VAMP sweep evaluated the channels (A^ one sweep
    older, cached there); phi is stationary, so this equals phi at the final state to
    O(tol^2) (measured: 4e-14 over the benchmark grid)."""
    from midnn.chain import Chain
    from midnn.potential import potential

    model = Model(Binary(), [Layer(MarchenkoPastur(1.6), HardTanh(0.01)),
                             Layer(MarchenkoPastur(0.7), ReLU(1e-3))])
    res = replica(model)
    for l, info in enumerate(res.details):
        layers = model.layers[: l + 1]
        readout = model.layers[-1].activation.noise  # the default readout noise
        chain = Chain.from_model(Model(model.prior, layers),
                                 [la.activation.noise for la in layers[:-1]] + [readout])
        assert info.evaluated_at is not None
        assert res.entropy[l] == pytest.approx(potential(chain, info.state), abs=1e-12)


def test_vamp_stops_on_a_small_residual():
    """ML-VAMP also stops when one sweep moves every log-variable (log A^, log tau) by less
    than ``tol`` (the residual test): restarted at its own fixed point it stops after one
    sweep at the same point, and the values at the default tolerance equal a tol=1e-13 solve
    to 1e-9 (MMSE, linear in the state error; the entropies are stationary)."""
    from midnn.chain import Chain, State
    from midnn.solvers import vamp

    model = Model(Gaussian(0, 1), [Layer(MarchenkoPastur(1.5), HardTanh(0.0)),
                                   Layer(MarchenkoPastur(0.75), ReLU(1e-4))])
    chain = Chain.from_model(model)
    first = vamp(chain, State.initial(0.5 * chain.rho), tol=1e-13)
    assert first.converged and first.iterations > 5
    again = vamp(chain, first.state, tol=1e-10)
    assert again.converged and again.iterations == 1
    np.testing.assert_allclose(again.state.V, first.state.V, rtol=1e-10)
    default, tight = replica(model), replica(model, tol=1e-13)
    for name in ("entropy", "mutual_information", "mmse"):
        np.testing.assert_allclose(getattr(default, name), getattr(tight, name), rtol=0,
                                   atol=1e-9)


def test_vamp_switches_from_the_screening_rules_to_the_full_ones():
    """``full_below``: a run started with the screening rules leaves them once a sweep moves
    every log-variable by less than ``full_below`` and ends at the fixed point of the full
    rules (that of a run done entirely at full precision, to the tolerance; the screening
    rules' own fixed point is ~1e-6 away). The screening context is in force again after."""
    from midnn.chain import Chain, State
    from midnn.precision import current, using
    from midnn.solvers import vamp

    model = Model(Gaussian(0, 1), [Layer(MarchenkoPastur(1.5), HardTanh(0.0)),
                                   Layer(MarchenkoPastur(0.75), ReLU(1e-4))])
    chain = Chain.from_model(model)
    start = State.initial(chain.rho * (1 - 1e-6))
    full = vamp(chain, start, tol=1e-12)
    with using(screening=True):
        screened = vamp(chain, start, tol=1e-12)
        switched = vamp(chain, start, tol=1e-12, full_below=1e-2)
        assert current().screening
    assert full.converged and screened.converged and switched.converged
    assert switched.full_precision and not screened.full_precision
    gap = np.max(np.abs(screened.state.V / full.state.V - 1))
    assert gap > 1e-9  # the two rules do have different fixed points
    np.testing.assert_allclose(switched.state.V, full.state.V, rtol=1e-9)
    assert gap > 100 * np.max(np.abs(switched.state.V / full.state.V - 1))


def test_vamp_stops_when_it_settles_on_a_given_point():
    """``near``: the informative start of a search stops once it settles on the point the
    uninformative start reached (a sweep moves every log-variable by < 1e-2 and its output is
    within 1e-2 of that point), in fewer sweeps than converging on its own; started where it
    reaches another stationary point (a 3-layer chain whose starts disagree: X recovered or
    not), it does not stop there and converges to its own point. A layer frozen in both points
    is not compared in its τ."""
    from midnn.chain import Chain, State
    from midnn.solvers import same_log_point, vamp

    chain_of = Chain.from_model

    chain = chain_of(Model(Gaussian(0, 1), [Layer(MarchenkoPastur(1.5), HardTanh(0.0)),
                                            Layer(MarchenkoPastur(0.75), ReLU(1e-4))]))
    informative, uninformative = (State.initial(f * chain.rho) for f in (1e-6, 1 - 1e-6))
    target = vamp(chain, uninformative, tol=1e-10)
    alone = vamp(chain, informative, tol=1e-4)
    stopped = vamp(chain, informative, tol=1e-4, near=target.log_point)
    assert target.converged and target.log_point is not None
    assert stopped.settled_on_near and not alone.settled_on_near
    assert stopped.iterations < alone.iterations
    np.testing.assert_allclose(stopped.state.V, target.state.V, rtol=1e-2)
    np.testing.assert_allclose(alone.state.V, target.state.V, rtol=1e-4)

    chain = chain_of(Model(Binary(), [Layer(MarchenkoPastur(3.35), HardTanh(0.078)),
                                      Layer(MarchenkoPastur(3.9), HardTanh(0.11)),
                                      Layer(MarchenkoPastur(0.53), Sign(2e-5))]))
    informative, uninformative = (State.initial(f * chain.rho) for f in (1e-6, 1 - 1e-6))
    other = vamp(chain, uninformative, tol=1e-10)
    own = vamp(chain, informative, tol=1e-4, near=other.log_point)
    assert own.converged and not own.settled_on_near
    assert own.state.V[0] == 0.0 < other.state.V[0]  # X recovered at its own point only

    # a layer frozen in both points (Ã = inf: V = 0, its input recovered) is not compared
    # in its τ, which then no longer enters the sweeps and keeps each start's initial value
    inf = float("inf")
    assert same_log_point([inf, 1.0, 5.0, 2.0], [inf, 1.001, -3.0, 2.001], 1e-2)
    assert not same_log_point([inf, 1.0, 5.0, 2.0], [30.0, 1.001, 5.0, 2.001], 1e-2)
    assert not same_log_point([inf, 1.0, 5.0, 2.0], [inf, 1.1, 5.0, 2.0], 1e-2)


def test_square_empirical_layers_at_a_loose_tolerance():
    """Square layers (W^T W with eigenvalues close to 0): eq. (50a) has several roots, and a
    solve stopped at tol=1e-6 satisfies it only to ~1e-7 at its state. The potential must use
    the root that state is on (Empirical.theta_near), not the first root from 0: with the
    latter, I(X;T_2) was 0.014 nats off (notebook 03, sigma = 1, n_0 = 100)."""
    from midnn.tasks import Task

    task = Task(None, [100, 100, 100], ["linear", "linear"], 1.0, 1e-5, 0)
    loose, tight = task.replica(tol=1e-6), task.replica(tol=1e-13)
    assert loose.converged and tight.converged
    np.testing.assert_allclose(loose.mutual_information, tight.mutual_information, rtol=0,
                               atol=1e-6)
    # finite-size gap to the exact log-determinant at n_0 = 100 (measured 4.5e-3)
    np.testing.assert_allclose(tight.mutual_information, task.exact().mutual_information,
                               rtol=0, atol=1e-2)
