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
# $H(T_\ell|X)$ and the MMSE of $X$, in nats per input unit $n_0$, in a worker process while
# training goes on. Each checkpoint is appended to the run record on disk as soon as it is
# known.
#
# The replica formula assumes orthogonally invariant weights $W_\ell = U_\ell S_\ell
# V_\ell^\intercal$ with Haar $U_\ell, V_\ell$ independent of everything else. USV layers
# (notebooks 04, 05) keep this true by construction; for the free `nn.Linear` layers trained
# here it is an **assumption** (the description says so, layer by layer), and the values
# are those of a network with the same spectra and random singular vectors.

# %% tags=["parameters"]
seed = 0
n_samples = 2000          # teacher-student samples (half for testing)
widths = [100, 100, 50, 2]  # n_0, hidden widths, classes
epochs = 20
every = 2                 # checkpoint period (epochs)
lr = 1e-3                 # Adam
batch_size = 50
mi_noise = 1e-5           # Delta through which each T_l is observed
background = True         # compute the checkpoints in a worker process
record_dir = ""           # where the run record goes ("": a temporary directory)
save_figures = False
figdir = "../figures"

# %%
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from midnn import data
from midnn.nn import Tracker, describe
from midnn.record import load

t_start = time.perf_counter()
torch.manual_seed(seed)
ds = data.teacher_student((widths[0], widths[-1]), task="classification",
                          n_samples=n_samples, seed=seed)
print(ds)

# %% [markdown]
# ## The network and its description
#
# A plain `nn.Sequential` without biases (the replica formula has none: `describe` refuses
# biases unless told to ignore them). The last `Linear` produces the logits of the
# cross-entropy loss: `n_layers=2` leaves it out of the description.

# %%
layers = []
for n_in, n_out in zip(widths[:-2], widths[1:-1], strict=True):
    layers += [nn.Linear(n_in, n_out, bias=False), nn.ReLU()]
net = nn.Sequential(*layers, nn.Linear(widths[-2], widths[-1], bias=False))
n_layers = len(widths) - 2
print(net)
print(describe(net, prior=ds.input_prior, noise=mi_noise, n_layers=n_layers))

# %% [markdown]
# ## Training with Adam, tracked

# %%
path = Path(record_dir or tempfile.mkdtemp()) / "06_run"
tracker = Tracker(net, prior=ds.input_prior, noise=mi_noise, n_layers=n_layers, every=every,
                  record=path, background=background, config={"lr": lr, "epochs": epochs},
                  seeds={"torch": seed, "data": ds.seed})
opt = torch.optim.Adam(net.parameters(), lr=lr)
loss_fn = nn.CrossEntropyLoss()
for epoch in range(epochs + 1):
    if epoch > 0:  # epoch 0: the initialization
        net.train()
        for idx in torch.randperm(ds.n_train).split(batch_size):
            opt.zero_grad()
            loss_fn(net(ds.x_train[idx]), ds.y_train[idx]).backward()
            opt.step()
    with torch.no_grad():
        acc = (net(ds.x_test).argmax(1) == ds.y_test).float().mean().item()
    tracker.checkpoint(epoch, test_acc=acc)
record = tracker.close()
print(f"{record.n_checkpoints} checkpoints of {record.n_layers} layers, status "
      f"{record.status!r}; units: {record.units['mutual_information']}")

# %%
ck, h = record.checkpoints, record.history
fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
for l in range(record.n_layers):
    axes[0].plot(ck["epoch"], ck["mutual_information"][:, l], "o-", label=f"T{l + 1}")
    axes[1].plot(ck["epoch"], ck["entropy"][:, l], "o-", label=f"T{l + 1}")
axes[0].set(xlabel="epoch", ylabel="I(X; T_l) / n_0 (nats)", title="mutual information")
axes[1].set(xlabel="epoch", ylabel="H(T_l) / n_0 (nats)", title="entropy")
axes[2].plot(h["epoch"], 1 - h["test_acc"])
axes[2].set(xlabel="epoch", ylabel="test error", title="learning")
for ax in axes[:2]:
    ax.legend()
fig.tight_layout()
if save_figures:
    fig.savefig(f"{figdir}/06_track_your_network.png", dpi=100)
plt.show()

# %% [markdown]
# ## What is checked
#
# Every checkpoint converged and is finite; $I(X;T_\ell) = H(T_\ell) - H(T_\ell|X) \ge 0$.
# ($I \le H$ does not hold here: these are differential entropies, and $H(T_\ell)$ is
# negative when the observation noise $\Delta$ is small.) The network learned, and the
# record read back from disk holds bitwise the values computed during the run.

# %%
assert ck["converged"].all()
for q in ("entropy", "mutual_information", "conditional_entropy", "mmse"):
    assert np.all(np.isfinite(ck[q])), q
assert np.all(ck["mutual_information"] >= 0)
np.testing.assert_allclose(ck["mutual_information"], ck["entropy"] - ck["conditional_entropy"],
                           rtol=0, atol=1e-12)
assert h["test_acc"][-1] > h["test_acc"][0] + 0.1
back = load(path)
for key, value in ck.items():
    np.testing.assert_array_equal(back.checkpoints[key], value)
print("checks passed")

# %%
# NBVAL_IGNORE_OUTPUT
print(f"checkpoints computed in {ck['compute_time'].sum():.1f} s, the loop spent "
      f"{record.blocked:.2f} s in the tracker; notebook wall time "
      f"{time.perf_counter() - t_start:.0f} s")
