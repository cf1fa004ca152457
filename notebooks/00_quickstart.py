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
# 1. describe a stochastic multi-layer network $X \to T_1 \to T_2 \to T_3$ (eq. (1) of
#    Gabrié et al. 2018) by its prior $P_0$, the spectra of $W_\ell^\intercal W_\ell$ and its
#    noisy activations $T_\ell = \varphi_\ell(W_\ell T_{\ell-1} + \xi_\ell)$,
#    $\xi_\ell \sim \mathcal N(0, \Delta_\ell)$;
# 2. compute the replica predictions (Claim 1) of $H(T_\ell)$, $I(X;T_\ell)$ and the MMSE of
#    $X$ given $T_\ell$ for every layer, all in nats per input unit $n_0$ (the width of $X$);
# 3. check the replica formula against the exact log-determinant of a linear Gaussian layer
#    with an actual random weight matrix.
#
# Every quantity comes from the library; the notebook only assembles and plots.
#
# Profiles (docs/notebooks.md): the quick profile draws the figure from the stored record
# `results/00_quickstart/quickstart.nc` and recomputes everything live (the replica values
# must equal the record's, the exact check runs at $n_0 = 400$); the full profile
# (`params/full/00_quickstart.yaml`) recomputes the record, exact check at $n_0 = 2000$.

# %% tags=["parameters"]
profile = "quick"              # "quick" (draw from the record + live checks) or "full"
figdir = "../build/figures"    # the tracked gallery is ../figures (full profile, make gallery)
resultsdir = "../results"      # stored records
live = True                    # recompute and check against the record
seed = 0                       # random seed of the weight matrices of the exact check
alphas = [1.2, 1.0, 0.8]       # alpha_l = n_l / n_(l-1)
readout_noise = 1e-3           # Delta of the layer whose entropy is evaluated (inner layers: 0)
n_exact = 400                  # input width n_0 of the finite networks of the exact check
exact_alphas = [0.5, 1.2, 2.0]  # alpha of the one-layer exact check
exact_noises = [1e-3, 1e-1]    # its noises

# %%
import json
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr
from _gallery import save as save_png

from midnn import Layer, Model, replica
from midnn._provenance import stamp
from midnn.activations import Linear, ReLU
from midnn.exact import linear_gaussian
from midnn.priors import Gaussian
from midnn.spectra import Empirical, MarchenkoPastur
from midnn.sweeps import load, save

t_start = time.perf_counter()
record = Path(resultsdir) / "00_quickstart" / "quickstart.nc"
NATS = "nats per n_0"

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
print(res)


# %% [markdown]
# ## 2. Exact check: one linear layer
#
# For $T = W X + \xi$ with Gaussian $X$ everything is a log-determinant,
# $H(T) = \tfrac12 \log\det\!\big(2\pi e\,(W W^\intercal + \Delta I)\big)$, and the replica
# formula evaluated with the *empirical* spectrum of $W^\intercal W$ (`Empirical.from_matrix`)
# must reproduce it to rounding error, for any size and any $\alpha$ (zero modes included when
# $\alpha < 1$). (For deep networks the two agree up to $O(1/n_0)$; see notebook 01, step 7.)
# The threshold $10^{-9}$ nats per $n_0$ leaves room for the solver tolerance ($10^{-10}$) and
# the rounding of log-determinants of size up to 4000.

# %%
def exact_check(n0: int, rng) -> xr.Dataset:
    """Replica (empirical spectrum) and exact log-det values of T = W X + xi, one W per
    (alpha, Delta) pair; W of shape (alpha n0, n0) with i.i.d. N(0, 1/n0) entries."""
    shape = (len(exact_alphas), len(exact_noises))
    out = {f"{q}_{k}": np.empty(shape) for q in ("entropy", "mutual_information", "mmse")
           for k in ("exact", "replica")}
    for i, alpha in enumerate(exact_alphas):
        W = rng.standard_normal((int(alpha * n0), n0)) / np.sqrt(n0)
        for j, delta in enumerate(exact_noises):
            rep = replica(Model(Gaussian(), [Layer(Empirical.from_matrix(W), Linear(delta))]))
            ex = linear_gaussian([W], delta)
            for q in ("entropy", "mutual_information", "mmse"):
                out[f"{q}_exact"][i, j] = getattr(ex, q)[0]
                out[f"{q}_replica"][i, j] = getattr(rep, q)[0]
    return xr.Dataset({k: (("alpha", "noise"), v, {"units": "per component of X" if "mmse"
                                                   in k else NATS}) for k, v in out.items()},
                      coords={"alpha": exact_alphas, "noise": exact_noises})


def max_error(ds: xr.Dataset) -> float:
    return max(float(np.abs(ds[f"{q}_replica"] - ds[f"{q}_exact"]).max())
               for q in ("entropy", "mutual_information", "mmse"))


# %%
if profile == "full":
    layer = xr.Dataset({q: ("layer", getattr(res, q), {"units": "per component of X" if q ==
                                                       "mmse" else NATS})
                        for q in ("entropy", "mutual_information", "conditional_entropy",
                                  "mmse")}, coords={"layer": [1, 2, 3]})
    ds = xr.merge([layer, exact_check(n_exact, np.random.default_rng(seed))])
    record.parent.mkdir(parents=True, exist_ok=True)
    save(stamp(ds, dict(alphas=alphas, readout_noise=readout_noise, n_exact=n_exact,
                        exact_alphas=exact_alphas, exact_noises=exact_noises), seed=seed),
         record)
rec = load(record)
n0_rec = json.loads(rec.attrs["config"])["n_exact"]
print(f"record: exact check at n_0 = {n0_rec}, midnn {rec.attrs['midnn_version']}, commit "
      f"{rec.attrs['git_commit'][:12]}")

# %% [markdown]
# **Claims** (asserted on the record):
#
# * $I(X;T_\ell) = H(T_\ell) - H(T_\ell|X) > 0$;
# * $0 \le \mathrm{MMSE}_\ell \le \operatorname{Var} X = 1$;
# * the rate–distortion bound of a Gaussian source: an estimator of $X$ built from
#   $T_\ell$ cannot beat $\mathrm{MMSE}_\ell \ge \operatorname{Var}(X)\, e^{-2 I(X;T_\ell)/n_0}$;
# * replica = exact log-determinant to $10^{-9}$ for every $(\alpha, \Delta)$ of the exact
#   check.

# %%
H, Hc, I, mmse = (rec[q].values for q in ("entropy", "conditional_entropy",
                                          "mutual_information", "mmse"))
assert np.allclose(I, H - Hc, rtol=0, atol=1e-12)
assert np.all(I > 0)
assert np.all((mmse >= 0) & (mmse <= 1))
assert np.all(mmse >= np.exp(-2 * I))
err_record = max_error(rec)
assert err_record < 1e-9, err_record
print(f"{'layer':>5} {'H(T_l)':>9} {'H(T_l|X)':>9} {'I(X;T_l)':>9} {'MMSE':>7} "
      f"{'MMSE/exp(-2I)':>13}")
for l in range(3):
    print(f"{l + 1:>5} {H[l]:9.4f} {Hc[l]:9.4f} {I[l]:9.4f} {mmse[l]:7.4f} "
          f"{mmse[l] / np.exp(-2 * I[l]):13.2f}")
print(f"exact check: max |replica - exact| = {err_record:.0e} (< 1e-9)")

# %%
layers = rec.layer.values
fig, axes = plt.subplots(1, 4, figsize=(14, 4), constrained_layout=True)
for ax, q, title in zip(axes[:3], ("entropy", "mutual_information", "mmse"),
                        (r"entropy $H(T_\ell)$", r"mutual information $I(X;T_\ell)$",
                         r"MMSE of $X$ given $T_\ell$"), strict=True):
    ax.plot(layers, rec[q], "o-", label="replica (Claim 1)")
    ax.set_xticks(layers)
    ax.set_xlabel(r"layer $\ell$")
    ax.set_ylabel("MMSE per component of $X$" if q == "mmse" else r"nats per $n_0$")
    ax.set_title(title)
axes[2].plot(layers, np.exp(-2 * I), "k--", label=r"bound $e^{-2I(X;T_\ell)/n_0}$")
axes[2].set_ylim(0, 1.05)
axes[2].legend(fontsize=9, loc="upper left")
ax = axes[3]
for q, marker, label in (("entropy", "o", r"$H(T)$"), ("mutual_information", "s", r"$I(X;T)$")):
    ax.plot(rec[f"{q}_exact"].values.ravel(), rec[f"{q}_replica"].values.ravel(), marker,
            mfc="none", ms=8, label=label)
lim = [min(rec.entropy_exact.min(), rec.mutual_information_exact.min()) - 0.2,
       max(rec.entropy_exact.max(), rec.mutual_information_exact.max()) + 0.2]
ax.plot(lim, lim, "k:", lw=1, label="replica = exact")
ax.set_xlabel(r"exact log-det [nats per $n_0$]")
ax.set_ylabel(r"replica, empirical spectrum [nats per $n_0$]")
ax.set_title("replica vs exact, one linear layer\n"
             rf"$n_0={n0_rec}$: max |difference| {err_record:.0e}")
ax.legend(fontsize=9, loc="upper left")
fig.suptitle(r"Gaussian $X$ → linear → ReLU → linear, $\alpha_\ell$ = "
             f"{', '.join(map(str, alphas))}, readout noise $\\Delta$ = {readout_noise:g}; "
             r"right: 3 $\alpha$ x 2 $\Delta$ against exact values", fontsize=11)
save_png(fig, figdir, "00_quickstart")
plt.show()

# %% [markdown]
# ## 3. Live check
#
# The replica values of the three-layer model computed above must be the record's (the
# same call; $10^{-10}$ allows for last-bit changes of the engine), and the exact check runs
# again at the size of this profile.

# %%
if live:
    for q in ("entropy", "mutual_information", "conditional_entropy", "mmse"):
        assert np.allclose(getattr(res, q), rec[q].values, rtol=0, atol=1e-10), q
    err_live = max_error(exact_check(n_exact, np.random.default_rng(seed)))
    print(f"live: replica values = record; exact check at n_0 = {n_exact}: max |replica - "
          f"exact| < 1e-9: {err_live < 1e-9}")
    assert err_live < 1e-9, err_live

# %%
# NBVAL_IGNORE_OUTPUT
print(f"total run time: {time.perf_counter() - t_start:.0f} s")
