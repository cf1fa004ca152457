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
# # 00 · Quickstart: entropies and mutual informations of a deep network
#
# This notebook shows the whole `midnn` workflow on one small example:
#
# 1. describe a stochastic multi-layer network $X \to T_1 \to T_2 \to T_3$ (eq. 1 of the
#    paper) by its prior $P_0$, the spectra of $W_\ell^\intercal W_\ell$ and its noisy
#    activations $T_\ell = \varphi_\ell(W_\ell T_{\ell-1} + \xi_\ell)$,
#    $\xi_\ell \sim \mathcal N(0, \Delta_\ell)$;
# 2. compute the replica predictions (Claim 1) of $H(T_\ell)$, $I(X;T_\ell)$ and the MMSE of
#    $X$ given $T_\ell$ for every layer, all in nats per input unit $n_0$;
# 3. check the replica formula against the exact log-determinant of a linear Gaussian layer
#    with an actual random weight matrix.
#
# Every quantity comes from the library; the notebook only assembles and plots.

# %% tags=["parameters"]
seed = 0               # random seed for the weight matrices
alphas = (1.2, 1.0, 0.8)  # alpha_l = n_l / n_{l-1}
readout_noise = 1e-3   # Delta of the layer whose entropy is evaluated (inner layers: 0)
n_exact = 400          # input size n_0 of the finite network used for the exact check
exact_noises = (1e-3, 1e-1)  # readout noises of the exact check

# %%
import matplotlib.pyplot as plt
import numpy as np

from midnn import Layer, Model, replica
from midnn.activations import Linear, ReLU
from midnn.exact import linear_gaussian
from midnn.priors import Gaussian
from midnn.spectra import Empirical, MarchenkoPastur

rng = np.random.default_rng(seed)

# %% [markdown]
# ## 1. The model
#
# Gaussian input $X \sim \mathcal N(0, I_{n_0})$, three layers with i.i.d. Gaussian weights
# $W_\ell \sim \mathcal N(0, 1/n_{\ell-1})$ (Marchenko–Pastur spectra of ratio $\alpha_\ell$):
# linear, ReLU, linear. The inner layers are deterministic ($\Delta = 0$); entry $\ell$ of the
# result observes $T_\ell$ through a small noise $\Delta_\ell = $ `readout_noise`, the
# paper's "noise only at the evaluated layer" (without it, the differential entropy of a
# deterministic continuous output diverges).

# %%
model = Model(Gaussian(mean=0.0, var=1.0), [
    Layer(MarchenkoPastur(alphas[0]), Linear(noise=0.0)),
    Layer(MarchenkoPastur(alphas[1]), ReLU(noise=0.0)),
    Layer(MarchenkoPastur(alphas[2]), Linear(noise=readout_noise)),
])
res = replica(model, readout_noise=readout_noise)
assert res.converged

print(f"{'layer':>5} {'H(T_l)':>9} {'H(T_l|X)':>9} {'I(X;T_l)':>9} {'MMSE':>7}")
for l in range(model.n_layers):
    print(f"{l + 1:>5} {res.entropy[l]:9.4f} {res.conditional_entropy[l]:9.4f} "
          f"{res.mutual_information[l]:9.4f} {res.mmse[l]:7.4f}")

# %% [markdown]
# Consistency checks of the output (asserted below):
#
# * $I(X;T_\ell) = H(T_\ell) - H(T_\ell|X) \ge 0$;
# * $0 \le \mathrm{MMSE}_\ell \le \operatorname{Var} X = 1$;
# * the rate–distortion bound of a Gaussian source: an estimator of $X$ built from
#   $T_\ell$ cannot beat $\mathrm{MMSE}_\ell \ge \operatorname{Var}(X)\, e^{-2 I(X;T_\ell)/n_0}$.

# %%
I = res.mutual_information
assert np.allclose(I, res.entropy - res.conditional_entropy)
assert np.all(I > 0)
assert np.all((res.mmse >= 0) & (res.mmse <= 1))
assert np.all(res.mmse >= np.exp(-2 * I))
print("rate-distortion ratio MMSE / exp(-2 I):", np.round(res.mmse / np.exp(-2 * I), 2))

# %%
layers = np.arange(1, model.n_layers + 1)
fig, axes = plt.subplots(1, 3, figsize=(10, 3))
for ax, values, label in zip(axes, (res.entropy, res.mutual_information, res.mmse),
                             (r"$H(T_\ell)/n_0$", r"$I(X;T_\ell)/n_0$", r"MMSE of $X$ given $T_\ell$"), strict=False):
    ax.plot(layers, values, "o-")
    ax.set_xticks(layers)
    ax.set_xlabel(r"layer $\ell$")
    ax.set_title(label)
fig.suptitle(rf"Gaussian $X$ → linear → ReLU → linear, $\alpha$ = {alphas}, $\Delta$ = {readout_noise:g}")
fig.tight_layout()
fig.savefig("../figures/00_quickstart.png", dpi=110)
plt.show()

# %% [markdown]
# ## 2. Exact check: one linear layer
#
# For $T = W X + \xi$ with Gaussian $X$ everything is a log-determinant,
# $H(T) = \tfrac12 \log\det\!\big(2\pi e\,(W W^\intercal + \Delta I)\big)$, and the replica
# formula evaluated with the *empirical* spectrum of $W^\intercal W$ (`Empirical.from_matrix`)
# must reproduce it to rounding error, for any size and any $\alpha$ (zero modes included when
# $\alpha < 1$). (For deep networks the two agree up to $O(1/n)$; see notebook 01, step 7.)

# %%
rows = []
for alpha in (0.5, 1.2, 2.0):
    W = rng.standard_normal((int(alpha * n_exact), n_exact)) / np.sqrt(n_exact)
    for delta in exact_noises:
        rep = replica(Model(Gaussian(), [Layer(Empirical.from_matrix(W), Linear(delta))]))
        ex = linear_gaussian([W], delta)
        err = max(abs(rep.entropy[0] - ex.entropy[0]),
                  abs(rep.mutual_information[0] - ex.mutual_information[0]),
                  abs(rep.mmse[0] - ex.mmse[0]))
        rows.append((alpha, delta, ex.entropy[0], ex.mutual_information[0], err))
        assert err < 1e-9, (alpha, delta, err)
print(f"{'alpha':>5} {'Delta':>6} {'H exact':>8} {'I exact':>8}  max |replica - exact| < 1e-9")
for alpha, delta, h, i, err in rows:
    print(f"{alpha:5.1f} {delta:6.0e} {h:8.4f} {i:8.4f}  {err < 1e-9}")
