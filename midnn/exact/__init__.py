"""Finite-size ground truth for the entropies and mutual informations of eq. (1).

Two exactly solvable families give reference values for the replica formula at finite n_0,
with the *actual* weight matrices rather than their spectra:

* :mod:`midnn.exact.gaussian` (NumPy) -- Gaussian input, linear layers: log-determinants
  (:func:`linear_gaussian`, :func:`linear_gaussian_generative`);
* :mod:`midnn.exact.enumeration` (torch) -- +-1 input, deterministic inner layers, noisy last
  layer: the exact mixture over the 2^{n_0} inputs (:func:`binary_enumeration`,
  :func:`binary_log_density`). Imported on first use, so that ``midnn.exact`` stays torch-free
  for the Gaussian ground truth.
"""

from __future__ import annotations

import importlib

from .gaussian import ExactResult, linear_gaussian, linear_gaussian_generative

__all__ = ["ExactResult", "linear_gaussian", "linear_gaussian_generative", "ExactMCResult",
           "binary_enumeration", "binary_log_density", "MAX_ENUMERATION_N0",
           "MAX_OUTPUT_ENUMERATION"]

_ENUMERATION = {"ExactMCResult", "binary_enumeration", "binary_log_density",
                "MAX_ENUMERATION_N0", "MAX_OUTPUT_ENUMERATION"}


def __getattr__(name: str):
    if name in _ENUMERATION:
        return getattr(importlib.import_module(".enumeration", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
