"""Tests of midnn.nn.Tracker: the user's own loop, background == serial, records, resume."""

import warnings

import numpy as np
import pytest
import torch
from torch import nn

from midnn import data
from midnn.activations import ReLU
from midnn.estimators import Binning
from midnn.nn import Tracker
from midnn.priors import Gaussian
from midnn.record import RecordError, RecordWarning, load
from midnn.tracking import information_curves
from midnn.usv import USVNetwork

DS = data.teacher_student((20, 2), task="classification", n_samples=200, seed=2)
COLUMNS = ("entropy", "mutual_information", "conditional_entropy", "mmse", "converged")


def _net(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(20, 16, bias=False), nn.ReLU(),
                         nn.Linear(16, 8, bias=False), nn.Hardtanh(),
                         nn.Linear(8, 2, bias=False))


def _run(tracker, net, epochs, start=0, fail_at=None, adam=False):
    """The user's loop: one checkpoint call per epoch (epoch 0 = before training). With SGD
    and one shuffling seed per epoch, a loop resumed at an epoch continues identically."""
    opt = (torch.optim.Adam if adam else torch.optim.SGD)(net.parameters(), lr=0.02)
    for epoch in range(start, epochs):
        if epoch == fail_at:
            raise KeyError("interrupted")
        if epoch > 0:
            perm = torch.randperm(DS.n_train, generator=torch.Generator().manual_seed(epoch))
            for i in range(0, DS.n_train, 25):
                idx = perm[i:i + 25]
                opt.zero_grad()
                nn.functional.cross_entropy(net(DS.x_train[idx]), DS.y_train[idx]).backward()
                opt.step()
        with torch.no_grad():
            loss = float(nn.functional.cross_entropy(net(DS.x_train), DS.y_train))
        tracker.checkpoint(epoch, loss=loss)


class Warns(Binning):
    """An estimator that warns (run in the worker: defined at module level to be pickled)."""

    def estimate(self, x, y):
        warnings.warn("estimator warning", UserWarning, stacklevel=2)
        return 0.0


class Fails(Binning):
    def estimate(self, x, y):
        raise ArithmeticError(f"estimator failed on a layer of width {y.shape[1]}")


def _tracker(net, **kw):
    return Tracker(net, prior=Gaussian(), n_layers=2, **kw)


def test_background_equals_serial_bitwise():
    recs = {}
    for background in (False, True):
        net = _net()
        with _tracker(net, background=background, every=2) as tracker:
            _run(tracker, net, 7, adam=True)
        recs[background] = tracker.record
    a, b = recs[False], recs[True]
    assert list(a.checkpoints["epoch"]) == [0, 2, 4, 6]
    for q in COLUMNS:
        np.testing.assert_array_equal(a.checkpoints[q], b.checkpoints[q])
    for sa, sb in zip(a.spectra, b.spectra, strict=True):
        np.testing.assert_array_equal(sa, sb)
    np.testing.assert_array_equal(a.history["loss"], b.history["loss"])
    assert len(a.history["epoch"]) == 7
    for da, db in zip(a.last_replica.details, b.last_replica.details, strict=True):
        np.testing.assert_array_equal(da.state.V, db.state.V)
    ck = a.checkpoints
    assert ck["converged"].all() and np.all(ck["mutual_information"] > 0)
    assert np.all(ck["mutual_information"] <= ck["entropy"] - ck["conditional_entropy"] + 1e-12)
    assert b.status == "complete" and b.blocked > 0
    assert "nats per n_X" in a.units["mutual_information"]


def test_checkpoint_rules():
    net = _net()
    tracker = _tracker(net, background=False, every=3)
    assert tracker.checkpoint(0) and not tracker.checkpoint(1, loss=2.0)
    assert tracker.checkpoint(2, force=True) and tracker.last_step == 2
    with pytest.raises(ValueError, match="epoch 2 does not come after the last checkpoint"):
        tracker.checkpoint(2, force=True)
    with pytest.raises(TypeError, match="step must be an integer"):
        tracker.checkpoint(3.0)
    with torch.no_grad():
        net[2].weight[0, 0] = float("inf")
    with pytest.raises(ValueError, match=r"layer 2 \(module '2', Linear\) has non-finite"):
        tracker.checkpoint(3)
    rec = tracker.close()
    assert list(rec.checkpoints["epoch"]) == [0, 2] and list(rec.history["epoch"]) == [1]
    with pytest.raises(RuntimeError, match="closed"):
        tracker.checkpoint(4)


def test_nonfinite_held_batch_raises_at_creation():
    x = DS.x_test[:50].clone()
    x[3, 1] = float("nan")
    with pytest.raises(ValueError, match="held inputs contain non-finite"):
        _tracker(_net(), estimators={"bins": Binning(n_bins=10)}, held=x)
    with pytest.raises(ValueError, match="need a held batch"):
        _tracker(_net(), estimators={"bins": Binning(n_bins=10)})
    with pytest.raises(ValueError, match="estimate"):
        _tracker(_net(), estimators={"bins": "kde"}, held=DS.x_test[:10])
    with pytest.raises(ValueError, match="resume=True needs the path"):
        _tracker(_net(), resume=True)


@pytest.mark.parametrize("background", [False, True])
def test_worker_warnings_and_errors_reach_the_caller(background):
    held = DS.x_test[:40]
    tracker = _tracker(_net(), background=background, estimators={"w": Warns(n_bins=4)},
                       held=held)
    with pytest.warns(UserWarning, match="estimator warning"):
        tracker.checkpoint(0)
        tracker.wait()
    tracker.close()
    tracker = _tracker(_net(), background=background, estimators={"f": Fails(n_bins=4)},
                       held=held)
    with pytest.raises(ArithmeticError, match="estimator failed on a layer of width 16"):
        tracker.checkpoint(0)
        tracker.wait()
    assert tracker.record.status.startswith("error: ArithmeticError")


def test_interrupted_run_keeps_checkpoints_and_resumes(tmp_path):
    path = tmp_path / "run"
    ref_net = _net()
    with _tracker(ref_net, every=1, background=False) as ref:
        _run(ref, ref_net, 6)
    net = _net()
    with pytest.raises(KeyError, match="interrupted"):
        with _tracker(net, every=1, record=path) as tracker:
            _run(tracker, net, 6, fail_at=3)
    rec = load(path)
    assert list(rec.checkpoints["epoch"]) == [0, 1, 2]
    assert rec.status == "error: KeyError: 'interrupted'"
    # a crash while writing leaves a torn last line: dropped with a warning, cut on resume
    with open(tmp_path / "run.jsonl", "a") as f:
        f.write('{"kind": "checkpoint", "run": "x", "ind')
    with pytest.warns(RecordWarning, match="incomplete"):
        assert load(path).n_checkpoints == 3
    with pytest.warns(RecordWarning):
        tracker = _tracker(net, every=1, record=path, resume=True)
    assert tracker.last_step == 2
    # the loop restarts at the epoch after the last checkpoint (here its state is that of
    # the end of epoch 2, as after restoring a checkpoint of the network)
    with tracker:
        _run(tracker, net, 6, start=3)
    rec = load(path)
    assert list(rec.checkpoints["epoch"]) == [0, 1, 2, 3, 4, 5] and rec.status == "complete"
    for q in COLUMNS[:-1]:
        got, want = rec.checkpoints[q], ref.record.checkpoints[q]
        np.testing.assert_array_equal(got[:3], want[:3])
        np.testing.assert_allclose(got[3:], want[3:], rtol=0, atol=1e-8)  # cold restart


def test_record_of_another_run_refuses_resume(tmp_path):
    path = tmp_path / "run"
    tracker = _tracker(_net(), background=False, record=path)
    tracker.checkpoint(0)
    tracker.close()
    with pytest.raises(FileExistsError, match="resume=True"):
        _tracker(_net(), record=path)
    with pytest.raises(RecordError, match="another run configuration.*noise"):
        _tracker(_net(), record=path, resume=True, noise=1e-3)
    wide = nn.Sequential(nn.Linear(20, 12, bias=False), nn.ReLU(), nn.Linear(12, 8, bias=False))
    with pytest.raises(RecordError, match="another run configuration.*out_features"):
        Tracker(wide, prior=Gaussian(), record=path, resume=True)
    with pytest.raises(FileNotFoundError):
        _tracker(_net(), record=tmp_path / "none", resume=True)


def test_usv_network_generative_estimators_and_curves():
    ds = data.generative((10, 20), decoder_noise=0.01, n_samples=200, seed=1)
    net = USVNetwork([20, 30, 12, 2], [ReLU(), ReLU(), None], seed=0)
    tracker = Tracker(net, prior=ds.input_prior, input_layers=ds.input_layers,
                      background=False, estimators={"bins": Binning(n_bins=8)},
                      held=(ds.x_test[:60], ds.latent_test[:60]))
    tracker.checkpoint(0)
    with torch.no_grad():
        net.layers[0].s.mul_(1.5)
    tracker.checkpoint(1)
    rec = tracker.close()
    cur = information_curves(rec)
    assert cur["chain_input"] == "Y" and cur["n_input"] == 10 and cur["I_X"].shape == (2, 2)
    assert np.all(cur["I_X"] >= cur["I_input"])  # data processing along Y -> X -> T_l
    assert np.all(np.isfinite(rec.checkpoints["est_bins"]))
    assert rec.checkpoints["est_bins"].shape == (2, 2)
    np.testing.assert_allclose(rec.spectra[0][1], 2.25 * rec.spectra[0][0], rtol=1e-6)
    assert "I(X; T_l) with X the network input, nats per n_Y" in rec.units["mutual_information_x"]
    assert "Y (n=10)" in repr(rec) and "chain input Y" in repr(tracker)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_network_is_tracked_as_on_the_cpu():
    recs = []
    for device in ("cpu", "cuda"):
        net = _net().to(device)
        tracker = _tracker(net, estimators={"bins": Binning(n_bins=8)}, held=DS.x_test[:50])
        tracker.checkpoint(0)
        recs.append(tracker.close())
    for q in COLUMNS:
        np.testing.assert_array_equal(recs[0].checkpoints[q], recs[1].checkpoints[q])
    np.testing.assert_allclose(recs[0].checkpoints["est_bins"], recs[1].checkpoints["est_bins"],
                               atol=1e-6)
