"""Tests of midnn.data: the paper's synthetic teacher-student and generative data."""

import numpy as np
import pytest
import torch

from midnn.activations import Linear, ReLU, Sign
from midnn.data import Dataset, generative, make_dataset, teacher_student
from midnn.model import Model
from midnn.priors import Binary, Gaussian
from midnn.usv import USVNetwork


def test_teacher_student_shapes_and_description():
    ds = teacher_student([50, 4], seed=0, n_samples=400, test_fraction=0.25)
    assert isinstance(ds, Dataset) and ds.kind == "teacher_student"
    assert ds.x_train.shape == (300, 50) and ds.x_test.shape == (100, 50)
    assert ds.y_train.shape == (300, 4) and ds.y_test.shape == (100, 4)
    assert ds.x_train.dtype == torch.float32 and ds.y_train.dtype == torch.float32
    assert ds.n_classes is None and ds.n_input == 50 and ds.n_features == 50
    assert ds.input_layers == () and ds.input_prior == Gaussian()
    assert ds.latent_train is None
    assert ds.weights[0].shape == (4, 50)
    np.testing.assert_allclose(ds.generator_layers[0].spectrum.eigvals,
                               np.linalg.eigvalsh(ds.weights[0].T @ ds.weights[0]),
                               atol=1e-12)


def test_determinism_and_seeds():
    kw = dict(n_samples=200)
    a, b = teacher_student(seed=3, **kw), teacher_student(seed=3, **kw)
    c = teacher_student(seed=4, **kw)
    for name in ("x_train", "y_train", "x_test", "y_test"):
        assert torch.equal(getattr(a, name), getattr(b, name))
        assert not torch.equal(getattr(a, name), getattr(c, name))
    g1, g2 = generative(seed=3, **kw), generative(seed=3, **kw)
    assert torch.equal(g1.x_train, g2.x_train) and torch.equal(g1.y_test, g2.y_test)
    # the weights do not depend on n_samples
    d = teacher_student(seed=3, n_samples=500)
    np.testing.assert_array_equal(a.weights[0], d.weights[0])
    # seed=None draws and records a seed that reproduces the data set
    e = teacher_student(n_samples=50)
    assert torch.equal(teacher_student(n_samples=50, seed=e.seed).x_train, e.x_train)


def test_fraction_relevant():
    ds = teacher_student([40, 3], teacher_noise=0.0, fraction_relevant=0.25, seed=1,
                         n_samples=100)
    W = ds.weights[0]
    assert ds.config["n_relevant"] == 10
    assert np.all(W[:, 10:] == 0) and np.all(W[:, :10] != 0)
    # noiseless linear teacher: targets are a function of the first 10 inputs only
    x = ds.x_train.double().numpy()
    x_perturbed = x.copy()
    x_perturbed[:, 10:] = np.random.default_rng(0).standard_normal(x[:, 10:].shape)
    np.testing.assert_allclose(ds.y_train.double().numpy(), x_perturbed @ W.T, rtol=1e-5,
                               atol=1e-5)


def test_teacher_noise_and_nonlinear_teacher():
    ds = teacher_student([30, 20, 1], [ReLU(), Linear()], teacher_noise=[0.0, 0.0],
                         prior=Binary(), seed=2, n_samples=300)
    x = ds.x_train.double().numpy()
    assert set(np.unique(x)) == {-1.0, 1.0}
    W1, W2 = ds.weights
    np.testing.assert_allclose(ds.y_train.double().numpy(),
                               np.maximum(x @ W1.T, 0) @ W2.T, rtol=1e-5, atol=1e-5)
    noisy = teacher_student([30, 1], teacher_noise=0.5, seed=2, n_samples=4000)
    resid = noisy.y_train.double().numpy() - noisy.x_train.double().numpy() @ noisy.weights[0].T
    assert np.var(resid) == pytest.approx(0.5, rel=0.1)  # 2000 samples: rel. std 0.032


def test_teacher_student_classification_labels():
    binary = teacher_student([30, 1], teacher_noise=0.0, task="classification", seed=5,
                             n_samples=200)
    assert binary.n_classes == 2 and binary.y_train.dtype == torch.int64
    out = binary.x_train.double().numpy() @ binary.weights[0].T
    np.testing.assert_array_equal(binary.y_train.numpy(), (out[:, 0] > 0).astype(int))
    multi = teacher_student([30, 4], teacher_noise=0.0, task="classification", seed=5,
                            n_samples=200)
    assert multi.n_classes == 4
    out = multi.x_test.double().numpy() @ multi.weights[0].T
    np.testing.assert_array_equal(multi.y_test.numpy(), np.argmax(out, axis=1))
    signed = teacher_student([30, 1], [Sign()], teacher_noise=0.0, task="classification",
                             seed=5, n_samples=200)
    assert set(np.unique(signed.y_train.numpy())) == {0, 1}


def test_generative_paper_setting():
    # the authors' generative setting: n_Y = 20, decoder [20 -> 100] linear noise 0.01,
    # label sign(Y_1)
    ds = generative(seed=0, n_samples=20000)
    assert ds.kind == "generative" and ds.task == "classification" and ds.n_classes == 2
    assert ds.x_train.shape == (10000, 100) and ds.latent_train.shape == (10000, 20)
    assert ds.n_input == 20 and ds.config["n_relevant"] == 1
    y = ds.latent_train.numpy()
    np.testing.assert_array_equal(ds.y_train.numpy(), (y[:, 0] > 0).astype(int))
    # label balance: P(Y_1 > 0) = 1/2, std over 20000 samples = 0.0035
    labels = torch.cat([ds.y_train, ds.y_test]).double()
    assert labels.mean().item() == pytest.approx(0.5, abs=0.02)

    W = ds.weights[0]
    assert W.shape == (100, 20)
    X = torch.cat([ds.x_train, ds.x_test]).double().numpy()
    Y = torch.cat([ds.latent_train, ds.latent_test]).double().numpy()
    # X = W Y + xi exactly, xi ~ N(0, 0.01): residual variance (rel. std sqrt(2/2e6) ~ 1e-3)
    resid = X - Y @ W.T
    assert np.var(resid) == pytest.approx(0.01, rel=0.01)
    # empirical covariance vs W W^T + 0.01 I. For N samples of a Gaussian vector,
    # E ||C_hat - C||_F^2 = ((tr C)^2 + ||C||_F^2) / N; the test allows twice its root.
    C = W @ W.T + 0.01 * np.eye(100)
    C_hat = X.T @ X / X.shape[0]
    expected = np.sqrt((np.trace(C) ** 2 + np.sum(C**2)) / X.shape[0])
    assert np.linalg.norm(C_hat - C) < 2 * expected
    # the noise floor: C has 80 eigenvalues equal to 0.01; their sample counterparts are
    # within a few % (Marchenko-Pastur ratio 80/20000 -> edges 0.01 (1 +- 0.063)^2)
    low = np.linalg.eigvalsh(C_hat)[:80]
    assert np.mean(low) == pytest.approx(0.01, rel=0.03)
    assert low.min() > 0.0085 and low.max() < 0.0115

    # replica description of the decoder
    (layer,) = ds.input_layers
    assert isinstance(layer.activation, Linear) and layer.activation.noise == 0.01
    assert layer.alpha == pytest.approx(5.0)
    np.testing.assert_allclose(layer.spectrum.eigvals, np.linalg.eigvalsh(W.T @ W),
                               rtol=1e-10, atol=1e-12)


def test_generative_regression_and_multiclass():
    reg = generative([10, 30, 50], [ReLU(), Linear()], [0.0, 0.0], task="regression",
                     fraction_relevant=0.3, seed=1, n_samples=100)
    assert reg.y_train.shape == (50, 3) and reg.y_train.dtype == torch.float32
    torch.testing.assert_close(reg.y_train, reg.latent_train[:, :3])
    W1, W2 = reg.weights
    y = reg.latent_test.double().numpy()
    np.testing.assert_allclose(reg.x_test.double().numpy(), np.maximum(y @ W1.T, 0) @ W2.T,
                               rtol=1e-5, atol=1e-5)
    assert len(reg.input_layers) == 2 and reg.input_layers[1].alpha == pytest.approx(50 / 30)
    np.testing.assert_allclose(reg.input_layers[1].spectrum.eigvals,
                               np.linalg.eigvalsh(W2.T @ W2), atol=1e-12)
    multi = generative(task="classification", fraction_relevant=0.2, seed=1, n_samples=100)
    assert multi.n_classes == 4
    np.testing.assert_array_equal(multi.y_train.numpy(),
                                  np.argmax(multi.latent_train.numpy()[:, :4], axis=1))


def test_replica_model_with_student():
    ds = generative(seed=0, n_samples=100)
    net = USVNetwork([100, 50, 20, 2], [ReLU(), Linear(), None], seed=0)
    model = ds.replica_model(net.replica_layers(2, noise=1e-5))
    assert isinstance(model, Model) and model.n_layers == 3
    assert model.prior == ds.input_prior
    assert model.layers[0] is ds.input_layers[0]
    assert model.alpha_tilde[-1] == pytest.approx(20 / 20)  # n_{T_2} / n_Y
    ts = teacher_student([100, 4], seed=0, n_samples=100)
    assert ts.replica_model(net.replica_layers(1)).n_layers == 1


def test_make_dataset_and_to():
    ds = make_dataset("teacher_student", seed=0, n_samples=20)
    assert ds.kind == "teacher_student"
    assert make_dataset("generative", seed=0, n_samples=20).kind == "generative"
    assert ds.to("cpu").x_train.device.type == "cpu"
    with pytest.raises(ValueError, match="kind"):
        make_dataset("mnist")


@pytest.mark.parametrize("kwargs,name", [
    (dict(fraction_relevant=0.0), "fraction_relevant"),
    (dict(fraction_relevant=1.5), "fraction_relevant"),
    (dict(test_fraction=0.0), "test_fraction"),
    (dict(test_fraction=1.0), "test_fraction"),
    (dict(n_samples=1), "n_samples"),
    (dict(task="ranking"), "task"),
    (dict(prior="gauss"), "prior"),
    (dict(seed=-1), "seed"),
])
@pytest.mark.parametrize("build", [teacher_student, generative])
def test_validation_common(build, kwargs, name):
    kwargs = {"n_samples": 10, **kwargs}
    with pytest.raises(ValueError, match=name):
        build(**kwargs)


def test_validation_specific():
    with pytest.raises(ValueError, match="teacher_widths"):
        teacher_student([10])
    with pytest.raises(ValueError, match=r"teacher_widths\[1\]"):
        teacher_student([10, 0])
    with pytest.raises(ValueError, match="teacher_noise"):
        teacher_student([10, 2], teacher_noise=-0.1)
    with pytest.raises(ValueError, match="teacher_activations"):
        teacher_student([10, 5, 2], [Linear()])
    with pytest.raises(ValueError, match="decoder_widths"):
        generative([20, 2.5])
    with pytest.raises(ValueError, match="decoder_noise"):
        generative([20, 30, 40], decoder_noise=[0.1, -1.0])
    with pytest.raises(ValueError, match="decoder_activations"):
        generative([20, 30], ["swish"])


def test_short_repr():
    ds = generative(seed=0, n_samples=100)
    assert repr(ds) == ("Dataset(kind='generative', task='classification', n_train=50, "
                        "n_test=50, n_features=100, n_input=20 (n_Y), n_classes=2, seed=0)")
    ts = teacher_student(seed=1, n_samples=40)
    assert "n_input=100 (n_X)" in repr(ts) and "n_classes" not in repr(ts)
