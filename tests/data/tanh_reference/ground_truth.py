"""Reference values of the tanh hidden channel by nested adaptive quadrature.

The channel: omega ~ N(0, m), u = omega + sqrt(v) g, t = tanh(u), y = t + xi'/sqrt(A).
For one omega, with phi_v the N(0, v) density and

    q(y | omega) = int phi_v(u - omega) exp(-A/2 (y - tanh u)^2) du      (so p(y|omega) =
                                                                          sqrt(A/2pi) q),

the three quantities are averages over omega of

    I(omega) = -int p(y|omega) log q(y|omega) dy - 1/2        (= I(t; y | omega)),
    A(omega) = int p(y|omega) g(y)^2 dy,   g = E[u - omega | y, omega] / v,
    V(omega) = int p(y|omega) Var(t | y, omega) dy.

When A Var(t|omega) <= 1 the entropy term is written about c = E[t|omega] instead,
I(omega) = A/2 Var(t|omega) - int p log r dy with r = q exp(A/2 (y - c)^2), whose
integrand is O(A^2) rather than O(1) (the plain form would lose the small I to the
rounding of a number ~1/2).

Three nested levels, each scipy.integrate (QUADPACK qagp / quad_vec):

* u (innermost, for every (y, omega)): the integrand is compiled C (gt_integrand.c, called
  through a LowLevelCallable); it is shifted by the maximum of its logarithm over a dense
  probe grid and integrated over the region where that logarithm is within 80 of it, with
  breakpoints at omega + k sqrt(v), at atanh(y) + k / (sqrt(A)(1 - y^2)) and on the
  saturation plateaus of tanh (epsrel 1e-13). The posterior variance is integrated about
  the posterior mean (second pass), so it keeps its relative accuracy when tiny.
* y: quad_vec of (I, A, V, normalisation) integrands rescaled to O(1) by a first coarse
  pass, breakpoints at +-1 + k/sqrt(A) and at tanh(omega + k sqrt(v)) (epsrel 1e-12).
* omega >= 0 (the channel is even in omega): quad_vec with weight 2 phi_m(omega),
  breakpoints at k sqrt(v), k sqrt(m) and on the tanh scale (epsrel 1e-11).

Running this module recomputes tests/data/tanh_references.json (about 1.5 hours on one core;
25 s to 11 min per point):

    python ground_truth.py [--jobs 2]
"""

from __future__ import annotations

import argparse
import ctypes
import json
import math
import os
import subprocess
import time
import warnings
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from scipy import LowLevelCallable, integrate

HERE = os.path.dirname(os.path.abspath(__file__))
_SRC = os.path.join(HERE, "gt_integrand.c")
_LIB = os.path.join(HERE, "gt_integrand.so")

#: Relative tolerances of the three levels.
EPS_U, EPS_Y, EPS_OMEGA = 1e-13, 1e-12, 1e-11
#: Log-integrand drop beyond which the innermost integrand is left out (e^-80 ~ 2e-35).
DROP = 80.0


def _compile() -> None:
    if not os.path.exists(_LIB) or os.path.getmtime(_LIB) < os.path.getmtime(_SRC):
        subprocess.run(["gcc", "-O2", "-shared", "-fPIC", "-o", _LIB, _SRC, "-lm"], check=True)


_compile()
_lib = ctypes.CDLL(_LIB)
_lib.integrand.restype = ctypes.c_double
_lib.integrand.argtypes = (ctypes.c_int, ctypes.POINTER(ctypes.c_double))
_F = LowLevelCallable(_lib.integrand)

_PLATEAU = [s * k for k in (0.5, 1, 2, 3, 4, 6, 8, 10, 13, 16, 20, 25) for s in (1, -1)]


def _log_integrand(u, omega, v, A, y, c, centered):
    t = np.tanh(u)
    if centered:
        tc = t - c
        return -0.5 * (u - omega) ** 2 / v + A * tc * ((y - c) - 0.5 * tc)
    return -0.5 * (u - omega) ** 2 / v - 0.5 * A * (y - t) ** 2


def posterior(y: float, omega: float, A: float, v: float, c: float, centered: bool):
    """(log of the u-integral, E[t|y], Var(t|y), E[u - omega|y]/v) for one (y, omega).

    The u-integral is r(y) (centered) or q(y) (plain) of the module docstring."""
    sv = math.sqrt(v)
    probes = [omega + sv * np.linspace(-40, 40, 1601), np.linspace(-30, 30, 3001)]
    ystar = None
    if abs(y) < 1:
        ystar, ell = math.atanh(y), 1.0 / (math.sqrt(A) * (1 - y * y))
        probes.append(ystar + ell * np.linspace(-40, 40, 801))
    g = np.concatenate(probes)
    g = g[np.abs(g - omega) <= 40 * sv]
    lf = _log_integrand(g, omega, v, A, y, c, centered)
    shift = float(lf.max())
    sig = g[lf > shift - DROP]
    span = sig.max() - sig.min()
    lo = max(sig.min() - 0.05 * span - 1e-3 * sv, omega - 40 * sv)
    hi = min(sig.max() + 0.05 * span + 1e-3 * sv, omega + 40 * sv)
    pts = [omega + sv * k for k in (-16, -8, -4, -2, -1, 0, 1, 2, 4, 8, 16)] + _PLATEAU
    if ystar is not None:
        pts += [ystar + ell * k for k in (-16, -8, -4, -2, -1, 0, 1, 2, 4, 8, 16)]
    pts = sorted(p for p in set(pts) if lo < p < hi)

    def quad(mode, center=0.0):
        args = (omega, v, A, y, c, shift, float(mode), center, float(centered))
        return integrate.quad(_F, lo, hi, args=args, points=pts, limit=500, epsabs=0.0,
                              epsrel=EPS_U)[0]

    Z = quad(0)
    mean = quad(1) / Z
    var = quad(2, mean) / Z
    g_out = quad(3) / Z / v
    return shift + math.log(Z / math.sqrt(2 * math.pi * v)), mean, var, g_out


def prior_moments(omega: float, v: float) -> tuple[float, float]:
    """E[t | omega] and Var(t | omega)."""
    sv = math.sqrt(v)
    lo, hi = omega - 40 * sv, omega + 40 * sv
    pts = sorted(p for p in set([omega + sv * k for k in (-8, -4, -2, -1, 0, 1, 2, 4, 8)]
                                + _PLATEAU + [0.0]) if lo < p < hi)
    def dens(u):
        return math.exp(-0.5 * (u - omega) ** 2 / v) / math.sqrt(2 * math.pi * v)

    mean = integrate.quad(lambda u: dens(u) * math.tanh(u), lo, hi, points=pts, limit=500,
                          epsabs=1e-17, epsrel=1e-13)[0]
    var = integrate.quad(lambda u: dens(u) * (math.tanh(u) - mean) ** 2, lo, hi, points=pts,
                         limit=500, epsabs=0.0, epsrel=1e-13)[0]
    return mean, var


def per_omega(omega: float, A: float, v: float, floor=None) -> np.ndarray:
    """(I(omega), A(omega), V(omega), int p dy) at one omega.

    ``floor`` (magnitudes of the A and V integrals that matter, from omega = 0) turns the
    relative tolerance into an absolute one where these integrals are far smaller (omega deep
    in the saturated range), where a relative tolerance would only chase rounding noise."""
    c, var_t = prior_moments(omega, v)
    centered = A * var_t <= 1.0
    sa = 1.0 / math.sqrt(A)
    sv = math.sqrt(v)
    t_lo, t_hi = math.tanh(omega - 40 * sv), math.tanh(omega + 40 * sv)
    lo, hi = t_lo - 40 * sa, t_hi + 40 * sa
    pts = [c] + [s + k * sa for s in (-1, 1) for k in (-8, -4, -2, -1, 0, 1, 2, 4, 8)]
    pts += [math.tanh(omega + k * sv) for k in (-8, -4, -2, -1, 0, 1, 2, 4, 8)]
    pts = sorted(p for p in set(pts) if lo < p < hi)

    def parts(y):
        logz, mean, var, g = posterior(y, omega, A, v, c, centered)
        if centered:
            p = math.sqrt(A / (2 * math.pi)) * math.exp(logz - 0.5 * A * (y - c) ** 2)
        else:
            p = math.sqrt(A / (2 * math.pi)) * math.exp(logz)
        return np.array([p * logz, p * g * g, p * var, p])

    # coarse pass: magnitudes of the A, V and normalisation integrals, to rescale them to
    # O(1); the entropy part is kept absolute (its inner values carry ~1e-13 absolute noise)
    coarse = integrate.quad_vec(parts, lo, hi, points=pts, epsrel=1e-4, norm="max")[0]
    scale = np.maximum(np.abs(coarse), 1e-300)
    scale[0] = 1.0
    if floor is not None:
        scale[1:3] = np.maximum(scale[1:3], floor)
    res = integrate.quad_vec(lambda y: parts(y) / scale, lo, hi, points=pts, epsabs=0.0,
                             epsrel=EPS_Y, norm="max", limit=4000)[0] * scale
    mi = 0.5 * A * var_t - res[0] if centered else -res[0] - 0.5
    return np.array([mi, res[1], res[2], res[3]])


def conditional_variance(m: float, v: float) -> float:
    """E_omega Var(t | omega) (the V-update at A = 0)."""
    if m == 0:
        return prior_moments(0.0, v)[1]
    sm = math.sqrt(m)
    pts = sorted(set([k * math.sqrt(v) for k in (1, 2, 4, 8)] + [1, 2, 4, 8, 16]
                     + [k * sm for k in (1, 2, 4)]))
    pts = [p for p in pts if 0 < p < 10 * sm]
    def f(w):
        return 2 * math.exp(-0.5 * w * w / m) / math.sqrt(2 * math.pi * m) * prior_moments(w, v)[1]

    return integrate.quad(f, 0, 10 * sm, points=pts, limit=500, epsabs=0, epsrel=1e-12)[0]


def reference(A: float, m: float, v: float) -> dict:
    """Reference (I, A_upd, V_upd) of the hidden tanh channel, with a convergence note."""
    t0 = time.time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        if A == 0:
            return dict(I=0.0, A_upd=0.0, V_upd=conditional_variance(m, v), seconds=0.0)
        if m == 0:
            I, Au, Vu, norm = per_omega(0.0, A, v)
        else:
            sm = math.sqrt(m)
            sv = math.sqrt(v)
            # few breakpoints: the omega-integrand is smooth; these only mark its scales
            pts = sorted(p for p in {sv, 4 * sv, 2.0, 6.0, sm, 3 * sm} if 0 < p < 10 * sm)
            def wgt(w):
                return 2 * math.exp(-0.5 * w * w / m) / math.sqrt(2 * math.pi * m)

            f0 = per_omega(0.0, A, v)
            floor = 1e-4 * np.abs(f0[1:3])

            def f(w):
                return wgt(w) * per_omega(w, A, v, floor)

            # the three integrals rescaled to O(1) by their integrands at omega = 0
            scale = np.maximum(np.abs(wgt(0.0) * f0), 1e-300)
            scale[0] = max(scale[0], 0.1)
            I, Au, Vu, norm = integrate.quad_vec(lambda w: f(w) / scale, 0, 10 * sm, points=pts,
                                                 epsabs=0.0, epsrel=EPS_OMEGA, norm="max",
                                                 quadrature="gk15", limit=2000)[0] * scale
    return dict(I=float(I), A_upd=float(Au), V_upd=float(Vu), norm=float(norm),
                seconds=round(time.time() - t0, 1))


#: (label, A, m, v): weak (A v << 1), moderate, sharp (A v up to 1e8), tiny and huge v,
#: m = 0, large m, tiny A and A = 0.
POINTS = [
    ("weak", 0.01, 0.5, 0.1),
    ("tiny-A", 1e-6, 1.0, 1.0),
    ("moderate", 1.0, 0.5, 0.5),
    ("moderate-2", 10.0, 0.3, 0.2),
    ("moderate-3", 2.0, 2.0, 2.0),
    ("moderate-4", 50.0, 5.0, 0.05),
    ("sharp-1e3", 1e3, 0.5, 1.0),
    ("sharp-1e4", 1e4, 0.5, 1.0),
    ("sharp-5e4", 1e5, 1.0, 0.5),
    ("sharp-A1e8", 1e8, 0.5, 1e-4),
    ("sharp-1e8", 3e7, 2.0, 3.0),
    ("tiny-v", 10.0, 0.5, 1e-8),
    ("tiny-v-2", 1e4, 1.0, 1e-8),
    ("tiny-v-sharp", 1e8, 0.5, 1e-8),
    ("v-1e-10", 1e8, 1.0, 1e-10),
    ("huge-v-10", 1.0, 0.5, 10.0),
    ("huge-v-10b", 100.0, 1.0, 10.0),
    ("huge-v-1e3", 1e4, 0.5, 1e3),
    ("huge-v-1e5", 10.0, 1.0, 1e5),
    ("huge-v-1e5-sharp", 1e6, 0.2, 1e5),
    ("huge-v-1e6", 100.0, 50.0, 1e6),
    ("m0", 5.0, 0.0, 0.3),
    ("m0-sharp", 1e4, 0.0, 10.0),
    ("m20", 10.0, 20.0, 0.1),
    ("m20-sharp", 1e3, 20.0, 1.0),
    ("m50", 1.0, 50.0, 1e-3),
    ("tiny-A-m20", 1e-6, 20.0, 1e-2),
    ("tiny-A-huge-v", 1e-6, 0.1, 1e3),
    ("A0", 0.0, 1.0, 0.5),
    ("A0-m20", 0.0, 20.0, 100.0),
]


def _run(point):
    label, A, m, v = point
    return dict(label=label, A=A, m=m, v=v, **reference(A, m, v))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", default=os.path.join(HERE, os.pardir, "tanh_references.json"))
    args = parser.parse_args()
    with ProcessPoolExecutor(args.jobs) as pool:
        rows = []
        for row in pool.map(_run, POINTS):
            print(f"{row['label']:18s} I={row['I']:.15g} A={row['A_upd']:.15g} "
                  f"V={row['V_upd']:.15g} ({row['seconds']} s)", flush=True)
            rows.append(row)
    recipe = {
        "model": "omega ~ N(0,m), u = omega + sqrt(v) g, t = tanh(u), y = t + xi'/sqrt(A)",
        "quantities": "I = I(t; y | omega), A_upd = E[g_out^2], V_upd = E Var(t | y, omega)",
        "method": "nested adaptive QUADPACK (scipy.integrate.quad / quad_vec) over omega >= 0,"
                  " y and u; innermost integrand compiled C; see ground_truth.py",
        "tolerances": {"u": EPS_U, "y": EPS_Y, "omega": EPS_OMEGA},
    }
    with open(args.out, "w") as fh:
        json.dump({"recipe": recipe, "points": rows}, fh, indent=1)


if __name__ == "__main__":
    main()
