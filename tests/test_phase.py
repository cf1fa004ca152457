"""midnn.phase: the two branches of a first-order transition, and the transition they draw.

Values measured on the Gauss-Bernoulli(0.2) -> Marchenko-Pastur linear layer at Δ = 1e-5
(notebook 01, step 5) and the ±1 input (notebook 07).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr

from midnn._provenance import git_commit, stamp
from midnn.phase import (
    branch_task,
    distinct,
    make_prior,
    manifold_potential,
    select,
    transition,
    transition_lines,
)


def test_two_branches_in_the_coexistence_region():
    out = branch_task(0.32, 1e-5, prior="gauss_bernoulli")
    assert out["converged_informative"] and out["converged_uninformative"] and out["converged"]
    assert out["mmse_uninformative"] > 100 * out["mmse_informative"]
    # the replica formula picks the lower potential; replica()'s own search agrees
    low = min(out["potential_informative"], out["potential_uninformative"])
    assert out["entropy"] == pytest.approx(low, abs=1e-10)
    assert out["potential_informative"] < out["potential_uninformative"]
    # I = φ - H(T|X) on each branch, H(T|X) = (α/2) log(2πeΔ)
    hc = 0.5 * 0.32 * np.log(2 * np.pi * np.e * 1e-5)
    assert out["conditional_entropy"] == pytest.approx(hc, rel=1e-12)
    assert out["mutual_information_informative"] == pytest.approx(
        out["potential_informative"] - hc, rel=1e-12)


def test_one_branch_outside():
    out = branch_task(0.6, 1e-5, prior="gauss_bernoulli")
    assert not distinct(out["mmse_informative"], out["mmse_uninformative"], 0.2)
    assert out["potential_informative"] == pytest.approx(out["potential_uninformative"],
                                                         abs=1e-9)


def test_branches_are_stationary_points_of_the_manifold():
    out = branch_task(0.32, 1e-5, prior="gauss_bernoulli")
    for b in ("informative", "uninformative"):
        V = out[f"mmse_{b}"]
        phi = manifold_potential(0.32, 1e-5, [V * (1 - 1e-4), V, V * (1 + 1e-4)],
                                 "gauss_bernoulli")
        assert phi[1] == pytest.approx(out[f"potential_{b}"], abs=1e-10)
        assert phi[1] < phi[0] and phi[1] < phi[2]   # both stable: local minima of φ(V)


def test_transition_on_a_line_of_alpha():
    alphas = np.linspace(0.05, 0.7, 27)
    rows = [branch_task(a, 1e-3, prior="binary") for a in alphas]
    b = {k: np.array([r[k] for r in rows]) for k in rows[0]}
    tr = transition(alphas, b, 1.0)
    assert tr["spinodal_low"] < tr["alpha_c"] < tr["spinodal_high"]
    assert 0.15 < tr["alpha_c"] < 0.25 and tr["mmse_jump"] > 0.7
    assert tr["mmse_step"] > 10 * tr["mmse_branch_step"]    # the MMSE jumps ...
    assert tr["mi_step"] <= 1.01 * tr["mi_branch_step"]     # ... I does not
    sel = select(b)
    assert np.allclose(sel["potential"], b["entropy"], atol=1e-10)


def test_transition_without_coexistence():
    a = np.linspace(0.1, 1.0, 5)
    b = {f"{q}_{k}": np.ones(5) for q in ("mmse", "potential", "mutual_information")
         for k in ("informative", "uninformative")}
    tr = transition(a, b, 1.0)
    assert np.isnan(tr["alpha_c"]) and np.isnan(tr["spinodal_low"]) and tr["cell"] == -1


def test_transition_lines():
    noise = [1e-3, 0.5]
    alphas = np.linspace(0.05, 0.7, 14)
    rows = [[branch_task(a, nz) for a in alphas] for nz in noise]
    ds = xr.Dataset({k: (("noise", "alpha"), [[r[k] for r in row] for row in rows])
                     for k in rows[0][0]}, coords={"noise": noise, "alpha": alphas})
    lines = transition_lines(ds, make_prior("binary").second_moment)
    assert np.isfinite(lines.alpha_c.values[0]) and np.isnan(lines.alpha_c.values[1])


def test_stamp_keeps_a_sweeps_provenance():
    ds = xr.Dataset({"v": ("x", [1.0])}, attrs={"git_commit": "abc", "seed": '{"root": 3}'})
    stamp(ds, {"n": 3, "noises": [1e-3]}, commit="def")
    assert ds.attrs["git_commit"] == "def" and ds.attrs["seed"] == '{"root": 3}'
    assert json.loads(ds.attrs["config"]) == {"n": 3, "noises": [1e-3]}
    assert {"midnn_version", "versions", "created"} <= set(ds.attrs)
    stamp(ds, {}, seed=7)
    assert ds.attrs["seed"] == "7" and ds.attrs["git_commit"] == "def"


def test_git_commit_dirty_only_for_code(tmp_path):
    """``-dirty`` marks changes to code, not the outputs a run writes (results/, figures/)."""
    import shutil
    import subprocess

    if shutil.which("git") is None:
        pytest.skip("git is not installed")

    def git(*args):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
                       cwd=tmp_path, check=True, capture_output=True)

    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "code.py").write_text("x = 1\n")
    git("init", "-q")
    git("add", ".")
    git("commit", "-qm", "first")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=tmp_path, check=True,
                          capture_output=True, text=True).stdout.strip()
    assert git_commit(tmp_path / "pkg") == head
    for out in ("results", "figures"):
        (tmp_path / out).mkdir()
        (tmp_path / out / "record.nc").write_bytes(b"\0")
    assert git_commit(tmp_path / "pkg") == head            # outputs only: still clean
    (tmp_path / "notes.txt").write_text("an untracked file at the top\n")
    assert git_commit(tmp_path / "pkg") == head + "-dirty"  # seen from a sub-folder too
    assert git_commit(tmp_path / "pkg" / "code.py") == head + "-dirty"
    assert git_commit(tmp_path.parent / "not-a-checkout-xyz") is None
