# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,jupytext,-jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 05 — Generative model: I(X; T_l) and I(Y; T_l) along training, compression, generalization
#
# The paper's decoder–encoder experiment (Gabrié et al. 2018, learning experiments with
# USV-layers). A latent $Y \in \mathbb R^{n_Y}$, $n_Y = 20$, with i.i.d. $\mathcal N(0,1)$
# components is decoded linearly into the network input $X = W_{dec} Y + \xi$,
# $X \in \mathbb R^{100}$, $\xi \sim \mathcal N(0, 0.01\, I)$; the label is
# $\mathrm{sign}(Y_1)$. An encoder $[100, 200, 100, 50, 20, 2]$ with activations
# [linear, $f$, linear, $f$, softmax], $f$ = ReLU or hardtanh, whose first four layers are
# USV layers ($W = U S V^\intercal$, fixed Haar $U, V$, trained $S$), is trained by
# cross-entropy. Along training the replica formula gives, for the four USV layers $T_l$
# (each observed through a Gaussian noise $\Delta = 10^{-5}$, no noise before it), both
#
# * $I(X; T_l)$, with $X$ the network input: the authors' quantity (their code records it
#   per $n_Y$);
# * $I(Y; T_l)$, with $Y$ the latent,
#
# in **nats per $n_Y$** (the width of the chain input $Y$ of the replica chain
# $Y \to X \to T_1 \to \dots \to T_4$).
#
# Settings and their sources (`midnn.experiments.GENERATIVE` and `SOURCES`): everything
# comes from the authors' script `launch_decoder_encoder_classif_usevamp_manylayers_relu.py`
# (decoder, encoder, USV flags, SGD lr 0.01, batch 100, 20,000 samples of which half are
# held out, 100 epochs, MI every 2 epochs for the first 4 layers, noises $10^{-5}$ and 0),
# except: the hardtanh family (their script has ReLU only), 5 seeds per family (their script
# has one run; the seed sets the encoder's initialization and the mini-batch order, the data
# set is the same for all runs), and the generated $X$ (below). All our choices.
#
# **Profiles** (`docs/notebooks.md`). `quick` (default) loads the stored paper-scale records
# from `results/05_generative_model/`, draws the figures from them and asserts the claims on
# them, then runs a small live version through the same driver (`live`). `full`
# (`params/full/05_generative_model.yaml`) first recomputes the records: the 10 runs are
# independent tasks of `midnn.sweeps.sweep` over family × seed, each writing its run record.

# %% tags=["parameters"]
profile = "quick"            # "quick": stored records; "full": recompute them first
figdir = "../build/figures"  # the tracked gallery is ../figures (full profile, make gallery)
resultsdir = "../results"    # the stored paper-scale records
live = True                  # run the smoke run (quick profile)
# paper scale: what the full profile recomputes (defaults: midnn.experiments.GENERATIVE)
families = ["relu", "hardtanh"]
seeds = [0, 1, 2, 3, 4]
epochs = 100
n_samples = 20000
n_workers = None             # Dask workers of the full profile (None: one per CPU)
noise_runs = ["relu_seed0", "hardtanh_seed0"]  # recomputed at other readout noises
noises = [1e-5, 1e-4, 1e-3, 1e-2]
# analysis
floor_k = 5.0                # jitter floor of a drop, in jitter standard deviations
level = 0.99                 # one-sided level of the compression test over seeds
n_boot = 10000               # bootstrap resamples of the correlations
# smoke run (quick profile, live=True)
live_families = ["relu", "hardtanh"]
live_seeds = [0]
live_samples = 2000
live_epochs = 4
live_mi_layers = 2

# %%
import functools
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from _gallery import save
from matplotlib.ticker import MaxNLocator

from midnn import experiments as E
from midnn import sweeps

t_start = time.perf_counter()
assert profile in ("quick", "full"), profile
rdir = Path(resultsdir) / "05_generative_model"
plt.rcParams.update({"font.size": 10, "axes.titlesize": 10, "axes.labelsize": 10,
                     "xtick.labelsize": 9, "ytick.labelsize": 9, "legend.fontsize": 9})
FAM = {"relu": ("ReLU", "C0"), "hardtanh": ("hardtanh", "C3")}
KIND = ["linear", "f", "linear", "f"]  # the activation of T_1..T_4


def fmt(x):
    """A drop with 2-3 significant digits whatever its size (they range over 1e-4..0.5)."""
    return f"{x:.3f}" if abs(x) >= 0.01 or x == 0 else f"{x:.1e}"


NAME = {"mutual_information_x": "I(X;T{l})", "mutual_information": "I(Y;T{l})"}
UNIT = "nats per $n_Y$"

# %% [markdown]
# ## 1. The records (full profile: recomputed on the sweep runner)
#
# Each run is `midnn.experiments.generative_run(family, seed=...)`: it builds the data set,
# the encoder and trains it with `midnn.training.train`, which writes the run record
# (`results/05_generative_model/<family>_seed<seed>.jsonl`: per checkpoint the spectra of the
# four USV layers and the replica quantities; per epoch the losses and accuracies; the
# configuration, seeds and provenance in its header). The sweep's own table (final errors,
# wall times) is `runs.nc`; `noise_dependence.nc` holds two runs recomputed at other
# readout noises (section 7).

# %%
# NBVAL_IGNORE_OUTPUT
if profile == "full":
    t0 = time.perf_counter()
    task = functools.partial(E.generative_run, outdir=str(rdir), epochs=epochs,
                             n_samples=n_samples)
    table = sweeps.sweep(task, {"family": families, "seed": seeds}, n_workers=n_workers,
                         batch_size=1, progress=False, name="05_generative_model")
    assert not table.error.values.any(), table.error.values
    sweeps.save(table, rdir / "runs.nc")
    print(f"{table.sizes['family'] * table.sizes['seed']} runs in "
          f"{time.perf_counter() - t0:.0f} s (per run {table.time.min().item():.0f}-"
          f"{table.time.max().item():.0f} s); warnings: "
          f"{sorted(set(table.warning.values.ravel()) - {''}) or 'none'}")
    t0 = time.perf_counter()
    task = functools.partial(E.noise_dependence, directory=str(rdir))
    noise_table = sweeps.sweep(task, {"run": noise_runs, "noise": noises},
                               n_workers=n_workers, batch_size=1, progress=False,
                               name="05_noise_dependence")
    assert not noise_table.error.values.any(), noise_table.error.values
    sweeps.save(noise_table, rdir / "noise_dependence.nc")
    print(f"noise dependence: {time.perf_counter() - t0:.0f} s")
else:
    print(f"quick profile: the stored records in {rdir} are loaded, not recomputed")

# %%
runs = E.load_runs(rdir, "*_seed*.jsonl")
fams = [f for f in families if any(k.startswith(f + "_") for k in runs)]
by_fam = {f: [runs[E.run_name(f, s)] for s in seeds] for f in fams}
ref = by_fam[fams[0]][0]
steps, _ = E.curves([r for recs in by_fam.values() for r in recs])
cfg = ref.config["experiment"]
git = ref.header["provenance"]["git"]
# the claims below are those of the paper-scale records; other sizes are drawn, not asserted
paper_scale = (set(fams) == {"relu", "hardtanh"} and len(seeds) == 5
               and cfg["epochs"] == 100 and cfg["n_samples"] == 20000)
print(f"{len(runs)} runs ({', '.join(fams)} x seeds {seeds}), checkpoints at epochs "
      f"{steps[0]}..{steps[-1]} every {steps[1] - steps[0]}, {ref.n_layers} tracked layers")
print(f"data: decoder {cfg['decoder_widths']}, noise {cfg['decoder_noise']}, "
      f"{cfg['n_samples']} samples (test fraction {cfg['test_fraction']}); encoder "
      f"{cfg['widths']}, SGD lr {cfg['lr']}, batch {cfg['batch_size']}, {cfg['epochs']} "
      f"epochs; readout noise {ref.chain.noise:g}, inner noise {ref.chain.inter_noise:g}")
print(f"records written by midnn {ref.header['provenance']['midnn']} at commit "
      f"{git[:12] if git else 'unknown'}; units: {ref.units['mutual_information_x']}")

# %% [markdown]
# ## 2. I(X; T_l) and I(Y; T_l): why they differ, and what X is
#
# Both are computed from the same chain $Y \to X \to T_l$ and share the entropy $H(T_l)$:
# $I(X;T_l) = H(T_l) - H(T_l \mid X)$ and $I(Y;T_l) = H(T_l) - H(T_l \mid Y)$. Given $X$,
# the only randomness left in $T_l$ is the readout noise $\Delta = 10^{-5}$; given $Y$, $T_l$
# still carries the decoder noise $\xi$ (variance $0.01$ in each of the 100 input directions,
# 80 of which hold nothing but noise) as the network transmits it. Hence
# $H(T_l \mid Y) \gg H(T_l \mid X)$ and, by the data-processing inequality for the Markov
# chain $Y \to X \to T_l$, $I(Y;T_l) \le I(X;T_l)$, and also $I(Y;T_l) \le I(Y;X)$. Here
# $I(Y;X) = 3.03$ nats per $n_Y$ (computed below) and $I(Y;T_1) = 3.03$ already: the first,
# linear layer keeps almost all there is to know about $Y$, while $I(X;T_l)$ (21.25 nats
# per $n_Y$ at $T_1$) measures mostly how the network transmits the noise directions of $X$. The two
# curves can therefore move differently: the encoder can discard noise in $X$ (compressing
# $I(X;T_l)$) while keeping what it says about $Y$.
#
# **The generated X.** The authors' data generator (`lsd.model_params`) adds the decoder
# noise with a Keras `GaussianNoise` layer, which is active only during training, not at
# `predict` time, so their generated $X = W_{dec} Y$ was noiseless (rank 20 in 100
# dimensions), while their replica chain assumed the noise $0.01$. midnn generates
# $X = W_{dec} Y + \xi$ with $\xi \sim \mathcal N(0, 0.01\, I)$ (`midnn.data.generative`), the
# noise the chain assumes: the tracked quantities are then those of the network on the data
# it is actually trained on. (With noiseless $X$, $I(X;T_l)$ would be that of a degenerate
# input that the chain does not describe.)

# %%
dec = ref.chain.input_layers[0]
lam = dec.spectrum.eigvals  # the n_Y eigenvalues of W_dec^T W_dec
i_yx = 0.5 * np.sum(np.log1p(ref.chain.prior.var * lam / dec.activation.noise)) / len(lam)
print(f"I(Y;X) = {i_yx:.4f} {UNIT.replace('$', '')} (decoder noise {dec.activation.noise:g})")
for f in fams:
    IX = E.curves(by_fam[f], "mutual_information_x")[1]
    IY = E.curves(by_fam[f], "mutual_information")[1]
    print(f"{FAM[f][0]:8s} epoch 0: I(X;T_l) = " + ", ".join(f"{v:.2f}" for v in IX[:, 0].mean(0))
          + "; I(Y;T_l) = " + ", ".join(f"{v:.3f}" for v in IY[:, 0].mean(0))
          + " (mean over seeds)")

# %% [markdown]
# ## 3. Along training: the change of I(X; T_l) and I(Y; T_l) from epoch 0
#
# One panel per layer, family and quantity, each with its own scale: $I(t) - I(0)$ for each
# seed (thin lines) and their mean (thick), so that a drift of 0.01 nats per $n_Y$ is
# visible next to one of 0.5. The panel title gives the value at epoch 0 (mean over seeds)
# and the drop after the maximum (mean ± standard deviation over seeds, section 4).

# %%
def change_panels(axes, families_recs, quantities, steps):
    """Rows: (family, quantity); columns: layers. I(t) - I(0), seeds thin, mean thick."""
    row = 0
    for f, recs in families_recs.items():
        label, color = FAM[f]
        for q in quantities:
            I = E.curves(recs, q)[1]
            d = E.drops(I)
            for l in range(I.shape[2]):
                ax = axes[row, l]
                delta = I[:, :, l] - I[:, :1, l]
                for s in range(len(recs)):
                    ax.plot(steps, delta[s], color=color, lw=0.7, alpha=0.6)
                ax.plot(steps, delta.mean(0), color="k", lw=2)
                ax.axhline(0, color="0.6", lw=0.6, zorder=0)
                name = NAME[q].format(l=l + 1)
                sd = d[:, l].std(ddof=1) if len(recs) > 1 else 0.0
                kind = label if KIND[l] == "f" else "linear"
                ax.set_title(f"{label}, T{l + 1} ({kind}): {name}\n"
                             f"I(0) = {I[:, 0, l].mean():.2f}, drop {fmt(d[:, l].mean())}"
                             f" ± {fmt(sd)}")
                if l == 0:
                    ax.set_ylabel(f"{name.split('T')[0]}T_l) − I(0)\n({UNIT})")
            row += 1
    for ax in axes[-1]:
        ax.set_xlabel("epoch")


fig, axes = plt.subplots(4, 4, figsize=(15, 12.5), sharex=True)
change_panels(axes, by_fam, ["mutual_information_x", "mutual_information"], steps)
fig.suptitle(f"USV encoder on generative data, {len(seeds)} seeds per family (thin: seeds, "
             "thick: mean): change of I(X;T_l) and I(Y;T_l) from epoch 0, paper scale", y=0.995)
fig.tight_layout()
save(fig, figdir, "05_training_curves")
plt.show()

# %% [markdown]
# ## 4. Which layers compress, and by how much
#
# **Compression** of a layer in one run: the drop $D = \max_t I(t) - I(\text{end})$ of its
# curve after its maximum (0 for a curve that ends at its maximum). The replica values are
# deterministic functions of the weights, so the only noise in a curve is the
# checkpoint-to-checkpoint jitter of SGD; we measure it per run and layer as a robust
# standard deviation $\sigma$ of the curve's second differences (`midnn.experiments.jitter`).
#
# * **In one run** a drop counts when it exceeds the jitter floor $5\sigma$ ($\sigma$ the
#   largest over the seeds): a curve of white jitter ends at most a few $\sigma$ below its
#   running maximum. The floor is at most $2.3 \times 10^{-3}$ nats per $n_Y$ here.
# * **Over the 5 seeds of a family**, a layer *compresses* when its mean drop exceeds the
#   floor by more than $t_{0.99,4} = 3.75$ standard errors $\mathrm{sd}/\sqrt 5$ (the
#   seed-to-seed standard deviation of the drop): the one-sided one-sample $t$ test at the
#   1% level, i.e. mean − floor > 1.68 sd. The spread over seeds, which comes from the
#   initialization and the mini-batch order, sets the threshold: a drop that some seeds make
#   and others do not, or of very uneven size, does not count as systematic. (8 tests per
#   quantity at 1%: fewer than 0.1 false positives expected.)

# %%
tests = {(f, q): E.compression_test(E.curves(by_fam[f], q)[1], floor_k=floor_k, level=level)
         for f in fams for q in ("mutual_information_x", "mutual_information")}
for (f, q), t in tests.items():
    print(f"{FAM[f][0]:8s} {NAME[q].format(l='_l'):9s} (critical t = {t['critical']:.2f}, "
          f"floor {t['floor'].max():.1e})")
    for l in range(len(t["mean"])):
        I0 = E.curves(by_fam[f], q)[1][:, 0, l].mean()
        print(f"   T{l + 1} ({KIND[l]:6s}) drop {t['mean'][l]:.4f} ± {t['sd'][l]:.4f} "
              f"({100 * t['mean'][l] / I0:4.1f}% of I(0)), {t['runs'][l]}/{len(seeds)} runs "
              f"above the floor, t = {t['t'][l]:6.1f}: "
              f"{'COMPRESSES' if t['compresses'][l] else 'no systematic compression'}")

# %% [markdown]
# What the paper-scale runs show (asserted below):
#
# * **hardtanh**: $I(X;T_l)$ compresses systematically in layers $T_1$, $T_3$ (linear) and
#   $T_4$ (hardtanh), by 0.34, 0.26 and 0.16 nats per $n_Y$ on average (1.6%, 2.7% and 3.8%
#   of their initial values), in every seed ($t$ = 7.5, 5.6, 19.8 against 3.75); $T_2$ does
#   not ($t$ = 1.2). $I(Y;T_l)$ compresses in $T_3$ and $T_4$, by 0.009 and 0.051 nats per
#   $n_Y$: much less in absolute terms, since $I(Y;T_l)$ is capped by $I(Y;X) = 3.03$.
# * **ReLU**: no layer compresses $I(X;T_l)$ systematically, yet compression does occur in
#   ReLU networks: $I(X;T_1)$ falls after its maximum in all 5 runs, by 0.0015 to 0.30 nats
#   per $n_Y$ (too uneven across seeds to pass the test: $t$ = 2.6), and $T_2$, $T_3$ in
#   some runs; $I(X;T_4)$ (ReLU) rises in every run. $I(Y;T_l)$ of the deepest layers
#   compresses: clearly for $T_4$ (0.014 nats per $n_Y$, $t$ = 4.8), marginally for $T_3$
#   (0.007, $t$ = 3.8 against 3.75; $T_2$ misses at 3.7): verdicts this close to the
#   threshold would change with another level.
#
# The V-shaped dips of single curves (e.g. $I(Y;T_1)$ of two hardtanh seeds near epochs 56
# and 70) are genuine: a trained singular value of $W_1$ changes sign there (USV layers train
# $s$, not $|s|$), and the smallest eigenvalue of $W_1^\intercal W_1$ passes through
# $\approx 10^{-5}$, so that one input direction is briefly lost.

# %%
verdict = {(f, q): {l + 1 for l in np.flatnonzero(t["compresses"])} for (f, q), t in
           tests.items()}
if paper_scale:
    assert verdict["hardtanh", "mutual_information_x"] == {1, 3, 4}, verdict
    assert verdict["relu", "mutual_information_x"] == set(), verdict
    assert verdict["hardtanh", "mutual_information"] == {3, 4}, verdict
    assert verdict["relu", "mutual_information"] == {3, 4}, verdict
    t = tests["relu", "mutual_information_x"]
    assert t["runs"][0] == len(seeds) and t["drop"][:, 0].max() > 0.25  # ReLU T_1: every run
    assert t["runs"][3] == 0                                             # ReLU T_4: none
    t = tests["hardtanh", "mutual_information_x"]
    assert np.all(t["runs"][[0, 2, 3]] == len(seeds))
    assert np.all(t["mean"][[0, 2, 3]] > 0.15) and t["floor"].max() < 3e-3
    for s in (0, 2):  # the dips of I(Y;T_1): a singular value of W_1 through zero
        r = runs[E.run_name("hardtanh", s)]
        k = r.checkpoints["mutual_information"][:, 0].argmin()
        assert k == r.spectra[0].min(axis=1).argmin() and r.spectra[0][k].min() < 1e-4
print("compression verdicts: " + ("as stated" if paper_scale else "not asserted (not paper scale)"))

# %% [markdown]
# ## 5. Information plane and learning curves
#
# The information plane drawn as the authors draw it (`lsd.utils_plots_paper`): for each
# layer, $I(X;T_l)$ against minus the test loss (cross-entropy on the held-out half, nats per
# sample), the points coloured by epoch; one thin grey line per seed. Left: train (dashed)
# and test (solid) errors per seed.

# %%
def information_plane(axes, families_recs, steps, cmap="magma"):
    """Row per family: errors along training, then I(X;T_l) vs -test loss per layer."""
    for row, (f, recs) in enumerate(families_recs.items()):
        label, color = FAM[f]
        ax = axes[row, 0]
        for r in recs:
            h = r.history
            ax.plot(h["epoch"], 1 - h["test_acc"], color=color, lw=0.8)
            ax.plot(h["epoch"], 1 - h["train_acc"], color=color, lw=0.8, ls="--")
        ax.set(xlabel="epoch", ylabel="error (fraction misclassified)",
               title=f"{label}: train (dashed), test (solid)")
        I = E.curves(recs, "mutual_information_x")[1]
        for l in range(I.shape[2]):
            ax = axes[row, l + 1]
            for s, r in enumerate(recs):
                y = -E.at_checkpoints(r, "test_loss")
                ax.plot(I[s, :, l], y, color="0.75", lw=0.6, zorder=1)
                sc = ax.scatter(I[s, :, l], y, c=steps, cmap=cmap, s=9, zorder=2,
                                vmin=steps[0], vmax=steps[-1])
            kind = label if KIND[l] == "f" else "linear"
            ax.set(xlabel=f"I(X;T{l + 1}) ({UNIT})", title=f"{label}, T{l + 1} ({kind})")
            if l == 0:
                ax.set_ylabel("− test loss (cross-entropy, nats)")
    return sc


fig, axes = plt.subplots(len(by_fam), 5, figsize=(17, 3.9 * len(by_fam)), squeeze=False)
sc = information_plane(axes, by_fam, steps)
fig.tight_layout(rect=(0, 0, 0.94, 0.95))
cax = fig.add_axes((0.95, 0.12, 0.012, 0.76))
fig.colorbar(sc, cax=cax, label="epoch")
fig.suptitle("Information plane, I(X;T_l) against − test loss (colour: epoch), 5 seeds per "
             "family, paper scale")
save(fig, figdir, "05_information_plane")
plt.show()

# %% [markdown]
# ## 6. Compression against generalization
#
# For each layer, the drop of $I(X;T_l)$ (top) and of $I(Y;T_l)$ (bottom) of every run
# against its final test error. Within a family, the Pearson correlation across its 5 seeds
# with a 95% percentile bootstrap interval (`midnn.training.bootstrap_correlation`, pairs
# resampled, 10,000 resamples).

# %%
err = {f: np.array([E.final_metrics(r)["test_error"] for r in by_fam[f]]) for f in fams}
gap = {f: np.array([E.final_metrics(r)["test_error"] - E.final_metrics(r)["train_error"]
                    for r in by_fam[f]]) for f in fams}
corr = {(f, q): E.within_family_correlations(tests[f, q]["drop"], err[f], n_boot=n_boot,
                                             seed=0)
        for f in fams for q in ("mutual_information_x", "mutual_information")}
for f in fams:
    print(f"{FAM[f][0]:8s} final test error {err[f].mean():.3f} ± {err[f].std(ddof=1):.3f} "
          f"(range {err[f].min():.3f}-{err[f].max():.3f}); test - train error "
          f"{gap[f].mean():+.3f} ± {gap[f].std(ddof=1):.3f}")
for (f, q), c in corr.items():
    print(f"{FAM[f][0]:8s} drop of {NAME[q].format(l='_l'):9s} vs test error: " + "; ".join(
        f"T{l + 1} r = {c['r'][l]:+.2f} [{c['low'][l]:+.2f}, {c['high'][l]:+.2f}]"
        if np.isfinite(c["r"][l]) else f"T{l + 1} undefined (no drop varies)"
        for l in range(len(c["r"]))))

# %%
fig, axes = plt.subplots(2, 4, figsize=(15, 7.2))
for row, q in enumerate(["mutual_information_x", "mutual_information"]):
    for l in range(4):
        ax = axes[row, l]
        # drops of 1e-4..1e-2 are drawn in units of 10^e, so that the ticks stay short
        top = max(tests[f, q]["drop"][:, l].max() for f in fams)
        e = int(np.floor(np.log10(top))) if 0 < top < 0.01 else 0
        for f in fams:
            label, color = FAM[f]
            ax.scatter(tests[f, q]["drop"][:, l] / 10.0**e, err[f], color=color,
                       marker="o" if f == "relu" else "^", s=40, label=label)
        name = NAME[q].format(l=l + 1)
        unit = f"$10^{{{e}}}$ {UNIT}" if e else UNIT
        ax.set(xlabel=f"drop of {name} after its maximum\n({unit})",
               title=f"T{l + 1} ({KIND[l]}): compression of {name}")
        ax.xaxis.set_major_locator(MaxNLocator(5))
        if l == 0:
            ax.set_ylabel("final test error")
        ax.margins(0.12)
axes[0, 0].legend(loc="best", title="family")
fig.suptitle("Compression against generalization, one point per run (5 seeds per family; "
             "f = ReLU or hardtanh), paper scale")
fig.tight_layout()
save(fig, figdir, "05_compression_vs_generalization")
plt.show()

# %% [markdown]
# What this shows (asserted below). **Within each family no correlation between compression
# and test error is detectable**: every within-family 95% interval contains 0 (most span
# nearly all of $[-1, 1]$): with 5 runs per family the question is inconclusive, and we do
# not report those correlations as findings. **Between families**, hardtanh compresses
# $I(X;T_l)$ and has the lower test error (about 0.05 against 0.08–0.15 for ReLU); but the
# families differ in everything their activation changes (in particular how fast SGD at
# lr 0.01 fits: after 100 epochs the test error exceeds the train error by less than 0.01 in
# both, so the test error measures mostly how far training has got, not a generalization
# gap), so this does not single out compression as the cause. This agrees with the paper's
# conclusion: compression occurs (in ReLU networks too), but its relation to generalization
# remains elusive.

# %%
if paper_scale:
    for (f, q), c in corr.items():
        assert np.all(c["inconclusive"]), (f, q, c)
    assert err["hardtanh"].max() < err["relu"].min()
    assert all(np.all(np.abs(g) < 0.01) for g in gap.values())
    print("within-family correlations: all inconclusive (95% intervals contain 0)")

# %% [markdown]
# ## 7. The tracked values depend on the readout noise
#
# $I(X;T_l)$ is finite only because each $T_l$ is observed through a noise $\Delta$
# (the paper's $10^{-5}$): it diverges as $\Delta \to 0$ for a deterministic network. Two
# stored runs (seed 0 of each family) recomputed from their stored spectra at
# $\Delta \in \{10^{-5}, 10^{-4}, 10^{-3}, 10^{-2}\}$ (`midnn.training.recompute` on the sweep
# runner; $10^{-5}$ reproduces the record bitwise). Each curve is $I(t) - I(0)$ at its own
# noise.

# %%
nt = sweeps.load(rdir / "noise_dependence.nc")
for run in nt.run.values:
    rec = runs[str(run)]
    same = nt.mutual_information_x.sel(run=run, noise=rec.chain.noise).values
    assert np.array_equal(same, rec.checkpoints["mutual_information_x"])
    assert nt.converged.sel(run=run).values.all()
    I = nt.mutual_information_x.sel(run=run).values  # (noise, epoch, layer)
    assert np.all(np.diff(I, axis=0) < 0)  # more noise, less information, at every checkpoint
    print(f"{run}: I(X;T_l) at epoch 0 and drop after the maximum, {UNIT.replace('$', '')}")
    for k, nz in enumerate(nt.noise.values):
        print(f"   Delta = {nz:.0e}: I(0) = " + ", ".join(f"{v:6.2f}" for v in I[k, 0])
              + "; drop = " + ", ".join(f"{v:.3f}" for v in E.drops(I[k])))

# %%
cols = plt.cm.viridis(np.linspace(0, 0.9, nt.sizes["noise"]))
fig, axes = plt.subplots(nt.sizes["run"], 4, figsize=(15, 3.6 * nt.sizes["run"]),
                         squeeze=False, sharex=True)
for row, run in enumerate(nt.run.values):
    f, s = str(run).split("_seed")
    for l in range(4):
        ax = axes[row, l]
        for k, nz in enumerate(nt.noise.values):
            I = nt.mutual_information_x.sel(run=run, noise=nz, layer=l + 1).values
            ax.plot(nt.epoch.values, I - I[0], color=cols[k], lw=1.6, label=f"Δ = {nz:.0e}")
        ax.axhline(0, color="0.6", lw=0.6, zorder=0)
        kind = FAM[f][0] if KIND[l] == "f" else "linear"
        ax.set_title(f"{FAM[f][0]} seed {s}, T{l + 1} ({kind})")
        if l == 0:
            ax.set_ylabel(f"I(X;T_l) − I(0)\n({UNIT})")
for ax in axes[-1]:
    ax.set_xlabel("epoch")
fig.tight_layout(rect=(0, 0.06, 1, 0.95))
handles, labels = axes[0, 0].get_legend_handles_labels()
fig.legend(handles, labels, loc="lower center", ncol=len(labels), title="readout noise Δ")
fig.suptitle("The same runs recomputed at other readout noises Δ: change of I(X;T_l) from "
             "epoch 0, paper scale")
save(fig, figdir, "05_noise_dependence")
plt.show()

# %% [markdown]
# The levels fall by a factor of 3 to 4 from $\Delta = 10^{-5}$ to $10^{-2}$ (e.g.
# $I(X;T_1)$ from 21.3 to 5.2 nats per $n_Y$), and **compression depends on the noise**:
# in the hardtanh run, $T_2$ hardly compresses at $10^{-5}$ (drop 0.013) but does at
# $10^{-4}$–$10^{-2}$ (0.13–0.21); in the ReLU run, the drop of $T_3$ (0.08 at $10^{-5}$)
# vanishes at $10^{-2}$, while $T_4$ keeps rising at every noise. A statement "layer $l$
# compresses" is therefore a statement at a given readout noise.

# %%
if paper_scale and set(map(str, nt.run.values)) == {"relu_seed0", "hardtanh_seed0"}:
    d = {str(r): E.drops(nt.mutual_information_x.sel(run=r).values) for r in nt.run.values}
    assert d["hardtanh_seed0"][0, 1] < 0.02 and np.all(d["hardtanh_seed0"][1:, 1] > 0.1)
    assert d["relu_seed0"][0, 2] > 0.05 and d["relu_seed0"][-1, 2] < 1e-3
    assert np.all(d["relu_seed0"][:, 3] == 0)
print("noise dependence: as stated")

# %% [markdown]
# ## 8. Consistency checks on every stored checkpoint
#
# Every replica solve converged; every value is finite; $I \ge 0$; the data-processing
# inequalities of the chain $Y \to X \to T_l$ hold: $I(Y;T_l) \le I(X;T_l)$ and
# $I(Y;T_l) \le I(Y;X)$.

# %%
for name, rec in runs.items():
    c = rec.checkpoints
    assert c["converged"].all(), name
    for q in ("mutual_information", "mutual_information_x", "entropy"):
        assert np.all(np.isfinite(c[q])), (name, q)
    assert np.all(c["mutual_information"] >= 0)
    assert np.all(c["mutual_information"] <= c["mutual_information_x"] + 1e-9), name
    assert np.all(c["mutual_information"] <= i_yx + 1e-9), name
print(f"{len(runs)} records x {len(steps)} checkpoints: converged, finite, "
      "I(Y;T_l) <= I(X;T_l) and I(Y;T_l) <= I(Y;X)")

# %% [markdown]
# ## 9. Smoke run (quick profile): the same driver, live, at a small size
#
# `generative_run` through `midnn.sweeps.sweep` (serially, in this process), with
# `live_samples` samples, `live_epochs` epochs and `live_mi_layers` tracked layers, its
# records in a temporary directory; the same analysis functions. Its figure is shown here
# and never saved.

# %%
if live:
    tmp = Path(tempfile.mkdtemp(prefix="midnn05_"))
    task = functools.partial(E.generative_run, outdir=str(tmp), n_samples=live_samples,
                             epochs=live_epochs, n_mi_layers=live_mi_layers)
    smoke = sweeps.sweep(task, {"family": live_families, "seed": live_seeds}, client="serial",
                         progress=False)
    assert not smoke.error.values.any(), smoke.error.values
    live_runs = {f: [E.load_runs(tmp)[E.run_name(f, s)] for s in live_seeds]
                 for f in live_families}
    for f, recs in live_runs.items():
        for rec in recs:
            c = rec.checkpoints
            assert c["converged"].all() and np.all(np.isfinite(c["mutual_information_x"]))
            assert np.all(c["mutual_information"] >= 0)
            assert np.all(c["mutual_information"] <= c["mutual_information_x"] + 1e-9)
            assert np.all(c["mutual_information"] <= i_yx + 1e-9)
            print(f"smoke {f} seed {rec.config['experiment']['seed']}: test error "
                  f"{E.final_metrics(rec)['test_error']:.2f}, I(X;T_l) at the end "
                  + ", ".join(f"{v:.2f}" for v in c["mutual_information_x"][-1])
                  + ", drops " + ", ".join(f"{v:.4f}" for v in E.drops(rec)))
    live_steps = live_runs[live_families[0]][0].checkpoints["epoch"]
    fig, axes = plt.subplots(2 * len(live_runs), live_mi_layers,
                             figsize=(4 * live_mi_layers, 2.6 * 2 * len(live_runs)),
                             squeeze=False, sharex=True)
    change_panels(axes, live_runs, ["mutual_information_x", "mutual_information"], live_steps)
    fig.suptitle(f"smoke run, not paper scale ({live_samples} samples, {live_epochs} epochs)")
    fig.tight_layout()
    plt.show()

# %%
# NBVAL_IGNORE_OUTPUT
print(f"notebook wall time {time.perf_counter() - t_start:.0f} s")
