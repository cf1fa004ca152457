"""Quadrature rules used by the scalar channels.

All Gaussian averages in midnn are fixed-order rules (no adaptive ``quad``):

* :func:`hermite` -- Gauss-Hermite nodes/weights for E_{z~N(0,1)} g(z), cached per order.
* :func:`legendre` -- Gauss-Legendre nodes/weights on [-1, 1], cached per order.
* :func:`laguerre` -- Gauss-Laguerre nodes/weights on [0, inf) for the weight e^{-x},
  returned as weights for the plain measure dx, cached per order.
* :func:`panel_rule` -- composite Gauss-Legendre panels around several centres and scales.
* :func:`segment_rules` -- Gauss-Legendre rules on many segments at once, sinh-mapped to
  cluster at one end of each.

Every order is multiplied by the ``order`` of the :class:`~midnn.precision.Precision` in
force (:func:`midnn.precision.current`); doubling it must change no result by more than the
documented accuracy (checked by :func:`midnn.checks.order_doubling`).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from .precision import current


def order_multiplier() -> int:
    """The multiplier of every quadrature order in this context (``current().order``)."""
    return current().order


@lru_cache(maxsize=64)
def _hermite(n: int) -> tuple[np.ndarray, np.ndarray]:
    x, w = np.polynomial.hermite_e.hermegauss(n)
    w = w / np.sqrt(2.0 * np.pi)
    x.setflags(write=False)
    w.setflags(write=False)
    return x, w


def hermite(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights with sum_i w_i g(x_i) ~= E_{z~N(0,1)} g(z) (order ``n`` times the
    precision's ``order``)."""
    return _hermite(int(n) * current().order)


@lru_cache(maxsize=1024)
def _legendre(n: int) -> tuple[np.ndarray, np.ndarray]:
    x, w = np.polynomial.legendre.leggauss(n)
    x.setflags(write=False)
    w.setflags(write=False)
    return x, w


def legendre(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes and weights on [-1, 1] (order ``n`` times the precision's ``order``)."""
    return _legendre(int(n) * current().order)


@lru_cache(maxsize=64)
def _laguerre(n: int) -> tuple[np.ndarray, np.ndarray]:
    x, w = np.polynomial.laguerre.laggauss(n)
    # weights for int_0^inf g(x) dx ~= sum w_i e^{x_i} g(x_i); nodes whose weight underflows
    # (x > ~700, reached only for n > ~170) carry nothing and are dropped
    keep = w > 0
    x, w = x[keep], np.exp(np.log(w[keep]) + x[keep])
    x.setflags(write=False)
    w.setflags(write=False)
    return x, w


def laguerre(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Laguerre nodes and weights with ``sum w_i g(x_i) ~= int_0^inf g(x) dx`` for g
    decaying like e^{-x} times a smooth function (the classical rule for the weight e^{-x},
    with e^{x_i} folded into the weights; order ``n`` times the precision's ``order``)."""
    return _laguerre(int(n) * current().order)


_OFFSETS = np.array([0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 7.0, 8.5,
                     10.0, 12.0, 14.0])


_SPARSE_OFFSETS = np.array([0.0, 0.5, 1.0, 2.0, 3.0, 4.5, 6.5, 9.0, 12.0, 14.0])
#: The offsets on both sides of a centre: +k and -k (0 once).
_SIGNED = np.concatenate([_OFFSETS, -_OFFSETS[1:]])
_SPARSE_SIGNED = np.concatenate([_SPARSE_OFFSETS, -_SPARSE_OFFSETS[1:]])


def panel_rule(centers, scales, n: int = 8, lo: float = -np.inf, hi: float = np.inf,
               sparse: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Composite Gauss-Legendre rule for integrands with features at several scales.

    Returns nodes and weights with ``sum w f(x) ~= int f(x) dx`` for an integrand whose
    mass and structure lie within 14 ``scales[j]`` of ``centers[j]`` (e.g. a mixture of
    Gaussians N(centers[j], scales[j]^2) times a function that varies on those scales).
    Panel edges are put at ``centers[j] +- k * scales[j]`` for k in ``_OFFSETS``, so that
    every panel is narrower than the finest feature it contains; each panel gets an
    Gauss-Legendre rule of order ``n`` (times the precision's ``order``). The rule is
    restricted to [``lo``, ``hi``] when these are finite (used to integrate over one linear
    piece of an activation). ``sparse=True`` uses fewer panel edges (for smooth integrands
    whose only features are the centres themselves).
    """
    offsets = _SPARSE_SIGNED if sparse else _SIGNED
    c = np.asarray(centers, dtype=float).reshape(-1)
    s = np.asarray(scales, dtype=float).reshape(-1)
    edges = (c[:, None] + s[:, None] * offsets).ravel()
    if math.isfinite(lo) or math.isfinite(hi):
        edges = edges[(edges > lo) & (edges < hi)]
        edges = np.concatenate([[lo] if np.isfinite(lo) else [], edges,
                                [hi] if np.isfinite(hi) else []])
        if edges.size < 2:
            return np.empty(0), np.empty(0)
    edges = np.sort(edges)
    tol = 1e-3 * float(s.min())
    # merge edges closer than tol (repeated ones included), always keeping both ends
    keep = np.empty(edges.size, dtype=bool)
    keep[0] = True
    keep[1:] = (edges[1:] - edges[:-1] > tol) & (edges[1:] < edges[-1] - tol)
    keep[-1] = True
    edges = edges[keep]
    x, w = legendre(n)
    half = 0.5 * (edges[1:] - edges[:-1])
    mid = 0.5 * (edges[1:] + edges[:-1])
    nodes = (mid[:, None] + half[:, None] * x[None, :]).ravel()
    weights = (half[:, None] * w[None, :]).ravel()
    return nodes, weights


@lru_cache(maxsize=2048)
def _concatenated_legendre(orders: tuple[int, ...], multiplier: int):
    """Gauss-Legendre rules of orders ``orders`` times ``multiplier`` (the precision's ``order``,
    part of the cache key) laid end to end: nodes x, weights, the segment of each node and
    x + 1."""
    rules = [_legendre(int(n) * multiplier) for n in orders]
    x = np.concatenate([r[0] for r in rules])
    w = np.concatenate([r[1] for r in rules])
    seg = np.repeat(np.arange(len(orders)), [r[0].size for r in rules])
    xp1 = x + 1.0
    for a in (x, w, seg, xp1):
        a.setflags(write=False)
    return x, w, seg, xp1


def segment_rules(edge, scale, length, direction, orders):
    """Gauss-Legendre rules on k segments [edge, edge + direction * length], clustered at
    ``edge`` where ``scale`` > 0, laid end to end.

    A segment with ``scale`` > 0 is sinh-mapped: x = edge + direction * scale * sinh(t),
    t in [0, asinh(length/scale)], which puts nodes at spacing ~scale near ``edge`` and
    geometrically wider away from it, and so resolves a kink-like feature of width ``scale``
    at the end of a long interval. A segment with ``scale`` = 0 gets the plain rule. Segment
    i has ``orders[i]`` times the precision's ``order`` nodes. Returns ``(nodes, weights,
    segment)`` (1-D arrays; ``segment`` is the index of each node's segment, nondecreasing).
    """
    edge, scale, length, direction = (np.asarray(a, dtype=float)
                                      for a in (edge, scale, length, direction))
    x, w, seg, xp1 = _concatenated_legendre(tuple(map(int, orders)), current().order)
    mapped = scale > 0.0
    T = np.arcsinh(length / np.where(mapped, scale, 1.0))
    half_t = 0.5 * T[seg]
    t = half_t * xp1
    sc = scale[seg]
    nodes = edge[seg] + direction[seg] * sc * np.sinh(t)
    weights = half_t * w * sc * np.cosh(t)
    if not np.logical_and.reduce(mapped):
        plain = ~mapped[seg]
        nodes = np.where(plain, edge[seg] + direction[seg] * 0.5 * length[seg] * xp1, nodes)
        weights = np.where(plain, 0.5 * length[seg] * w, weights)
    return nodes, weights, seg
