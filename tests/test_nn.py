"""Tests of midnn.nn.describe: every supported module, every error, exactness on linear nets."""

import numpy as np
import pytest
import torch
from torch import nn

from midnn import Layer, data
from midnn.activations import HardTanh, LeakyReLU, Linear, ReLU, Sign, Tanh
from midnn.chainspec import evaluate, exact_quantities
from midnn.exact import linear_gaussian
from midnn.nn import Sign as SignModule
from midnn.nn import _parse, describe
from midnn.priors import Gaussian
from midnn.spectra import Empirical, MarchenkoPastur
from midnn.usv import USVLinear, USVNetwork

G = Gaussian()


def _lin(n_in, n_out, seed=0, bias=False, dtype=torch.float64):
    torch.manual_seed(seed)
    layer = nn.Linear(n_in, n_out, bias=bias, dtype=dtype)
    with torch.no_grad():
        layer.weight.normal_(0.0, n_in ** -0.5)
    return layer


def test_every_supported_module():
    net = nn.Sequential(_lin(12, 10), nn.ReLU(), _lin(10, 9, 1), nn.LeakyReLU(0.1),
                        _lin(9, 8, 2), nn.Hardtanh(-2.0, 2.0), nn.Identity(),
                        nn.Sequential(_lin(8, 7, 3), nn.Tanh()), _lin(7, 6, 4), SignModule(),
                        USVLinear(6, 5, seed=5, dtype=torch.float64), _lin(5, 3, 6))
    d = describe(net, prior=G)
    acts = [s.activation for s in d.layers]
    assert acts == [ReLU(), LeakyReLU(slope=0.1), HardTanh(threshold=2.0), Tanh(), Sign(),
                    Linear(), Linear()]
    assert [s.module for s in d.layers] == ["0", "2", "4", "7.0", "8", "10", "11"]
    assert [s.invariance for s in d.layers] == ["assumed"] * 5 + ["by construction", "assumed"]
    assert d.spec.widths == (12, 10, 9, 8, 7, 6, 5, 3) and d.spec.n_input == 12
    # spectra: eigenvalues of W^T W (zeros included), alpha = n_out / n_in
    W = net[2].weight.detach().numpy()
    np.testing.assert_allclose(d.eigvals[1], np.linalg.eigvalsh(W.T @ W), atol=1e-12)
    np.testing.assert_array_equal(d.eigvals[5], net[10].spectrum().eigvals)
    assert d.model.layers[1].alpha == pytest.approx(0.9)
    # noises: the last tracked layer Delta, the others inter_noise
    assert [L.activation.noise for L in d.model.layers] == [0.0] * 6 + [1e-5]
    x = torch.randn(5, 12, dtype=torch.float64)
    outs = _parse(net, None, "error").outputs(x)
    assert len(outs) == 7 and np.array_equal(outs[-1], net(x).detach().numpy())
    assert set(np.unique(outs[4])) <= {-1.0, 1.0}
    assert "T7: module 11 Linear 5 -> 3" in str(d)


def test_sign_module():
    out = SignModule()(torch.tensor([-2.0, 0.0, 3.0]))
    assert out.tolist() == [-1.0, 1.0, 1.0]


@pytest.mark.parametrize("net,kwargs,match", [
    (nn.Sequential(_lin(4, 3), nn.Dropout()), {}, r"module 1 \(Dropout\) is not supported; "
                                                  r"supported: nn.Linear"),
    (nn.Sequential(_lin(4, 3), nn.Hardtanh(-0.5, 1.0)), {}, "only the symmetric"),
    (nn.Sequential(_lin(4, 3), nn.ReLU6()), {}, r"module 1 \(ReLU6\) is not supported"),
    (nn.Sequential(_lin(4, 3), nn.LeakyReLU(2.0)), {}, "negative_slope=2"),
    (nn.Sequential(nn.ReLU(), _lin(4, 3)), {}, r"module 0 \(ReLU\) is an activation that "
                                               "follows no linear layer"),
    (nn.Sequential(_lin(4, 3), nn.ReLU(), nn.ReLU()), {}, r"module 2 \(ReLU\) is an activation"),
    (nn.Sequential(_lin(4, 3, bias=True)), {}, r"module 0 \(Linear\) has a bias"),
    (nn.Sequential(_lin(4, 3)), {"n_layers": 2}, "only 1 describable"),
    (nn.Sequential(_lin(4, 3)), {"bias": "drop"}, "bias must be one of"),
    (nn.Sequential(_lin(4, 3), _lin(5, 2)), {}, "layer 2 takes 5 inputs but layer 1 has 3"),
    (nn.Sequential(_lin(4, 3)), {"noise": 0.0}, "noise must lie in"),
    (nn.Sequential(_lin(4, 3)), {"input_layers": [Layer(Empirical.from_matrix(np.ones((5, 2))),
                                                        Linear(noise=0.1))]},
     "maps 2 units to 5"),
])
def test_describe_errors(net, kwargs, match):
    with pytest.raises(ValueError, match=match):
        describe(net, prior=G, **kwargs)


def test_describe_type_errors():
    class Custom(nn.Sequential):
        def forward(self, x):
            return 2 * super().forward(x)

    for module in (_lin(3, 2), Custom(_lin(3, 2))):
        with pytest.raises(TypeError, match="nn.Sequential or a midnn.usv.USVNetwork"):
            describe(module, prior=G)
    with pytest.raises(TypeError, match="prior"):
        describe(nn.Sequential(_lin(3, 2)), prior="gaussian")


def test_bias_ignore_and_nonfinite():
    net = nn.Sequential(_lin(4, 3, bias=True), nn.ReLU())
    d = describe(net, prior=G, bias="ignore")
    assert d.layers[0].bias_ignored and "bias ignored" in str(d)
    with torch.no_grad():
        net[0].weight[0, 0] = float("nan")
    with pytest.raises(ValueError, match=r"layer 1 \(module '0', Linear\) has non-finite"):
        describe(net, prior=G, bias="ignore")


def test_readout_excluded_with_n_layers():
    net = nn.Sequential(_lin(6, 5), nn.ReLU(), _lin(5, 2), nn.Softmax(dim=1))
    with pytest.raises(ValueError, match=r"module 3 \(Softmax\)"):
        describe(net, prior=G)
    d = describe(net, prior=G, n_layers=1)  # the readout and the softmax are not inspected
    assert len(d.layers) == 1 and d.model.layers[0].activation == ReLU(noise=1e-5)


def test_usv_network():
    net = USVNetwork([10, 8, 6, 2], [ReLU(noise=0.3), Linear(), None], [True, False, False],
                     seed=0)
    d = describe(net, prior=G)  # stops before the readout
    assert [s.module for s in d.layers] == ["layers.0", "layers.1"]
    assert [s.invariance for s in d.layers] == ["by construction", "assumed"]
    assert d.layers[0].activation == ReLU()  # the activation's own noise is not the chain's
    with pytest.raises(ValueError, match="readout without a midnn activation"):
        describe(net, prior=G, n_layers=3)
    ref = net.replica_layers(1)
    assert describe(net, prior=G, n_layers=1).model.layers[0].spectrum == ref[0].spectrum


def test_one_linear_layer_is_exact():
    # a single orthogonally invariant Gaussian channel: exact at finite size
    for n_in, n_out in ((30, 20), (20, 30)):
        layer = _lin(n_in, n_out, seed=n_in)
        res, q = describe(nn.Sequential(layer), prior=G, noise=1e-3).information()
        ex = linear_gaussian([layer.weight.detach().numpy()], 1e-3)
        for name in ("entropy", "mutual_information", "conditional_entropy", "mmse"):
            assert q[name][0] == pytest.approx(getattr(ex, name)[0], abs=1e-10)


def test_deep_linear_within_finite_size_tolerance():
    # deeper layers: products of independent rotations, exact only as n -> infinity; the
    # tolerance of tests/test_training.py::test_linear_student_replica_matches_exact
    layers = [_lin(30, 60, 1), _lin(60, 20, 2), _lin(20, 25, 3)]
    _, q = describe(nn.Sequential(*layers), prior=G).information()
    ex = linear_gaussian([m.weight.detach().numpy() for m in layers], [0.0, 0.0, 1e-5],
                         readout_noise=1e-5)
    assert q["mutual_information"][0] == pytest.approx(ex.mutual_information[0], abs=1e-6)
    np.testing.assert_allclose(q["mutual_information"], ex.mutual_information, atol=5e-2)


def test_generative_chain_and_network_input_information():
    ds = data.generative((20, 60), decoder_noise=0.01, n_samples=50, seed=3)
    layers = [_lin(60, 80, 1), _lin(80, 40, 2)]
    d = describe(nn.Sequential(*layers), prior=ds.input_prior, input_layers=ds.input_layers)
    assert d.spec.chain_input == "Y" and d.spec.n_input == 20
    _, q = d.information()
    ex = exact_quantities(d.spec, [m.weight.detach().numpy() for m in layers], ds.weights)
    # H(T_l | X) has the closed form of the noise alone for a linear chain
    np.testing.assert_allclose(q["conditional_entropy_x"], ex["exact_conditional_entropy_x"],
                               rtol=1e-12)
    np.testing.assert_allclose(q["mutual_information_x"], ex["exact_mutual_information_x"],
                               rtol=1e-2)
    np.testing.assert_allclose(q["mutual_information"], ex["exact_mutual_information"],
                               rtol=1e-2)
    # Y -> X -> T_l is a Markov chain: I(X; T_l) >= I(Y; T_l)
    assert np.all(q["mutual_information_x"] >= q["mutual_information"])


def test_network_conditional_entropy_is_the_engine_closed_form():
    # without input layers the engine's H(T_l | X) (no inner noise) is the same closed form:
    # giving the chain a noiseless input layer makes evaluate() compute it both ways
    net = nn.Sequential(_lin(20, 30), nn.ReLU(), _lin(30, 10, 1), nn.Hardtanh())
    ident = Layer(MarchenkoPastur(1.0), Linear(noise=0.0))
    d = describe(net, prior=G, input_layers=[ident])
    _, q = evaluate(d.spec, d.eigvals)
    np.testing.assert_array_equal(q["conditional_entropy_x"], q["conditional_entropy"])
