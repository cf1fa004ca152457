"""The public API: strict inputs with clear errors, self-describing results, short reprs."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

from midnn import ConvergenceWarning, Layer, Model, ReplicaResult, replica
from midnn.activations import HardTanh, LeakyReLU, Linear, ReLU, Sign, Tanh
from midnn.exact import ExactResult, linear_gaussian
from midnn.precision import Precision, current, using
from midnn.priors import Binary, GaussBernoulli, Gaussian
from midnn.spectra import Empirical, MarchenkoPastur, ZeroEigenvalueWarning
from midnn.tasks import Task

MODEL = Model(Gaussian(), [Layer(MarchenkoPastur(1.5), ReLU(0.0)),
                           Layer(MarchenkoPastur(0.8), Linear(1e-3))])


# ------------------------------------------------------------------------ strict inputs
@pytest.mark.parametrize("make,name", [
    (lambda: Linear("0.1"), "noise"),
    (lambda: Linear(True), "noise"),
    (lambda: ReLU(None), "noise"),
    (lambda: MarchenkoPastur("2"), "alpha"),
    (lambda: Gaussian(mean="0"), "mean"),
    (lambda: Binary(p_plus=True), "p_plus"),
    (lambda: HardTanh(threshold="1"), "threshold"),
    (lambda: Model(Gaussian(), None), "layers"),
    (lambda: Model(Gaussian(), "relu"), "layers"),
    (lambda: Model("gaussian", [Layer(MarchenkoPastur(1.0), Linear(0.1))]), "prior"),
    (lambda: Layer(MarchenkoPastur(1.0), "relu"), "activation"),
    (lambda: Precision(order=2.0), "order"),
])
def test_wrong_types_are_refused_not_coerced(make, name):
    with pytest.raises(TypeError, match=name):
        make()


@pytest.mark.parametrize("make,name", [
    (lambda: Linear(-1.0), "noise"),
    (lambda: Linear(1e300), r"noise must lie in \[0, 1e\+150\]"),
    (lambda: Linear(math.nan), "noise"),
    (lambda: MarchenkoPastur(0.0), "alpha"),
    (lambda: LeakyReLU(slope=2.0), "slope"),
    (lambda: Binary(p_plus=1.5), "p_plus"),
    (lambda: Model(Gaussian(), []), "layers"),
])
def test_values_out_of_range_are_refused(make, name):
    with pytest.raises(ValueError, match=name):
        make()


@pytest.mark.parametrize("kwargs,error,name", [
    ({"max_iter": 2.7}, TypeError, "max_iter"),
    ({"max_iter": "10"}, TypeError, "max_iter"),
    ({"max_iter": None}, TypeError, "max_iter"),
    ({"max_iter": math.inf}, TypeError, "max_iter"),
    ({"max_iter": 0}, ValueError, "max_iter"),
    ({"tol": 10.0}, ValueError, r"tol must lie in \(0, 0.001\]"),
    ({"tol": "1e-8"}, TypeError, "tol"),
    ({"solver": "newton"}, ValueError, "solver"),
    ({"exhaustive": 1}, TypeError, "exhaustive"),
    ({"readout_noise": "1e-3"}, TypeError, "readout_noise"),
    ({"readout_noise": [1e-3]}, ValueError, "readout_noise"),
    ({"precision": 2}, TypeError, "precision"),
])
def test_replica_arguments_are_checked(kwargs, error, name):
    with pytest.raises(error, match=name):
        replica(MODEL, **kwargs)


def test_model_must_be_a_model():
    with pytest.raises(TypeError, match="model"):
        replica([Layer(MarchenkoPastur(1.0), Linear(0.1))])


def test_init_is_checked_against_the_model():
    other = replica(Model(Gaussian(), [Layer(MarchenkoPastur(1.0), Linear(0.1))]))
    with pytest.raises(ValueError, match="init must be the result of a model with 2 layers"):
        replica(MODEL, init=other)
    with pytest.raises(TypeError, match="init"):
        replica(MODEL, init={"entropy": [1.0]})
    read_back = ReplicaResult.from_dict(replica(MODEL).to_dict())
    with pytest.raises(ValueError, match="no solver states"):
        replica(MODEL, init=read_back)


def test_leaky_relu_slope_is_keyword_only():
    """Every activation takes its noise first; other parameters are keyword-only, so
    LeakyReLU(1e-5) is a noise of 1e-5 (it was a slope)."""
    assert LeakyReLU(1e-5).noise == 1e-5 and LeakyReLU(1e-5).slope == 0.01
    with pytest.raises(TypeError):
        LeakyReLU(1e-5, 0.2)  # the slope must be named
    with pytest.raises(TypeError):
        HardTanh(0.0, 2.0)


def test_eigenvalues_of_w_w_transpose_are_flagged():
    """alpha > 1 and exact zeros: the n_out eigenvalues of W W^T were passed instead of the
    n_in of W^T W (they halve I)."""
    W = np.random.default_rng(0).standard_normal((100, 50)) / np.sqrt(50)
    with pytest.warns(ZeroEigenvalueWarning, match="W W\\^T"):
        Empirical(np.linalg.eigvalsh(W @ W.T), 2.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Empirical.from_matrix(W)


# ------------------------------------------------------------------------ limits, leaks
@pytest.mark.parametrize("noise", [1e10, 1e100, 1e150])
@pytest.mark.parametrize("act", [Linear, ReLU, HardTanh, Sign, LeakyReLU, Tanh],
                         ids=lambda a: a.__name__)
def test_huge_noise_gives_no_information(act, noise):
    """A noise of 1e150 drowns the input: I -> 0 and the MMSE is the prior's variance (a
    cancellation in ML-VAMP's extrinsic precisions used to freeze such a layer)."""
    for prior, var in ((Gaussian(0.5, 2.0), 2.0), (Binary(0.3), 1 - 0.4**2)):
        model = Model(prior, [Layer(MarchenkoPastur(1.5), ReLU(0.0)),
                              Layer(MarchenkoPastur(0.8), act(noise))])
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            res = replica(model)
        assert res.converged and np.all(np.isfinite(res.entropy))
        assert abs(res.mutual_information[-1]) < 1e-6
        assert res.mmse[-1] == pytest.approx(var, rel=1e-6)


@pytest.mark.parametrize("model", [
    Model(Binary(), [Layer(MarchenkoPastur(1.2), Linear(0.0)),
                     Layer(MarchenkoPastur(0.8), Linear(0.0)),
                     Layer(MarchenkoPastur(1.5), Linear(0.12))]),
    Model(GaussBernoulli(rho=0.0), [Layer(MarchenkoPastur(1.2), Linear(0.1))]),
    Model(Binary(0.5), [Layer(MarchenkoPastur(1.2), ReLU(0.0)),
                        Layer(MarchenkoPastur(0.8), HardTanh(0.0)),
                        Layer(MarchenkoPastur(1.5), Linear(0.0)),
                        Layer(MarchenkoPastur(1.0), Tanh(0.0)),
                        Layer(MarchenkoPastur(0.7), LeakyReLU(0.0, slope=0.1)),
                        Layer(MarchenkoPastur(1.3), ReLU(0.0)),
                        Layer(MarchenkoPastur(1.1), HardTanh(1e-3))]),
], ids=["binary-linear-chain", "point-mass-prior", "seven-layers"])
def test_no_warning_or_bare_exception(model):
    """Models that leaked RuntimeWarnings or raised a bare ZeroDivisionError: they run
    without warnings (a point-mass prior has I = 0 exactly)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = replica(model)
    assert np.all(np.isfinite(res.entropy)) and np.all(res.mutual_information >= -1e-12)


def test_non_convergence_is_reported_with_advice_for_the_solver_used():
    model = Model(Gaussian(), [Layer(MarchenkoPastur(1.5), HardTanh(0.0)),
                               Layer(MarchenkoPastur(0.8), ReLU(1e-4))])
    with pytest.warns(ConvergenceWarning, match="max_iter") as caught:
        res = replica(model, max_iter=2)
    assert not res.converged
    assert not any("use the ML-VAMP solver" in str(w.message) for w in caught)


# ------------------------------------------------------------------------ results
def test_replica_result_is_self_describing_and_round_trips_through_json():
    res = replica(MODEL, readout_noise=1e-3)
    d = json.loads(json.dumps(res.to_dict()))
    back = ReplicaResult.from_dict(d)
    for q in ("entropy", "mutual_information", "conditional_entropy", "mmse"):
        np.testing.assert_array_equal(getattr(back, q), getattr(res, q))
    assert back.model == MODEL and back.readout_noise == [1e-3, 1e-3]
    assert back.tol == 1e-10 and back.solver == res.solver and back.converged
    assert back.unit == "nats per input unit (n_0)" and back.version == res.version != ""
    assert back.precision == Precision()
    assert replica(back.model).entropy.tolist() == res.entropy.tolist()


def test_replica_result_tables():
    res = replica(MODEL)
    df = res.to_dataframe()
    assert list(df["layer"]) == [1, 2] and df.attrs["units"]["entropy"] == res.unit
    np.testing.assert_array_equal(df["mutual_information"], res.mutual_information)
    ds = res.to_xarray()
    assert ds["entropy"].attrs["units"] == res.unit
    np.testing.assert_array_equal(ds["mmse"].values, res.mmse)
    assert "H=[" in repr(res) and len(repr(res)) < 300


def test_exact_result_round_trips_and_names_its_unit():
    W = np.random.default_rng(1).standard_normal((6, 4)) / 2
    ex = linear_gaussian([W], [0.1])
    back = ExactResult.from_dict(json.loads(json.dumps(ex.to_dict())))
    np.testing.assert_array_equal(back.entropy, ex.entropy)
    assert back.unit == "nats per input unit (n_0)" and back.normalization == 4.0
    assert linear_gaussian([W], [0.1], normalization=2).unit == "nats per 2 units"


def test_precision_reaches_the_result_and_the_context_is_restored():
    res = replica(MODEL, precision=Precision(order=2))
    assert res.precision.order == 2 and current() == Precision()
    with using(order=2):
        same = replica(MODEL)
    np.testing.assert_array_equal(same.entropy, res.entropy)


def test_reprs_are_short():
    spec = Empirical.from_matrix(np.random.default_rng(0).standard_normal((300, 200)))
    assert len(repr(spec)) < 150 and "n_in=200" in repr(spec)
    model = Model(Gaussian(), [Layer(spec, ReLU(1e-5))])
    assert len(repr(model)) < 250
    assert "rho_tilde" in repr(ReLU(0.1).channel(0.5))


# ------------------------------------------------------------------------ tasks
def test_task_replica_takes_every_keyword():
    task = Task(None, [20, 30, 10], ["relu", "linear"], 1.0, 1e-3, seed=3)
    first = task.replica()
    warm = task.replica(init=first)
    np.testing.assert_allclose(warm.entropy, first.entropy, atol=1e-9)
    noisier = task.replica(readout_noise=1e-1)
    assert np.all(noisier.mutual_information < first.mutual_information)
    # the ground truth of the true_* methods is the default result, whatever ran last
    assert task.true_mutual_information() == first.mutual_information[-1]


def test_task_samplers_follow_the_bmi_protocol():
    from midnn.interface import Sampler

    task = Task(None, [20, 30, 10], ["relu", "linear"], 1.0, 1e-3, seed=3)
    s = task.sampler(1)
    assert isinstance(s, Sampler)
    x, t = s.sample(7, 0)
    assert x.shape == (7, 20) and t.shape == (7, 30)
    assert (s.dim_x, s.dim_y, s.dim_total) == (20, 30, 50)
    assert s.mutual_information() == pytest.approx(20 * task.true_mutual_information(1))
    x2, t2 = s.sample(7, 0)
    np.testing.assert_array_equal(t, t2)
