"""Tests of midnn.experiments: the drivers of notebooks 04 and 05 (tiny sizes, serial sweep)
and the analysis helpers (drops, jitter, compression test, correlations, Haar redraws,
noise dependence)."""

import functools

import numpy as np
import pytest

from midnn import experiments as E
from midnn import training
from midnn.record import load
from midnn.sweeps import sweep

TINY_GEN = dict(n_samples=400, epochs=2, n_mi_layers=2)
TINY_TS = dict(n_samples=400, epochs=2)


@pytest.fixture(scope="module")
def generative_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("gen")
    table = sweep(functools.partial(E.generative_run, outdir=str(out), **TINY_GEN),
                  {"family": ["relu", "hardtanh"], "seed": [0, 1]}, client="serial",
                  progress=False)
    return out, table


@pytest.fixture(scope="module")
def linear_record(tmp_path_factory):
    out = tmp_path_factory.mktemp("ts")
    summary = E.teacher_student_run("linear", outdir=str(out), **TINY_TS)
    return load(out / "linear"), summary


def test_generative_sweep_writes_one_record_per_run(generative_dir):
    out, table = generative_dir
    assert not table.error.values.any() and table.converged.values.all()
    runs = E.load_runs(out)
    assert sorted(runs) == ["hardtanh_seed0", "hardtanh_seed1", "relu_seed0", "relu_seed1"]
    rec = runs["relu_seed1"]
    exp = rec.config["experiment"]
    assert (exp["family"], exp["seed"], exp["n_samples"]) == ("relu", 1, 400)
    assert rec.chain.chain_input == "Y" and rec.n_layers == 2
    assert list(rec.checkpoints["epoch"]) == [0, 2]
    c = rec.checkpoints
    # data processing along Y -> X -> T_l, both per n_Y
    assert np.all(c["mutual_information"] <= c["mutual_information_x"] + 1e-9)
    np.testing.assert_array_equal(table.drop_x.sel(family="relu", seed=1).values,
                                  E.drops(rec))
    assert table.test_error.sel(family="relu", seed=1).item() == pytest.approx(
        E.final_metrics(rec)["test_error"])
    # seeds change the network, not the data
    other = runs["relu_seed0"]
    assert other.config["dataset_config"] == rec.config["dataset_config"]
    assert not np.array_equal(other.spectra[0][0], rec.spectra[0][0])


def test_linear_teacher_student_layer1_exact(linear_record):
    rec, summary = linear_record
    assert rec.n_layers == 3 and rec.config["experiment"]["student"] == "linear"
    assert summary["max_abs_diff"][0] < 1e-7
    assert np.isnan(summary["test_error"])  # regression: no accuracy


def test_haar_reference(linear_record):
    rec, _ = linear_record
    ref = E.haar_reference(rec, -1, n_draws=20, seed=0)
    assert ref.shape == (20, 3)
    # layer 1: one matrix, its exact value depends on the spectrum only (the record's was
    # computed from the float32 weight matrix of the network: agreement to its rounding)
    assert np.ptp(ref[:, 0]) < 1e-12
    np.testing.assert_allclose(ref[:, 0], rec.checkpoints["exact_mutual_information"][-1, 0],
                               rtol=0, atol=1e-7)
    # deeper layers: the replica value is the centre of the finite-size spread
    mean, sd = ref.mean(0), ref.std(0, ddof=1)
    assert np.all(sd[1:] > 0)
    assert np.all(np.abs(rec.checkpoints["mutual_information"][-1, 1:] - mean[1:]) < 4 * sd[1:])
    np.testing.assert_array_equal(E.haar_reference(rec, -1, n_draws=20, seed=0), ref)


def test_noise_dependence_reproduces_the_record(generative_dir):
    out, _ = generative_dir
    rec = load(out / "hardtanh_seed0")
    same = E.noise_dependence("hardtanh_seed0", rec.chain.noise, directory=out)
    np.testing.assert_array_equal(same["mutual_information_x"],
                                  rec.checkpoints["mutual_information_x"])
    more = E.noise_dependence("hardtanh_seed0", 1e-2, directory=out)
    assert np.all(more["mutual_information_x"] < same["mutual_information_x"])
    assert more["converged"].all()


def test_drops_and_at_checkpoints(linear_record):
    v = np.array([[1.0, 0.0], [3.0, 1.0], [2.0, 2.0]])
    np.testing.assert_array_equal(E.drops(v), [1.0, 0.0])
    np.testing.assert_array_equal(E.drops(np.stack([v, v])), [[1.0, 0.0], [1.0, 0.0]])
    rec, _ = linear_record
    np.testing.assert_array_equal(E.at_checkpoints(rec, "test_loss"), rec.history["test_loss"])


def test_jitter_estimates_white_noise_about_a_trend():
    rng = np.random.default_rng(0)
    t = np.linspace(0, 1, 2001)
    v = (np.sin(3 * t) + 0.01 * rng.standard_normal(t.size))[:, None]
    assert E.jitter(v)[0] == pytest.approx(0.01, rel=0.1)
    assert E.jitter(np.sin(3 * t)[:, None])[0] < 1e-5


def test_compression_test():
    rng = np.random.default_rng(1)
    t = np.linspace(0, 1, 51)
    seeds = []
    for _ in range(5):
        rise = t + 1e-4 * rng.standard_normal(t.size)  # layer 1: rises, jitter only
        hump = np.minimum(t, 0.5) - (0.3 + 0.02 * rng.standard_normal()) * np.maximum(
            t - 0.5, 0) + 1e-4 * rng.standard_normal(t.size)  # layer 2: compresses
        flat = np.zeros_like(t)  # layer 3: constant
        seeds.append(np.stack([rise, hump, flat], axis=1))
    res = E.compression_test(np.stack(seeds))
    assert list(res["compresses"]) == [False, True, False]
    assert res["runs"][1] == 5 and res["runs"][2] == 0
    assert res["critical"] == pytest.approx(3.747, abs=1e-3)
    assert np.all(res["floor"][:2] > 0) and res["floor"][2] == 0
    with pytest.raises(ValueError):
        E.compression_test(np.zeros((1, 5, 2)))


def test_within_family_correlations():
    drop = np.array([[0.1, 0.0], [0.2, 0.0], [0.3, 0.0], [0.4, 0.0], [0.5, 0.0]])
    err = np.array([0.1, 0.2, 0.3, 0.4, 0.5])
    c = E.within_family_correlations(drop, err, n_boot=500)
    assert c["r"][0] == pytest.approx(1.0) and not c["inconclusive"][0]
    assert np.isnan(c["r"][1]) and c["inconclusive"][1]  # drops do not vary
    r, lo, hi = training.bootstrap_correlation(drop[:, 0], err, n_boot=500, seed=0)
    assert (c["r"][0], c["low"][0], c["high"][0]) == (r, lo, hi)


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="unknown settings"):
        E.generative_run("relu", outdir=None, widthz=(1, 2))
    with pytest.raises(ValueError, match="family"):
        E.generative_run("tanh")
    with pytest.raises(ValueError, match="student"):
        E.teacher_student_run("sigmoid")
    with pytest.raises(FileNotFoundError):
        E.load_runs(tmp_path)
    assert set(E.SOURCES["generative"]) >= {"widths", "lr", "epochs", "seeds"}
