"""Tests of midnn.training: determinism, record round trip, replica vs exact, learning."""

import numpy as np
import pytest

from midnn import data, training
from midnn.activations import HardTanh, Linear
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
    back = training.load_record(tmp_path / "run.json")
    assert back.config == rec.config
    for k, v in rec.checkpoints.items():
        np.testing.assert_array_equal(back.checkpoints[k], v)
    for k, v in rec.history.items():
        np.testing.assert_array_equal(back.history[k], v)
    same = training.recompute(back)
    for q in ("entropy", "mutual_information", "mmse"):
        np.testing.assert_allclose(same[q], rec.checkpoints[q], atol=1e-8)
    more = training.recompute(back, readout_noise=1e-2)
    assert np.all(more["mutual_information"] < rec.checkpoints["mutual_information"])


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


def test_overlap_gives_the_serial_values():
    # the replica solves in a child process, concurrently with training: same warm-started
    # sequence of solves, so bit-identical values; the loop only records its waiting time
    ds = data.teacher_student((20, 2), task="classification", n_samples=400, seed=2)
    kw = dict(epochs=4, lr=0.05, mi_every=1, progress=False, seed=0)
    a = training.train(USVNetwork([20, 30, 10, 2], [Linear(), HardTanh(), None], seed=0), ds,
                       **kw)
    b = training.train(USVNetwork([20, 30, 10, 2], [Linear(), HardTanh(), None], seed=0), ds,
                       overlap=True, **kw)
    assert b.config["overlap"] == "spawn" and a.config["overlap"] is False
    for q in ("entropy", "mutual_information", "conditional_entropy", "mmse", "converged"):
        np.testing.assert_array_equal(a.checkpoints[q], b.checkpoints[q])
    np.testing.assert_array_equal(a.history["train_loss"], b.history["train_loss"])
    for d1, d2 in zip(a.last_replica.details, b.last_replica.details, strict=True):
        np.testing.assert_array_equal(d1.state.V, d2.state.V)
    assert len(b.checkpoints["replica_time"]) == len(b.checkpoints["blocking_time"]) == 5
    o = training.tracking_overhead(a)
    assert o["blocking_s"] == pytest.approx(o["tracking_s"], rel=0.05, abs=1e-3)
    assert o["ratio"] == pytest.approx(o["tracking_s"] / o["train_s"])
    assert np.all(np.diff(a.history["eval_time"]) > 0)
    with pytest.raises(ValueError, match="overlap"):
        training.train(USVNetwork([20, 30, 10, 2], [Linear(), HardTanh(), None], seed=0), ds,
                       overlap="bogus", **kw)


def test_bootstrap_and_compression():
    assert training.compression([1.0, 3.0, 2.0]) == pytest.approx(1.0)
    r, lo, hi = training.bootstrap_correlation([1, 2, 3, 4, 5], [2, 4, 6, 8, 11])
    assert r > 0.9 and lo <= r <= hi
