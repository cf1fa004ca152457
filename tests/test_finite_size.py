"""midnn.finite_size: the 1/n_0 extrapolation of notebook 02."""

from __future__ import annotations

import numpy as np
import pytest

from midnn.finite_size import draw_mean, inverse_size_fit


def test_exact_line_is_recovered():
    n0 = np.array([8, 10, 12, 16])
    fit = inverse_size_fit(n0, 0.4 - 2.0 / n0, np.full(4, 0.01))
    assert fit.intercept == pytest.approx(0.4, abs=1e-12)
    assert fit.slope == pytest.approx(-2.0, abs=1e-10)
    assert fit(0.0) == pytest.approx(0.4, abs=1e-12)
    # the intercept's error: sqrt((X^T W X)^-1)_00, known errors (no rescaling by residuals)
    X = np.column_stack([np.ones(4), 1.0 / n0])
    assert fit.intercept_se == pytest.approx(np.sqrt(np.linalg.inv(X.T @ X / 1e-4)[0, 0]))


def test_weights_and_zero_errors():
    n0 = [10, 20, 40]
    fit = inverse_size_fit(n0, [1.0, 1.0, 2.0], [1e3, 1e3, 0.0])   # exact last point dominates
    assert fit(1 / 40) == pytest.approx(2.0, abs=1e-6)


def test_draw_mean():
    v = np.array([[1.0, 2.0, 3.0, 4.0]])
    m, s = draw_mean(v)
    assert m[0] == 2.5 and s[0] == pytest.approx(np.std(v, ddof=1) / 2)
    m2, s2 = draw_mean(v, mc_se=np.full((1, 4), 0.2))
    assert s2[0] == pytest.approx(np.sqrt(s[0] ** 2 + 0.04 / 4))
