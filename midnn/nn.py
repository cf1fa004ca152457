"""Replica descriptions of PyTorch networks, and information tracking from any training loop.

:func:`describe` turns a feed-forward network (an ``nn.Sequential`` of linear layers and
element-wise activations, or a :class:`midnn.usv.USVNetwork`) into the replica chain
X -> T_1 -> ... -> T_m of eq. (1) at its current weights; :class:`Tracker` (defined in
:mod:`midnn.tracking`, importable from here) does so at every checkpoint of a training loop
and records the entropies and mutual informations of every layer.

Supported modules: ``nn.Linear`` and :class:`midnn.usv.USVLinear` (the weights W_l),
``nn.ReLU``, ``nn.LeakyReLU`` (negative slope in [0, 1]), ``nn.Hardtanh`` (symmetric,
min_val = -max_val), ``nn.Tanh``, :class:`Sign`, and ``nn.Identity`` (ignored anywhere). A
linear layer not followed by an activation is a linear layer of the chain.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from . import _validate as check
from .activations import Activation, HardTanh, LeakyReLU, Linear, ReLU, Tanh
from .activations import Sign as _SignActivation
from .chainspec import (
    ASSUMED,
    BY_CONSTRUCTION,
    ChainSpec,
    LayerSpec,
    evaluate,
    input_width,
    spectrum_from,
)
from .model import Layer, Model
from .priors import Prior
from .replica import ReplicaResult
from .usv import USVLinear, USVNetwork

__all__ = ["Sign", "Description", "describe", "Tracker", "SUPPORTED"]  # noqa: F822 (lazy)

SUPPORTED = ("nn.Linear, midnn.usv.USVLinear (weights); nn.ReLU, nn.LeakyReLU (slope in "
             "[0, 1]), nn.Hardtanh (min_val = -max_val), nn.Tanh, midnn.nn.Sign "
             "(activations); nn.Identity (ignored)")


class Sign(nn.Module):
    """t = sign(h) in {-1, +1}, with sign(0) = +1 as :class:`midnn.activations.Sign`.

    Its gradient is zero almost everywhere: a layer followed by it does not learn by
    back-propagation, but it can be described and tracked.
    """

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return torch.where(h >= 0, torch.ones_like(h), -torch.ones_like(h))


# ----------------------------------------------------------------------------- parsing

@dataclass
class _Tracked:
    """A tracked layer: its weight module, its description, and the index of the last
    forward step that belongs to it (its output there is T_l)."""

    weight: nn.Module
    spec: LayerSpec
    end: int


@dataclass
class _Structure:
    """What :func:`describe` reads off a network: its forward steps (callables applied in
    order) and the tracked layers among them. Fixed for the life of a tracker."""

    steps: list
    tracked: list[_Tracked]

    def check_finite(self) -> None:
        """ValueError naming the first tracked layer with a non-finite parameter."""
        for l, t in enumerate(self.tracked):
            for name, p in t.weight.named_parameters():
                if not bool(torch.isfinite(p.detach()).all()):
                    raise ValueError(f"layer {l + 1} (module {t.spec.module!r}, {t.spec.kind}) "
                                     f"has non-finite values in its parameter {name!r}: the "
                                     "network has diverged, its information is undefined")

    def payloads(self) -> list[tuple]:
        """Per tracked layer, what :func:`midnn.chainspec.spectrum_from` takes."""
        out = []
        for t in self.tracked:
            if isinstance(t.weight, USVLinear):
                s = np.abs(t.weight.s.detach().cpu().double().numpy())
                out.append(("s", s, t.spec.in_features, t.spec.out_features))
            else:
                out.append(("W", t.weight.weight.detach().cpu().double().numpy()))
        return out

    def weights(self) -> list[np.ndarray]:
        """The dense W_l (float64), for the exact log-det."""
        return [t.weight.weight.detach().cpu().double().numpy() for t in self.tracked]

    def outputs(self, x: torch.Tensor) -> list[np.ndarray]:
        """The noiseless T_1, ..., T_m on a batch (float64 arrays, one row per sample)."""
        out, ends = [], {t.end for t in self.tracked}
        with torch.no_grad():
            for i, (_, f) in enumerate(self.steps[:self.tracked[-1].end + 1]):
                x = f(x)
                if i in ends:
                    out.append(x.detach().cpu().double().numpy())
        return out


def _activation(name: str, m: nn.Module) -> Activation:
    """The midnn activation of an activation module (ValueError when unsupported)."""
    t = type(m)
    if t is nn.ReLU:
        return ReLU(noise=0.0)
    if t is nn.Tanh:
        return Tanh(noise=0.0)
    if t is Sign:
        return _SignActivation(noise=0.0)
    if t is nn.LeakyReLU:
        if not 0.0 <= m.negative_slope <= 1.0:
            raise ValueError(f"module {name} (LeakyReLU): negative_slope={m.negative_slope:g} "
                             "is outside [0, 1], which the replica channel requires")
        return LeakyReLU(slope=float(m.negative_slope), noise=0.0)
    if t is nn.Hardtanh:
        if not (m.max_val > 0 and m.min_val == -m.max_val):
            raise ValueError(f"module {name} (Hardtanh): min_val={m.min_val:g}, "
                             f"max_val={m.max_val:g}; only the symmetric Hardtanh(-t, t), "
                             "t > 0, is supported")
        return HardTanh(noise=0.0, threshold=float(m.max_val))
    raise ValueError(f"module {name} ({t.__name__}) is not supported; supported: {SUPPORTED}")


def _weight_spec(name: str, m: nn.Module, act: Activation, bias: str) -> LayerSpec:
    if getattr(m, "bias", None) is not None and bias == "error":
        raise ValueError(f"module {name} ({type(m).__name__}) has a bias; the replica formula "
                         "describes networks without biases: build the layer with "
                         "bias=False, or pass bias='ignore' to describe the network with its "
                         "biases removed")
    usv = isinstance(m, USVLinear)
    haar = usv and m.haar  # a USVLinear made by from_linear has the SVD's U, V
    return LayerSpec(module=name, kind="USVLinear" if usv else "Linear",
                     in_features=int(m.in_features), out_features=int(m.out_features),
                     activation=act, invariance=BY_CONSTRUCTION if haar else ASSUMED,
                     bias_ignored=getattr(m, "bias", None) is not None)


def _flatten(module: nn.Module, prefix: str = "") -> list[tuple[str, nn.Module]]:
    out = []
    for name, child in module.named_children():
        if type(child) is nn.Sequential:
            out += _flatten(child, f"{prefix}{name}.")
        else:
            out.append((f"{prefix}{name}", child))
    return out


def _parse_sequential(module: nn.Sequential, n_layers: int | None, bias: str) -> _Structure:
    """Group the modules into [linear, activation?] layers, in order, until n_layers."""
    items = _flatten(module)
    steps = [(name, m) for name, m in items]
    tracked: list[_Tracked] = []
    pending = None  # (index, name, module) of a linear layer whose activation is not known yet

    def close(act: Activation, end: int) -> None:
        _, name, m = pending
        tracked.append(_Tracked(m, _weight_spec(name, m, act, bias), end))

    for i, (name, m) in enumerate(items):
        if pending is None and n_layers is not None and len(tracked) == n_layers:
            break
        if type(m) is nn.Identity:
            continue
        if type(m) in (nn.Linear, USVLinear):
            if pending is not None:
                close(Linear(noise=0.0), pending[0])
                pending = None
                if n_layers is not None and len(tracked) == n_layers:
                    break
            pending = (i, name, m)
            continue
        act = _activation(f"{name}", m)
        if pending is None:
            raise ValueError(f"module {name} ({type(m).__name__}) is an activation that "
                             "follows no linear layer")
        close(act, i)
        pending = None
    if pending is not None:
        close(Linear(noise=0.0), pending[0])
    return _Structure(steps, tracked)


def _parse_usv_network(net: USVNetwork, n_layers: int | None, bias: str) -> _Structure:
    """The leading layers of a USVNetwork that have a midnn activation (its readout, whose
    activation is None, returns logits and has no replica description)."""
    steps, tracked = [], []
    limit = net.n_layers if n_layers is None else n_layers
    for k in range(min(limit, net.n_layers)):
        act = net.activations[k]
        if act is None:
            if n_layers is None:
                break
            raise ValueError(f"layer {k + 1} of the USVNetwork (module 'layers.{k}') is a "
                             "readout without a midnn activation and cannot be described: "
                             f"pass n_layers <= {k}")
        layer = net.layers[k]
        steps += [(f"layers.{k}", layer), (f"activations[{k}]", act.torch_f)]
        tracked.append(_Tracked(layer, _weight_spec(f"layers.{k}", layer,
                                                    act.with_noise(0.0), bias),
                                len(steps) - 1))
    return _Structure(steps, tracked)


def _parse(module: nn.Module, n_layers: int | None, bias: str) -> _Structure:
    """The structure of ``module`` (see :func:`describe` for the rules and errors)."""
    check.choice("bias", bias, ("error", "ignore"))
    if n_layers is not None:
        n_layers = check.integer("n_layers", n_layers, low=1)
    if isinstance(module, USVNetwork):
        structure = _parse_usv_network(module, n_layers, bias)
    elif isinstance(module, nn.Sequential) and type(module).forward is nn.Sequential.forward:
        structure = _parse_sequential(module, n_layers, bias)
    else:
        raise TypeError(f"describe takes an nn.Sequential or a midnn.usv.USVNetwork, got "
                        f"{type(module).__name__}")
    found = len(structure.tracked)
    if found == 0:
        raise ValueError("the network has no linear layer to describe")
    if n_layers is not None and found < n_layers:
        raise ValueError(f"n_layers={n_layers} but the network has only {found} describable "
                         "layers")
    return structure


def _chain_spec(structure: _Structure, prior: Prior, noise: float, inter_noise: float,
                input_layers: Sequence[Layer]) -> ChainSpec:
    check.instance("prior", prior, Prior, "a midnn.priors.Prior")
    input_layers = tuple(check.sequence("input_layers", input_layers))
    for i, layer in enumerate(input_layers):
        check.instance(f"input_layers[{i}]", layer, Layer, "a midnn.Layer")
    layers = tuple(t.spec for t in structure.tracked)
    spec = ChainSpec(prior, input_layers, layers, check.positive("noise", noise),
                     check.noise("inter_noise", inter_noise),
                     input_width(input_layers, layers[0].in_features))
    spec.validate()
    return spec


# ----------------------------------------------------------------------------- describe

@dataclass(frozen=True)
class Description:
    """The replica description of a network at its current weights.

    Attributes
    ----------
    spec : ChainSpec
        Prior, input layers, per tracked layer its module, type, widths, activation,
        whether orthogonal invariance holds by construction or is assumed, whether a bias
        was left out; the noises.
    eigvals : tuple of numpy arrays
        Per tracked layer, the n_{l-1} eigenvalues of W_l^T W_l.
    model : Model
        The chain [input layers] + tracked layers, the last with noise Delta, the others
        with ``inter_noise``.
    """

    spec: ChainSpec
    eigvals: tuple[np.ndarray, ...]
    model: Model

    @property
    def layers(self) -> tuple[LayerSpec, ...]:
        return self.spec.layers

    def information(self, *, init: ReplicaResult | None = None, tol: float = 1e-10
                    ) -> tuple[ReplicaResult, dict[str, np.ndarray]]:
        """The replica quantities of every tracked layer (:func:`midnn.chainspec.evaluate`):
        each T_l observed through Delta, nats per unit of the chain input."""
        return evaluate(self.spec, self.eigvals, init=init, tol=tol)

    def __str__(self) -> str:
        rows = [f"chain input {self.spec.chain_input} (n = {self.spec.n_input}), prior "
                f"{self.spec.prior}, {len(self.spec.input_layers)} input layer(s), noise "
                f"{self.spec.noise:g}, inter_noise {self.spec.inter_noise:g}"]
        for l, s in enumerate(self.layers):
            rows.append(f"  T{l + 1}: module {s.module} {s.kind} {s.in_features} -> "
                        f"{s.out_features}, {type(s.activation).__name__}, orthogonal "
                        f"invariance {s.invariance}" + (", bias ignored" if s.bias_ignored
                                                        else ""))
        return "\n".join(rows)


def describe(module: nn.Module, *, prior: Prior, noise: float = 1e-5, inter_noise: float = 0.0,
             input_layers: Sequence[Layer] = (), n_layers: int | None = None,
             bias: str = "error") -> Description:
    r"""The replica chain of a feed-forward network at its current weights.

    The replica formula (Claim 1) holds for weight matrices W_l = U_l S_l V_l^T whose
    singular vectors U_l, V_l are Haar distributed and independent of each other, of the
    singular values and of the data. A :class:`midnn.usv.USVLinear` layer satisfies this
    **by construction** (fixed random U, V; only S is trained). For a free ``nn.Linear`` it
    is an **assumption**: its U, V are trained like the rest, and the description uses only
    the spectrum of W_l^T W_l, as if they were Haar. ``Description.layers[l].invariance``
    says which applies to each layer.

    Parameters
    ----------
    module : nn.Sequential or USVNetwork
        An ``nn.Sequential`` (nested ones are flattened) of linear layers (``nn.Linear``,
        :class:`midnn.usv.USVLinear`), each optionally followed by one activation
        (``nn.ReLU``, ``nn.LeakyReLU``, symmetric ``nn.Hardtanh``, ``nn.Tanh``,
        :class:`Sign`); ``nn.Identity`` is ignored. Or a :class:`midnn.usv.USVNetwork`,
        whose layers with a midnn activation are described.
    prior : midnn.priors.Prior
        P_0 of the i.i.d. components of the chain input (X, or Y with ``input_layers``).
    noise : float
        Delta > 0: each T_l is observed through N(0, Delta) noise before its activation
        (the paper's 1e-5).
    inter_noise : float
        Noise variance that the layers before T_l pass on (the paper's 0).
    input_layers : sequence of Layer
        For generative data X = decoder(Y): the replica layers of the decoder (e.g.
        :attr:`midnn.data.Dataset.input_layers`), prepended to the chain; ``prior`` is then
        the prior of Y and every quantity is per n_Y.
    n_layers : int, optional
        Describe the first ``n_layers`` linear layers only (e.g. to leave out a readout
        followed by a softmax loss); the modules after them are not inspected. Default:
        all linear layers (a ``USVNetwork``: up to its readout).
    bias : {"error", "ignore"}
        A layer with a bias raises ValueError, unless ``"ignore"``: the description is then
        that of the network with its biases removed (``LayerSpec.bias_ignored``).

    Returns
    -------
    Description
        ``model`` (a :class:`midnn.Model`), ``spec``, ``eigvals``, ``layers``.

    Raises
    ------
    TypeError
        ``module`` is not an ``nn.Sequential`` (with its own forward) or a USVNetwork.
    ValueError
        An unsupported module (named with its index and type, and the supported list), an
        activation that follows no linear layer, a non-symmetric Hardtanh, a bias without
        ``bias="ignore"``, non-finite weights, widths that do not chain up, ``n_layers``
        larger than the number of describable layers.
    """
    structure = _parse(module, n_layers, bias)
    spec = _chain_spec(structure, prior, noise, inter_noise, input_layers)
    structure.check_finite()
    eigvals = tuple(spectrum_from(p).eigvals for p in structure.payloads())
    return Description(spec, eigvals, spec.model(eigvals))


def __getattr__(name: str):
    # Tracker lives in midnn.tracking, which imports this module
    if name == "Tracker":
        from .tracking import Tracker

        return Tracker
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
