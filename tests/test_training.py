"""Tests of midnn.training: determinism, record round trip, replica vs exact, learning,
divergence and bad data, analysis helpers."""

import numpy as np
import pytest
import torch
from torch import nn

from midnn import data, training
from midnn.activations import HardTanh, Linear
from midnn.record import load
from midnn.usv import USVNetwork


def _linear_run(seed=0, widths=(30, 60, 20, 3), **kw):
    ds = data.teacher_student((30, 3), n_samples=400, seed=5)
    net = USVNetwork(list(widths), [Linear()] * 3, [True, True, False], seed=1)
    kw = dict(dict(epochs=3, mi_every=1, lr=0.02, batch_size=25, seed=seed, progress=False),
              **kw)
    return training.train(net, ds, **kw)


def test_deterministic_under_seed():
    a, b = _linear_run(), _linear_run()
    np.testing.assert_array_equal(a.history["train_loss"], b.history["train_loss"])
    for sa, sb in zip(a.spectra, b.spectra, strict=True):
        np.testing.assert_array_equal(sa, sb)
    np.testing.assert_array_equal(a.checkpoints["mutual_information"],
                                  b.checkpoints["mutual_information"])
    c = _linear_run(seed=1)
    assert not np.array_equal(a.history["train_loss"], c.history["train_loss"])


def test_record_round_trip_and_recompute(tmp_path):
    rec = _linear_run(save=tmp_path / "run")
    back = training.load_record(tmp_path / "run")
    assert back.config == rec.config and back.status == "complete"
    for k, v in rec.checkpoints.items():
        np.testing.assert_array_equal(back.checkpoints[k], v)
    for k, v in rec.history.items():
        np.testing.assert_array_equal(back.history[k], v)
    # the first checkpoint was solved cold, then warm-started as in the run: bitwise equal
    same = training.recompute(back)
    for q in ("entropy", "mutual_information", "conditional_entropy", "mmse"):
        np.testing.assert_array_equal(same[q], rec.checkpoints[q])
    more = training.recompute(tmp_path / "run", readout_noise=1e-2)
    assert np.all(more["mutual_information"] < rec.checkpoints["mutual_information"])
    assert list(more["epoch"]) == [0, 1, 2, 3]


def _check_replica_vs_exact(rec):
    ck = rec.checkpoints
    assert ck["converged"].all()
    np.testing.assert_allclose(ck["mmse"][:, 0], ck["exact_mmse"][:, 0], atol=1e-6)
    np.testing.assert_allclose(ck["mutual_information"][:, 0],
                               ck["exact_mutual_information"][:, 0], atol=1e-6)


def test_square_linear_student_replica_matches_exact():
    _check_replica_vs_exact(_linear_run(widths=(30, 30, 20, 3), epochs=4))


def test_linear_student_replica_matches_exact():
    # Layer 1 is a single orthogonally invariant Gaussian channel: the replica formula is
    # exact at finite n. Deeper layers agree up to finite-size (free-product) corrections.
    rec = _linear_run(epochs=4)
    _check_replica_vs_exact(rec)
    ck = rec.checkpoints
    assert ck["converged"].all()
    np.testing.assert_allclose(ck["mmse"][:, 0], ck["exact_mmse"][:, 0], atol=1e-6)
    np.testing.assert_allclose(ck["mutual_information"][:, 0],
                               ck["exact_mutual_information"][:, 0], atol=1e-6)
    np.testing.assert_allclose(ck["mutual_information"], ck["exact_mutual_information"],
                               atol=5e-2)


def test_loss_decreases_classification():
    ds = data.teacher_student((20, 2), task="classification", n_samples=600, seed=2)
    net = USVNetwork([20, 20, 2], [HardTanh(), None], seed=0)
    rec = training.train(net, ds, epochs=5, lr=0.05, optimizer="adam", mi_every=5,
                         progress=False, seed=0)
    h = rec.history
    assert h["train_loss"][-1] < 0.8 * h["train_loss"][0]
    assert h["test_acc"][-1] > 0.75
    assert list(rec.checkpoints["epoch"]) == [0, 5]
    assert np.all(np.isfinite(rec.checkpoints["mutual_information"]))


def test_background_gives_the_serial_values():
    # the checkpoints are solved in a worker process while training goes on: the same
    # warm-started sequence of solves, so bit-identical values
    ds = data.teacher_student((20, 2), task="classification", n_samples=400, seed=2)
    kw = dict(epochs=4, lr=0.05, mi_every=1, progress=False, seed=0)
    a = training.train(USVNetwork([20, 30, 10, 2], [Linear(), HardTanh(), None], seed=0), ds,
                       background=False, **kw)
    b = training.train(USVNetwork([20, 30, 10, 2], [Linear(), HardTanh(), None], seed=0), ds,
                       **kw)
    for q in ("entropy", "mutual_information", "conditional_entropy", "mmse", "converged"):
        np.testing.assert_array_equal(a.checkpoints[q], b.checkpoints[q])
    np.testing.assert_array_equal(a.history["train_loss"], b.history["train_loss"])
    assert len(b.checkpoints["compute_time"]) == len(b.checkpoints["blocking_time"]) == 5
    o = training.tracking_overhead(a)
    assert o["blocking_s"] >= o["tracking_s"] > 0
    assert o["ratio"] == pytest.approx(o["tracking_s"] / o["train_s"])
    assert np.all(np.diff(a.history["eval_time"]) > 0)
    with pytest.warns(DeprecationWarning, match="overlap"):
        c = training.train(USVNetwork([20, 30, 10, 2], [Linear(), HardTanh(), None], seed=0),
                           ds, overlap=False, **kw)
    np.testing.assert_array_equal(a.checkpoints["entropy"], c.checkpoints["entropy"])


def test_divergence_stops_training_with_a_clear_error(tmp_path):
    ds = data.teacher_student((20, 2), n_samples=200, seed=2)
    net = USVNetwork([20, 30, 2], [HardTanh(), None], seed=0)
    with pytest.raises(FloatingPointError, match=r"diverged: the loss is (nan|inf) at epoch "
                                                 r"(\d+), mini-batch \d+ of 2") as err:
        training.train(net, ds, epochs=5, lr=1e6, progress=False, save=tmp_path / "run")
    epoch = int(err.value.args[0].split("at epoch ")[1].split(",")[0])
    rec = load(tmp_path / "run")
    # nothing recorded from the diverging epoch on; what was recorded before is finite
    assert list(rec.checkpoints["epoch"]) == list(range(epoch))
    assert np.all(np.isfinite(rec.checkpoints["mutual_information"]))
    assert rec.status.startswith("error: FloatingPointError")


def test_nonfinite_data_is_refused_before_training():
    ds = data.teacher_student((20, 2), n_samples=100, seed=2)
    ds.x_train[3, 4] = float("nan")
    net = USVNetwork([20, 30, 2], [HardTanh(), None], seed=0)
    before = net.layers[0].s.detach().clone()
    with pytest.raises(ValueError, match="dataset.x_train contains non-finite"):
        training.train(net, ds, epochs=1, progress=False)
    assert torch.equal(net.layers[0].s, before)


def test_sequential_student_with_generative_data():
    ds = data.generative((10, 30), decoder_noise=0.01, n_samples=400, seed=1)
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(30, 20, bias=False), nn.ReLU(), nn.Linear(20, 2, bias=False))
    rec = training.train(net, ds, epochs=2, lr=0.1, n_mi_layers=1, progress=False)
    ck = rec.checkpoints
    assert ck["mutual_information"].shape == (3, 1) and ck["converged"].all()
    assert np.all(ck["mutual_information_x"] >= ck["mutual_information"])
    assert rec.chain.layers[0].invariance == "assumed"


def test_bootstrap_and_compression():
    assert training.compression([1.0, 3.0, 2.0]) == pytest.approx(1.0)
    x, y = [1, 2, 3, 4, 5], [2, 4, 6, 8, 11]
    r, lo, hi = training.bootstrap_correlation(x, y)
    assert r == pytest.approx(np.corrcoef(x, y)[0, 1]) and lo <= r <= hi <= 1.0
    # 5 pairs: some resamples are constant (no correlation) and are left out
    assert np.isfinite(lo) and np.isfinite(hi)
    x = np.arange(8.0)
    y = x + np.array([0.5, -1.0, 2.0, 0.3, -2.0, 1.0, 0.0, -0.7])
    v = training.bootstrap_correlation(x, y)
    assert training.bootstrap_correlation(x, y) == v  # fixed rng
    assert training.bootstrap_correlation(x, y, seed=1) != v
    assert v[1] < v[0] < v[2]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_train_on_cuda():
    ds = data.teacher_student((20, 2), task="classification", n_samples=400, seed=2)
    rec = training.train(USVNetwork([20, 30, 2], [HardTanh(), None], seed=0), ds, epochs=2,
                         lr=0.05, progress=False, device="cuda")
    assert rec.checkpoints["converged"].all() and rec.config["device"] == "cuda"
