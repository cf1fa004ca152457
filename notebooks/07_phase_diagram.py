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
# # 07 · The replica phase diagram of a first-order transition, on the sweep runner
#
# Claim 1 of Gabrié et al. (2018) gives $H(T_\ell)$ as the **minimum** over the stationary
# points of the potential $\phi$ of eq. (3). Where $\phi$ has two competing stationary points
# the selected one can switch abruptly as a parameter moves: a first-order phase transition
# (notebook 01, step 5, shows one cut). This notebook maps it over a 50 x 50 grid of the
# measurement ratio $\alpha = n_1/n_0$ and the noise variance $\Delta$, for the simplest model
# that has one: an input $X$ with i.i.d. components $x_i \sim P_0$ through one linear layer
# with i.i.d. Gaussian weights (Marchenko–Pastur spectrum),
# $$T_1 = W X + \sqrt{\Delta}\,\xi,\qquad W \in \mathbb R^{n_1\times n_0},$$
# with two priors:
#
# * **$\pm1$ input** ($P_0$ = Binary(0.5)), the main example: the transition is the clearest
#   of the two — the MMSE of $X$ jumps from $\approx 0.9$ to $\approx 0$ (of $\mathbb E x^2 = 1$),
#   the two branches coexist over $0 < \alpha \lesssim 0.5$, and the jump only closes at a
#   critical noise $\Delta_c \approx 0.06$–$0.1$;
# * **Gauss–Bernoulli input** ($\rho = 0.2$), the example of notebook 01: the same
#   structure, on a much smaller scale (coexistence within $0.22 \lesssim \alpha \lesssim
#   0.36$, jump $\approx 0.5\,\rho$, $\Delta_c \approx 4\cdot 10^{-4}$).
#
# **Two branches.** For a Marchenko–Pastur layer every saddle-point equation except the
# prior's $V$-update (55) can be solved for a given $V_1$ (docs/derivations.md §10), and the
# fixed-point iteration is the scalar map $V \mapsto \mathrm{mmse}_{P_0}(\alpha/(\Delta+V))$,
# increasing in $V$. Iterated from $V \approx 0$ it climbs to the smallest fixed point (the
# **informative** branch), from $V \approx \mathbb E x^2$ it descends to the largest (the
# **uninformative** branch): they differ exactly in the coexistence region bounded by the
# two **spinodal** lines, and the replica formula selects the branch of lower $\phi$. The
# **transition line** $\alpha_c(\Delta)$ is where the two potentials cross.
# `midnn.phase.branch_task` computes both branches and `replica()`'s own selection at one
# point; `midnn.sweeps.sweep` runs it over the grid on Dask.
#
# Units: $H(T_1)$, $I(X;T_1)$ in nats per input unit $n_0$; the MMSE per component of $X$,
# shown divided by $\mathbb E x^2$.
#
# Profiles (docs/notebooks.md): the quick profile draws the figures from the stored sweeps in
# `results/07_phase_diagram/` and reruns a 5 x 5 subgrid live, checked against them; the
# full profile (`params/full/07_phase_diagram.yaml`) recomputes the two 50 x 50 sweeps.

# %% tags=["parameters"]
profile = "quick"               # "quick" (records + live subgrid) or "full" (recompute)
figdir = "../build/figures"     # the tracked gallery is ../figures (full profile, make gallery)
resultsdir = "../results"       # stored records
live = True                     # rerun a subgrid of each sweep and compare with the record
n_alpha = 50                    # grid of the full profile: alpha values ...
n_noise = 50                    # ... and noise values (log-spaced)
n_workers = 2                   # Dask workers of the sweeps
live_index = [2, 13, 24, 35, 46]  # the live subgrid: these indices along both axes

# %%
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from _gallery import save as save_png
from matplotlib import patheffects

from midnn._provenance import git_commit, stamp
from midnn.phase import branch_task, distinct, make_prior, select, transition_lines
from midnn.sweeps import load, save, sweep

t_start = time.perf_counter()
records = Path(resultsdir) / "07_phase_diagram"
# the two models: grid ranges chosen so that each holds its whole coexistence region and
# the critical point, with margin on both sides
MODELS = {
    "binary": dict(label=r"$\pm1$ input", alpha=(0.02, 1.0), noise=(1e-6, 1.0),
                   cut_noise=1e-3),
    "gauss_bernoulli": dict(label=r"Gauss–Bernoulli($\rho=0.2$) input", alpha=(0.15, 0.45),
                            noise=(1e-8, 1e-2), cut_noise=1e-6),
}

# %% [markdown]
# ## 1. The sweeps
#
# The full profile runs, per prior, the README-style use of the sweep runner: a task, a
# grid, `sweep` on an embedded Dask cluster, `save` to netCDF, `load` back.
#
# ```python
# from midnn.phase import branch_task
# from midnn.sweeps import sweep, save, load
# grid = {"noise": np.logspace(-6, 0, 50), "alpha": np.linspace(0.02, 1.0, 50), "prior": ["binary"]}
# save(sweep(branch_task, grid, n_workers=2), "binary.nc")
# ds = load("binary.nc")        # dims (noise, alpha, prior); provenance in ds.attrs
# ```

# %%
if profile == "full":
    commit = git_commit()       # before any record is written (they would make the tree dirty)
    records.mkdir(parents=True, exist_ok=True)
    for name, m in MODELS.items():
        grid = {"noise": np.logspace(np.log10(m["noise"][0]), np.log10(m["noise"][1]), n_noise),
                "alpha": np.linspace(*m["alpha"], n_alpha), "prior": [name]}
        t0 = time.perf_counter()
        ds = sweep(branch_task, grid, n_workers=n_workers, progress=False, name=f"07_{name}")
        print(f"{name}: {n_noise} x {n_alpha} points in {time.perf_counter() - t0:.0f} s")
        config = {k: v for k, v in m.items() if k != "label"}
        save(stamp(ds, dict(config, n_alpha=n_alpha, n_noise=n_noise), commit=commit),
             records / f"{name}.nc")

# %%
data = {name: load(records / f"{name}.nc").squeeze("prior") for name in MODELS}
for name, ds in data.items():
    print(f"{name}: {ds.sizes['noise']} noises x {ds.sizes['alpha']} alphas, midnn "
          f"{ds.attrs['midnn_version']}, commit {ds.attrs['git_commit'][:12]}, "
          f"{(records / f'{name}.nc').stat().st_size / 1e3:.0f} kB")

# %% [markdown]
# ## 2. Every point converged; the selection, and `replica()`'s
#
# Both fixed-point runs must converge (tolerance $10^{-12}$ on $V$, at most 20000 sweeps: the
# iteration slows down next to a spinodal). The figures use the replica prescription applied
# to the two branches (`midnn.phase.select`: the branch of lower $\phi$). `replica()` finds
# its point with its own multi-start search (`midnn.search`, same tolerance): its entropy
# must be $\min(\phi_{\rm inf}, \phi_{\rm uninf})$ to $10^{-8}$ nats ($\phi$ is stationary,
# so solver errors of $10^{-12}$ in $V$ move it far less).
#
# The search releases the frozen layers of every point it locates (`midnn.search`): for the
# $\pm1$ input next to the critical point, ML-VAMP's informative start can fall onto the
# frozen point $V = 0$ (exact recovery, absorbing for ML-VAMP), and the lower informative
# branch next to it is only found by that release (e.g. $\Delta = 0.060$, $\alpha = 0.54$:
# $\phi = 0.6935$ rather than the uninformative $0.6952$). Asserted: no point differs.

# %%
lines, chosen = {}, {}
for name, ds in data.items():
    rho1 = make_prior(name).second_moment
    assert (ds.error == "").all(), name
    assert bool(ds.converged_informative.all() and ds.converged_uninformative.all()
                and ds.converged.all()), name
    chosen[name] = select(ds)
    err = np.abs(ds.entropy.values - chosen[name]["potential"])
    both = distinct(ds.mmse_informative, ds.mmse_uninformative, rho1)
    lines[name] = transition_lines(ds, rho1)
    print(f"{name:16s} points with two branches: {int(both.sum())} of {both.size}; most "
          f"sweeps to converge: {int(ds.iterations_uninformative.max())}; replica() "
          f"differs from the selection by at most {err.max():.1e}")
    assert err.max() < 1e-8, (name, float(err.max()))

# %% [markdown]
# ## 3. The transition line, the spinodals and the critical point
#
# Along each line of fixed $\Delta$ (`midnn.phase.transition`): the coexistence region (grid
# points where the two branches differ by more than $10^{-3}\,\mathbb E x^2$), the crossing
# $\alpha_c$ of the two potentials (linear interpolation between grid points) and the MMSE
# jump at $\alpha_c$. The critical noise $\Delta_c$ lies between the largest noise with two
# branches and the next grid noise. (For the $\pm1$ input and $\Delta \lesssim 10^{-3}$ the
# lower spinodal lies below the grid's first $\alpha = 0.02$: the informative branch exists
# down to $\alpha \to 0$ as $\Delta \to 0$, a discrete input being recovered exactly
# from noiseless measurements; it is not drawn there.)

# %%
crit = {}
for name, ln in lines.items():
    has = np.isfinite(ln.spinodal_low.values)
    k = int(np.flatnonzero(has)[-1])
    nz = ln.noise.values
    crit[name] = (nz[k], nz[k + 1])
    print(f"{name}: critical noise between {nz[k]:.2e} and {nz[k + 1]:.2e}")
    print(f"{'noise':>9} {'spinodals':>14} {'alpha_c':>8} {'MMSE jump/Ex2':>13}")
    rho1 = make_prior(name).second_moment
    for j in list(range(0, k + 1, 7)) + [k]:
        print(f"{nz[j]:9.2e} {ln.spinodal_low.values[j]:6.3f}-{ln.spinodal_high.values[j]:.3f} "
              f"{ln.alpha_c.values[j]:8.4f} {ln.mmse_jump.values[j] / rho1:13.3f}")

# %% [markdown]
# **Claims** (thresholds from the values above, with margin):
#
# 1. *The MMSE jumps at low noise.* At the lowest noise of the grid the jump exceeds
#    $0.5\,\mathbb E x^2$ for the $\pm1$ input (0.90 measured) and $0.3\,\mathbb E x^2$ for the
#    Gauss–Bernoulli input (0.51).
# 2. *The jump vanishes at a critical noise.* Below $\Delta_c$ the jump decreases
#    monotonically with $\Delta$; above it the two starts reach one stationary point at every
#    $\alpha$ (no coexistence, no jump); $\Delta_c$ lies inside the grid.
# 3. *First order in the MMSE, continuous in $I$.* Across the grid cell holding $\alpha_c$
#    the selected MMSE changes by more than 3 times what either branch changes by over that
#    cell (a jump), while the selected $I(X;T_1)$ changes by no more than either branch does
#    (1 % slack: a continuous curve, the minimum of two continuous branches; $H(T_1|X) =
#    \tfrac{\alpha}{2}\log 2\pi e\Delta$ is the same on both); checked at every noise with a
#    transition below $\Delta_c/10$ (closer to $\Delta_c$ the jump shrinks to the branches'
#    own variation over a cell, which the grid cannot resolve).
# 4. *A kink in $I$.* The slope $\partial I/\partial\alpha$ jumps at $\alpha_c$ (by more
#    than 0.5 nats per unit $\alpha$ below $\Delta_c/10$): the two branches cross, they do
#    not touch.

# %%
for name, ln in lines.items():
    rho1 = make_prior(name).second_moment
    jump = ln.mmse_jump.values / rho1
    has = np.isfinite(ln.spinodal_low.values)
    lo, hi = crit[name]
    below = ln.noise.values <= lo
    first_order = np.isfinite(ln.alpha_c.values) & (ln.noise.values <= lo / 10)
    # 1.
    assert jump[0] > {"binary": 0.5, "gauss_bernoulli": 0.3}[name], (name, jump[0])
    # 2.
    assert has[below].all() and not has[~below].any() and hi < ln.noise.values[-1]
    jb = jump[below & np.isfinite(jump)]
    assert np.all(np.diff(jb) < 0), name
    # 3.
    ratio_mmse = ln.mmse_step.values / ln.mmse_branch_step.values
    ratio_mi = ln.mi_step.values / ln.mi_branch_step.values
    assert first_order.sum() >= 10, name
    assert np.all(ratio_mmse[first_order] > 3), (name, ratio_mmse[first_order].min())
    assert np.all(ratio_mi[first_order] < 1.01), (name, ratio_mi[first_order].max())
    # 4.
    assert np.all(np.abs(ln.slope_jump.values[first_order]) > 0.5), name
    print(f"{name:16s} jump at the lowest noise {jump[0]:.3f} Ex2; at the last noise with two "
          f"branches {jb[-1]:.3f} Ex2; below Delta_c/10: MMSE step / branch step >= "
          f"{ratio_mmse[first_order].min():.1f}, I step / branch step <= "
          f"{ratio_mi[first_order].max():.3f}, |kink| >= "
          f"{np.abs(ln.slope_jump.values[first_order]).min():.2f} nats per unit alpha")

# %%
def sci(x):
    """x as a LaTeX a x 10^b (titles and legends)."""
    mant, exp = f"{x:.1e}".split("e")
    return rf"{mant}\times10^{{{int(exp)}}}"


fig, axes = plt.subplots(2, 2, figsize=(11.5, 10), constrained_layout=True,
                         gridspec_kw={"width_ratios": [1.3, 1]})
for row, (name, ds) in enumerate(data.items()):
    m, ln = MODELS[name], lines[name]
    rho1 = make_prior(name).second_moment
    nz, lo, hi = ln.noise.values, *crit[name]
    ax = axes[row, 0]
    pc = ax.pcolormesh(ds.alpha, ds.noise, chosen[name]["mmse"] / rho1, shading="nearest",
                       cmap="viridis", vmin=0, vmax=1, rasterized=True)
    ax.set_yscale("log")
    fig.colorbar(pc, ax=ax, label=r"selected MMSE of $X$ / $\mathbb{E}x^2$")
    ax.plot(ln.alpha_c, nz, "w-", lw=2.2, label=r"transition line $\alpha_c(\Delta)$",
            path_effects=[patheffects.Stroke(linewidth=3.8, foreground="k"),
                          patheffects.Normal()])
    # a spinodal on the first grid alpha lies at or below it: not drawn there
    low = np.where(ln.spinodal_low.values > ds.alpha.values[0], ln.spinodal_low.values, np.nan)
    ax.step(low, nz, where="mid", color="tab:orange", ls="--", lw=1.6,
            label="spinodals (grid resolution)")
    ax.step(ln.spinodal_high, nz, where="mid", color="tab:orange", ls="--", lw=1.6)
    k = int(np.flatnonzero(nz == lo)[0])
    ax.plot(ln.spinodal_high.values[k], lo, "r*", ms=16, mec="w", ls="none",
            label=rf"critical point, $\Delta_c \in [{sci(lo)}, {sci(hi)}]$")
    ax.set_xlabel(r"$\alpha = n_1/n_0$")
    ax.set_ylabel(r"noise variance $\Delta$")
    ax.set_title(f"{m['label']} → linear layer: selected MMSE")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2, fontsize=9)
    ax = axes[row, 1]
    ax.semilogx(nz, ln.mmse_jump / rho1, "o-", ms=4, label=r"jump at $\alpha_c(\Delta)$")
    ax.axvspan(lo, hi, color="r", alpha=0.25, label=r"critical noise $\Delta_c$ (bracket)")
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xlim(nz[0], nz[-1])
    ax.set_ylim(-0.03, 1.0)
    ax.set_xlabel(r"noise variance $\Delta$")
    ax.set_ylabel(r"MMSE jump / $\mathbb{E}x^2$")
    ax.set_title(f"{m['label']}: MMSE jump at " + r"$\alpha_c$")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=1, fontsize=9)
fig.suptitle(r"Phase diagram of $T_1 = WX + \sqrt{\Delta}\,\xi$, i.i.d. Gaussian $W$ "
             r"(replica formula, 50 x 50 grid per input): the MMSE jumps across "
             r"$\alpha_c(\Delta)$ up to $\Delta_c$", fontsize=11)
save_png(fig, figdir, "07_phase_diagram")
plt.show()

# %% [markdown]
# ## 4. Two cuts at fixed noise: the MMSE jumps, $I(X;T_1)$ does not
#
# Both branches along $\alpha$ at one low noise per input (dots, drawn where they differ),
# and the selected one (thick line): the selected MMSE jumps at $\alpha_c$, the selected $I$
# follows the lower envelope of the two $\phi$'s and is continuous, with a kink. (For the
# $\pm1$ input the informative branch recovers $X$ exactly, $I = \log 2 = H(X)$ per $n_0$;
# the branch that is not selected need not be physical: its $I$ exceeds $H(X)$ there.)

# %%
fig, axes = plt.subplots(2, 2, figsize=(11, 8), constrained_layout=True)
for row, (name, ds) in enumerate(data.items()):
    m = MODELS[name]
    rho1 = make_prior(name).second_moment
    cut = ds.sel(noise=m["cut_noise"], method="nearest")
    tr = lines[name].sel(noise=cut.noise)
    sel = select(cut)
    # the branches are drawn where they differ (elsewhere both are the selected point)
    two = distinct(cut.mmse_informative, cut.mmse_uninformative, rho1)
    a = ds.alpha.values
    for col, (q, ylabel) in enumerate((("mutual_information", r"$I(X;T_1)$ [nats per $n_0$]"),
                                       ("mmse", r"MMSE of $X$ / $\mathbb{E}x^2$"))):
        ax = axes[row, col]
        scale = 1.0 if q == "mutual_information" else 1 / rho1
        ax.axvspan(float(tr.spinodal_low), float(tr.spinodal_high), color="0.88", zorder=0,
                   label="coexistence (two branches)")
        ax.plot(a, sel[q] * scale, "k-", lw=2.5, label=r"selected (lower $\phi$)")
        for branch, color in (("informative", "tab:blue"), ("uninformative", "tab:orange")):
            ax.plot(a, np.where(two, cut[f"{q}_{branch}"], np.nan) * scale, "o", ms=3.5,
                    color=color, label=f"{branch} branch")
        ax.axvline(float(tr.alpha_c), color="r", lw=1.2,
                   label=rf"$\alpha_c = {float(tr.alpha_c):.3f}$")
        ax.set_xlabel(r"$\alpha = n_1/n_0$")
        ax.set_ylabel(ylabel)
        ax.set_title(f"{m['label']}, $\\Delta = {sci(float(cut.noise))}$")
        ax.legend(loc="lower right" if col == 0 else "upper right", fontsize=9)
fig.suptitle(r"Cuts at fixed noise: the selected MMSE jumps at $\alpha_c$, the selected "
             r"$I(X;T_1)$ is continuous, with a kink", fontsize=11)
save_png(fig, figdir, "07_branches")
plt.show()

# %% [markdown]
# ## 5. Live check: a 5 x 5 subgrid through the same sweep
#
# The quick profile reruns `sweep(branch_task, ...)` on Dask at 5 x 5 points of each stored
# grid (the same coordinates, read back from the record) and compares every number. The
# sweep runs each point with single-threaded BLAS wherever it runs, so the values should be
# bitwise those of the record when the engine has not changed since; the assertion allows
# $10^{-10}$ (solver tolerance $10^{-12}$), which a change of the last bits of a quadrature
# does not reach.

# %%
# NBVAL_IGNORE_OUTPUT
# (the printed differences are 0 until an engine change moves the last bits; asserted < 1e-10)
if live:
    quantities = [k for k, v in data["binary"].data_vars.items()
                  if v.dtype.kind == "f" and k != "time"]
    for name, ds in data.items():
        sub = ds.isel(noise=live_index, alpha=live_index)
        grid = {"noise": sub.noise.values, "alpha": sub.alpha.values, "prior": [name]}
        fresh = sweep(branch_task, grid, n_workers=n_workers, progress=False).squeeze("prior")
        diffs = {q: float(np.abs(fresh[q] - sub[q]).max()) for q in quantities}
        bitwise = all(bool((fresh[q] == sub[q]).all()) for q in quantities)
        worst = max(diffs, key=diffs.get)
        print(f"{name}: 5 x 5 live points, largest difference {diffs[worst]:.1e} ({worst}); "
              f"bitwise equal: {bitwise}")
        assert diffs[worst] < 1e-10, (name, diffs)
        for q in ("converged", "converged_informative", "converged_uninformative"):
            assert bool((fresh[q] == sub[q]).all()), (name, q)

# %%
# NBVAL_IGNORE_OUTPUT
print(f"total run time: {time.perf_counter() - t_start:.0f} s")
