"""The replica chain of a tracked network, in a form that needs no torch and fits in a record.

A network X -> T_1 -> ... -> T_m described by :func:`midnn.nn.describe` becomes a
:class:`ChainSpec`: the prior of the chain input, the layers that generate X from a latent Y
for generative data (``input_layers``), and per tracked layer its widths, its activation and
how it was built. The spectra of the tracked layers (eigenvalues lambda of W_l^T W_l) change
along training and are passed separately: ``spec.model(eigvals)`` is the
:class:`midnn.model.Model` at one checkpoint and :func:`evaluate` its replica quantities.

Everything here is plain NumPy so that the background worker of :class:`midnn.nn.Tracker`
and offline recomputation (:func:`midnn.training.recompute`) run without torch. Types read
from a record are looked up in explicit allow-lists (:mod:`midnn.serialize`), never by name
in a module.

Units: every quantity is in nats per unit of the chain input, n_0 = n_X (teacher-student
data) or n_Y (generative data, chain Y -> X -> T_1 -> ...).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .activations import Activation, Linear
from .exact import linear_gaussian
from .model import Layer, Model
from .priors import Gaussian, Prior
from .replica import ReplicaResult, replica
from .serialize import decode_activation, decode_prior, decode_spectrum, encode
from .spectra import Empirical

__all__ = ["ChainSpec", "LayerSpec", "QUANTITIES", "spectrum_from", "evaluate",
           "exact_quantities", "units"]

#: Per-layer replica quantities, entry l-1 for layer T_l.
QUANTITIES = ("entropy", "mutual_information", "conditional_entropy", "mmse")
#: Generative chains only: the same with respect to the network input X (see :func:`evaluate`).
NETWORK_QUANTITIES = ("mutual_information_x", "conditional_entropy_x")

#: How a tracked layer's weights relate to the replica formula's assumption.
BY_CONSTRUCTION = "by construction"
ASSUMED = "assumed"


# ----------------------------------------------------------------------------- spec

@dataclass(frozen=True)
class LayerSpec:
    """One tracked layer T_l = f_l(W_l T_{l-1}) of a network.

    Attributes
    ----------
    module : str
        Where the weight lives in the network (e.g. ``"2"`` in an ``nn.Sequential``,
        ``"layers.0"`` in a :class:`midnn.usv.USVNetwork`).
    kind : str
        ``"USVLinear"`` or ``"Linear"`` (a free ``torch.nn.Linear``).
    in_features, out_features : int
        n_{l-1} and n_l.
    activation : Activation
        f_l, noiseless (the chain's noises are set by :meth:`ChainSpec.model`).
    invariance : str
        ``"by construction"`` (USV layer: U, V Haar and fixed independently of the data) or
        ``"assumed"`` (free weights: W = U S V^T with U, V trained).
    bias_ignored : bool
        The layer has a bias that the description leaves out (``bias="ignore"``).
    """

    module: str
    kind: str
    in_features: int
    out_features: int
    activation: Activation
    invariance: str
    bias_ignored: bool = False

    @property
    def alpha(self) -> float:
        """alpha_l = n_l / n_{l-1}."""
        return self.out_features / self.in_features

    def to_json(self) -> dict:
        d = dataclasses.asdict(self)
        d["activation"] = encode(self.activation)
        return d

    @classmethod
    def from_json(cls, d: Mapping) -> LayerSpec:
        d = dict(d)
        d["activation"] = decode_activation(d.get("activation"))
        try:
            spec = cls(**d)
        except TypeError as err:
            raise ValueError(f"layer description: {err}") from None
        for name in ("in_features", "out_features"):
            value = getattr(spec, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"layer description: {name} must be a positive integer, "
                                 f"got {value!r}")
        if spec.invariance not in (BY_CONSTRUCTION, ASSUMED):
            raise ValueError(f"layer description: invariance must be {BY_CONSTRUCTION!r} or "
                             f"{ASSUMED!r}, got {spec.invariance!r}")
        return spec


@dataclass(frozen=True)
class ChainSpec:
    """The replica chain [Y ->] X -> T_1 -> ... -> T_m of a tracked network.

    Attributes
    ----------
    prior : Prior
        P_0 of the i.i.d. chain input (X, or the latent Y of generative data).
    input_layers : tuple of Layer
        Layers from Y to X (empty when the chain starts at X), with their own noises.
    layers : tuple of LayerSpec
        The tracked layers T_1 .. T_m.
    noise : float
        Delta: every T_l is observed through Gaussian noise of this variance before its
        activation (the paper's ``mi_noise`` 1e-5).
    inter_noise : float
        Noise that layers 1..l-1 pass on to T_l (the paper's ``inter_mi_noise`` 0).
    n_input : int
        Width of the chain input (n_X or n_Y): every quantity is per n_input.
    """

    prior: Prior
    input_layers: tuple[Layer, ...]
    layers: tuple[LayerSpec, ...]
    noise: float
    inter_noise: float
    n_input: int

    @property
    def n_layers(self) -> int:
        """m, the number of tracked layers."""
        return len(self.layers)

    @property
    def chain_input(self) -> str:
        """``"Y"`` (generative data: the chain starts at a latent) or ``"X"``."""
        return "Y" if self.input_layers else "X"

    @property
    def widths(self) -> tuple[int, ...]:
        """(n_X, n_1, ..., n_m) of the tracked network."""
        return (self.layers[0].in_features, *(s.out_features for s in self.layers))

    def model(self, eigvals: Sequence[np.ndarray]) -> Model:
        """The chain at one checkpoint: ``eigvals[l]`` are the n_{l-1} eigenvalues of
        W_l^T W_l. Layer T_m gets the noise Delta, the layers before it ``inter_noise``."""
        if len(eigvals) != self.n_layers:
            raise ValueError(f"eigvals must hold {self.n_layers} arrays, got {len(eigvals)}")
        layers = list(self.input_layers)
        for k, (spec, lam) in enumerate(zip(self.layers, eigvals, strict=True)):
            if np.shape(lam) != (spec.in_features,):
                raise ValueError(f"eigvals[{k}] must hold the {spec.in_features} eigenvalues "
                                 f"of W^T W of layer {k + 1}, got shape {np.shape(lam)}")
            nz = self.noise if k == self.n_layers - 1 else self.inter_noise
            layers.append(Layer(Empirical(lam, spec.alpha), spec.activation.with_noise(nz)))
        return Model(self.prior, layers)

    def to_json(self) -> dict:
        return {"prior": encode(self.prior),
                "input_layers": [{"spectrum": encode(L.spectrum),
                                  "activation": encode(L.activation)}
                                 for L in self.input_layers],
                "layers": [s.to_json() for s in self.layers],
                "noise": self.noise, "inter_noise": self.inter_noise,
                "n_input": self.n_input, "chain_input": self.chain_input}

    @classmethod
    def from_json(cls, d: Mapping) -> ChainSpec:
        """Inverse of :meth:`to_json`; raises ValueError on anything it does not expect."""
        try:
            prior = decode_prior(d["prior"])
            inputs = tuple(Layer(decode_spectrum(L["spectrum"]), decode_activation(L["activation"]))
                           for L in d["input_layers"])
            layers = tuple(LayerSpec.from_json(s) for s in d["layers"])
            spec = cls(prior, inputs, layers, float(d["noise"]), float(d["inter_noise"]),
                       int(d["n_input"]))
        except (KeyError, TypeError) as err:
            raise ValueError(f"chain description: missing or malformed entry ({err})") from None
        spec.validate()
        return spec

    def validate(self) -> None:
        """Check that the widths chain up: n_Y -> ... -> n_X -> n_1 -> ... -> n_m."""
        if not self.layers:
            raise ValueError("a chain needs at least one tracked layer")
        for k in range(1, self.n_layers):
            if self.layers[k].in_features != self.layers[k - 1].out_features:
                raise ValueError(f"layer {k + 1} takes {self.layers[k].in_features} inputs but "
                                 f"layer {k} has {self.layers[k - 1].out_features} outputs")
        expected = input_width(self.input_layers, self.layers[0].in_features)
        if expected != self.n_input:
            raise ValueError(f"n_input is {self.n_input}, but the chain input has width "
                             f"{expected}")


def input_width(input_layers: Sequence[Layer], n_x: int) -> int:
    """Width of the chain input: n_X without input layers, else n_Y such that the input
    layers map n_Y units to the n_X inputs of the network (Empirical spectra fix their
    widths, and these must chain up)."""
    width = n_x
    for k in reversed(range(len(input_layers))):
        layer = input_layers[k]
        n_in = width / layer.alpha
        if isinstance(layer.spectrum, Empirical):
            n_in_own = layer.spectrum.eigvals.size
            if abs(n_in_own * layer.alpha - width) > 1e-6 * width:
                raise ValueError(f"input_layers[{k}] maps {n_in_own} units to "
                                 f"{n_in_own * layer.alpha:g}, but what follows it takes "
                                 f"{width} inputs")
            n_in = n_in_own
        if abs(n_in - round(n_in)) > 1e-6 * n_in or round(n_in) < 1:
            raise ValueError(f"input_layers[{k}] (alpha={layer.alpha:g}) cannot produce "
                             f"{width} units from a whole number of inputs")
        width = int(round(n_in))
    return width


# ----------------------------------------------------------------------------- spectra

def spectrum_from(payload: tuple) -> Empirical:
    """The spectrum of W^T W from what a tracker reads off a layer.

    ``("s", s, n_in, n_out)``: singular values of a USV layer, exact in float64 (s^2 plus
    n_in - n_out zeros when n_out < n_in); ``("W", W)``: a dense weight (n_out, n_in),
    diagonalized (:meth:`Empirical.from_matrix`)."""
    if payload[0] == "s":
        _, s, n_in, n_out = payload
        lam = np.concatenate([np.zeros(n_in - min(n_in, n_out)), np.asarray(s, float) ** 2])
        return Empirical(lam, n_out / n_in)
    if payload[0] == "W":
        return Empirical.from_matrix(payload[1])
    raise ValueError(f"unknown spectrum payload {payload[0]!r}")


# ----------------------------------------------------------------------------- evaluation

def evaluate(spec: ChainSpec, eigvals: Sequence[np.ndarray], *, noise: float | None = None,
             init: ReplicaResult | None = None, tol: float = 1e-10
             ) -> tuple[ReplicaResult, dict[str, np.ndarray]]:
    """Replica quantities of the tracked layers at one checkpoint.

    One :func:`midnn.replica` call on the whole chain, every layer observed through Delta
    (``noise``, default ``spec.noise``). Returns the result (for warm starts) and arrays of
    length m: ``entropy`` H(T_l), ``mutual_information`` I(input; T_l),
    ``conditional_entropy`` H(T_l | input), ``mmse`` (of the chain input), all per n_input,
    input = the chain input (X or Y).

    For a generative chain (input layers Y -> X) also ``mutual_information_x`` I(X; T_l)
    and ``conditional_entropy_x`` H(T_l | X), X the network input, per n_Y (the authors'
    ``IXT`` of the decoder-encoder experiments). Given X the tracked layers before T_l are
    deterministic when ``inter_noise`` = 0, so H(T_l | X) = n_l E_z H(f(z + xi) | z) with
    z ~ N(0, rho~_l) the pre-activation of the replica chain: the closed form the replica
    uses for a chain without inner noise. With ``inter_noise`` > 0, H(T_l | X) for l >= 2
    would need a conditional chain starting at X, which the engine does not provide: NaN.
    """
    if noise is None:
        noise = spec.noise
    spec = dataclasses.replace(spec, noise=float(noise)) if noise != spec.noise else spec
    model = spec.model(eigvals)
    res = replica(model, readout_noise=float(noise), init=init, tol=tol)
    k = len(spec.input_layers)
    out = {q: np.asarray(getattr(res, q), float)[k:].copy() for q in QUANTITIES}
    if k:
        hc = _conditional_given_x(spec, model)
        out["conditional_entropy_x"] = hc
        out["mutual_information_x"] = out["entropy"] - hc
    return res, out


def _conditional_given_x(spec: ChainSpec, model: Model) -> np.ndarray:
    """H(T_l | X) / n_input for every tracked layer (NaN where it is not available)."""
    _, rho_t = model.second_moments()
    at = model.alpha_tilde
    k = len(spec.input_layers)
    out = np.full(spec.n_layers, np.nan)
    for j, layer in enumerate(spec.layers):
        if j > 0 and spec.inter_noise > 0:
            continue
        channel = layer.activation.with_noise(spec.noise).channel(rho_t[k + j])
        out[j] = at[k + j + 1] * channel.output_entropy(0.0)
    return out


def exact_quantities(spec: ChainSpec, weights: Sequence[np.ndarray],
                     input_weights: Sequence[np.ndarray], *, noise: float | None = None
                     ) -> dict[str, np.ndarray]:
    """The exact log-det values (:func:`midnn.exact.linear_gaussian`) of a linear chain with a
    Gaussian prior, as ``exact_<quantity>`` arrays of length m (per n_input). ``weights`` are
    the tracked W_l, ``input_weights`` the matrices of the input layers (decoder)."""
    noise = spec.noise if noise is None else float(noise)
    own = [float(L.activation.noise) for L in spec.input_layers]
    m = spec.n_layers
    mats = [np.asarray(w, float) for w in (*input_weights, *weights)]
    noises = own + [spec.inter_noise] * (m - 1) + [noise]
    res = linear_gaussian(mats, noises, var=spec.prior.var,
                          readout_noise=[None] * len(own) + [noise] * m,
                          normalization=spec.n_input)
    k = len(own)
    out = {f"exact_{q}": np.asarray(getattr(res, q), float)[k:] for q in QUANTITIES}
    if k:
        # I(X; T_l): the same network fed by X ~ N(0, Sigma_X), Sigma_X from the decoder
        cov = spec.prior.var * np.eye(mats[0].shape[1])
        for W, nz in zip(mats[:k], own, strict=True):
            cov = W @ cov @ W.T + nz * np.eye(W.shape[0])
        res_x = linear_gaussian(mats[k:], noises[k:], readout_noise=[noise] * m,
                                input_cov=cov, normalization=spec.n_input)
        out["exact_mutual_information_x"] = np.asarray(res_x.mutual_information, float)
        out["exact_conditional_entropy_x"] = np.asarray(res_x.conditional_entropy, float)
    return out


def is_linear_gaussian(spec: ChainSpec) -> bool:
    """Whether the exact log-det applies: Gaussian prior and linear layers only."""
    acts = [L.activation for L in spec.input_layers] + [s.activation for s in spec.layers]
    return isinstance(spec.prior, Gaussian) and all(type(a) is Linear for a in acts)


def units(spec: ChainSpec) -> dict[str, str]:
    """Meaning and unit of every per-layer column a tracker records for this chain."""
    src, n = spec.chain_input, f"n_{spec.chain_input}"
    per = f"nats per {n} ({n} = {spec.n_input}, the width of the chain input {src})"
    out = {"entropy": f"H(T_l), {per}",
           "mutual_information": f"I({src}; T_l), {per}",
           "conditional_entropy": f"H(T_l | {src}), {per}",
           "mmse": f"minimum mean squared error of {src} given T_l, per component of {src}"}
    if spec.input_layers:
        out["mutual_information_x"] = f"I(X; T_l) with X the network input, {per}"
        out["conditional_entropy_x"] = f"H(T_l | X) with X the network input, {per}"
    return out


__all__ += ["NETWORK_QUANTITIES", "BY_CONSTRUCTION", "ASSUMED", "input_width",
            "is_linear_gaussian"]
