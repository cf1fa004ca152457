"""Property test over the whole public model class (``tests/model_grid.py``).

Every prior (random parameters), every activation in every position, Sign at the output,
Marchenko-Pastur and empirical spectra (Gaussian and orthogonal x diagonal), noises
log-uniform in [1e-6, 1], inner layers noiseless with probability 0.3. For each model the
invariants of ``midnn.checks.invariants`` must hold (converged, finite, no warning, I >= 0,
I <= H(X) for a discrete prior, data processing along the chain, the maximum-entropy bound of
every layer), and the fixed-point scheme and ML-VAMP must agree where both converge.
``benchmarks/bench_model_class.py`` runs the same checks on 1,000 models.
"""

from __future__ import annotations

import numpy as np
import pytest
from model_grid import whole_class_model

from midnn import checks

N_MODELS = 120
SEED = 20261204


def _models():
    rng = np.random.default_rng(SEED)
    return [whole_class_model(rng) for _ in range(N_MODELS)]


MODELS = _models()


@pytest.mark.parametrize("index", range(N_MODELS))
def test_invariants_over_the_model_class(index):
    model = MODELS[index]
    table = checks.invariants(model)
    assert table.passed, f"{model}\n{table}"


@pytest.mark.parametrize("index", range(0, N_MODELS, 4))
def test_solvers_agree_over_the_model_class(index):
    model = MODELS[index]
    table = checks.solver_agreement(model, atol=1e-7)
    assert table.passed, f"{model}\n{table}"
