"""Independent ground truths of the scalar channels (written without midnn.channels).

Used by ``tests/data/make_channel_references.py``, which stores their values in
``tests/data/channel_references.json`` so that the tests need not recompute them.
"""

from __future__ import annotations

import numpy as np
from scipy import integrate
from scipy.special import ndtr


def output_entropy_quad(act, rho, V_tilde):
    """H(t | omega) of a piecewise-linear activation by nested adaptive quadrature
    (scipy.integrate.quad, tolerances 1e-12 outer and 1e-13 inner): atoms by -P log P,
    linear pieces by the integral of -p log p of their density."""
    m, v = rho - V_tilde, V_tilde + act.noise
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

                lo, hi = max(p.lo, w - 12 * sv), min(p.hi, w + 12 * sv)
                if lo < hi:  # else the piece is > 12 sd away: no mass
                    total += integrate.quad(integrand, lo, hi, epsabs=1e-13)[0]
        return total

    kinks = sorted({p.lo for p in act.pieces if np.isfinite(p.lo)})
    ref, _ = integrate.quad(lambda w: h_given_omega(w) * np.exp(-0.5 * w * w / m)
                            / np.sqrt(2 * np.pi * m), -10 * np.sqrt(m), 10 * np.sqrt(m),
                            epsabs=1e-12, limit=200,
                            points=[k for k in kinks if abs(k) < 10 * np.sqrt(m)] or None)
    return ref


def dense_grid_hidden(act, rho, A_tilde, V_tilde):
    """(I, A, V) of the hidden channel on a dense grid: p(y | omega) by a fine u grid, then
    trapezoid sums over (omega, y) (steps 0.006 in u and 0.01 in y: accurate to ~1e-5)."""
    m, v = rho - V_tilde, V_tilde + act.noise
    om = np.linspace(-8 * np.sqrt(m), 8 * np.sqrt(m), 161)
    wom = np.exp(-om**2 / (2 * m)) / np.sqrt(2 * np.pi * m) * (om[1] - om[0])
    u = np.linspace(-9, 9, 2401)
    y = np.linspace(-8, 8, 1281)
    fu = act.f(u)
    K = np.exp(-A_tilde * (y[:, None] - fu[None, :]) ** 2 / 2) * np.sqrt(A_tilde / (2 * np.pi))
    H = Vp = Ag = 0.0
    for o, wo in zip(om, wom, strict=True):
        pu = np.exp(-(u - o) ** 2 / (2 * v)) / np.sqrt(2 * np.pi * v) * (u[1] - u[0])
        py = K @ pu
        H += wo * -np.sum(py * np.log(np.maximum(py, 1e-300))) * (y[1] - y[0])
        post = K * pu[None, :] / np.maximum(py[:, None], 1e-300)
        Et, Et2, Eu = post @ fu, post @ fu**2, post @ u
        Vp += wo * np.sum(py * (Et2 - Et**2)) * (y[1] - y[0])
        Ag += wo * np.sum(py * ((Eu - o) / v) ** 2) * (y[1] - y[0])
    return H - 0.5 * np.log(2 * np.pi * np.e / A_tilde), Ag, Vp


def nested_quad_hidden_mi(act, rho, A_tilde, V_tilde):
    """I(t; y | omega) by nested adaptive quadrature (scipy.integrate.quad, tolerance 1e-12)
    of -p log p, with p(y | omega) written independently of midnn.channels: a flat piece
    contributes P(u in piece | omega) N(y; b, 1/A^), a linear piece the Gaussian
    N(y; a omega + b, a^2 v + 1/A^) times the posterior probability that u is in the piece.
    Break points: in y at the atoms, the kinks' images and the log-odds transition between
    two atoms; in omega at the kinks +- (0, 1, 3, 10) sqrt(v)."""
    m, v = rho - V_tilde, V_tilde + act.noise
    sv, so = np.sqrt(v), 1 / np.sqrt(A_tilde)

    def p_y(y, w):
        tot = 0.0
        for p in act.pieces:
            a, b = p.slope, p.intercept
            if a == 0:
                P = ndtr((p.hi - w) / sv) - ndtr((p.lo - w) / sv)
                tot += P * np.exp(-0.5 * A_tilde * (y - b) ** 2) * np.sqrt(A_tilde / (2 * np.pi))
            else:
                vy = a * a * v + so**2
                s2 = 1 / (1 / v + a * a * A_tilde)
                mu = w + s2 * a * A_tilde * (y - a * w - b)
                win = ndtr((p.hi - mu) / np.sqrt(s2)) - ndtr((p.lo - mu) / np.sqrt(s2))
                tot += np.exp(-0.5 * (y - a * w - b) ** 2 / vy) / np.sqrt(2 * np.pi * vy) * win
        return tot

    kinks = sorted({k for p in act.pieces for k in (p.lo, p.hi) if np.isfinite(k)})
    # values of t where p(y | omega) has structure: the images of the kinks and the atoms
    # (for sign the kink's image is one atom only)
    images = sorted({float(act.f(np.array([k]))[0]) for k in kinks}
                    | {float(p.intercept) for p in act.pieces if p.slope == 0})

    flat = [p for p in act.pieces if p.slope == 0]

    def h_y(w):
        def f(y):
            q = p_y(y, w)
            return -q * np.log(q) if q > 0 else 0.0
        lo = min(images + [w]) - 12 * (sv + so)
        hi = max(images + [w]) + 12 * (sv + so)
        # between two atoms b1 < b2 with probabilities P1, P2, log p(y | omega) turns from
        # one to the other at y* = (b1 + b2)/2 + log(P1/P2) / (A^ (b2 - b1)), over a width
        # 1/(A^ (b2 - b1)): a break point for quad
        points = list(images)
        for i, p1 in enumerate(flat):
            for p2 in flat[i + 1:]:
                P1 = ndtr((p1.hi - w) / sv) - ndtr((p1.lo - w) / sv)
                P2 = ndtr((p2.hi - w) / sv) - ndtr((p2.lo - w) / sv)
                if P1 > 0 and P2 > 0:
                    d = p2.intercept - p1.intercept
                    ystar = 0.5 * (p1.intercept + p2.intercept) + np.log(P1 / P2) / (A_tilde * d)
                    if lo < ystar < hi:
                        points.append(ystar)
        return integrate.quad(f, lo, hi, points=sorted(points), epsabs=1e-13, epsrel=1e-12,
                              limit=400)[0]

    sm = np.sqrt(m)
    # the integrand is I(t; y | omega) (h(y | omega) minus the constant h(xi'/sqrt(A^))),
    # which varies on the scale sqrt(v) around each kink: break points there
    h0 = 0.5 * np.log(2 * np.pi * np.e / A_tilde)
    brk = sorted({k + d * sv for k in kinks for d in (-10, -3, -1, 0, 1, 3, 10)
                  if abs(k + d * sv) < 11 * sm})
    return integrate.quad(lambda w: (h_y(w) - h0) * np.exp(-0.5 * w * w / m)
                          / np.sqrt(2 * np.pi * m), -11 * sm, 11 * sm, points=brk,
                          epsabs=1e-12, epsrel=1e-12, limit=400)[0]
