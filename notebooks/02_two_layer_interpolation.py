# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     notebook_metadata_filter: kernelspec,jupytext,-jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 02 — The two-layer theorem: finite-size ground truth and the adaptive interpolation
#
# This notebook checks **Theorem 1** of Gabrié et al. (2018) — the replica formula is exact
# for two layers with Gaussian i.i.d. weights — in two ways:
#
# 1. against **exact finite-$n$ values** (log-determinants for linear Gaussian networks,
#    exact enumeration of the $2^{n_0}$ inputs for $\pm1$ inputs), extrapolated to
#    $n_0\to\infty$ linearly in $1/n_0$;
# 2. through the **adaptive interpolation** of the proof, which is exactly computable at
#    finite $n$ in the Gaussian-linear case (`midnn.interpolation`).
#
# All quantities are in nats per input unit $n_0$.

# %% tags=["parameters"]
SEED = 0
NOISE2 = 0.1                      # output noise Delta_2 (hidden layers noiseless)
# (a) linear-linear, Gaussian prior, exact log-determinants
LIN_ALPHAS = [(1.0, 0.75), (0.5, 2.0), (2.0, 0.5)]
LIN_N0 = [100, 200, 400, 800]
LIN_DRAWS = 3
# (b) +-1 prior, exact enumeration
ENUM_ALPHAS = (1.0, 0.5)
ENUM_N0 = [8, 10, 12, 14]
ENUM_DRAWS = 24
ENUM_SAMPLES = 200
USE_TANH = True                   # False: HardTanh hidden layer instead of Tanh
MODEL_ALLOWANCE = 0.005           # nats: O(1/n0^2) curvature left by the linear extrapolation
# (c) interpolation (Gaussian-linear, exact)
INTERP_ALPHAS = (1.0, 0.75)
INTERP_N0 = [50, 100, 200, 400]
INTERP_STEPS = 16
INTERP_DRAWS = 3
# (d) interpolation for the +-1 prior / bounded hidden layer, by enumeration (ENUM_ALPHAS)
BIN_INTERP_N0 = [8, 10, 12, 14]
BIN_INTERP_DRAWS = 4
BIN_INTERP_SAMPLES = 200          # Monte Carlo samples per time (common random numbers)
BIN_INTERP_STEPS = 8

# %%
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # small dense algebra: avoid oversubscription
import math  # noqa: E402
import time  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from midnn import Layer, Model, replica  # noqa: E402
from midnn.activations import HardTanh, Linear, ReLU, Sign, Tanh  # noqa: E402
from midnn.exact import binary_enumeration, linear_gaussian  # noqa: E402
from midnn.interpolation import (  # noqa: E402
    BinaryPath,
    GaussianPath,
    adaptive_sum_rule,
    fixed_sum_rule,
    linear_interpolation_point,
    linear_replica_fixed_point,
)
from midnn.priors import Binary, Gaussian  # noqa: E402
from midnn.spectra import MarchenkoPastur  # noqa: E402

T0 = time.time()
os.makedirs("../figures", exist_ok=True)

# %% [markdown]
# ## 1. Theorem 1
#
# **Model.** $X\in\mathbb R^{n_0}$ with i.i.d. components $x_i\sim P_0$,
# $T_1=\varphi_1(W_1X+\xi_1)$, $T_2=\varphi_2(W_2T_1+\xi_2)$ componentwise,
# $W_k\in\mathbb R^{n_k\times n_{k-1}}$, $\alpha_k=n_k/n_{k-1}$ fixed as $n_0\to\infty$,
# $\tilde\alpha_1=\alpha_1$, $\tilde\alpha_2=\alpha_1\alpha_2$.
#
# **Hypotheses.**
# * **(H1)** $P_0$ is separable with bounded support.
# * **(H2)** $\varphi_1,\varphi_2$ are bounded $C^2$ functions with bounded first and second
#   derivatives (w.r.t. their first argument); the noise enters as above.
# * **(H3)** $W_1,W_2$ have i.i.d. $\mathcal N(0,1/n_{k-1})$ entries.
#
# **Conclusion.** $\lim H(T_2)/n_0$ exists and equals the replica formula specialised to
# Gaussian weights (digest §4.1). With $\rho_1=\mathbb E x^2$, $\rho_2=\mathbb E t_1^2$, the
# SNRs $r_k\equiv\tilde A_k\ge0$ and the overlaps $q_k\equiv\rho_k-V_k\in[0,\rho_k]$,
#
# $$\phi(r_1,q_1,r_2,q_2)=I\big(x;x+\xi/\sqrt{r_1}\big)-\tfrac12 r_1(\rho_1-q_1)
# -\tfrac{\tilde\alpha_1}{2}r_2(\rho_2-q_2)
# +\tilde\alpha_1\,I\big(t_1;t_1+\xi'/\sqrt{r_2}\,\big|\,\xi_1\big)_{q_1}
# +\tilde\alpha_2\,H\big(t_2\,\big|\,\xi_2\big)_{q_2},$$
#
# where in the hidden channel $z_1=\sqrt{q_1}\,\xi_1+\sqrt{\rho_1-q_1}\,\tilde z$,
# $t_1\sim P_1(\cdot|z_1)$, and in the output channel
# $z_2=\sqrt{q_2}\,\xi_2+\sqrt{\rho_2-q_2}\,\tilde z$, $t_2\sim P_2(\cdot|z_2)$.
#
# **Order of the extremisation (derived here, not checked against the paper's text).**
# The interpolation below removes layer 2 first: its sum rule has the form
# $h_n(0)=h_n(1)-\frac{\tilde\alpha_1}2\int R_1'(\rho_2-R_2')\,dt-\int\mathcal R_n$, where
# $h_n(1)$ is the entropy of the decoupled model (a one-layer GLM seen through an AWGN
# side channel of SNR $R_1(1)$, plus a scalar output channel at overlap $R_2(1)$). The free
# entropy is $f=-h+\text{const}$; the one-layer GLM theorem (Barbier et al.) gives
# $f=\sup_{q}\inf_{r}f_{\rm RS}$, and the adaptive interpolation for the outer layer gives
# the same $\sup_{q_2}\inf_{r_2}$ structure. Changing sign,
#
# $$\lim_{n_0\to\infty}\frac{H(T_2)}{n_0}=\inf_{q_2\in[0,\rho_2]}\ \sup_{r_2\ge0}\
# \inf_{q_1\in[0,\rho_1]}\ \sup_{r_1\ge0}\ \phi(r_1,q_1,r_2,q_2).$$
#
# Justification in one line: $\phi$ is concave in each $r_k$ at fixed $q_k$ (a mutual
# information is concave in the SNR, the bilinear term is linear), so $\sup_{r_k}$ is
# attained at the stationary point $\rho_k-q_k=\mathrm{mmse}$; the remaining $\inf_{q_k}$
# is the "minimum over stationary points" of Claim 1. (The digest's guess
# "$-\sup_{r_1}\inf_{q_1}\sup_{r_2}\inf_{q_2}$" nests the layers in the opposite order;
# whether the two orders agree in general is not checked here. Numerically we only use the
# stationary point selected by `replica`.)
#
# The Gaussian-linear case is not covered by (H1)-(H2) (unbounded prior and activation) but
# there the formula is classical (log-determinants / free probability); we use it to make the
# interpolation exact.

# %% [markdown]
# ## 2. Finite-size check
#
# ### 2a. Linear–linear, Gaussian prior: exact log-determinants


# %%
def draw_weights(n0, a1, a2, rng):
    n1, n2 = int(round(a1 * n0)), int(round(a2 * a1 * n0))
    return [rng.standard_normal((n1, n0)) / math.sqrt(n0),
            rng.standard_normal((n2, n1)) / math.sqrt(n1)]


def wls_extrapolate(n0s, means, ses):
    """Weighted least squares fit y = a + b / n0; returns a and its standard error."""
    X = np.column_stack([np.ones(len(n0s)), 1.0 / np.asarray(n0s, float)])
    w = 1.0 / np.asarray(ses) ** 2
    cov = np.linalg.inv(X.T @ (X * w[:, None]))
    coef = cov @ (X.T @ (w * np.asarray(means)))
    return coef[0], math.sqrt(cov[0, 0]), coef


def two_layer(prior, a1, a2, act1, act2):
    return Model(prior, [Layer(MarchenkoPastur(a1), act1), Layer(MarchenkoPastur(a2), act2)])


rng = np.random.default_rng(SEED)
lin_rows = []
for a1, a2 in LIN_ALPHAS:
    rep = replica(two_layer(Gaussian(0.0, 1.0), a1, a2, Linear(0.0), Linear(NOISE2)))
    vals = {"H": [], "I": []}
    for n0 in LIN_N0:
        hs, mis = [], []
        for _ in range(LIN_DRAWS):
            ex = linear_gaussian(draw_weights(n0, a1, a2, rng), [0.0, NOISE2])
            hs.append(ex.entropy[1])
            mis.append(ex.mutual_information[1])
        vals["H"].append((np.mean(hs), np.std(hs, ddof=1) / math.sqrt(LIN_DRAWS)))
        vals["I"].append((np.mean(mis), np.std(mis, ddof=1) / math.sqrt(LIN_DRAWS)))
    for q, r in (("H", rep.entropy[1]), ("I", rep.mutual_information[1])):
        m, s = np.array(vals[q]).T
        ext, se, coef = wls_extrapolate(LIN_N0, m, np.maximum(s, 1e-12))
        lin_rows.append(dict(case=f"lin-lin a=({a1},{a2})", q=q, rep=r, ext=ext, se=se,
                             n0=LIN_N0, m=m, s=s, coef=coef))

for row in lin_rows:
    print(f"{row['case']:24s} {row['q']}: replica {row['rep']:.4f}  extrapolated "
          f"{row['ext']:.4f} +- {row['se']:.4f}")

# %%
for row in lin_rows:
    diff = row["rep"] - row["ext"]
    assert abs(diff) < 3 * row["se"] + MODEL_ALLOWANCE / 5, (row["case"], row["q"], diff)
print("linear-linear: |replica - extrapolated| < 3 sigma + 0.001 for every case")

# %% [markdown]
# ### 2b. $\pm1$ prior: exact enumeration of the $2^{n_0}$ inputs
#
# Hidden layers are noiseless and the output carries the noise $\Delta_2$. Cases: bounded
# hidden activation + linear output (tanh: bounded and $C^2$ with bounded derivatives, inside
# (H2); `USE_TANH = False` uses hardtanh, bounded but not $C^2$),
# linear hidden + sign output, and ReLU hidden + linear output (unbounded: outside (H2)).
# Error bars combine the draw-to-draw spread and the Monte Carlo errors (conservatively,
# $\sigma_n^2=s^2_{\rm draws}/D+\overline{\mathrm{se}^2_{\rm MC}}/D$).

# %%
bounded = Tanh(0.0) if USE_TANH else HardTanh(0.0)
enum_cases = [
    (f"{type(bounded).__name__.lower()}-linear", bounded, Linear(NOISE2)),
    ("linear-sign", Linear(0.0), Sign(NOISE2)),
    ("relu-linear (outside H2)", ReLU(0.0), Linear(NOISE2)),
]
a1, a2 = ENUM_ALPHAS
enum_rows = []
t_enum = time.time()
for name, act1, act2 in enum_cases:
    rep = replica(two_layer(Binary(0.5), a1, a2, act1, act2))
    vals = {"H": [], "I": []}
    for n0 in ENUM_N0:
        hs, mis, se2 = [], [], []
        for d in range(ENUM_DRAWS):
            W = draw_weights(n0, a1, a2, rng)
            ex = binary_enumeration(W, [act1, act2], 0.5, n_samples=ENUM_SAMPLES,
                                    seed=SEED + 1000 * n0 + d)
            hs.append(ex.entropy)
            mis.append(ex.mutual_information)
            se2.append(ex.entropy_se ** 2)
        s_draw = np.var(hs, ddof=1) / ENUM_DRAWS + np.mean(se2) / ENUM_DRAWS
        s_draw_i = np.var(mis, ddof=1) / ENUM_DRAWS + np.mean(se2) / ENUM_DRAWS
        vals["H"].append((np.mean(hs), math.sqrt(s_draw)))
        vals["I"].append((np.mean(mis), math.sqrt(s_draw_i)))
    for q, r in (("H", rep.entropy[1]), ("I", rep.mutual_information[1])):
        m, s = np.array(vals[q]).T
        ext, se, coef = wls_extrapolate(ENUM_N0, m, s)
        enum_rows.append(dict(case=name, q=q, rep=r, ext=ext, se=se, n0=ENUM_N0, m=m, s=s,
                              coef=coef))
for row in enum_rows:
    print(f"{row['case']:26s} {row['q']}: replica {row['rep']:.3f}  extrapolated "
          f"{row['ext']:.3f} +- {row['se']:.3f}")

# %%
# NBVAL_IGNORE_OUTPUT
print(f"enumeration: {time.time() - t_enum:.1f} s")

# %%
for row in enum_rows:
    diff = row["rep"] - row["ext"]
    row["ok"] = abs(diff) < 3 * row["se"] + MODEL_ALLOWANCE
    assert row["ok"], (row["case"], row["q"], diff, row["se"])
print(f"+-1 prior: |replica - extrapolated| < 3 sigma + {MODEL_ALLOWANCE} for every case")

# %%
rows = lin_rows + enum_rows
fig, axes = plt.subplots(2, 6, figsize=(18, 6), constrained_layout=True)
for k, row in enumerate(rows):
    ax = axes[k % 2, k // 2]
    x = 1.0 / np.asarray(row["n0"], float)
    ax.errorbar(x, row["m"], yerr=row["s"], fmt="o", ms=4, label="exact finite $n_0$")
    xx = np.linspace(0, x.max() * 1.05, 50)
    ax.plot(xx, row["coef"][0] + row["coef"][1] * xx, "C0--", lw=1, label="WLS fit")
    ax.errorbar([0], [row["ext"]], yerr=[3 * row["se"]], fmt="s", color="C0", capsize=3)
    ax.plot([0], [row["rep"]], "r*", ms=12, label="replica")
    ax.set_title(f"{row['case']}\n{'H(T_2)' if row['q'] == 'H' else 'I(X;T_2)'}/$n_0$",
                 fontsize=9)
    ax.set_xlabel("$1/n_0$")
axes[0, 0].legend(fontsize=7)
fig.savefig("../figures/02_finite_size.png", dpi=120)
plt.show()

# %% [markdown]
# ## 3. The adaptive interpolation, exactly, in the Gaussian-linear case
#
# At time $t\in[0,1]$ the second layer is partly replaced (`midnn.interpolation`):
#
# $$Y_t=\sqrt{1-t}\,W_2T_1+\sqrt{R_2(t)}\,V+\sqrt{\rho_2t-R_2(t)}\,U+\sqrt{\Delta_2}\,Z,
# \qquad Y'_t=\sqrt{R_1(t)}\,T_1+Z',$$
#
# with $V$ known, $U,Z,Z'$ unknown standard Gaussians, $R_1(0)=R_2(0)=0$. At $t=0$ this is
# the true model (plus an uninformative $Y'_0$), at $t=1$ the decoupled one: a scalar
# Gaussian output channel at overlap $R_2(1)$ and a one-layer GLM observed at SNR $R_1(1)$.
# With $X\sim\mathcal N(0,I)$ and linear layers all variables are jointly Gaussian, so
# $h_n(t)=H(Y_t,Y'_t|V)/n_0=\frac1{2n_0}[(n_1+n_2)\log2\pi e+\log\det\Sigma_t]$ exactly.
# Jacobi's formula gives, with $e$ the MMSE of $T_1$, $b$ that of $S=W_2T_1$ (per component),
# $\sigma_t^2=\Delta_2+\rho t-R_2$ and $g=\sigma_t^{-2}(1-(1-t)b/\sigma_t^2)$,
#
# $$h_n'(t)=\frac{\tilde\alpha_2}2\Big[(\rho-R_2')g-\frac{b}{\sigma_t^2}\Big]
# +\frac{\tilde\alpha_1}2R_1'e .$$
#
# **Sum rule.** $h_n(0)=h_n(1)-\frac{\tilde\alpha_1}2\int_0^1R_1'(\rho-R_2')\,dt
# -\int_0^1\mathcal R_n(t)\,dt$ with the remainder
#
# $$\mathcal R_n=\underbrace{\tfrac12(q-R_2')(\tilde\alpha_2g-\tilde\alpha_1R_1')}
# _{\text{overlap}\times\text{channel}}+\underbrace{\tfrac{\tilde\alpha_2}2\big(eg-b/\sigma_t^2\big)}
# _{\text{fluctuation, }O(1/n)},\qquad q=\rho-e .$$
#
# The second term vanishes when the pre-activation behaves as a scalar channel
# ($b=e\sigma^2/(\sigma^2+(1-t)e)$, a concentration / free-probability identity). The
# **adaptive choice** $R_2'(t)=q_n(t)$ — the current overlap, an ODE because $q_n$ depends on
# $R_1,R_2$ — kills the first term for any $R_1'$; we take $R_1'=r_2^\star$ (the replica
# fixed point), so $h_n(1)-\frac{\tilde\alpha_1}2\int R_1'(\rho-R_2')$ is a finite-$n$
# version of the potential. A **bad path** ($R_2'\equiv0$, same $R_1'$) leaves an $O(1)$
# remainder.

# %%
a1, a2 = INTERP_ALPHAS
fp = linear_replica_fixed_point(a1, a2, 1.0, NOISE2)
const = 0.5 * a1 * math.log(2 * math.pi * math.e)  # h_n(0) = H(T_2)/n0 + const
rep_H = replica(two_layer(Gaussian(0.0, 1.0), a1, a2, Linear(0.0), Linear(NOISE2))).entropy[1]
assert abs(fp["entropy"] - rep_H) < 1e-8
print(f"replica fixed point: r2* = {fp['r2']:.4f}, q2* = {fp['q2']:.4f}, "
      f"H(T2)/n0 = {rep_H:.4f}")

rng_i = np.random.default_rng(SEED + 7)
interp = []
t_int = time.time()
for n0 in INTERP_N0:
    for _draw in range(INTERP_DRAWS):
        W1, W2 = draw_weights(n0, a1, a2, rng_i)
        path = GaussianPath(W1, W2, var=1.0, delta1=0.0, delta2=NOISE2)
        # finite differences of h_n(t) versus the exact derivative, along a generic path
        fd_err = 0.0
        for t in (0.2, 0.5, 0.8):
            R1, R2, d1, d2, eps = 0.5 * t, 0.3 * t, 0.5, 0.3, 1e-5
            pt = linear_interpolation_point(path, t, R1, R2, d1, d2)
            hp = linear_interpolation_point(path, t + eps, R1 + eps * d1, R2 + eps * d2,
                                            d1, d2).h
            hm = linear_interpolation_point(path, t - eps, R1 - eps * d1, R2 - eps * d2,
                                            d1, d2).h
            fd_err = max(fd_err, abs(pt.dh - (hp - hm) / (2 * eps)))
        ad = adaptive_sum_rule(path, fp["r2"], n_steps=INTERP_STEPS)
        bad = fixed_sum_rule(path, fp["r2"], 0.0, n_steps=INTERP_STEPS)
        exact_H = linear_gaussian([W1, W2], [0.0, NOISE2]).entropy[1]
        interp.append(dict(n0=n0, fd_err=fd_err, H=exact_H, h0=ad.h0 - const,
                           sumrule=ad.h1 - ad.integrated_derivative - const,
                           pot=ad.h1 - ad.bilinear - const, R_ad=ad.integrated_remainder,
                           R_bad=bad.integrated_remainder, ad=ad, bad=bad))
print(" n0  H(T2)/n0  h(1)-int h'  h(1)-bilin  int R (adaptive)  int R (bad)   [draw means]")
summary = []
for n0 in INTERP_N0:
    rs = [r for r in interp if r["n0"] == n0]
    row = {k: float(np.mean([r[k] for r in rs])) for k in ("H", "sumrule", "pot", "R_ad",
                                                          "R_bad")}
    row["rms_ad"] = float(np.sqrt(np.mean([r["R_ad"] ** 2 for r in rs])))
    row["rms_bad"] = float(np.sqrt(np.mean([r["R_bad"] ** 2 for r in rs])))
    row["n0"] = n0
    summary.append(row)
    print(f"{n0:4d}  {row['H']:.3f}     {row['sumrule']:.3f}       {row['pot']:.3f}       "
          f"{row['R_ad']:+.3f}            {row['R_bad']:+.3f}")

# %%
# NBVAL_IGNORE_OUTPUT
print(f"interpolation: {time.time() - t_int:.1f} s")

# %%
for r in interp:
    assert r["fd_err"] < 1e-6                       # derivative formula = finite differences
    assert abs(r["h0"] - r["H"]) < 1e-9             # h_n(0) is the true model
    assert abs(r["sumrule"] - r["H"]) < 2e-3        # sum rule (trapezoid error only)
    assert max(abs(p.product_term) for p in r["ad"].points) < 1e-10  # adaptive: no product
    assert abs(r["pot"] - r["H"] - r["R_ad"]) < 2e-3  # h(0) = h(1) - bilinear - int R
R_ad = np.array([r["rms_ad"] for r in summary])
R_bad = np.array([r["rms_bad"] for r in summary])
assert R_ad[-1] < 0.5 * R_ad[0]                    # adaptive remainder decays with n
assert R_ad[-1] < 0.2 * R_bad[-1]                  # ... and is far below a bad path's
assert R_bad[-1] > 0.01                             # the bad path's remainder stays O(1)
assert abs(summary[-1]["pot"] - rep_H) < 0.01         # finite-n potential -> replica entropy
print("interpolation checks passed: exact derivative, sum rule, adaptive remainder -> 0")

# %%
fig, axes = plt.subplots(1, 3, figsize=(15, 4), constrained_layout=True)
big = interp[-1]
for key, ls in (("ad", "-"), ("bad", "--")):
    sr = big[key]
    lab = "adaptive $R_2'=q_n(t)$" if key == "ad" else "bad $R_2'=0$"
    axes[0].plot(sr.t, sr.dh, ls, label=f"$h_n'(t)$, {lab}")
    axes[1].plot(sr.t, sr.remainder, ls, label=f"$\\mathcal{{R}}_n(t)$, {lab}")
axes[0].set_xlabel("t")
axes[0].set_title(f"exact derivative, $n_0={big['n0']}$")
axes[0].legend(fontsize=8)
axes[1].set_xlabel("t")
axes[1].set_title("remainder of the sum rule")
axes[1].legend(fontsize=8)
ns = np.array([r["n0"] for r in summary])
axes[2].loglog(ns, R_ad, "o-", label="adaptive path")
axes[2].loglog(ns, R_bad, "s--", label="bad path")
axes[2].loglog(ns, R_ad[0] * ns[0] / ns, "k:", label="$\\propto 1/n_0$")
axes[2].set_xlabel("$n_0$")
axes[2].set_title(r"rms over draws of $\int_0^1\mathcal{R}_n\,dt$")
axes[2].legend(fontsize=8)
fig.savefig("../figures/02_interpolation.png", dpi=120)
plt.show()

# %% [markdown]
# ## 3b. The same interpolation for a $\pm1$ input and a tanh hidden layer, by enumeration
#
# Now $X\in\{\pm1\}^{n_0}$, $T_1=\tanh(W_1X)$ (noiseless, bounded, $C^2$: inside (H1)-(H2))
# and $T_2=W_2T_1+\sqrt{\Delta_2}Z$, with $\alpha=$ `ENUM_ALPHAS`. The interpolating
# observations are the same as above. Given $X=x$, $T_1$ is deterministic, so $(Y_t,Y'_t)$
# is Gaussian given $x$ and its law is an **exact mixture over the $2^{n_0}$ inputs**
# (`BinaryPath`, `binary_interpolation_point`): $h_n(t)$ is a Monte Carlo average of exact
# log-densities (log-sum-exp over the inputs, Gaussian control variate), and the MMSEs $e$, $b$
# are Monte Carlo averages of exact posterior variances. The derivative formula only uses the
# I-MMSE relation of the two Gaussian channels, so it holds unchanged. The same samples
# $(X,Z,Z')$ are used at every $t$ (common random numbers). $\rho=\mathbb E\|W_2T_1\|^2/n_2$
# is its exact finite-$n$ value, $R_1'=r_2^\star$ from the replica fixed point of the tanh
# model, and the adaptive path solves $R_2'=q_n(t)$ as before.
#
# Per draw we record $f_n(0)=H(T_2)/n_0$ (the true model, $t=0$), the finite-$n$ potential
# $h_n(1)-\frac{\tilde\alpha_1}2\int_0^1R_1'(\rho-R_2')\,dt$ (minus the constant), and the
# integrated remainder, which by the sum rule is their difference.

# %%
a1, a2 = ENUM_ALPHAS
rep_b = replica(two_layer(Binary(0.5), a1, a2, bounded, Linear(NOISE2)))
state_b = rep_b.details[1].state
r2_b = float(state_b.Ahat[1])                 # SNR of the side channel on T_1 at t = 1
rep_Hb = float(rep_b.entropy[1])
print(f"replica ({type(bounded).__name__.lower()}-linear): r2* = {r2_b:.4f}, "
      f"V2* = {state_b.V[1]:.4f}, H(T2)/n0 = {rep_Hb:.4f}")

rng_b = np.random.default_rng(SEED + 11)
brows = []
t_bint = time.time()
for n0 in BIN_INTERP_N0:
    for d in range(BIN_INTERP_DRAWS):
        W1, W2 = draw_weights(n0, a1, a2, rng_b)
        path = BinaryPath(W1, W2, bounded, NOISE2, n_samples=BIN_INTERP_SAMPLES,
                          seed=SEED + 100 * n0 + d)
        ad = adaptive_sum_rule(path, r2_b, n_steps=BIN_INTERP_STEPS)
        bad = fixed_sum_rule(path, r2_b, 0.0, n_steps=BIN_INTERP_STEPS)
        brows.append(dict(n0=n0, H=ad.h0 - const, H_se=ad.points[0].h_se,
                          sumrule=ad.h1 - ad.integrated_derivative - const,
                          pot=ad.h1 - ad.bilinear - const, pot_bad=bad.h1 - bad.bilinear - const,
                          R_ad=ad.integrated_remainder, R_bad=bad.integrated_remainder,
                          prod=max(abs(p.product_term) for p in ad.points), ad=ad, bad=bad))


def mean_se(rs, key):
    v = np.array([r[key] for r in rs])
    return float(v.mean()), float(v.std(ddof=1) / math.sqrt(len(v)))


print(f"replica H(T2)/n0 = {rep_Hb:.4f};  draw means +- standard errors:")
print(" n0   f_n(0)=H(T2)/n0   potential (adaptive)   int R (adaptive)   potential (bad path)")
bsum = []
for n0 in BIN_INTERP_N0:
    rs = [r for r in brows if r["n0"] == n0]
    row = {k: mean_se(rs, k) for k in ("H", "pot", "R_ad", "pot_bad")}
    row["n0"] = n0
    bsum.append(row)
    print(f"{n0:3d}   {row['H'][0]:.4f} +- {row['H'][1]:.4f}   {row['pot'][0]:.4f} +- "
          f"{row['pot'][1]:.4f}      {row['R_ad'][0]:+.4f} +- {row['R_ad'][1]:.4f}    "
          f"{row['pot_bad'][0]:.4f} +- {row['pot_bad'][1]:.4f}")

# %%
# NBVAL_IGNORE_OUTPUT
print(f"+-1 interpolation: {time.time() - t_bint:.1f} s")

# %%
for r in brows:
    assert r["prod"] < 1e-10                       # adaptive: product term vanishes exactly
    # sum rule h(0) = h(1) - int h': Monte Carlo error of e, b and trapezoid rule only
    assert abs(r["sumrule"] - r["H"]) < 0.02, (r["n0"], r["sumrule"] - r["H"])
for row in bsum:
    # the finite-n potential of the adaptive path agrees with the replica entropy
    m, s = row["pot"]
    assert abs(m - rep_Hb) < 3 * s + MODEL_ALLOWANCE, (row["n0"], m - rep_Hb, s)
    # ... and so does the true entropy (its draw-to-draw spread is much larger)
    m, s = row["H"]
    assert abs(m - rep_Hb) < 3 * s + MODEL_ALLOWANCE, (row["n0"], m - rep_Hb, s)
pot_all = np.array([r["pot"] for r in brows])
H_all = np.array([r["H"] for r in brows])
bad_all = np.array([r["pot_bad"] for r in brows])
sd = {n: float(np.mean([np.std([r[k] for r in brows if r["n0"] == n0], ddof=1)
                        for n0 in BIN_INTERP_N0])) for n, k in (("H", "H"), ("pot", "pot"))}
assert sd["pot"] < 0.6 * sd["H"]        # the decoupled model self-averages better
se_bad = bad_all.std(ddof=1) / math.sqrt(bad_all.size)
assert rep_Hb - bad_all.mean() > max(0.02, 3 * se_bad)   # a bad path misses by O(1)
print(f"draw-to-draw spread (mean over n0): H {sd['H']:.4f}, adaptive potential "
      f"{sd['pot']:.4f};  bad-path potential {bad_all.mean():.4f} +- {se_bad:.4f} "
      f"vs replica {rep_Hb:.4f}")
print("+-1 interpolation checks passed: product term 0, sum rule, potential ~ replica")

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 4), constrained_layout=True)
jit = {"H": -0.15, "pot": 0.0, "pot_bad": 0.15}
labels = {"H": "$f_n(0)=H(T_2)/n_0$ (true model)",
          "pot": "$h_n(1)-\\frac{\\tilde\\alpha_1}{2}\\int R_1'(\\rho-R_2')$, adaptive",
          "pot_bad": "same, bad path $R_2'=0$"}
for i, key in enumerate(("H", "pot", "pot_bad")):
    xs = np.array([r["n0"] for r in brows]) + jit[key]
    axes[0].plot(xs, [r[key] for r in brows], ".", color=f"C{i}", alpha=0.5)
    axes[0].errorbar(np.array(BIN_INTERP_N0) + jit[key], [b[key][0] for b in bsum],
                     yerr=[b[key][1] for b in bsum], fmt="o-", color=f"C{i}", capsize=3,
                     label=labels[key])
axes[0].axhline(rep_Hb, color="r", ls=":", label="replica $H(T_2)/n_0$")
axes[0].set_xlabel("$n_0$")
axes[0].set_title(f"$\\pm1$ input, {type(bounded).__name__.lower()} hidden, linear output "
                  "(dots: draws)")
axes[0].legend(fontsize=7)
last = brows[-1]
for key, ls in (("ad", "-"), ("bad", "--")):
    sr = last[key]
    lab = "adaptive $R_2'=q_n(t)$" if key == "ad" else "bad $R_2'=0$"
    axes[1].plot(sr.t, sr.remainder, ls, label=f"$\\mathcal{{R}}_n(t)$, {lab}")
    axes[1].plot(sr.t, sr.dh, ls, alpha=0.5, label=f"$h_n'(t)$, {lab}")
axes[1].set_xlabel("t")
axes[1].set_title(f"one draw, $n_0={last['n0']}$")
axes[1].legend(fontsize=8)
fig.savefig("../figures/02_binary_interpolation.png", dpi=120)
plt.show()

# %% [markdown]
# **Reading.** The sum rule closes for the nonlinear model too (to the Monte Carlo error of
# $e$, $b$ and the trapezoid rule), and the adaptive choice $R_2'=q_n(t)$ cancels the product
# term exactly, leaving the fluctuation term. At $n_0\le14$ that remainder is not small
# draw by draw ($|\int\mathcal R_n|$ of a few $10^{-2}$): it is what separates the
# fluctuating true entropy $f_n(0)$ from the finite-$n$ potential of the decoupled model,
# whose draw-to-draw spread is several times smaller and whose mean already sits at the
# replica value within the error bars. A path with $R_2'\equiv0$ gives a "potential"
# $0.05$–$0.08$ nats below the replica value at every $n_0$: the adaptive choice matters.
# The data do not resolve the $n$-dependence of the adaptive remainder (it is dominated by
# the draw-to-draw fluctuations of $f_n(0)$ at these sizes); that it vanishes as
# $n\to\infty$ is the content of the theorem, checked exactly only in the linear case above.

# %% [markdown]
# ## 4. Conclusion
#
# * **Covered by Theorem 1:** two layers, Gaussian i.i.d. weights, bounded-support prior,
#   bounded $C^2$ activations with bounded derivatives. Our bounded case uses tanh, inside
#   the hypotheses (the $\pm1$ prior has bounded support); the $\pm1$-input checks above
#   agree with the replica values within the stated error bars.
# * **Exact by other means:** the linear–linear Gaussian case (outside (H1)-(H2)) agrees to
#   $\sim10^{-3}$ or better after extrapolation; there the interpolation is exact at finite
#   $n$, the derivative matches finite differences, the sum rule closes, and the remainder
#   of the adaptive path decays with $n_0$ while a badly chosen path keeps an $O(1)$ remainder.
# * **Interpolation for $\pm1$ input + tanh hidden layer (inside the theorem), by enumeration
#   at $n_0\le14$:** the sum rule closes, the adaptive path's product term vanishes, and the
#   finite-$n$ potential of the decoupled model matches the replica entropy within error bars;
#   the decay of the remainder with $n$ is not resolved at these sizes.
# * **Conjectured only:** ReLU (unbounded, non-smooth) and sign outputs (discontinuous), deeper
#   networks and non-Gaussian (orthogonally invariant) spectra. Numerically, the ReLU and sign
#   cases above are consistent with the replica formula at the precision reachable by
#   enumeration ($n_0\le 14$ quick, $\le16$ full): extrapolation error bars of
#   $0.005$–$0.02$ nats, differences within $3\sigma$ (+ the stated allowance). With
#   `USE_TANH = False` the bounded case is hardtanh, bounded but not $C^2$ (edge of (H2)).

# %%
# NBVAL_IGNORE_OUTPUT
print(f"total run time: {time.time() - T0:.1f} s")
