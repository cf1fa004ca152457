"""Tests of midnn.usv: USV-layers W = U diag(s) V^T."""

import numpy as np
import pytest
import torch

from midnn.activations import Linear, ReLU
from midnn.model import Layer
from midnn.spectra import Empirical
from midnn.usv import USVLinear, USVNetwork, default_device, haar_orthogonal, make_mlp

SHAPES = [(50, 30), (30, 50), (40, 40)]  # (in_features, out_features)


@pytest.mark.parametrize("dtype,tol", [(torch.float32, 1e-5), (torch.float64, 1e-12)])
@pytest.mark.parametrize("n_in,n_out", SHAPES)
def test_u_v_orthogonal(n_in, n_out, dtype, tol):
    layer = USVLinear(n_in, n_out, seed=0, dtype=dtype)
    for M, n in ((layer.U, n_out), (layer.V, n_in)):
        assert M.shape == (n, n) and M.dtype == dtype
        eye = torch.eye(n, dtype=dtype)
        assert torch.max(torch.abs(M.T @ M - eye)) < tol
        assert torch.max(torch.abs(M @ M.T - eye)) < tol


def test_only_s_is_trained():
    layer = USVLinear(20, 10, seed=1)
    assert [name for name, _ in layer.named_parameters()] == ["s"]
    assert {name for name, _ in layer.named_buffers()} == {"U", "V"}
    assert not layer.U.requires_grad and not layer.V.requires_grad
    x = torch.randn(7, 20, generator=torch.Generator().manual_seed(0))
    layer(x).pow(2).sum().backward()
    assert layer.s.grad is not None and torch.all(torch.isfinite(layer.s.grad))
    assert layer.U.grad is None and layer.V.grad is None
    # U, V saved with the module
    assert {"U", "V", "s"} <= set(layer.state_dict())


@pytest.mark.parametrize("n_in,n_out", SHAPES)
def test_spectrum_matches_eigvalsh(n_in, n_out):
    layer = USVLinear(n_in, n_out, scale=1.3, seed=2)
    W = layer.weight.detach().double().numpy()
    assert W.shape == (n_out, n_in)
    spec = layer.spectrum()
    assert isinstance(spec, Empirical)
    assert spec.alpha == pytest.approx(n_out / n_in)
    assert spec.eigvals.shape == (n_in,)
    ref = np.sort(np.linalg.eigvalsh(W.T @ W))
    # W was formed in float32: its eigenvalues carry ~1e-7 relative rounding errors
    np.testing.assert_allclose(spec.eigvals, ref, rtol=0, atol=1e-5 * ref.max())
    n_zero = max(n_in - n_out, 0)
    assert np.count_nonzero(spec.eigvals == 0.0) == n_zero
    sv = layer.singular_values()
    assert sv.shape == (min(n_in, n_out),) and np.all(np.diff(sv) <= 0)
    np.testing.assert_allclose(np.sort(sv**2), spec.eigvals[n_zero:], rtol=1e-12)


@pytest.mark.parametrize("n_in,n_out", SHAPES)
def test_forward_equals_dense(n_in, n_out):
    layer = USVLinear(n_in, n_out, seed=3, dtype=torch.float64)
    x = torch.randn(11, n_in, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    y = layer(x)
    assert y.shape == (11, n_out)
    torch.testing.assert_close(y, x @ layer.weight.T, rtol=1e-12, atol=1e-12)


def test_bias_option():
    layer = USVLinear(6, 4, seed=0, bias=True, dtype=torch.float64)
    assert layer.bias is not None and layer.bias.shape == (4,)
    with torch.no_grad():
        layer.bias.fill_(0.5)
    x = torch.randn(3, 6, dtype=torch.float64)
    torch.testing.assert_close(layer(x), x @ layer.weight.T + 0.5)


def test_seed_determinism():
    a, b = USVLinear(30, 20, seed=5), USVLinear(30, 20, seed=5)
    c = USVLinear(30, 20, seed=6)
    for name in ("U", "V", "s"):
        assert torch.equal(getattr(a, name), getattr(b, name))
        assert not torch.equal(getattr(a, name), getattr(c, name))
    net1 = USVNetwork([10, 8, 6, 2], [ReLU(), Linear(), None], seed=3)
    net2 = USVNetwork([10, 8, 6, 2], [ReLU(), Linear(), None], seed=3)
    for p, q in zip(net1.state_dict().values(), net2.state_dict().values(), strict=True):
        assert torch.equal(p, q)


def test_haar_statistics():
    # For U Haar on O(n): E U_00^2 = 1/n, E U_ii = 0 and E tr(U)^2 = 1 (Diaconis-Shahshahani).
    # K = 400 draws, n = 10: std(U_00^2) = 0.12, std(tr(U)^2) ~ 1.4, so the tolerances below
    # are >= 4.5 standard errors. Without the sign fix of the QR, U_00 < 0 always (LAPACK
    # Householder convention), which the mean test catches.
    n, K = 10, 400
    g = torch.Generator().manual_seed(123)
    Us = torch.stack([haar_orthogonal(n, g) for _ in range(K)]).numpy()
    assert np.mean(Us[:, 0, 0] ** 2) == pytest.approx(1 / n, abs=0.03)
    assert abs(np.mean(Us[:, 0, 0])) < 0.07
    assert abs(np.mean(np.diagonal(Us, axis1=1, axis2=2))) < 0.025
    tr = np.trace(Us, axis1=1, axis2=2)
    assert np.mean(tr**2) == pytest.approx(1.0, abs=0.32)


def test_initial_singular_values_scale():
    # sum s^2 = ||c G / sqrt(n_in)||_F^2, mean c^2 n_out, relative std sqrt(2/(n_in n_out))
    layer = USVLinear(200, 100, scale=2.0, seed=7)
    assert np.sum(layer.singular_values() ** 2) / 100 == pytest.approx(4.0, rel=0.03)


def test_bad_arguments():
    with pytest.raises(ValueError, match="in_features"):
        USVLinear(0, 3)
    with pytest.raises(ValueError, match="scale"):
        USVLinear(3, 3, scale=-1.0)
    with pytest.raises(ValueError, match="activations"):
        USVNetwork([3, 4, 2], [Linear()])
    with pytest.raises(ValueError, match="usv"):
        USVNetwork([3, 4, 2], [Linear(), None], usv=[True])
    with pytest.raises(ValueError, match="widths"):
        USVNetwork([3], [])


def test_network_forward_and_gradients():
    widths = [12, 16, 8, 6, 3]
    acts = [Linear(), ReLU(), Linear(), "softmax"]
    net = make_mlp(widths, acts, [True, True, True, False], seed=0, dtype=torch.float64)
    assert net.n_layers == 4 and net.n_replica_layers == 3
    x = torch.randn(5, 12, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    out, ts = net(x, return_all=True)
    assert [t.shape for t in ts] == [(5, n) for n in widths[1:]]
    assert torch.equal(out, ts[-1]) and torch.equal(net(x), out)
    # manual recomputation with dense weights
    t = x
    for layer, f in zip(net.layers, [lambda h: h, torch.relu, lambda h: h, lambda h: h],
                        strict=True):
        t = f(t @ layer.weight.T)
    torch.testing.assert_close(out, t)
    assert torch.all(ts[1] >= 0)
    torch.nn.functional.cross_entropy(out, torch.tensor([0, 1, 2, 0, 1])).backward()
    trained = {n for n, p in net.named_parameters() if p.grad is not None}
    assert trained == {"layers.0.s", "layers.1.s", "layers.2.s", "layers.3.weight"}


def test_replica_layers():
    net = USVNetwork([20, 30, 10, 2], [ReLU(noise=0.3), Linear(), None], seed=1)
    assert net.usv_flags == (True, True, False)  # default: free readout
    layers = net.replica_layers(noise=1e-5)
    assert len(layers) == 2 and all(isinstance(layer, Layer) for layer in layers)
    assert isinstance(layers[0].activation, ReLU) and layers[0].activation.noise == 0.0
    assert layers[1].activation.noise == 1e-5
    assert layers[0].alpha == pytest.approx(1.5) and layers[1].alpha == pytest.approx(1 / 3)
    W1 = net.layers[1].weight.detach().double().numpy()
    np.testing.assert_allclose(layers[1].spectrum.eigvals,
                               np.sort(np.linalg.eigvalsh(W1.T @ W1)), atol=1e-5)
    one = net.replica_layers(1, noise=0.01, inter_noise=0.0)
    assert len(one) == 1 and one[0].activation.noise == 0.01
    with pytest.raises(ValueError, match="n_layers"):
        net.replica_layers(3)
    assert len(net.spectra()) == 2


def test_default_device():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert default_device().type == expected


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda():
    dev = torch.device("cuda")
    cpu = USVLinear(40, 30, seed=9)
    gpu = USVLinear(40, 30, seed=9, device=dev)
    assert gpu.U.device.type == "cuda" and gpu.s.device.type == "cuda"
    # same seed -> same matrices on both devices (drawn on the CPU)
    torch.testing.assert_close(gpu.U.cpu(), cpu.U)
    x = torch.randn(8, 40, device=dev)
    y = gpu(x)
    torch.testing.assert_close(y, x @ gpu.weight.T, rtol=1e-4, atol=1e-5)
    y.sum().backward()
    assert gpu.s.grad is not None and gpu.s.grad.device.type == "cuda"
    net = USVNetwork([40, 20, 2], [ReLU(), None], seed=0, device=dev)
    assert net(x).device.type == "cuda"
    assert net.replica_layers(noise=1e-5)[0].spectrum.eigvals.shape == (40,)


@pytest.mark.parametrize("dtype,tol", [(torch.float64, 1e-12), (torch.float32, 2e-6)])
@pytest.mark.parametrize("n_in,n_out", SHAPES)
def test_from_linear_and_back(n_in, n_out, dtype, tol):
    torch.manual_seed(0)
    lin = torch.nn.Linear(n_in, n_out, dtype=dtype)
    usv = USVLinear.from_linear(lin)
    assert not usv.haar and usv.bias is not None and usv.s.dtype == dtype
    x = torch.randn(9, n_in, dtype=dtype)
    torch.testing.assert_close(usv(x), lin(x), rtol=tol, atol=tol)
    for M, n in ((usv.U, n_out), (usv.V, n_in)):  # full orthogonal factors
        torch.testing.assert_close(M.T @ M, torch.eye(n, dtype=dtype), rtol=tol, atol=tol)
    W = lin.weight.detach().double().numpy()
    np.testing.assert_allclose(usv.spectrum().eigvals, Empirical.from_matrix(W).eigvals,
                               rtol=0, atol=10 * tol * np.max(W.T @ W))
    back = usv.to_linear()
    assert isinstance(back, torch.nn.Linear) and back.weight.dtype == dtype
    torch.testing.assert_close(back.weight, lin.weight, rtol=tol, atol=tol)
    torch.testing.assert_close(back.bias, lin.bias)
    assert "from_linear" in repr(usv)
    with pytest.raises(TypeError, match="torch.nn.Linear"):
        USVLinear.from_linear(usv)


def test_short_reprs():
    net = USVNetwork([10, 8, 2], [ReLU(), None], seed=0)
    assert repr(net) == ("USVNetwork(widths=[10, 8, 2], activations=[ReLU, readout], "
                         "layers=[USV, free])")
    assert repr(USVLinear(4, 3, seed=0)) == ("USVLinear(in_features=4, out_features=3, "
                                             "scale=1, bias=False)")
