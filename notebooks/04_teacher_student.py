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
# # 04 — Teacher–student training with USV layers: I(X; T_l) along learning
#
# The paper's teacher–student learning experiment (Gabrié et al. 2018, learning experiments
# with USV-layers). The input $X \in \mathbb R^{n_0}$, $n_0 = n_X = 100$, has i.i.d.
# $\mathcal N(0, 1)$ components; a linear teacher $[100 \to 4]$ with output noise $0.01$
# gives the targets. Students are stacks of USV layers $W = U\,\mathrm{diag}(s)\,V^\intercal$
# (fixed Haar $U, V$ drawn independently of the data; only the singular values $s$ are
# trained) followed by a free readout, so that the replica formula applies at every epoch.
# `midnn.training.train` records, at every checkpoint, the spectra of the USV layers and the
# replica $I(X;T_l)$ of each of them observed through a Gaussian noise $\Delta = 10^{-5}$
# (no noise before it), in **nats per $n_X$**.
#
# (a) A deep **linear** student $[100, 100, 100, 100, 4]$ (the first three layers USV) on the
# regression task: the tracked chain is linear and Gaussian, so the exact log-determinant
# is known and compared with the replica value at every epoch. All settings come from the
# authors' script `launch_teacher_student_linear_regression.py` (`midnn.experiments.
# TEACHER_STUDENT` and `SOURCES`): MSE, SGD lr 0.01, batch 50, 20,000 samples of which half
# are held out, 100 epochs, $I$ every epoch for the three USV layers.
#
# (b) **Non-linear** students $[100, 200, 50, 4]$ with activations [linear, $f$, softmax],
# $f$ = hardtanh or ReLU, on a classification version of the task (label = argmax of the 4
# teacher outputs): an illustration whose settings are our choice
# (`TEACHER_STUDENT_NONLINEAR`: SGD lr 0.05, batch 50, 100 epochs, $I$ every 2 epochs).
#
# **Profiles** (`docs/notebooks.md`). `quick` (default) loads the stored paper-scale records
# from `results/04_teacher_student/`, draws the figures and asserts the claims on them, then
# runs a small live version through the same driver (`live`). `full`
# (`params/full/04_teacher_student.yaml`) first recomputes the three runs as independent
# tasks of `midnn.sweeps.sweep`.

# %% tags=["parameters"]
profile = "quick"            # "quick": stored records; "full": recompute them first
figdir = "../build/figures"  # the tracked gallery is ../figures (full profile, make gallery)
resultsdir = "../results"    # the stored paper-scale records
live = True                  # run the smoke run (quick profile)
# paper scale: what the full profile recomputes (defaults: midnn.experiments)
students = ["linear", "hardtanh", "relu"]
epochs = 100
n_samples = 20000
n_workers = None             # Dask workers of the full profile (None: one per CPU)
# finite-size tolerance of the deeper layers: Haar redraws of the singular vectors
n_draws = 50                 # redraws per checkpoint
draw_every = 10              # epochs between the checkpoints that are redrawn
k_sd = 4.0                   # tolerance, in standard deviations of the redraws
layer1_tol = 1e-7            # replica vs exact, layer 1 (a single channel: exact)
# smoke run (quick profile, live=True)
live_samples = 2000
live_epochs = 3

# %%
import functools
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from _gallery import save

from midnn import experiments as E
from midnn import sweeps

t_start = time.perf_counter()
assert profile in ("quick", "full"), profile
rdir = Path(resultsdir) / "04_teacher_student"
plt.rcParams.update({"font.size": 10, "axes.titlesize": 10, "axes.labelsize": 10,
                     "xtick.labelsize": 9, "ytick.labelsize": 9, "legend.fontsize": 9})
UNIT = "nats per $n_X$"

# %% [markdown]
# ## 1. The records (full profile: recomputed on the sweep runner)
#
# Each run is `midnn.experiments.teacher_student_run(student, seed=0)`, which writes its run
# record `results/04_teacher_student/<student>.jsonl` (spectra and replica values per
# checkpoint, the exact log-det values for the linear student, losses per epoch,
# configuration and provenance); `runs.nc` is the sweep's table (final losses, wall times).

# %%
# NBVAL_IGNORE_OUTPUT
if profile == "full":
    t0 = time.perf_counter()
    task = functools.partial(E.teacher_student_run, outdir=str(rdir), epochs=epochs,
                             n_samples=n_samples)
    table = sweeps.sweep(task, [{"student": s} for s in students], n_workers=n_workers,
                         batch_size=1, progress=False, name="04_teacher_student")
    assert not table.error.values.any(), table.error.values
    sweeps.save(table, rdir / "runs.nc")
    print(f"{table.sizes['point']} runs in {time.perf_counter() - t0:.0f} s: "
          + ", ".join(f"{s} {t:.0f} s" for s, t in zip(table.student.values,
                                                          table.time.values, strict=True))
          + f"; warnings: {sorted(set(table.warning.values) - {''}) or 'none'}")
else:
    print(f"quick profile: the stored records in {rdir} are loaded, not recomputed")

# %%
runs = E.load_runs(rdir)
lin = runs["linear"]
ck, h = lin.checkpoints, lin.history
cfg = lin.config["experiment"]
git = lin.header["provenance"]["git"]
print(f"linear student: {cfg['widths']} (USV {cfg['usv']}), teacher {cfg['teacher_widths']} "
      f"noise {cfg['teacher_noise']}, {cfg['n_samples']} samples, SGD lr {cfg['lr']}, batch "
      f"{cfg['batch_size']}, {cfg['epochs']} epochs, {lin.n_checkpoints} checkpoints of "
      f"{lin.n_layers} layers; readout noise {lin.chain.noise:g}, inner {lin.chain.inter_noise:g}")
print(f"records written by midnn {lin.header['provenance']['midnn']} at commit "
      f"{git[:12] if git else 'unknown'}; units: {lin.units['mutual_information']}")
I, X = ck["mutual_information"], ck["exact_mutual_information"]
print(f"test MSE {h['test_loss'][0]:.3f} -> {h['test_loss'][-1]:.4f} (train "
      f"{h['train_loss'][-1]:.4f})")
for l in range(lin.n_layers):
    print(f"T{l + 1}: I(X;T{l + 1}) replica {I[0, l]:.4f} -> {I[-1, l]:.4f}, exact "
          f"{X[0, l]:.4f} -> {X[-1, l]:.4f}; max |replica - exact| over the "
          f"{lin.n_checkpoints} checkpoints {np.abs(I - X)[:, l].max():.1e}")

# %% [markdown]
# ## 2. (a) Replica = exact along training, and the finite-size tolerance
#
# **Layer 1.** $T_1 = W_1 X + \sqrt\Delta\, z$ with Gaussian $X$ is a single orthogonally
# invariant Gaussian channel: the replica formula with the empirical spectrum of
# $W_1^\intercal W_1$ *is* the log-determinant, at any size. What remains is the solver's
# tolerance ($10^{-10}$ on the fixed point) and floating point: asserted below $10^{-7}$
# nats per $n_X$ at all 101 checkpoints.
#
# **Layers 2 and 3.** $T_l = W_l \cdots W_1 X + \sqrt\Delta\, z$: the exact log-det depends on
# how the singular vectors of successive $W_l$ are aligned, the replica formula gives its
# limit $n \to \infty$ for independent Haar singular vectors. At width 100 the two differ by
# a finite-size amount, which we *measure* instead of guessing: at every 10th epoch we
# redraw the singular vectors of the three layers (Haar, independently), keep the record's
# spectra, and compute the exact value for 50 redraws (`midnn.experiments.haar_reference`).
# Their standard deviation $\mathrm{sd}_H$ is the finite-size spread. Asserted: the replica
# value is within $4\,\mathrm{sd}_H$ of the mean of the redraws (it is their large-$n$
# limit), and so is the exact value of the trained student (training the singular values
# has not aligned the fixed $U, V$ in a way that the formula misses).

# %%
draw_at = np.flatnonzero(ck["epoch"] % draw_every == 0)
ref = np.stack([E.haar_reference(lin, i, n_draws=n_draws, seed=int(i)) for i in draw_at])
mean_h, sd_h = ref.mean(1), ref.std(1, ddof=1)  # (n_draw_at, m)
z_rep = (I[draw_at] - mean_h)[:, 1:] / sd_h[:, 1:]
z_exact = (X[draw_at] - mean_h)[:, 1:] / sd_h[:, 1:]
for l in range(1, lin.n_layers):
    print(f"T{l + 1}: sd_H {sd_h[:, l].min():.1e}..{sd_h[:, l].max():.1e}, |replica - mean_H| "
          f"<= {np.abs(z_rep[:, l - 1]).max():.2f} sd_H, |exact - mean_H| <= "
          f"{np.abs(z_exact[:, l - 1]).max():.2f} sd_H at epochs {ck['epoch'][draw_at][0]}.."
          f"{ck['epoch'][draw_at][-1]}; max |replica - exact| = {np.abs(I - X)[:, l].max():.1e}"
          f" ({100 * np.max(np.abs(I - X)[:, l] / X[:, l]):.2f}% of I)")

# %%
assert ck["converged"].all()
assert np.abs(I - X)[:, 0].max() < layer1_tol
np.testing.assert_allclose(ck["mmse"][:, 0], ck["exact_mmse"][:, 0], rtol=0, atol=layer1_tol)
assert np.all(sd_h[:, 0] < 1e-12)  # layer 1: the exact value depends on the spectrum only
assert np.all(np.abs(z_rep) < k_sd) and np.all(np.abs(z_exact) < k_sd)
assert h["test_loss"][-1] < 0.02 * h["test_loss"][0]
assert np.all(I[-1] > I[0] + 0.3) and np.all(E.drops(I) < 1e-3)  # no compression
print(f"replica == exact along training: layer 1 to {layer1_tol:g}, deeper layers within "
      f"{k_sd:g} sd of the Haar redraws")

# %%
fig, axes = plt.subplots(1, 4, figsize=(17, 4.8))
ep = ck["epoch"]
for l in range(lin.n_layers):
    axes[0].plot(ep, X[:, l], "-", color=f"C{l}", lw=1.5, label=f"T{l + 1} exact")
    axes[0].plot(ep[::5], I[::5, l], "o", color=f"C{l}", ms=4, mfc="none",
                 label=f"T{l + 1} replica")
axes[0].set(xlabel="epoch", ylabel=f"I(X;T_l) ({UNIT})", title="I(X;T_l): replica and exact")
axes[0].legend(ncol=2, loc="lower right")
axes[1].semilogy(ep, np.maximum(np.abs(I - X)[:, 0], 1e-16), ".-", color="C0", lw=0.8)
axes[1].axhline(layer1_tol, color="k", ls="--", lw=1, label=f"asserted bound {layer1_tol:g}")
axes[1].set(xlabel="epoch", ylabel=f"|replica − exact| ({UNIT})",
            title="T1: replica = exact (one channel)", ylim=(1e-12, 1e-5))
axes[1].legend(loc="upper right")
for l in range(1, lin.n_layers):
    c, dx = f"C{l}", 1.2 * (l - 1.5)
    axes[2].plot(ep, X[:, l] - I[:, l], "-", color=c, lw=1, label=f"T{l + 1} trained student")
    axes[2].errorbar(ep[draw_at] + dx, mean_h[:, l] - I[draw_at, l], yerr=k_sd * sd_h[:, l],
                     fmt="s", color=c, ms=4, capsize=3, mfc="white",
                     label=f"T{l + 1} Haar redraws: mean ± {k_sd:g} sd")
axes[2].axhline(0, color="0.5", lw=0.8)
axes[2].set(xlabel="epoch", ylabel=f"exact − replica ({UNIT})",
            title="T2, T3: finite-size spread (Haar redraws)")
# the redraw bars fill the panel: its legend goes below the figure
handles, labels = axes[2].get_legend_handles_labels()
fig.legend(handles, labels, loc="lower center", ncol=4,
           title="third panel: exact − replica of the trained student, and of 50 Haar redraws")
axes[3].semilogy(h["epoch"], h["train_loss"], label="train")
axes[3].semilogy(h["epoch"], h["test_loss"], label="test")
axes[3].set(xlabel="epoch", ylabel="mean squared error (per output)", title="learning")
axes[3].legend()
fig.suptitle("Deep linear USV student [100, 100, 100, 100, 4] on a linear teacher: replica "
             "against exact log-det along training, paper scale")
fig.tight_layout(rect=(0, 0.13, 1, 1))
save(fig, figdir, "04_linear_replica_vs_exact")
plt.show()

# %% [markdown]
# All three $I(X;T_l)$ grow during training (from 5.27, 4.79, 4.37 to 5.57, 5.39, 5.18 nats
# per $n_X$): a linear network learning a linear map shows no compression (only $T_2$ ends
# below its maximum, reached at epoch 94, by $6 \times 10^{-4}$). Layer 1 agrees
# with the exact value to $5 \times 10^{-8}$; the deeper layers differ from it by up to
# $1.1 \times 10^{-2}$ nats per $n_X$ (0.2%), which is the finite-size spread of the exact
# value over Haar singular vectors at width 100: the replica value stays within
# $0.5\,\mathrm{sd}_H$ of the mean of the redraws, and the trained student's exact value
# within $1.4\,\mathrm{sd}_H$ of it. The spread of $T_2$ shrinks from $3 \times 10^{-3}$ to
# $10^{-5}$ as the trained spectra concentrate.

# %% [markdown]
# ## 3. (b) Non-linear students (our settings): what I(X; T_l) does
#
# Teacher $[100 \to 4]$ linear (noise 0.01), label = argmax of its 4 outputs (4 classes).
# Students $[100, 200, 50, 4]$ with activations [linear, $f$, softmax], the first two layers
# USV, cross-entropy; $T_1$ is linear ($100 \to 200$), $T_2 = f(W_2 T_1)$ ($200 \to 50$). One
# run per activation (seed 0): an illustration, not a statistic. Each panel shows
# $I(X;T_l) - I(0)$ on its own scale.

# %%
nl = {s: runs[s] for s in ("hardtanh", "relu") if s in runs}
fig, axes = plt.subplots(len(nl), 3, figsize=(14, 3.6 * len(nl)), squeeze=False)
for row, (name, rec) in enumerate(nl.items()):
    c, hh = rec.checkpoints, rec.history
    Inl = c["mutual_information"]
    for l in range(rec.n_layers):
        ax = axes[row, l]
        ax.plot(c["epoch"], Inl[:, l] - Inl[0, l], "o-", ms=3, color=f"C{l}")
        ax.axhline(0, color="0.6", lw=0.6, zorder=0)
        kind = "linear, 100 → 200" if l == 0 else f"{name}, 200 → 50"
        ax.set(xlabel="epoch", ylabel=f"I(X;T{l + 1}) − I(0) ({UNIT})",
               title=f"{name} student, T{l + 1} ({kind})\nI(0) = {Inl[0, l]:.2f}, "
                     f"max at epoch {c['epoch'][Inl[:, l].argmax()]}, drop "
                     f"{E.drops(Inl)[l]:.3f}")
    ax = axes[row, 2]
    ax.plot(hh["epoch"], 1 - hh["train_acc"], "--", label="train")
    ax.plot(hh["epoch"], 1 - hh["test_acc"], label="test")
    ax.set(xlabel="epoch", ylabel="error (fraction misclassified)",
           title=f"{name} student: errors (chance 0.75)", ylim=(0, 0.8))
    ax.legend()
fig.suptitle("Non-linear USV students on teacher-student classification (our settings, one "
             "run each), paper scale")
fig.tight_layout()
save(fig, figdir, "04_nonlinear_students")
plt.show()
for name, rec in nl.items():
    m = E.final_metrics(rec)
    Inl = rec.checkpoints["mutual_information"]
    print(f"{name:8s} test error {1 - rec.history['test_acc'][0]:.3f} -> {m['test_error']:.3f}"
          f" (train {m['train_error']:.3f}); I(X;T_l) " + ", ".join(
              f"T{l + 1} {Inl[0, l]:.3f} -> max {Inl[:, l].max():.3f} -> {Inl[-1, l]:.3f}"
              for l in range(rec.n_layers)))

# %% [markdown]
# What these runs show (asserted below): in both students the information of the **linear**
# first layer, $I(X;T_1)$, rises for a few epochs (maximum at epoch 4 and 6) and then falls,
# by 0.55 (hardtanh) and 0.36 (ReLU) nats per $n_X$, while the test error keeps decreasing.
# The non-linear layer differs between the two: with hardtanh $I(X;T_2)$ gains 0.25 nats per
# $n_X$ (maximum at epoch 38) and then loses 0.05; with ReLU it rises briefly (+0.013 until
# epoch 8) and then falls below its initial value (−0.048 at the end). A fall of $I(X;T_l)$
# after a maximum is thus not tied to a saturating non-linearity: here the largest one is
# in a linear layer, whose singular values shrink. Neither student is fully fitted after
# 100 epochs (test errors 0.22 and 0.36, train errors 0.20 and 0.34): USV layers train only
# their singular values, in fixed random directions. These are single runs: an
# illustration of what the tracking shows, not a statistic.

# %%
if set(nl) == {"hardtanh", "relu"} and nl["relu"].config["experiment"]["epochs"] == 100:
    for name, rec in nl.items():
        c = rec.checkpoints
        Inl = c["mutual_information"]
        assert c["converged"].all() and np.all(np.isfinite(Inl)) and np.all(Inl > 0)
        assert c["epoch"][Inl[:, 0].argmax()] <= 10 and E.drops(Inl)[0] > 0.3, name
        assert rec.history["test_acc"][-1] > rec.history["test_acc"][0] + 0.3, name
    Iht = nl["hardtanh"].checkpoints["mutual_information"]
    Irl = nl["relu"].checkpoints["mutual_information"]
    assert Iht[:, 1].max() - Iht[0, 1] > 0.2 and 0.03 < E.drops(Iht)[1] < 0.1
    assert 0 < Irl[:, 1].max() - Irl[0, 1] < 0.02 and Irl[-1, 1] < Irl[0, 1] - 0.04
print("non-linear students: as stated")

# %% [markdown]
# ## 4. Smoke run (quick profile): the same driver, live, at a small size
#
# `teacher_student_run` through `midnn.sweeps.sweep` (serially, in this process), with
# `live_samples` samples and `live_epochs` epochs, its records in a temporary directory, and
# the same checks: layer 1 replica = exact, deeper layers within the Haar spread, finite
# values. Its figure is shown here and never saved.

# %%
if live:
    tmp = Path(tempfile.mkdtemp(prefix="midnn04_"))
    task = functools.partial(E.teacher_student_run, outdir=str(tmp), n_samples=live_samples,
                             epochs=live_epochs)
    smoke = sweeps.sweep(task, [{"student": "linear"}, {"student": "relu"}], client="serial",
                         progress=False)
    assert not smoke.error.values.any(), smoke.error.values
    live_runs = E.load_runs(tmp)
    rl = live_runs["linear"].checkpoints
    Il, Xl = rl["mutual_information"], rl["exact_mutual_information"]
    assert rl["converged"].all() and np.abs(Il - Xl)[:, 0].max() < layer1_tol
    refl = E.haar_reference(live_runs["linear"], -1, n_draws=n_draws, seed=0)
    assert np.all(np.abs(Il[-1, 1:] - refl.mean(0)[1:]) < k_sd * refl.std(0, ddof=1)[1:])
    rr = live_runs["relu"].checkpoints
    assert rr["converged"].all() and np.all(np.isfinite(rr["mutual_information"]))
    assert np.all(rr["mutual_information"] > 0)
    print(f"smoke linear: I(X;T_l) at the end {np.round(Il[-1], 3)}, max |replica - exact| "
          f"layer 1 below {layer1_tol:g}; relu: I(X;T_l) {np.round(rr['mutual_information'][-1], 3)}")
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
    for l in range(Il.shape[1]):
        axes[0].plot(rl["epoch"], Xl[:, l], "-", color=f"C{l}", label=f"T{l + 1} exact")
        axes[0].plot(rl["epoch"], Il[:, l], "o", color=f"C{l}", mfc="none",
                     label=f"T{l + 1} replica")
    axes[0].set(xlabel="epoch", ylabel=f"I(X;T_l) ({UNIT})", title="linear student")
    axes[0].legend(ncol=2, fontsize=8)
    for l in range(rr["mutual_information"].shape[1]):
        axes[1].plot(rr["epoch"], rr["mutual_information"][:, l], "o-", label=f"T{l + 1}")
    axes[1].set(xlabel="epoch", ylabel=f"I(X;T_l) ({UNIT})", title="ReLU student")
    axes[1].legend()
    fig.suptitle(f"smoke run, not paper scale ({live_samples} samples, {live_epochs} epochs)")
    fig.tight_layout()
    plt.show()

# %%
# NBVAL_IGNORE_OUTPUT
print(f"notebook wall time {time.perf_counter() - t_start:.0f} s")
