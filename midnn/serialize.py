"""Models as plain JSON-able dicts, and back, through explicit allow-lists of types.

A prior, an activation or a spectrum is written as ``{"type": <class name>, <field>:
<value>, ...}`` (an :class:`~midnn.spectra.Empirical` spectrum with its eigenvalues as a
list); :func:`decode_prior`, :func:`decode_activation` and :func:`decode_spectrum` accept only
the registered classes (:data:`midnn.priors.PRIORS`, :data:`midnn.activations.ACTIVATIONS`
and the two spectra), never an arbitrary name from a file.
"""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Mapping

import numpy as np

from .activations import ACTIVATIONS, Activation
from .model import Layer, Model
from .priors import PRIORS, Prior
from .spectra import Empirical, MarchenkoPastur, Spectrum

__all__ = ["encode", "decode_prior", "decode_activation", "decode_spectrum", "model_to_dict",
           "model_from_dict"]


def encode(obj) -> dict:
    """A prior, an activation or a spectrum as a JSON-able dict."""
    if isinstance(obj, Empirical):
        return {"type": "Empirical", "alpha": float(obj.alpha),
                "eigvals": [float(x) for x in obj.eigvals]}
    if isinstance(obj, Prior | Activation | MarchenkoPastur):
        d = {"type": type(obj).__name__}
        for f in dataclasses.fields(obj):
            if f.init:
                v = getattr(obj, f.name)
                d[f.name] = v.item() if isinstance(v, np.generic) else v
        return d
    raise TypeError(f"cannot encode {type(obj).__name__}: not a midnn prior, activation or "
                    "spectrum")


def _is_real(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _decode(d, registry: Mapping[str, type], what: str):
    """The object ``d`` describes: its type must be in ``registry`` and its fields known and
    real numbers (eigenvalues a list of them); a ValueError naming ``what`` otherwise."""
    if not isinstance(d, Mapping) or not isinstance(d.get("type"), str):
        raise ValueError(f"a {what} must be a dict with a 'type' key, got {d!r}")
    params = dict(d)
    name = params.pop("type")
    if name not in registry:
        raise ValueError(f"unknown {what} type {name!r}; allowed: {sorted(registry)}")
    cls = registry[name]
    known = {f.name for f in dataclasses.fields(cls) if f.init}
    for key, value in params.items():
        if key not in known:
            raise ValueError(f"{what}: {name} has no field {key!r}")
        if key == "eigvals":
            if not isinstance(value, list) or not all(_is_real(v) for v in value):
                raise ValueError(f"{what}: eigvals must be a list of numbers")
        elif not _is_real(value):
            raise ValueError(f"{what}: field {key!r} must be a number, got {value!r}")
    return cls(**params)


def decode_prior(d) -> Prior:
    """The prior described by ``d`` (:data:`midnn.priors.PRIORS` only)."""
    return _decode(d, PRIORS, "prior")


def decode_activation(d) -> Activation:
    """The activation described by ``d`` (:data:`midnn.activations.ACTIVATIONS` only)."""
    return _decode(d, {cls.__name__: cls for cls in ACTIVATIONS.values()}, "activation")


def decode_spectrum(d) -> Spectrum:
    """The spectrum described by ``d`` (MarchenkoPastur or Empirical)."""
    spec = _decode(d, {"MarchenkoPastur": MarchenkoPastur, "Empirical": Empirical}, "spectrum")
    return spec


def model_to_dict(model: Model) -> dict:
    """``{"prior": ..., "layers": [{"spectrum": ..., "activation": ...}, ...]}``."""
    return {"prior": encode(model.prior),
            "layers": [{"spectrum": encode(layer.spectrum),
                        "activation": encode(layer.activation)} for layer in model.layers]}


def model_from_dict(d) -> Model:
    """The :class:`~midnn.model.Model` written by :func:`model_to_dict`."""
    if not isinstance(d, Mapping) or "prior" not in d or "layers" not in d:
        raise ValueError("a model must be a dict with 'prior' and 'layers'")
    return Model(decode_prior(d["prior"]),
                 [Layer(decode_spectrum(x["spectrum"]), decode_activation(x["activation"]))
                  for x in d["layers"]])
