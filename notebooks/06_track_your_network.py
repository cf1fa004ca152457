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
# # 06 · Track the information of your own network
#
# Any `torch.nn.Sequential` of linear layers and element-wise activations can be tracked
# from its own training loop, with two added lines:
#
# ```python
# tracker = Tracker(net, prior=Gaussian(), every=2, record="runs/my_run")   # line 1
# for epoch in range(epochs):
#     ...                                # your optimizer, scheduler, loss
#     tracker.checkpoint(epoch)          # line 2
# tracker.close()
# ```
#
# At every checkpoint the tracker reads the weights, describes the network as the replica
# chain $X \to T_1 \to \dots \to T_m$ of eq. (1) (the spectrum of each
# $W_\ell^\intercal W_\ell$; every $T_\ell$ observed through a Gaussian noise of variance
# $\Delta = 10^{-5}$ before its activation) and computes $H(T_\ell)$, $I(X;T_\ell)$,
# $H(T_\ell|X)$ and the MMSE of $X$, in nats per input unit $n_0 = n_X$, in a worker process
# while training goes on. Each checkpoint is appended to the run record on disk as soon as
# it is known.
#
# The replica formula assumes orthogonally invariant weights $W_\ell = U_\ell S_\ell
# V_\ell^\intercal$ with Haar $U_\ell, V_\ell$ independent of everything else. USV layers
# (notebooks 04, 05) keep this true by construction; for the free `nn.Linear` layers trained
# here it is an **assumption** (the description says so, layer by layer), and the values
# are those of a network with the same spectra and random singular vectors.
#
# **Profiles** (`docs/notebooks.md`). `quick` (default) draws the figure of the stored
# reference run (`results/06_track_your_network/run.jsonl`, 20,000 samples, 20 epochs; our
# settings) and runs the same loop live at a small size (`live`). `full`
# (`params/full/06_track_your_network.yaml`) first reruns the reference run.

# %% tags=["parameters"]
profile = "quick"            # "quick": stored record; "full": rerun it first
figdir = "../build/figures"  # the tracked gallery is ../figures (full profile, make gallery)
resultsdir = "../results"    # the stored reference run
live = True                  # run the loop live at the smoke size
seed = 0
widths = [100, 100, 50, 2]   # n_0, hidden widths, classes
every = 2                    # checkpoint period (epochs)
lr = 1e-3                    # Adam
batch_size = 50
mi_noise = 1e-5              # Delta through which each T_l is observed
background = True            # compute the checkpoints in a worker process
# reference run (recomputed by the full profile)
n_samples = 20000
epochs = 20
# smoke run
live_samples = 2000
live_epochs = 20

# %%
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from _gallery import save
from matplotlib.ticker import MaxNLocator
from torch import nn

from midnn import data
from midnn.nn import Tracker, describe
from midnn.record import load

t_start = time.perf_counter()
assert profile in ("quick", "full"), profile
rdir = Path(resultsdir) / "06_track_your_network"
plt.rcParams.update({"font.size": 10, "axes.titlesize": 10, "axes.labelsize": 10,
                     "xtick.labelsize": 9, "ytick.labelsize": 9, "legend.fontsize": 9})

# %% [markdown]
# ## The network and its description
#
# A plain `nn.Sequential` without biases (the replica formula has none: `describe` refuses
# biases unless told to ignore them). The last `Linear` produces the logits of the
# cross-entropy loss: `n_layers=2` leaves it out of the description. The data are
# teacher–student classification data (`midnn.data.teacher_student`, $n_0 = 100$ Gaussian
# inputs, 2 classes).

# %%
def make_network(widths):
    layers = []
    for n_in, n_out in zip(widths[:-2], widths[1:-1], strict=True):
        layers += [nn.Linear(n_in, n_out, bias=False), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(widths[-2], widths[-1], bias=False))


n_layers = len(widths) - 2
torch.manual_seed(seed)
ds = data.teacher_student((widths[0], widths[-1]), task="classification",
                          n_samples=live_samples, seed=seed)
net = make_network(widths)
print(net)
print(describe(net, prior=ds.input_prior, noise=mi_noise, n_layers=n_layers))

# %% [markdown]
# ## Training with Adam, tracked
#
# The user's loop, with the tracker's two lines (`Tracker(...)` and `tracker.checkpoint`).

# %%
def train_tracked(ds, net, epochs, path):
    """Adam on cross-entropy; a checkpoint every `every` epochs (epoch 0: the initialization)."""
    tracker = Tracker(net, prior=ds.input_prior, noise=mi_noise, n_layers=n_layers,
                      every=every, record=path, background=background,
                      config={"lr": lr, "epochs": epochs, "batch_size": batch_size,
                              "n_samples": ds.n_train + ds.n_test},
                      seeds={"torch": seed, "data": ds.seed})
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(epochs + 1):
        if epoch > 0:
            net.train()
            for idx in torch.randperm(ds.n_train).split(batch_size):
                opt.zero_grad()
                loss_fn(net(ds.x_train[idx]), ds.y_train[idx]).backward()
                opt.step()
        with torch.no_grad():
            acc = (net(ds.x_test).argmax(1) == ds.y_test).float().mean().item()
        tracker.checkpoint(epoch, test_acc=acc)
    return tracker.close()


def draw(record, title):
    """I(X;T_l) and H(T_l) as changes from epoch 0 (their levels differ by far more than
    they move), and the test error."""
    ck, h = record.checkpoints, record.history
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.7))
    for l in range(record.n_layers):
        for ax, q in zip(axes[:2], ("mutual_information", "entropy"), strict=True):
            v = ck[q][:, l]
            ax.plot(ck["epoch"], v - v[0], "o-", ms=3, label=f"T{l + 1} (epoch 0: {v[0]:.3f})")
    axes[0].set(xlabel="epoch", ylabel="change of $I(X;T_l)$ (nats per $n_0$)",
                title="mutual information, change from epoch 0")
    axes[1].set(xlabel="epoch", ylabel="change of $H(T_l)$ (nats per $n_0$)",
                title="entropy (differential), change from epoch 0")
    axes[2].plot(h["epoch"], 1 - h["test_acc"])
    axes[2].set(xlabel="epoch", ylabel="test error (fraction misclassified)", title="learning",
                ylim=(0, None))
    for ax in axes[:2]:
        ax.axhline(0, color="0.6", lw=0.6, zorder=0)
        ax.legend()
    for ax in axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def check(record, path):
    """Converged and finite; I = H - H(T|X) >= 0; learned; the file holds the same values."""
    ck, h = record.checkpoints, record.history
    assert ck["converged"].all()
    for q in ("entropy", "mutual_information", "conditional_entropy", "mmse"):
        assert np.all(np.isfinite(ck[q])), q
    assert np.all(ck["mutual_information"] >= 0)
    np.testing.assert_allclose(ck["mutual_information"],
                               ck["entropy"] - ck["conditional_entropy"], rtol=0, atol=1e-12)
    assert h["test_acc"][-1] > h["test_acc"][0] + 0.1
    back = load(path)
    for key, value in ck.items():
        np.testing.assert_array_equal(back.checkpoints[key], value)


# %% [markdown]
# ## The reference run (stored; the full profile reruns it)

# %%
# NBVAL_IGNORE_OUTPUT
ref_path = rdir / "run.jsonl"
if profile == "full":
    t0 = time.perf_counter()
    ref_path.unlink(missing_ok=True)
    torch.manual_seed(seed)
    ds_ref = data.teacher_student((widths[0], widths[-1]), task="classification",
                                  n_samples=n_samples, seed=seed)
    train_tracked(ds_ref, make_network(widths), epochs, ref_path)
    print(f"reference run: {time.perf_counter() - t0:.0f} s")
else:
    print(f"quick profile: the stored record {ref_path} is loaded, not recomputed")

# %%
ref = load(ref_path)
check(ref, ref_path)
print(f"reference run: {ref.n_checkpoints} checkpoints of {ref.n_layers} layers, "
      f"{ref.config['n_samples']} samples, {ref.config['epochs']} epochs, status "
      f"{ref.status!r}; test error {1 - ref.history['test_acc'][0]:.3f} -> "
      f"{1 - ref.history['test_acc'][-1]:.3f}; I(X;T_l) "
      + ", ".join(f"T{l + 1} {a:.3f} -> {b:.3f}" for l, (a, b) in enumerate(zip(
          ref.checkpoints["mutual_information"][0], ref.checkpoints["mutual_information"][-1],
          strict=True))) + f" ({ref.units['mutual_information']})")
fig = draw(ref, f"Free nn.Linear network {widths} trained with Adam, tracked "
                f"({ref.config['n_samples']} samples, {ref.config['epochs']} epochs)")
save(fig, figdir, "06_track_your_network")
plt.show()

# %% [markdown]
# ## The same loop, live (smoke run)
#
# `live_samples` samples and `live_epochs` epochs, the record in a temporary directory;
# the same checks. Its figure is shown here and never saved.

# %%
if live:
    path = Path(tempfile.mkdtemp(prefix="midnn06_")) / "06_run"
    torch.manual_seed(seed)
    record = train_tracked(ds, net, live_epochs, path)
    check(record, path)
    print(f"{record.n_checkpoints} checkpoints of {record.n_layers} layers, status "
          f"{record.status!r}; units: {record.units['mutual_information']}")
    draw(record, f"smoke run, not paper scale ({live_samples} samples, {live_epochs} epochs)")
    plt.show()

# %% [markdown]
# ## What is checked
#
# Every checkpoint converged and is finite; $I(X;T_\ell) = H(T_\ell) - H(T_\ell|X) \ge 0$.
# ($I \le H$ does not hold here: these are differential entropies, and $H(T_\ell)$ is
# negative when the observation noise $\Delta$ is small.) The network learned, and the
# record read back from disk holds bitwise the values computed during the run.

# %%
# NBVAL_IGNORE_OUTPUT
if live:
    print(f"smoke run: checkpoints computed in {record.checkpoints['compute_time'].sum():.1f} "
          f"s, the loop spent {record.blocked:.2f} s in the tracker")
print(f"notebook wall time {time.perf_counter() - t_start:.0f} s")
