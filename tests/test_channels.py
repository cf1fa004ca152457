"""Scalar channels and priors: derivative identities and brute-force quadrature.

* I-MMSE: dI/dA = mmse/2 for every prior (central finite differences, relative step 1e-5:
  truncation error ~1e-10, rounding ~1e-11/1e-5 -> tolerance 1e-6 relative).
* Channel updates are derivatives of the potential terms: A = 2 dI/dV~ (eq. 51),
  V = 2 dI/dA^ (eq. 54), output A = 2 dH/dV~ (eq. 52); same finite differences. The
  quadrature error of I (~1e-10) divided by the step sets the tolerance (1e-4 relative).
* Brute force: the output entropy against scipy.integrate.quad of the closed-form
  conditional entropy; the hidden channel against a dense-grid 3-D integration.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate
from scipy.special import ndtr

from midnn import quadrature
from midnn.activations import HardTanh, LeakyReLU, Linear, ReLU, Sign, Tanh
from midnn.channels import Channel
from midnn.priors import Binary, GaussBernoulli, Gaussian


@pytest.mark.parametrize("prior", [Gaussian(0.3, 2.0), Binary(0.5), Binary(0.2),
                                   GaussBernoulli(0.2), GaussBernoulli(0.3, 0.5, 2.0)])
@pytest.mark.parametrize("snr", [0.01, 0.5, 3.0, 30.0])
def test_i_mmse(prior, snr):
    h = 1e-5 * snr
    fd = (prior.mutual_information(snr + h) - prior.mutual_information(snr - h)) / (2 * h)
    assert fd == pytest.approx(prior.mmse(snr) / 2, rel=1e-5, abs=1e-10)


POINTS = [(10.0, 0.25), (300.0, 0.01), (0.5, 0.4)]
ACTS = [ReLU(0.01), HardTanh(0.01), LeakyReLU(0.2, 0.01), HardTanh(0.0), Tanh(0.01)]


@pytest.mark.parametrize("act", ACTS, ids=repr)
@pytest.mark.parametrize("Ahat,Vhat", POINTS)
def test_hidden_updates_are_derivatives(act, Ahat, Vhat):
    ch = Channel(act, 0.5)
    v = ch.hidden(Ahat, Vhat)
    h = 1e-4
    dV = (ch.hidden(Ahat, Vhat * (1 + h)).mutual_information
          - ch.hidden(Ahat, Vhat * (1 - h)).mutual_information) / (Vhat * h)
    dA = (ch.hidden(Ahat * (1 + h), Vhat).mutual_information
          - ch.hidden(Ahat * (1 - h), Vhat).mutual_information) / (Ahat * h)
    # piecewise-linear channels: the quadrature error (< 1e-11 here) over the step leaves
    # ~1e-7; tanh's Laplace-centred inner rule is accurate to ~1e-7 absolute, hence 1e-3
    tol = 1e-3 if isinstance(act, Tanh) else 1e-6
    assert dV == pytest.approx(v.A, rel=tol)
    assert dA == pytest.approx(v.V, rel=tol)


@pytest.mark.parametrize("act", [ReLU(0.01), HardTanh(0.05), Sign(0.05), LeakyReLU(0.3, 0.01),
                                 Linear(0.01), Tanh(0.01)], ids=repr)
@pytest.mark.parametrize("Vhat", [0.0, 0.05, 0.3])
def test_output_update_is_derivative(act, Vhat):
    ch = Channel(act, 0.5)
    h = 1e-5
    V0 = max(Vhat, 1e-3)
    dH = (ch.output_entropy(V0 * (1 + h)) - ch.output_entropy(V0 * (1 - h))) / (V0 * h)
    assert dH == pytest.approx(ch.output_A(V0), rel=1e-5)


@pytest.mark.parametrize("act", [ReLU(0.01), HardTanh(0.02), Sign(0.05)], ids=repr)
def test_output_entropy_against_quad(act):
    rho, Vhat = 0.5, 0.1
    m, v = rho - Vhat, Vhat + act.noise
    sv = np.sqrt(v)

    def h_given_omega(w):
        total = 0.0
        for p in act.pieces:
            a, b = (p.lo - w) / sv, (p.hi - w) / sv
            P = ndtr(b) - ndtr(a)
            if p.slope == 0:
                total += -P * np.log(P) if P > 0 else 0.0
            else:
                def integrand(u, w=w, slope=p.slope):
                    dens = np.exp(-0.5 * (u - w) ** 2 / v) / np.sqrt(2 * np.pi * v)
                    return -dens * np.log(dens / slope)

                val, _ = integrate.quad(integrand,
                                        max(p.lo, w - 12 * sv), min(p.hi, w + 12 * sv),
                                        epsabs=1e-13)
                total += val
        return total

    ref, _ = integrate.quad(lambda w: h_given_omega(w) * np.exp(-0.5 * w * w / m)
                            / np.sqrt(2 * np.pi * m), -10 * np.sqrt(m), 10 * np.sqrt(m),
                            epsabs=1e-12, limit=200)
    assert Channel(act, rho).output_entropy(Vhat) == pytest.approx(ref, abs=1e-8)


def _brute_hidden(act, rho, Ahat, Vhat):
    """Dense-grid reference: p(y|omega) by a fine u grid, then sums over (omega, y)."""
    m, v = rho - Vhat, Vhat + act.noise
    om = np.linspace(-8 * np.sqrt(m), 8 * np.sqrt(m), 161)
    wom = np.exp(-om**2 / (2 * m)) / np.sqrt(2 * np.pi * m) * (om[1] - om[0])
    u = np.linspace(-9, 9, 2401)
    y = np.linspace(-8, 8, 1281)
    fu = act.f(u)
    K = np.exp(-Ahat * (y[:, None] - fu[None, :]) ** 2 / 2) * np.sqrt(Ahat / (2 * np.pi))
    H = Vp = Ag = 0.0
    for o, wo in zip(om, wom, strict=True):
        pu = np.exp(-(u - o) ** 2 / (2 * v)) / np.sqrt(2 * np.pi * v) * (u[1] - u[0])
        py = K @ pu
        H += wo * -np.sum(py * np.log(np.maximum(py, 1e-300))) * (y[1] - y[0])
        post = K * pu[None, :] / np.maximum(py[:, None], 1e-300)
        Et, Et2, Eu = post @ fu, post @ fu**2, post @ u
        Vp += wo * np.sum(py * (Et2 - Et**2)) * (y[1] - y[0])
        Ag += wo * np.sum(py * ((Eu - o) / v) ** 2) * (y[1] - y[0])
    return H - 0.5 * np.log(2 * np.pi * np.e / Ahat), Ag, Vp


@pytest.mark.parametrize("act", [ReLU(0.05), HardTanh(0.05), Tanh(0.05)], ids=repr)
def test_hidden_channel_against_dense_grid(act):
    """Grid reference accurate to ~1e-5 (trapezoid steps 0.006 in u, 0.01 in y)."""
    ref = _brute_hidden(act, 0.5, 5.0, 0.25)
    v = Channel(act, 0.5).hidden(5.0, 0.25)
    assert v.mutual_information == pytest.approx(ref[0], abs=2e-5)
    assert v.A == pytest.approx(ref[1], rel=2e-4)
    assert v.V == pytest.approx(ref[2], rel=2e-4)


@pytest.mark.parametrize("act", [ReLU(0.01), HardTanh(0.0), pytest.param(
    Sign(0.05), marks=pytest.mark.xfail(strict=True, reason=(
        "known limitation: a Sign HIDDEN layer (two atoms) has log-odds transitions too sharp "
        "for the inner Gauss-Hermite rule; ~1e-4 in I and ~3e-2 relative in V")))], ids=repr)
def test_doubling_the_quadrature_order(act):
    """Fixed rules are converged: doubling every order moves I by < 1e-9, A and V by < 1e-7
    relative (measured: 1e-11 and 1e-9 at this point)."""
    base = Channel(act, 0.5).hidden(10.0, 0.25)
    quadrature.set_order(2)
    try:
        fine = Channel(act, 0.5).hidden(10.0, 0.25)
    finally:
        quadrature.set_order(1)
    assert fine.mutual_information == pytest.approx(base.mutual_information, abs=1e-9)
    assert fine.A == pytest.approx(base.A, rel=1e-7)
    assert fine.V == pytest.approx(base.V, rel=1e-7)


def _quad_hidden_mi(act, rho, Ahat, Vhat):
    """I(t; y | omega) by nested adaptive quadrature (scipy.integrate.quad, tolerance 1e-12)
    of -p log p, with p(y | omega) written independently of midnn.channels: a flat piece
    contributes P(u in piece | omega) N(y; b, 1/A^), a linear piece the Gaussian
    N(y; a omega + b, a^2 v + 1/A^) times the posterior probability that u is in the piece."""
    m, v = rho - Vhat, Vhat + act.noise
    sv, so = np.sqrt(v), 1 / np.sqrt(Ahat)

    def p_y(y, w):
        tot = 0.0
        for p in act.pieces:
            a, b = p.slope, p.intercept
            if a == 0:
                P = ndtr((p.hi - w) / sv) - ndtr((p.lo - w) / sv)
                tot += P * np.exp(-0.5 * Ahat * (y - b) ** 2) * np.sqrt(Ahat / (2 * np.pi))
            else:
                vy = a * a * v + so**2
                s2 = 1 / (1 / v + a * a * Ahat)
                mu = w + s2 * a * Ahat * (y - a * w - b)
                win = ndtr((p.hi - mu) / np.sqrt(s2)) - ndtr((p.lo - mu) / np.sqrt(s2))
                tot += np.exp(-0.5 * (y - a * w - b) ** 2 / vy) / np.sqrt(2 * np.pi * vy) * win
        return tot

    kinks = sorted({k for p in act.pieces for k in (p.lo, p.hi) if np.isfinite(k)})
    images = sorted({float(act.f(np.array([k]))[0]) for k in kinks})

    def h_y(w):
        def f(y):
            q = p_y(y, w)
            return -q * np.log(q) if q > 0 else 0.0
        lo = min(images + [w]) - 12 * (sv + so)
        hi = max(images + [w]) + 12 * (sv + so)
        return integrate.quad(f, lo, hi, points=images, epsabs=1e-13, epsrel=1e-12,
                              limit=400)[0]

    sm = np.sqrt(m)
    H = integrate.quad(lambda w: h_y(w) * np.exp(-0.5 * w * w / m) / np.sqrt(2 * np.pi * m),
                       -11 * sm, 11 * sm, points=[k for k in kinks if abs(k) < 11 * sm],
                       epsabs=1e-12, epsrel=1e-12, limit=400)[0]
    return H - 0.5 * np.log(2 * np.pi * np.e / Ahat)


@pytest.mark.parametrize("act,rho,Ahat,Vhat,tol", [
    (ReLU(0.01), 0.5, 30.0, 0.1, 1e-9),
    (HardTanh(0.0), 0.5, 30.0, 0.1, 1e-9),
    (LeakyReLU(0.2, 0.01), 0.5, 30.0, 0.1, 1e-9),
    # sharp: atom width 0.03 against sqrt(v) = 0.14; measured 2e-9 and 5e-9
    (ReLU(0.0), 1.0, 1e3, 0.02, 1e-8),
    (HardTanh(0.05), 1.0, 1e3, 0.02, 1e-8),
], ids=["relu", "hardtanh0", "leaky", "relu-sharp", "hardtanh-sharp"])
def test_hidden_information_against_nested_quad(act, rho, Ahat, Vhat, tol):
    """The 2-D fixed rule of the hidden channel against nested adaptive quadrature."""
    ref = _quad_hidden_mi(act, rho, Ahat, Vhat)
    assert Channel(act, rho).hidden(Ahat, Vhat).mutual_information == pytest.approx(ref, abs=tol)
