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
# # 01 · From the model to the replica formula (Claim 1), step by step
#
# Claim 1 of Gabrié et al. (2018) states that the entropy of every layer of a deep stochastic
# network with orthogonally invariant weights is the minimum over the stationary points of an
# explicit potential $\phi$. This notebook walks from the model to that formula and checks each
# ingredient numerically with `midnn`:
#
# 1. the model and why a finite mutual information needs noise;
# 2. the replica trick and the meaning of the order parameters $(A, V, \hat A, \tilde V)$;
# 3. the scalar channels (prior, output, hidden layers) and the I-MMSE relation;
# 4. orthogonally invariant matrices and the spectral function $F_W$;
# 5. the potential $\phi$, its stationary points and the "min" selection (a first-order
#    transition);
# 6. the two solvers (fixed-point iteration and ML-VAMP state evolution);
# 7. exactness for deep linear networks (gap $\propto 1/n$);
# 8. entropies at initialization (the replica row of the paper's Figure 2).
#
# All quantities are in nats per input unit $n_0$. Each step ends with `assert`s on its claim.

# %% tags=["parameters"]
seed = 0
# step 1: noise values of the linear layer
noises_step1 = [1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8]
# step 3: Monte Carlo sizes (pre-activations x samples per pre-activation)
mc_outer = 2000
mc_inner = 400
# step 4: sizes of the finite non-Gaussian networks
sizes_step4 = [200, 400, 800]
# step 5: alpha grid around the first-order transition
alphas_step5 = [0.26, 0.28, 0.29, 0.30, 0.31, 0.32, 0.33, 0.34, 0.36, 0.38, 0.40]
# step 7: widths and seeds of the deep linear networks
sizes_step7 = [200, 400, 800]
seeds_step7 = 12
# step 8: width and weight scales (paper: 21 values of sigma)
width_step8 = 1000
n_sigma_step8 = 5

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

from midnn import Layer, Model, replica
from midnn.activations import HardTanh, LeakyReLU, Linear, ReLU, Sign
from midnn.chain import Chain, State
from midnn.exact import linear_gaussian
from midnn.potential import potential
from midnn.priors import Binary, GaussBernoulli, Gaussian
from midnn.solvers import fixed_point, vamp
from midnn.spectra import Empirical, MarchenkoPastur
from midnn.usv import haar_orthogonal

rng = np.random.default_rng(seed)
t_start = time.perf_counter()

# %% [markdown]
# ## 1. The model, its entropies, and why noise is needed
#
# The input $X = T_0 \in \mathbb R^{n_0}$ has i.i.d. components $x_i \sim P_0$, and each layer
# adds Gaussian noise *before* its activation (eq. 1):
# $$T_\ell = \varphi_\ell\!\left(W_\ell T_{\ell-1} + \xi_\ell\right),\qquad
#   \xi_\ell \sim \mathcal N(0, \Delta_\ell I_{n_\ell}),\qquad
#   W_\ell \in \mathbb R^{n_\ell\times n_{\ell-1}},$$
# a Markov chain $X \to T_1 \to \dots \to T_L$. The quantities of interest are
# $$H(T_\ell) = -\mathbb E \log P_{T_\ell}(T_\ell),\qquad
#   H(T_\ell|X) = -\mathbb E \log P_{T_\ell|X}(T_\ell|X),\qquad
#   I(X;T_\ell) = H(T_\ell) - H(T_\ell|X).$$
# Given $X$ the components of the noisy layer are independent, so $H(T_\ell|X)$ is a sum of
# scalar entropies; the hard part is $H(T_\ell)$.
#
# **Noise is necessary.** For a deterministic map $T = f(X)$ with continuous $X$,
# $H(T|X) = -\infty$ and $I(X;T) = +\infty$. For one linear layer $T = WX + \xi$ with
# Gaussian $X$, $I(X;T)/n_0 = \tfrac12\,\mathbb E_\lambda \log(1 + \lambda/\Delta)$ over the
# eigenvalues $\lambda$ of $W^\intercal W$: as $\Delta \to 0$ it grows like
# $\tfrac12 \min(\alpha, 1) \log(1/\Delta)$, the fraction $\min(\alpha,1)$ of non-zero
# eigenvalues (the rank of $W$ per input unit).

# %%
fig, ax = plt.subplots(figsize=(5, 3.5))
slopes = {}
for alpha in (0.5, 1.0, 2.0):
    mi = np.array([replica(Model(Gaussian(), [Layer(MarchenkoPastur(alpha), Linear(d))]))
                   .mutual_information[0] for d in noises_step1])
    x = np.log(1 / np.array(noises_step1))
    slopes[alpha] = np.polyfit(x[-4:], mi[-4:], 1)[0]
    ax.plot(x, mi, "o-", label=rf"$\alpha={alpha}$: slope {slopes[alpha]:.3f}")
ax.set_xlabel(r"$\log(1/\Delta)$")
ax.set_ylabel(r"$I(X;T)/n_0$")
ax.set_title("one linear layer: MI diverges as the noise vanishes")
ax.legend()
fig.tight_layout()
fig.savefig("../figures/01_noise_divergence.png", dpi=110)
plt.show()
for alpha, s in slopes.items():
    print(f"alpha = {alpha}: dI/dlog(1/Delta) = {s:.3f}, expected {0.5 * min(alpha, 1):.3f}")
    assert abs(s - 0.5 * min(alpha, 1)) < 1e-2

# %% [markdown]
# ## 2. The replica trick and the replica-symmetric order parameters
#
# $H(T_\ell) = -\mathbb E \log Z$ with $Z(t) = P_{T_\ell}(t) = \int dP_0(x)\,P(t|x)$, a partition
# function over the "hidden" input. The replica trick computes
# $\mathbb E \log Z = \lim_{n\to 0} \partial_n \log \mathbb E Z^n$; for integer $n$ the
# average over $W_\ell$ (orthogonally invariant) and over the data couples $n+1$ copies of the
# network only through their overlaps. Under the **replica-symmetric ansatz** each layer $k$
# carries four scalar order parameters, two per side of $W_k$:
#
# | parameter | estimation meaning |
# |---|---|
# | $V_k$ | MMSE per component of the *input* $t_{k-1}$ of layer $k$ given the observation ($V_1$ = MMSE of $X$) |
# | $\hat A_k$ | SNR of the effective scalar Gaussian channel $t_{k-1} + \xi/\sqrt{\hat A_k}$ seen by $t_{k-1}$, with $V_k = \mathrm{mmse}(\hat A_k)$ |
# | $\tilde V_k$ | residual variance of the pre-activation $z_k = W_k t_{k-1}$ |
# | $A_k$ | precision (Fisher information) of the message the output sends back about $z_k$: $A_k = 2\,\partial_{\tilde V} H$ |
#
# The $\log \mathbb E Z^n$ becomes, at $n_0 \to \infty$, a saddle point over these parameters:
# $\lim H(T_\ell)/n_0 = \min\,\mathrm{extr}\;\phi_\ell(\mathbf A, \mathbf V, \tilde{\mathbf A}, \tilde{\mathbf V})$
# (eq. 2). Check on one linear layer with Gaussian input and a finite random matrix, where
# the truth is a log-determinant: $V_1$ equals the exact MMSE, $V_1 = \mathrm{mmse}_{P_0}(\hat A_1)$
# and, for a linear output of noise $\Delta$, $A_1 = 1/(\Delta + \tilde V_1)$.

# %%
n, delta = 400, 1e-2
W = rng.standard_normal((int(1.5 * n), n)) / np.sqrt(n)
res = replica(Model(Gaussian(), [Layer(Empirical.from_matrix(W), Linear(delta))]))
st = res.details[0].state
ex = linear_gaussian([W], delta)
print(f"V_1 = {st.V[0]:.6f}  exact MMSE = {ex.mmse[0]:.6f}")
print(f"A^_1 = {st.A_tilde[0]:.4f}: mmse_P0(A^_1) = {Gaussian().mmse(st.A_tilde[0]):.6f}")
print(f"A_1 = {st.A[0]:.4f}: 1/(Delta + V~_1) = {1 / (delta + st.V_tilde[0]):.4f}")
assert abs(st.V[0] - ex.mmse[0]) < 1e-9
assert abs(res.entropy[0] - ex.entropy[0]) < 1e-9
assert abs(Gaussian().mmse(st.A_tilde[0]) - st.V[0]) < 1e-9
assert abs(st.A[0] - 1 / (delta + st.V_tilde[0])) < 1e-9

# %% [markdown]
# ## 3. Scalar channels
#
# ### 3a. The prior's Gaussian channel and the I-MMSE relation
# The prior enters $\phi$ through the scalar channel $y = x + \xi_0/\sqrt{\hat A_1}$,
# $x \sim P_0$, by its mutual information $I(\hat A) = I(x; x + \xi_0/\sqrt{\hat A})$. The
# I-MMSE relation (Guo–Shamai–Verdú) links it to the estimation error:
# $$\frac{d I}{d \hat A} = \tfrac12\,\mathrm{mmse}(\hat A),$$
# which is why stationarity in $\hat A_1$ gives $V_1 = \mathrm{mmse}(\hat A_1)$. Check with
# centred finite differences for a Gaussian, a $\pm1$ and a Gauss–Bernoulli prior.

# %%
priors = {"Gaussian": Gaussian(), "±1": Binary(0.5), "Gauss-Bernoulli(0.3)": GaussBernoulli(0.3)}
print(f"{'prior':>22} {'snr':>5} {'2 dI/dsnr':>10} {'mmse':>10}")
for name, prior in priors.items():
    for snr in (0.1, 1.0, 10.0):
        h = 1e-4 * snr
        fd = 2 * (prior.mutual_information(snr + h) - prior.mutual_information(snr - h)) / (2 * h)
        print(f"{name:>22} {snr:5.1f} {fd:10.6f} {prior.mmse(snr):10.6f}")
        assert abs(fd - prior.mmse(snr)) < 1e-6 * max(1.0, prior.mmse(snr))

# %% [markdown]
# ### 3b. Output and hidden-layer channels
# For a layer with pre-activation second moment $\tilde\rho$, the replica computation splits
# $z = \omega + \sqrt{\tilde V}\,\tilde z$ into a part $\omega \sim \mathcal N(0, \tilde\rho - \tilde V)$
# known to the "teacher" replica and a Gaussian unknown; then $t = \varphi(z + \xi)$.
#
# * **Output channel** (eq. 5): $H(t|\omega;\tilde V,\tilde\rho)$, with the A-update
#   $A = 2\,\partial_{\tilde V} H$ (eq. 52).
# * **Hidden channel** (eq. 4): $t$ is observed through $y = t + \xi'/\sqrt{\hat A}$;
#   $I(t; y|\omega)$ with $V = 2\,\partial_{\hat A} I$ (eq. 54, the MMSE of $t$; I-MMSE again)
#   and $A = 2\,\partial_{\tilde V} I$ (eq. 51).
#
# Checks for every activation: the derivative identities by finite differences, and Monte Carlo
# sampling of the scalar channel (`Activation.sample`) for the second moment
# $\rho' = \mathbb E t^2$ and for the $\hat A \to 0$ limit of the V-update,
# $V(\hat A = 0) = \mathbb E_\omega \operatorname{Var}(t|\omega)$ (within 4 Monte Carlo standard
# errors). The derivative identities hold to $\sim 10^{-10}$ relative, the error of the
# central differences with step $10^{-5}$ (the channel quadratures are accurate to
# $\sim 10^{-11}$ at this point); they are asserted to $10^{-8}$.

# %%
rho_t, vt, ah = 1.0, 0.3, 2.0
activations = {"linear": Linear(0.05), "sign": Sign(0.05), "ReLU": ReLU(0.05),
               "leaky ReLU": LeakyReLU(0.05, slope=0.1), "hardtanh": HardTanh(0.05)}
print(f"{'activation':>10} | {'A_out':>8} {'2dH/dV~':>8} | {'V_hid':>8} {'2dI/dA^':>8} | "
      f"{'A_hid':>8} {'2dI/dV~':>8} | {'rho MC':>7} {'exact':>7} | {'Var MC':>7} {'exact':>7}")
for name, act in activations.items():
    ch = act.channel(rho_t)
    e = 1e-5
    a_out = ch.output_A(vt)
    fd_out = (ch.output_entropy(vt + e) - ch.output_entropy(vt - e)) / e
    hid = ch.hidden(ah, vt)
    fd_v = (ch.hidden(ah * (1 + e), vt).mutual_information
            - ch.hidden(ah * (1 - e), vt).mutual_information) / (ah * e)
    fd_a = (ch.hidden(ah, vt + e).mutual_information
            - ch.hidden(ah, vt - e).mutual_information) / e
    # Monte Carlo of the scalar channel: omega, then mc_inner draws of t given omega
    omega = np.sqrt(rho_t - vt) * rng.standard_normal(mc_outer)
    z = omega[:, None] + np.sqrt(vt) * rng.standard_normal((mc_outer, mc_inner))
    t = act.sample(z, rng)
    rows_t2, rows_var = np.mean(t**2, axis=1), np.var(t, axis=1, ddof=1)
    rho_mc, rho_ex = rows_t2.mean(), act.second_moment(rho_t)
    var_mc, var_ex = rows_var.mean(), ch.hidden(0.0, vt).V
    se_rho, se_var = (np.std(r) / np.sqrt(mc_outer) for r in (rows_t2, rows_var))
    print(f"{name:>10} | {a_out:8.4f} {fd_out:8.4f} | {hid.V:8.4f} {fd_v:8.4f} | "
          f"{hid.A:8.4f} {fd_a:8.4f} | {rho_mc:7.3f} {rho_ex:7.3f} | {var_mc:7.3f} {var_ex:7.3f}")
    assert abs(a_out - fd_out) < 1e-8 * max(1, a_out)
    assert abs(hid.V - fd_v) < 1e-8 * max(1, hid.V)
    assert abs(hid.A - fd_a) < 1e-8 * max(1, hid.A)
    assert abs(rho_mc - rho_ex) < 4 * se_rho + 1e-3
    assert abs(var_mc - var_ex) < 4 * se_var + 1e-3

# %% [markdown]
# ## 4. Orthogonally invariant matrices and the spectral function $F_W$
#
# For $W = U S V^\intercal$ with Haar $U, V$, the average over $W$ of the replicated partition
# function is a spherical (HCIZ-type) integral that depends only on the spectrum of
# $W^\intercal W$; it produces (eq. 6)
# $$F_W(x) = \operatorname{extr}_\theta\Big\{2\alpha\theta + (\alpha-1)\log(1-\theta)
#   + \mathbb E_\lambda \log\!\big[x\lambda + (1-\theta)(1-\alpha\theta)\big]\Big\}.$$
# The stationarity condition (50a) is a fixed point of the Stieltjes transform
# $G(s) = \mathbb E_\lambda[1/(\lambda - s)]$:
# $$\theta = 1 - \frac{x}{G(s)},\qquad s = -\frac{(1-\theta)(1-\alpha\theta)}{x},$$
# and by the envelope theorem $F_W'(x) = \alpha\theta^*(x)/x$. For i.i.d. Gaussian $W$
# (Marchenko–Pastur spectrum) $\theta^*(x) = x$ and $F_W(x) = \alpha x$.
#
# Checks: the Stieltjes fixed point and the derivative for the empirical spectrum of a sampled
# Gaussian matrix, and $F_W(x) \approx \alpha x$ for it (finite size $n = 2000$).

# %%
xs = np.array([0.1, 0.3, 0.6, 0.9])
fig, ax = plt.subplots(figsize=(5, 3.5))
for alpha in (0.5, 2.0):
    spec = Empirical(MarchenkoPastur(alpha).sample_eigvals(2000, rng), alpha)
    xg = xs * min(1.0, 1.0 / alpha)
    F = np.array([spec.F(x) for x in xg])
    for x in xg:
        th = spec.theta(x)
        s = -(1 - th) * (1 - alpha * th) / x
        assert abs(th - (1 - x / spec.stieltjes(s))) < 1e-10
        h = 1e-6 * x
        assert abs((spec.F(x + h) - spec.F(x - h)) / (2 * h) - alpha * th / x) < 1e-5
    assert np.max(np.abs(F - alpha * xg)) < 2e-2
    print(f"MP alpha={alpha}: max |F_W(x) - alpha x| = {np.max(np.abs(F - alpha * xg)):.1e}")
    ax.plot(xg, F, "o", label=rf"empirical MP, $\alpha={alpha}$")
    ax.plot(xg, alpha * xg, "k:", lw=1)
# a non-Gaussian spectrum: W of shape (2n, n) with singular values uniform on [0.5, 1.5]
s_limit = 0.5 + (np.arange(20000) + 0.5) / 20000
spec_u = Empirical(s_limit**2, 2.0)
xg = np.linspace(0.02, 0.45, 10)
ax.plot(xg, [spec_u.F(x) for x in xg], "s-", ms=3, label=r"$s\sim U[0.5,1.5]$, $\alpha=2$")
ax.set_xlabel("x")
ax.set_ylabel(r"$F_W(x)$")
ax.legend(fontsize=8)
ax.set_title(r"spectral function (dotted: $\alpha x$)")
fig.tight_layout()
fig.savefig("../figures/01_spectral_function.png", dpi=110)
plt.show()

# %% [markdown]
# The formula uses only the *limiting* spectrum. Test: a two-layer linear network
# $T_2 = W_2 W_1 X + \xi$ with $W_1 = U\,S\,V^\intercal \in \mathbb R^{2n\times n}$ ($U, V$ Haar,
# singular values $s$ on a uniform grid of $[0.5, 1.5]$, $\alpha_1 = 2$) and Gaussian
# $W_2 \in \mathbb R^{n\times 2n}$ ($\alpha_2 = 1/2$), $\Delta = 10^{-2}$: the replica entropy
# with the limiting spectra versus the exact log-determinant of finite random matrices of
# growing size.

# %%
delta4 = 1e-2
rep4 = replica(Model(Gaussian(), [Layer(spec_u, Linear(0.0)),
                                  Layer(MarchenkoPastur(0.5), Linear(delta4))]))
gaps4 = []
for n in sizes_step4:
    s_n = 0.5 + (np.arange(n) + 0.5) / n
    U = haar_orthogonal(2 * n, seed + n).numpy()[:, :n]  # first n columns of a Haar O(2n)
    V = haar_orthogonal(n, seed + 7 * n).numpy()
    W1 = (U * s_n) @ V.T
    W2 = rng.standard_normal((n, 2 * n)) / np.sqrt(2 * n)
    ex = linear_gaussian([W1, W2], [0.0, delta4])
    gaps4.append(ex.entropy[1] - rep4.entropy[1])
    print(f"n = {n:5d}: H exact = {ex.entropy[1]:.4f}, replica = {rep4.entropy[1]:.4f}, "
          f"|gap| < {max(abs(gaps4[-1]), 1e-3):.0e}")
assert abs(gaps4[-1]) < 5e-3

# %% [markdown]
# ## 5. The potential $\phi$ and its stationary points
#
# Collecting the terms, with $\tilde\alpha_k = n_k/n_0$,
# $$\phi_\ell = I\big(t_0; t_0 + \tfrac{\xi_0}{\sqrt{\hat A_1}}\big)
#   - \tfrac12\sum_{k=1}^{\ell}\Big[\tilde\alpha_{k-1}\hat A_k V_k + \tilde\alpha_k A_k\tilde V_k
#   - \tilde\alpha_{k-1}F_{W_k}(A_k V_k)\Big]
#   + \sum_{k=1}^{\ell-1}\tilde\alpha_k\, I\big(t_k; t_k + \tfrac{\xi'}{\sqrt{\hat A_{k+1}}}\big|\omega_k\big)
#   + \tilde\alpha_\ell H(t_\ell|\omega_\ell;\tilde V_\ell).$$
# Setting its derivatives to zero gives the saddle-point equations:
# $V_1 = \mathrm{mmse}_{P_0}(\hat A_1)$ and $V_{k+1} = 2\partial_{\hat A}I_k$ (from $\partial_{\hat A}$),
# $A_k = 2\partial_{\tilde V}(\cdot)$ of the channel after $W_k$ (from $\partial_{\tilde V}$),
# and $\tilde V_k = \theta_k/A_k$, $\hat A_k = \alpha_k\theta_k/V_k$ with $\theta_k = \theta^*(A_kV_k)$
# (from $\partial_A$, $\partial_V$, using $F_W' = \alpha\theta/x$).
#
# **Several stationary points.** For a sparse (Gauss–Bernoulli, $\rho = 0.2$) input, one linear
# layer with i.i.d. Gaussian weights and $\Delta = 10^{-5}$, there are two stable fixed points
# over a range of $\alpha$: an informative one ($V_1 \approx 0$) and an uninformative one. The
# replica formula selects the one of **minimal** $\phi$. (Below, the two fixed points come from
# `midnn.solvers.fixed_point` started from $V_1 \approx 0$ and $V_1 \approx \rho$, and
# `replica()`'s own multi-start screening must select the same one.) For Marchenko–Pastur all equations except
# $V_1 = \mathrm{mmse}(\hat A_1)$ can be solved for a given $V$ ($\tilde V = V$,
# $A = 1/(\Delta + V)$, $\hat A = \alpha A$); along this one-dimensional stationary manifold the
# stationary points of $\phi(V)$ are exactly the fixed points.

# %%
prior5, delta5 = GaussBernoulli(rho=0.2), 1e-5


def chain5(alpha):
    """prior -> one linear layer with MP(alpha) weights (rho~ = E lambda rho / alpha)."""
    spec = MarchenkoPastur(alpha)
    return Chain(prior5, [spec], [Linear(delta5).channel(spec.mean * prior5.second_moment / alpha)])


def both_fixed_points(chain):
    """Fixed points reached from an informative and an uninformative start."""
    rho = prior5.second_moment
    out = []
    for V0 in (1e-6 * rho, rho * (1 - 1e-6)):
        info = fixed_point(chain, State.initial(np.array([V0])), tol=1e-12, max_iter=5000)
        assert info.converged
        out.append((info.state, potential(chain, info.state)))
    return out


def manifold(chain, alpha, V):
    """The stationary manifold of a linear MP layer parametrized by V (all but V = mmse(A^))."""
    A = chain.channels[0].output_A(V)
    th = chain.spectra[0].theta(A * V)
    return potential(chain, State(*(np.array([x]) for x in (A, V, alpha * th / V, th / A, th))))


alpha_demo = 0.32
ch = chain5(alpha_demo)
Vgrid = np.logspace(-6, np.log10(0.999 * prior5.second_moment), 300)
phi_curve = np.array([manifold(ch, alpha_demo, V) for V in Vgrid])
(inf_state, inf_phi), (uninf_state, uninf_phi) = both_fixed_points(ch)
print(f"alpha = {alpha_demo}: informative V = {inf_state.V[0]:.2e}, phi = {inf_phi:.5f}; "
      f"uninformative V = {uninf_state.V[0]:.4f}, phi = {uninf_phi:.5f}")
assert uninf_state.V[0] > 100 * inf_state.V[0]
for stt, ph in ((inf_state, inf_phi), (uninf_state, uninf_phi)):
    assert abs(manifold(ch, alpha_demo, stt.V[0]) - ph) < 1e-9  # fixed points lie on the curve
# the stationary points of phi(V) are the fixed points (two minima, one maximum between them)
turn = np.where(np.diff(np.sign(np.diff(phi_curve))))[0]
assert len(turn) == 3
assert np.allclose(Vgrid[turn[[0, 2]]], [inf_state.V[0], uninf_state.V[0]], rtol=0.1)
rep5 = replica(Model(prior5, [Layer(MarchenkoPastur(alpha_demo), Linear(delta5))]))
assert abs(rep5.entropy[0] - min(inf_phi, uninf_phi)) < 1e-8

# %%
branches = []
for alpha in alphas_step5:
    (s1, p1), (s2, p2) = both_fixed_points(chain5(alpha))
    r = replica(Model(prior5, [Layer(MarchenkoPastur(alpha), Linear(delta5))]))
    branches.append((s1.V[0], p1, s2.V[0], p2, r.entropy[0], r.mmse[0]))
branches = np.array(branches)
coexist = branches[:, 2] > 100 * branches[:, 0]
print("alphas with two distinct stationary points:", np.array(alphas_step5)[coexist])
# the replica prescription: the stationary point of minimal phi
informative_wins = branches[:, 1] < branches[:, 3]
sel_phi = np.minimum(branches[:, 1], branches[:, 3])
sel_mmse = np.where(informative_wins, branches[:, 0], branches[:, 2])
# midnn.replica() implements the same selection with its own multi-start screening
agree = np.isclose(branches[:, 4], sel_phi, atol=1e-8)
print("replica() selects the minimal stationary point at every alpha:", bool(agree.all()))
assert agree.all()
jump = np.argmax(sel_mmse[:-1] / sel_mmse[1:])
print(f"MMSE jumps from {sel_mmse[jump]:.3f} to {sel_mmse[jump + 1]:.1e} between alpha = "
      f"{alphas_step5[jump]} and {alphas_step5[jump + 1]}")
assert coexist.sum() >= 2 and sel_mmse[jump] > 100 * sel_mmse[jump + 1]

fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
ax = axes[0]
ax.semilogx(Vgrid, phi_curve, "k-")
ax.plot([inf_state.V[0], uninf_state.V[0]], [inf_phi, uninf_phi], "ro")
ax.set_xlabel(r"$V_1$")
ax.set_ylabel(r"$\phi$ on the stationary manifold")
ax.set_title(rf"$\alpha={alpha_demo}$: two stationary points, min selected")
ax = axes[1]
ax.plot(alphas_step5, branches[:, 1], "^-", label="informative branch")
ax.plot(alphas_step5, branches[:, 3], "v-", label="uninformative branch")
ax.plot(alphas_step5, sel_phi, "k.", label=r"$\min\,\mathrm{extr}\,\phi$")
ax.set_xlabel(r"$\alpha$")
ax.set_ylabel(r"$\phi$ = $H(T)/n_0$")
ax.legend(fontsize=8)
ax = axes[2]
ax.semilogy(alphas_step5, branches[:, 0], "^-", label="informative")
ax.semilogy(alphas_step5, branches[:, 2], "v-", label="uninformative")
ax.semilogy(alphas_step5, sel_mmse, "k.-", lw=2, label="selected")
ax.set_xlabel(r"$\alpha$")
ax.set_ylabel("MMSE of X")
ax.legend(fontsize=8)
fig.suptitle(r"Gauss-Bernoulli($\rho=0.2$) input, one linear layer, $\Delta=10^{-5}$")
fig.tight_layout()
fig.savefig("../figures/01_phase_transition.png", dpi=110)
plt.show()

# %% [markdown]
# ## 6. The two solvers
#
# * **Fixed-point iteration** of the saddle-point equations above (backward sweep for
#   $\tilde V, A, \theta, \hat A$, then the $V$-updates).
# * **ML-VAMP state evolution**: the same stationary points, reached through the LMMSE quantity
#   $\tau\,\mathbb E_\lambda[1/(\lambda + a\tau)]$ of each spectrum (eq. 60) instead of $\theta^*$.
#
# Both on the same model (Gaussian input, linear layer $\alpha=1.5$, ReLU output $\alpha=0.8$,
# $\Delta=10^{-3}$) from the same start, with `trace=True`:

# %%
model6 = Model(Gaussian(), [Layer(MarchenkoPastur(1.5), Linear(0.0)),
                            Layer(MarchenkoPastur(0.8), ReLU(1e-3))])
chain6 = Chain.from_model(model6)
init6 = State.initial(1e-6 * chain6.rho)
fp = fixed_point(chain6, init6, tol=1e-12, trace=True)
vp = vamp(chain6, init6, tol=1e-12, trace=True)
assert fp.converged and vp.converged
print(f"fixed point: {fp.iterations} sweeps, ML-VAMP: {vp.iterations} sweeps")
print("V  fixed point:", np.round(fp.state.V, 8), " ML-VAMP:", np.round(vp.state.V, 8))
phi_fp, phi_vp = potential(chain6, fp.state), potential(chain6, vp.state)
print(f"phi: {phi_fp:.8f} vs {phi_vp:.8f}")
assert np.allclose(fp.state.V, vp.state.V, atol=1e-9)
assert np.allclose(fp.state.A, vp.state.A, rtol=1e-6)
assert abs(phi_fp - phi_vp) < 1e-9
assert abs(replica(model6).entropy[-1] - phi_fp) < 1e-8

fig, ax = plt.subplots(figsize=(5, 3.5))
for info, name in ((fp, "fixed point"), (vp, "ML-VAMP")):
    err = [np.sum(np.abs(s.V - info.state.V)) + 1e-17 for s in info.trace]
    ax.semilogy(np.arange(1, len(err) + 1), err, "o-", ms=3, label=name)
ax.set_xlabel("iteration")
ax.set_ylabel(r"$\sum_k |V_k - V_k^*|$")
ax.legend()
ax.set_title("convergence to the same fixed point")
fig.tight_layout()
fig.savefig("../figures/01_solvers.png", dpi=110)
plt.show()

# %% [markdown]
# ## 7. Exactness for deep linear networks
#
# With Gaussian input and linear layers, $H(T_L) = \tfrac12\log\det\!\big(2\pi e\,(W_L\cdots W_1
# W_1^\intercal\cdots W_L^\intercal + \Delta I)\big)$ exactly. The replica formula with
# Marchenko–Pastur spectra (two layers, $\alpha = 1$, $\Delta = 10^{-2}$ at the output) is the
# $n \to \infty$ limit; the finite-size gap (its root mean square over independent draws of
# the weights) decays like $1/n$.

# %%
delta7 = 1e-2
model7 = Model(Gaussian(), [Layer(MarchenkoPastur(1.0), Linear(0.0)),
                            Layer(MarchenkoPastur(1.0), Linear(delta7))])
h7 = replica(model7).entropy[-1]
rms = []
for n in sizes_step7:
    g = rng
    gaps = [linear_gaussian([g.standard_normal((n, n)) / np.sqrt(n) for _ in range(2)],
                            [0.0, delta7]).entropy[-1] - h7 for _ in range(seeds_step7)]
    rms.append(np.sqrt(np.mean(np.square(gaps))))
slope7 = np.polyfit(np.log(sizes_step7), np.log(rms), 1)[0]
for n, r in zip(sizes_step7, rms, strict=False):
    print(f"n = {n:5d}: rms gap x n = {r * n:.1f}")
print(f"fitted slope of log(gap) vs log(n): {slope7:.1f}")
assert -1.5 < slope7 < -0.5

fig, ax = plt.subplots(figsize=(5, 3.5))
ax.loglog(sizes_step7, rms, "o", label="replica vs exact log-det (rms)")
ax.loglog(sizes_step7, rms[0] * sizes_step7[0] / np.array(sizes_step7), "k--",
          label=rf"$\propto 1/n$ (fit: slope {slope7:.2f})")
ax.set_xlabel("width n")
ax.set_ylabel(r"$|H_{\mathrm{exact}} - H_{\mathrm{replica}}|/n_0$")
ax.legend()
fig.tight_layout()
fig.savefig("../figures/01_linear_exactness.png", dpi=110)
plt.show()

# %% [markdown]
# ## 8. Entropies at initialization (paper, Figure 2, replica row)
#
# Two-layer networks of width $n = 1000$, Gaussian input, weights with i.i.d.
# $\mathcal N(0, \sigma^2/n)$ entries (spectrum $\sigma^2\times$ Marchenko–Pastur), deterministic
# first layer and noise $\Delta = 10^{-5}$ at the output; $H(T_2)$ for ReLU–ReLU and
# hardtanh–hardtanh as a function of $\sigma$, with the linear network's exact entropy
# (log-determinant of the same matrices) as reference.
#
# Square layers ($\alpha = 1$) have eigenvalues of $W^\intercal W$ close to 0, for which the
# spectral equation (50a) has several roots; the potential uses the root of the fixed point
# (the one ML-VAMP finds), and the linear replica entropy then follows the exact
# log-determinant at every $\sigma$.

# %%
n8, delta8 = width_step8, 1e-5
sigmas = np.logspace(-1, 1, n_sigma_step8)
W8 = [rng.standard_normal((n8, n8)) / np.sqrt(n8) for _ in range(2)]
lams8 = [Empirical.from_matrix(W).eigvals for W in W8]
H8 = {"linear (exact)": [], "linear (replica)": [], "ReLU": [], "hardtanh": []}
for sigma in sigmas:
    H8["linear (exact)"].append(linear_gaussian([sigma * W for W in W8], [0.0, delta8]).entropy[-1])
    specs = [Empirical(sigma**2 * lam, 1.0) for lam in lams8]
    for name, act in (("linear (replica)", Linear), ("ReLU", ReLU), ("hardtanh", HardTanh)):
        r = replica(Model(Gaussian(), [Layer(specs[0], act(noise=0.0)),
                                       Layer(specs[1], act(noise=delta8))]), tol=1e-8)
        assert r.converged
        H8[name].append(r.entropy[-1])
H8 = {k: np.array(v) for k, v in H8.items()}
print(f"{'sigma':>7} " + " ".join(f"{k:>16}" for k in H8))
for i, sigma in enumerate(sigmas):
    print(f"{sigma:7.3f} " + " ".join(f"{H8[k][i]:16.3f}" for k in H8))

# linear: replica = exact up to O(1/n) finite-size corrections of the product of the two
# matrices; H grows like 2 log sigma (T_2 ~ sigma^2)
gap8 = np.abs(H8["linear (replica)"] - H8["linear (exact)"])
print(f"linear replica vs exact: max gap {gap8.max():.0e}")
assert gap8.max() < 1e-2
assert abs((H8["linear (exact)"][-1] - H8["linear (exact)"][-2])
           / (2 * np.log(sigmas[-1] / sigmas[-2])) - 1) < 0.05
# ReLU: entropy increases with the weight scale; hardtanh saturates: its entropy peaks at an
# intermediate sigma and decreases for large weights
assert np.all(np.diff(H8["ReLU"]) > 0)
peak = np.argmax(H8["hardtanh"])
assert 0 < peak < len(sigmas) - 1

fig, ax = plt.subplots(figsize=(5, 3.6))
ax.semilogx(sigmas, H8["linear (exact)"], "k-", label="linear (exact log-det)")
ax.semilogx(sigmas, H8["linear (replica)"], "k+", label="linear (replica)")
ax.semilogx(sigmas, H8["ReLU"], "o-", label="ReLU-ReLU (replica)")
ax.semilogx(sigmas, H8["hardtanh"], "s-", label="hardtanh-hardtanh (replica)")
ax.set_xlabel(r"weight scale $\sigma$")
ax.set_ylabel(r"$H(T_2)/n_0$")
ax.set_title(rf"entropy at initialization, $n={n8}$, $\Delta=10^{{-5}}$")
ax.legend(fontsize=8)
fig.tight_layout()
fig.savefig("../figures/01_entropy_init.png", dpi=110)
plt.show()

# %% tags=[]
# NBVAL_IGNORE_OUTPUT
print(f"total run time: {time.perf_counter() - t_start:.0f} s")
