"""Tests of midnn.tasks: shapes, seeds, ground truth of linear tasks, estimator protocol."""

from __future__ import annotations

import numpy as np
import pytest

from midnn import estimators as E
from midnn import figure2 as F2
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
    rows = F2.estimator_errors({"kde": E.KDEBound(0.1)}, dims=(5,), sample_sizes=(100,),
                              noise=0.1)
    assert rows[0]["truth_kind"] == "exact" and np.isfinite(rows[0]["kde"])


def test_figure2_sweep_small():
    res = F2.figure2_sweep({"lin": ["linear", "linear"]}, [0.5, 2.0], n0=8, n_samples=50,
                          width_factors=(2, 2),
                          kde_noises=(0.1,), bin_widths=(0.5,))
    assert res.kde_upper["lin"].shape == (1, 2) and res.replica["lin"].shape == (2, 2)
    np.testing.assert_allclose(res.replica["lin"][0], res.exact["lin"][0], atol=1e-8)
    assert np.all(res.kde_lower["lin"] <= res.kde_upper["lin"] + 1e-12)
    assert np.all(res.binning["lin"] <= res.log_n + 1e-12)


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
    with pytest.raises(ValueError, match="entropy-only"):
        F2.estimator_errors({"kl": E.KLEntropy()})
    with pytest.raises(ValueError, match="sigmas"):
        F2.figure2_sweep({"a": ["linear"]}, [])


def test_square_layer_high_snr_replica_equals_exact():
    task = T.Task(None, [20, 20], "linear", sigma=1.0, noise=1e-5, seed=0)
    assert abs(task.replica().mutual_information[0]
               - task.exact().mutual_information[0]) < 1e-8
