"""Tests of midnn.tasks (shapes, seeds, ground truth of linear tasks, estimator protocol) and of
midnn.estimator_benchmark (the Figure-2 points and the bmi-style benchmark built on tasks)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from midnn import estimator_benchmark as B
from midnn import estimators as E
from midnn import interface
from midnn import tasks as T
from midnn.activations import HardTanh, Linear, ReLU
from midnn.priors import Binary, Gaussian
from midnn.spectra import Empirical


def test_shapes_and_weights():
    task = T.Task(None, [7, 5, 3], ["relu", HardTanh()], sigma=[1.0, 2.0], noise=1e-3, seed=1)
    assert [W.shape for W in task.weights] == [(5, 7), (3, 5)]
    assert task.n0 == 7 and task.n_layers == 2
    assert isinstance(task.activations[0], ReLU) and task.activations[0].noise == 0.0
    assert isinstance(task.activations[1], HardTanh) and task.activations[1].noise == 1e-3
    for W, layer in zip(task.weights, task.model.layers, strict=True):
        assert layer.spectrum == Empirical.from_matrix(W)
    x, t = task.sample(11, rng=0)
    assert x.shape == (11, 7) and [a.shape for a in t] == [(11, 5), (11, 3)]
    x2, t2, clean = task.sample_with_clean(11, rng=0)
    np.testing.assert_array_equal(x, x2)
    # noiseless hidden layer: T_1 = f(W_1 x) exactly; noisy last layer differs from clean
    np.testing.assert_array_equal(t2[0], clean[0])
    np.testing.assert_array_equal(clean[0], np.maximum(x2 @ task.weights[0].T, 0))
    np.testing.assert_allclose(clean[1], np.clip(t2[0] @ task.weights[1].T, -1, 1))
    assert np.all(np.abs(t2[1]) <= 1.0)
    assert not np.array_equal(t2[1], clean[1])


def test_weight_scale():
    # W entries ~ N(0, sigma^2 / n_in): sum of squares / n_out ~ sigma^2 (4 SD ~ 0.04)
    task = T.Task(None, [400, 300], "linear", sigma=3.0, seed=0)
    assert abs(np.sum(task.weights[0] ** 2) / 300 / 9.0 - 1.0) < 0.02


def test_seeds():
    a = T.Task(None, [6, 4], ["linear"], 1.0, 0.1, seed=3)
    b = T.Task(None, [6, 4], ["linear"], 1.0, 0.1, seed=3)
    c = T.Task(None, [6, 4], ["linear"], 1.0, 0.1, seed=4)
    np.testing.assert_array_equal(a.weights[0], b.weights[0])
    assert not np.array_equal(a.weights[0], c.weights[0])
    np.testing.assert_array_equal(a.sample(5, 9)[1][0], b.sample(5, 9)[1][0])
    assert not np.array_equal(a.sample(5, 9)[1][0], a.sample(5, 10)[1][0])


@pytest.mark.parametrize("widths", [[50, 100], [60, 30], [40, 80, 40]])
def test_linear_replica_equals_exact(widths):
    """One linear layer: replica with the empirical spectrum = exact log-det (theorem)."""
    L = len(widths) - 1
    task = T.Task(Gaussian(), widths, ["linear"] * L, sigma=1.0, noise=0.01, seed=0)
    assert task.is_linear_gaussian
    rep, ex = task.replica(), task.exact()
    # layer 1 is a one-layer linear channel: equal to round-off
    assert abs(rep.mutual_information[0] - ex.mutual_information[0]) < 1e-8
    assert abs(rep.entropy[0] - ex.entropy[0]) < 1e-8
    assert abs(task.true_entropy(1, total=True) - ex.entropy[0] * widths[0]) < 1e-6
    assert task.true_mutual_information(1) == pytest.approx(rep.mutual_information[0])
    if L == 2:
        # two layers: the replica only sees the spectra of W_1 and W_2, not their relative
        # orientation; the difference is a finite-size effect (measured 1e-3 per n_0 at n_0=40)
        assert abs(rep.mutual_information[1] - ex.mutual_information[1]) < 2e-2


def test_replica_is_cached():
    task = T.Task(None, [20, 40], "relu", 1.0, 1e-3, seed=0)
    assert task.replica() is task.replica()
    assert task.true_mutual_information() == task.true_mutual_information(1)
    assert task.true_mutual_information(total=True) == pytest.approx(
        20 * task.true_mutual_information())


def test_estimator_protocol_on_task_samples():
    task = T.Task(None, [5, 10], ["linear"], 1.0, 0.1, seed=0)
    exact = task.exact().mutual_information[-1]
    smp = task.sample_with_clean(400, rng=0)
    for est in (E.KDEBound(0.1), E.KDEBound(0.1, bound="lower"), E.Binning(n_bins=10),
                E.KSG(k=3)):
        v = T.estimate_mi(task, est, 400, sample=smp)
        assert np.isfinite(v) and v >= -0.5
    # KDE bounds with the true noise as kernel: lower < exact (measured 0.94 vs 1.23 per n_0)
    # and both <= log(N)/n_0 (the exact total, 6.13 nats, exceeds log 400 = 5.99: the upper
    # "bound" saturates below the truth, 1.17 per n_0)
    lo = T.estimate_mi(task, E.KDEBound(0.1, bound="lower"), 400, sample=smp)
    up = T.estimate_mi(task, E.KDEBound(0.1), 400, sample=smp)
    assert lo < exact - 0.1
    assert lo < up <= np.log(400) / 5 + 1e-12 < exact


# ------------------------------------------------------------------------ Figure 2 points


@pytest.mark.parametrize("network", ["linear", "relu", "hardtanh"])
def test_figure2_point_bands(network):
    # Every estimate is its hyper-parameter's term plus an information term in [0, log N]
    # (deterministic inequalities; 1e-12 for round-off), per input unit:
    # KDE: 1/2 log(2 pi e s) + [0, log N / n0]; histogram: log w + [0, log N / n0].
    n, N = 8, 60
    p = B.figure2_point(network, 0.7, n, N, kde_variances=(1e-5, 0.1), bin_widths=(0.05, 1.0))
    log_n = math.log(N) / n
    assert p["log_n"] == log_n and p["replica_converged"]
    floor = 0.5 * np.log(2 * np.pi * np.e * np.array([1e-5, 0.1]))
    for key in ("kde_h_upper", "kde_h_lower"):
        assert np.all(p[key] >= floor - 1e-12) and np.all(p[key] <= floor + log_n + 1e-12)
    assert np.all(p["kde_h_lower"] <= p["kde_h_upper"] + 1e-12)
    np.testing.assert_allclose(p["kde_mi_upper"], p["kde_h_upper"] - floor, atol=1e-12)
    np.testing.assert_allclose(p["bin_h_histogram"],
                               p["bin_h_discrete"] + np.log([0.05, 1.0]), atol=1e-12)
    for key in ("kde_mi_upper", "kde_mi_lower", "bin_mi", "bin_h_discrete"):
        assert np.all(p[key] >= 0) and np.all(p[key] <= log_n + 1e-12)
    # distinct Gaussian inputs: binning's I(X; T_bin) is H(T_bin)
    np.testing.assert_allclose(p["bin_mi"], p["bin_h_discrete"], atol=1e-12)
    if network == "linear":
        # one linear layer: replica with the empirical spectrum = log-det (round-off)
        assert abs(p["replica_entropy"][0] - p["exact_entropy"][0]) < 1e-8
        assert abs(p["replica_mi"][0] - p["exact_mi"][0]) < 1e-8
    else:
        assert np.all(np.isnan(p["exact_entropy"]))


def test_figure2_sweep_is_the_points_with_settings():
    ds = B.figure2([0.5, 2.0], networks=["linear", "relu"], width=6, n_samples=40,
                   kde_variances=(1e-3,), bin_widths=(0.5,), client="serial",
                   sources={"noise": "paper"})
    assert dict(ds.sizes) == {"network": 2, "sigma": 2, "width": 1, "n_samples": 1,
                              "layer": 2, "kernel_variance": 1, "bin_width": 1}
    assert (ds["error"] == "").all()
    one = B.figure2_point("relu", 2.0, 6, 40, kde_variances=(1e-3,), bin_widths=(0.5,))
    point = ds.sel(network="relu", sigma=2.0).squeeze()
    np.testing.assert_array_equal(point["replica_entropy"], one["replica_entropy"])
    np.testing.assert_array_equal(point["kde_h_upper"], one["kde_h_upper"])
    assert json.loads(ds.attrs["settings"])["noise"] == B.FIGURE2_NOISE
    assert json.loads(ds.attrs["sources"]) == {"noise": "paper"}
    assert "nats per input unit" in ds["replica_entropy"].attrs["units"]


# ------------------------------------------------------------------------ benchmark


def test_benchmark_samplers_and_estimators_follow_the_bmi_protocols():
    for name in B.BENCHMARK_TASKS:
        sampler = B.benchmark_task(name, 3).sampler()
        assert isinstance(sampler, interface.Sampler)
        assert (sampler.dim_x, sampler.dim_y) == (3, 3)
    for est in B.default_estimators().values():
        assert isinstance(est, interface.MutualInformationEstimator)


def test_benchmark_rows_carry_the_run_result_fields():
    ds = B.benchmark(dims=[2, 5], sample_sizes=[40, 80], seeds=[0, 1], client="serial")
    assert (ds["error"] == "").all()
    rows = B.run_results(ds)
    assert len(rows) == 2 * 2 * 2 * len(B.default_estimators()) * 2
    for row in rows:
        assert set(interface.RUN_RESULT_FIELDS) <= set(row)
        assert row["error_per_n0"] == pytest.approx(
            (row["mi_estimate"] - row["mi_true"]) / row["n0"], abs=1e-12)
        assert row["mi_true"] == B.benchmark_task(row["task_params"]["network"].split(",")[0],
                                                  row["n0"]).sampler().mutual_information()
    kde = next(r for r in rows if r["estimator_id"] == "kde_upper")
    assert kde["estimator_params"] == B.default_estimators()["kde_upper"].parameters()
    # the linear task's replica truth is its log-det (one layer: round-off)
    lin = ds.sel(task="linear")
    np.testing.assert_allclose(lin["mi_true"], lin["mi_exact"], rtol=0, atol=1e-8)
    # KDE and binning cannot exceed log N (total nats)
    bounded = ds["mi_estimate"].sel(estimator=["kde_upper", "kde_lower", "binning"])
    assert bool((bounded <= ds["log_n"] + 1e-12).all())


class _ThirdParty:
    """A third-party estimator: no midnn base class, only bmi's two methods."""

    def __init__(self, shrink: float):
        self.shrink = shrink

    def estimate(self, x, y):
        return self.shrink * float(x.shape[1])

    def parameters(self):
        return {"shrink": self.shrink}


def test_a_third_party_estimator_plugs_in():
    fake = _ThirdParty(0.5)
    assert isinstance(fake, interface.MutualInformationEstimator)
    ds = B.benchmark(tasks=["relu"], dims=[4], sample_sizes=[30], seeds=[0],
                     estimators={"fake": fake, "ksg": E.KSG()}, client="serial")
    (row,) = [r for r in B.run_results(ds) if r["estimator_id"] == "fake"]
    assert row["mi_estimate"] == 2.0 and row["estimator_params"] == {"shrink": 0.5}
    sampler = B.benchmark_task("relu", 4).sampler()
    direct = B.run_estimator(sampler, fake, 30, 0, estimator_id="fake", task_id="t")
    assert direct["mi_estimate"] == 2.0 and direct["mi_true"] == row["mi_true"]
    no_params = type("NoParameters", (), {"estimate": lambda self, x, y: 0.0})()
    assert not isinstance(no_params, interface.MutualInformationEstimator)
    with pytest.raises(TypeError, match="no parameters"):
        B.run_estimator(sampler, no_params, 30, 0, estimator_id="bad", task_id="t")
    with pytest.raises(TypeError, match="no estimate"):
        B.run_estimator(sampler, object(), 30, 0, estimator_id="bad", task_id="t")


def test_bad_input():
    with pytest.raises(ValueError, match="prior"):
        T.Task("gauss", [3, 3], "linear")
    with pytest.raises(ValueError, match="widths"):
        T.Task(None, [3], [])
    with pytest.raises(ValueError, match="widths"):
        T.Task(None, [3, 0], "linear")
    with pytest.raises(ValueError, match="activations"):
        T.Task(None, [3, 3, 3], ["linear"])
    with pytest.raises(ValueError, match="activation"):
        T.Task(None, [3, 3], ["softplus"])
    with pytest.raises(ValueError, match="sigma"):
        T.Task(None, [3, 3], "linear", sigma=-1.0)
    with pytest.raises(ValueError, match="sigma"):
        T.Task(None, [3, 3, 3], ["linear"] * 2, sigma=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="noise"):
        T.Task(None, [3, 3], "linear", noise=0.0)
    with pytest.raises(ValueError, match="hidden_noise"):
        T.Task(None, [3, 3, 3], ["linear"] * 2, hidden_noise=-1.0)
    with pytest.raises(ValueError, match="seed"):
        T.Task(None, [3, 3], "linear", seed=1.5)
    task = T.Task(None, [3, 3], "relu")
    with pytest.raises(ValueError, match="n_samples"):
        task.sample(0)
    with pytest.raises(ValueError, match="layer"):
        task.true_entropy(2)
    with pytest.raises(ValueError, match="layer"):
        task.true_mutual_information(0)
    with pytest.raises(ValueError, match="exact"):
        task.exact()
    with pytest.raises(ValueError, match="exact"):
        T.Task(Binary(), [3, 3], Linear()).exact()
    with pytest.raises(ValueError, match="estimator"):
        T.estimate_mi(task, E.KLEntropy(), 10)
    with pytest.raises(ValueError, match="network"):
        B.figure2_point("sigmoid", 1.0, 4, 10)
    with pytest.raises(ValueError, match="estimator must be one of"):
        B.benchmark_point("linear", 3, 10, "mine", 0)
    with pytest.raises(ValueError, match="task"):
        B.benchmark_task("tanh", 3)


def test_square_layer_high_snr_replica_equals_exact():
    task = T.Task(None, [20, 20], "linear", sigma=1.0, noise=1e-5, seed=0)
    assert abs(task.replica().mutual_information[0]
               - task.exact().mutual_information[0]) < 1e-8
