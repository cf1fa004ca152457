"""The replica potential φ of eq. (3) at a point of the order parameters.

    φ = I(x; x + ξ/sqrt(Ã_1)) + Σ_{k<L} α̃_k I(t_k; t_k + ξ'/sqrt(Ã_{k+1}) | ξ_k)
        + α̃_L H(t_L | ξ_L; Ṽ_L) - ½ Σ_k [α̃_{k-1} Ã_k V_k + α̃_k A_k Ṽ_k
        - α̃_{k-1} F_{W_k}(A_k V_k)],      α̃_k = n_k / n_0,

with the spectral function F_W of eq. (6). At a stationary point φ is the entropy per n_0
(Claim 1, eq. 2).
"""

from __future__ import annotations

import numpy as np

from .chain import Chain, State
from .channels import ScalarChannel
from .spectra import Empirical, Spectrum, ThetaError

__all__ = ["potential", "V_FREEZE"]

#: Variances below this are treated as exactly recovered (the layer is frozen).
V_FREEZE = 1e-300


def potential(chain: Chain, s: State) -> float:
    """φ of eq. (3) at the order parameters ``s`` (the entropy per n_0 at a stationary
    point). A layer whose input is recovered exactly (V_k = 0) contributes the information of
    its noiseless observation (:func:`_noiseless_information`) and no F-term."""
    L = chain.n_layers
    at = chain.alpha_tilde
    val = chain.prior.mutual_information(s.A_tilde[0]) if s.V[0] > V_FREEZE else (
        chain.prior.mutual_information(np.inf))
    for k in range(L - 1):
        if s.V[k + 1] > V_FREEZE:
            hv = chain.channels[k].hidden(s.A_tilde[k + 1], s.V_tilde[k])
            val += at[k + 1] * hv.mutual_information
        else:
            val += at[k + 1] * _noiseless_information(chain.channels[k], s.V_tilde[k])
    val += at[L] * chain.channels[L - 1].output_entropy(s.V_tilde[L - 1])
    for k in range(L):
        if s.V[k] <= V_FREEZE:
            continue
        x = s.A[k] * s.V[k]
        spec = chain.spectra[k]
        F = _spectral_F(spec, x, s.theta[k])
        val -= 0.5 * (at[k] * s.A_tilde[k] * s.V[k] + at[k + 1] * s.A[k] * s.V_tilde[k] - at[k] * F)
    return float(val)


def _spectral_F(spec: Spectrum, x: float, theta: float) -> float:
    """F_W(x) at the theta of eq. (50a); the solver's theta when (50a) cannot be solved."""
    if not isinstance(spec, Empirical):
        return spec.F(x)
    # eq. (50a) can have several roots when W^T W has eigenvalues close to 0; the solver's
    # theta is the one consistent with the other saddle-point equations, so it is used
    # whenever it solves (50a)
    if abs(spec.theta_residual(theta, x)) >= 1e-9:
        # the state satisfies (50a) only to the solver's tolerance: the root it is on
        root = spec.theta_near(x, theta)
        theta = root if root is not None else theta
    if abs(spec.theta_residual(theta, x)) < 1e-9:
        with np.errstate(invalid="ignore", divide="ignore"):
            val = spec.F(x, theta)
        if np.isfinite(val):
            return val
    try:
        return spec.F(x)
    except ThetaError:
        with np.errstate(invalid="ignore", divide="ignore"):
            return spec.F(x, theta)


def _noiseless_information(channel: ScalarChannel, V_tilde: float) -> float:
    """I(t; t | omega) = H(t | omega) of a layer whose output is exactly recovered.

    Finite for a discrete t; zero when t is a deterministic function of omega (Ṽ = 0 and a
    noiseless activation: the layer's input is itself exactly recovered, e.g. a discrete
    input seen through a noiseless hidden layer); infinite for a continuous t otherwise.
    """
    if channel.is_discrete:
        return channel.output_entropy(V_tilde)
    if max(V_tilde, 0.0) + channel.noise <= 0.0:
        return 0.0
    return np.inf
