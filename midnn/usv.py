"""USV-layers (the paper's): W = U diag(s) V^T with fixed Haar U, V and trainable s.

The replica formula (Claim 1) assumes independent, orthogonally invariant weight matrices
W_l = U_l S_l V_l^T with U_l in O(n_l), V_l in O(n_{l-1}) Haar distributed. To keep this
assumption (approximately) true during training, Gabrie et al. freeze U_l and V_l at random
orthogonal matrices drawn independently of the data and train only the singular values.
The replica formula then needs only ``alpha_l = n_l / n_{l-1}`` and the eigenvalues of
W_l^T W_l, i.e. s_l^2 plus n_{l-1} - n_l zeros when n_l < n_{l-1}
(:meth:`USVLinear.spectrum`).

Conventions follow :class:`torch.nn.Linear`: ``W`` has shape ``(out_features, in_features)``
= (n_l, n_{l-1}) and a batch of row vectors ``x`` is mapped to ``x @ W.T``. With
r = min(n_l, n_{l-1}), U_r = U[:, :r] and V_r = V[:, :r],

    W = U_r diag(s) V_r^T.

Nothing here requires a GPU; :func:`default_device` returns CUDA when available.

Bias terms are off by default because the replica formula has none; a
layer built with ``bias=True`` computes x W^T + b, and the replica description of
:meth:`USVNetwork.replica_layers` then ignores b and is no longer exact.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from . import _validate as check
from .activations import Activation
from .model import Layer
from .spectra import Empirical

__all__ = ["default_device", "haar_orthogonal", "USVLinear", "USVNetwork", "make_mlp"]

SeedLike = int | torch.Generator | None


def default_device() -> torch.device:
    """``cuda`` when a CUDA device is available, else ``cpu``."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _as_generator(seed: SeedLike) -> torch.Generator:
    """A CPU ``torch.Generator`` from an int seed, an existing generator, or None (fresh)."""
    if isinstance(seed, torch.Generator):
        return seed
    g = torch.Generator(device="cpu")
    if seed is None:
        g.seed()
    else:
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise ValueError(f"seed must be an int, a torch.Generator or None, got {seed!r}")
        g.manual_seed(int(seed))
    return g


def _positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def haar_orthogonal(n: int, seed: SeedLike = None, *,
                    dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """A Haar-distributed random matrix of O(n).

    ``torch.nn.init.orthogonal_`` on a float64 CPU tensor: G with i.i.d. N(0, 1) entries,
    its QR decomposition G = Q R, and Q diag(sign(diag(R))). The sign fix makes the
    decomposition unique (positive diagonal of R), which is what makes Q exactly Haar
    distributed (Mezzadri 2007). In float64 on the CPU, a seed gives the same matrix on
    every device; the result is cast to ``dtype``.

    Parameters
    ----------
    n : int
        Dimension.
    seed : int, torch.Generator or None
        Seed, or a CPU generator that is advanced (for drawing several matrices in sequence).
    dtype : torch.dtype
        Output dtype.
    """
    n = _positive_int("n", n)
    Q = torch.empty(n, n, dtype=torch.float64)
    torch.nn.init.orthogonal_(Q, generator=_as_generator(seed))
    return Q.to(dtype)


class USVLinear(nn.Module):
    """Linear layer W = U_r diag(s) V_r^T, with U, V fixed Haar orthogonal and s trained.

    Parameters
    ----------
    in_features, out_features : int
        n_{l-1} and n_l; W has shape ``(out_features, in_features)``.
    scale : float
        The coefficient c of the paper's initialization W_init = c G / sqrt(n_{l-1}).
    seed : int, torch.Generator or None
        Randomness for U, V and the initial s, drawn in this order on the CPU.
    bias : bool
        Add a trainable bias (zero-initialized). Off by default: the replica formula has no
        biases, so with ``bias=True`` its description of the layer is no longer exact.
    dtype : torch.dtype
        Dtype of U, V, s.
    device : torch.device or str, optional
        Where to put the buffers and the parameter (default: CPU).

    Notes
    -----
    * U in O(n_l) and V in O(n_{l-1}) are independent Haar matrices (:func:`haar_orthogonal`)
      registered as buffers (``requires_grad=False``, saved in the ``state_dict``).
    * s (length r = min(n_l, n_{l-1})) is the only ``nn.Parameter``. It is initialized to the
      singular values, in decreasing order, of a *separate* Gaussian matrix
      c G' / sqrt(n_{l-1}), G' i.i.d. N(0, 1) of shape (n_l, n_{l-1}). Since the singular
      vectors of a Gaussian matrix are Haar and independent of its singular values, the
      initial W has the same distribution as the paper's SVD of W_init (up to the joint
      sign convention of the singular vectors, which does not affect the spectrum).
    * Entries of s may become negative during training; the singular values are |s|.
    """

    def __init__(self, in_features: int, out_features: int, *, scale: float = 1.0,
                 seed: SeedLike = None, bias: bool = False, dtype: torch.dtype = torch.float32,
                 device: torch.device | str | None = None):
        super().__init__()
        n_in = _positive_int("in_features", in_features)
        n_out = _positive_int("out_features", out_features)
        scale = float(scale)
        if not np.isfinite(scale) or scale <= 0:
            raise ValueError(f"scale must be a finite positive number, got {scale!r}")
        g = _as_generator(seed)
        U = haar_orthogonal(n_out, g, dtype=dtype)
        V = haar_orthogonal(n_in, g, dtype=dtype)
        G = torch.randn(n_out, n_in, generator=g, dtype=torch.float64)
        s = torch.linalg.svdvals(G * (scale / np.sqrt(n_in)))
        self._set_factors(U, V, s.to(dtype), torch.zeros(n_out, dtype=dtype) if bias else None,
                          scale=scale, haar=True)
        if device is not None:
            self.to(device)

    def _set_factors(self, U: torch.Tensor, V: torch.Tensor, s: torch.Tensor,
                     bias: torch.Tensor | None, *, scale: float | None, haar: bool) -> None:
        """Install U (n_out, n_out), V (n_in, n_in), s (r,) and the bias (or None)."""
        self.out_features, self.in_features = int(U.shape[0]), int(V.shape[0])
        self.rank = min(self.in_features, self.out_features)
        self.scale = scale
        #: U and V were drawn Haar, independently of everything else (False after
        #: :meth:`from_linear`: they are then the singular vectors of a given matrix)
        self.haar = haar
        self.register_buffer("U", U)
        self.register_buffer("V", V)
        self.s = nn.Parameter(s)
        if bias is not None:
            self.bias = nn.Parameter(bias)
        else:
            self.register_parameter("bias", None)

    @classmethod
    def from_linear(cls, linear: nn.Linear) -> USVLinear:
        """The USV form of a ``torch.nn.Linear``: W = U_r diag(s) V_r^T by its SVD.

        The SVD is computed in float64; U, V (full orthogonal matrices) and the singular
        values s are then cast to the layer's dtype, and the bias is copied. The forward
        equals the Linear's up to the rounding of that dtype. U and V are the singular
        vectors of this particular W, not Haar draws: if W was trained, orthogonal
        invariance is an assumption for the new layer too (``haar`` is False and
        :func:`midnn.nn.describe` reports it as assumed).
        """
        if not isinstance(linear, nn.Linear):
            raise TypeError(f"from_linear takes a torch.nn.Linear, got {type(linear).__name__}")
        W = linear.weight.detach()
        U, s, Vh = torch.linalg.svd(W.to(torch.float64), full_matrices=True)
        layer = cls.__new__(cls)
        nn.Module.__init__(layer)
        bias = None if linear.bias is None else linear.bias.detach().clone()
        layer._set_factors(U.to(W.dtype), Vh.T.contiguous().to(W.dtype), s.to(W.dtype), bias,
                           scale=None, haar=False)
        return layer.to(W.device)

    def to_linear(self) -> nn.Linear:
        """A ``torch.nn.Linear`` with the dense weight U_r diag(s) V_r^T (formed in float64,
        cast to the layer's dtype) and the same bias."""
        dtype, device = self.s.dtype, self.s.device
        linear = nn.Linear(self.in_features, self.out_features, bias=self.bias is not None,
                           dtype=dtype, device=device)
        r = self.rank
        with torch.no_grad():
            W = (self.U[:, :r].double() * self.s.double()) @ self.V[:, :r].double().T
            linear.weight.copy_(W.to(dtype))
            if self.bias is not None:
                linear.bias.copy_(self.bias)
        return linear

    @property
    def alpha(self) -> float:
        """alpha_l = n_l / n_{l-1}."""
        return self.out_features / self.in_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x W^T (+ b), computed as ((x V_r) * s) U_r^T in O(batch (n_in + n_out) r)."""
        r = self.rank
        out = ((x @ self.V[:, :r]) * self.s) @ self.U[:, :r].T
        if self.bias is not None:
            out = out + self.bias
        return out

    @property
    def weight(self) -> torch.Tensor:
        """The dense W = U_r diag(s) V_r^T, shape ``(out_features, in_features)``."""
        r = self.rank
        return (self.U[:, :r] * self.s) @ self.V[:, :r].T

    def singular_values(self) -> np.ndarray:
        """|s| in decreasing order (float64 numpy array of length r)."""
        return np.sort(np.abs(self.s.detach().cpu().double().numpy()))[::-1].copy()

    def spectrum(self) -> Empirical:
        """Spectrum of W^T W in :class:`midnn.spectra.Empirical` form.

        The n_{l-1} eigenvalues are s^2 and, when n_l < n_{l-1}, n_{l-1} - n_l zeros; they
        are computed directly from s (exact in float64), not by diagonalizing W^T W.
        """
        lam = self.singular_values() ** 2
        lam = np.concatenate([np.zeros(self.in_features - self.rank), lam])
        return Empirical(lam, self.alpha)

    def extra_repr(self) -> str:
        origin = "from_linear" if self.scale is None else f"scale={self.scale:g}"
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"{origin}, bias={self.bias is not None}")


_READOUT_NAMES = ("softmax", "logits", "identity", "none")


class USVNetwork(nn.Module):
    """A feed-forward network X -> T_1 -> ... -> T_L of USV and/or free linear layers.

    Layer l computes T_l = f_l(W_l T_{l-1}) (deterministic: the activation noise xi_l of
    eq. (1) is *not* added in ``forward``; it only enters the replica description, see
    :meth:`replica_layers`).

    Parameters
    ----------
    widths : sequence of int
        (n_0, n_1, ..., n_L), length L + 1 >= 2.
    activations : sequence
        Length L. Each entry is a :class:`midnn.activations.Activation` (its ``torch_f`` is
        used in ``forward``) or ``None`` / ``"softmax"`` for a readout that returns the
        pre-activations (logits; ``torch.nn.CrossEntropyLoss`` applies the softmax). A layer
        without a midnn activation has no replica description.
    usv : bool or sequence of bool
        Which layers are :class:`USVLinear` (the others are ``torch.nn.Linear``). A single
        bool applies to every layer. Default: all layers but the last (the paper's
        ``layer_free`` readout).
    scale : float or sequence of float
        Initialization coefficient c of W_init = c G / sqrt(n_{l-1}) for every layer (free
        layers are initialized with the same Gaussian law).
    seed : int, torch.Generator or None
        One CPU generator drives all layers in order, so a seed fixes the whole network.
    bias : bool
        Biases in the *free* layers (USV layers never get one here). Default False.
    dtype, device
        As in :class:`USVLinear`.

    Notes
    -----
    The replica chain X -> T_1 -> ... -> T_l is described only for l up to
    :attr:`n_replica_layers`, the number of leading layers that are USV layers with a midnn
    activation.
    """

    def __init__(self, widths: Sequence[int], activations: Sequence[Activation | str | None],
                 usv: bool | Sequence[bool] | None = None, *,
                 scale: float | Sequence[float] = 1.0, seed: SeedLike = None,
                 bias: bool = False, dtype: torch.dtype = torch.float32,
                 device: torch.device | str | None = None):
        super().__init__()
        widths = list(widths)
        if len(widths) < 2:
            raise ValueError(f"widths must contain at least 2 entries (n_0, n_1), got {widths}")
        widths = [_positive_int(f"widths[{i}]", w) for i, w in enumerate(widths)]
        L = len(widths) - 1
        activations = list(activations)
        if len(activations) != L:
            raise ValueError(f"activations must have len(widths) - 1 = {L} entries, got "
                             f"{len(activations)}")
        acts: list[Activation | None] = []
        for i, a in enumerate(activations):
            if a is None or (isinstance(a, str) and a.lower() in _READOUT_NAMES):
                acts.append(None)
            elif isinstance(a, Activation):
                acts.append(a)
            else:
                raise ValueError(f"activations[{i}] must be a midnn Activation, None or "
                                 f"'softmax', got {a!r}")
        if usv is None:
            flags = [True] * (L - 1) + [False] if L > 1 else [True]
        else:
            flags = check.per_layer("usv", usv, L, check.boolean)
        scales = check.per_layer("scale", scale, L, check.positive)

        g = _as_generator(seed)
        layers = []
        for l in range(L):
            n_in, n_out = widths[l], widths[l + 1]
            if flags[l]:
                layer = USVLinear(n_in, n_out, scale=scales[l], seed=g, dtype=dtype)
            else:
                layer = nn.Linear(n_in, n_out, bias=bias, dtype=dtype)
                with torch.no_grad():
                    w = torch.randn(n_out, n_in, generator=g, dtype=torch.float64)
                    layer.weight.copy_(w * (scales[l] / np.sqrt(n_in)))
                    if layer.bias is not None:
                        layer.bias.zero_()
            layers.append(layer)
        self.layers = nn.ModuleList(layers)
        self.widths = tuple(widths)
        self.activations = tuple(acts)
        self.usv_flags = tuple(flags)
        if device is not None:
            self.to(device)

    def __repr__(self) -> str:
        acts = ", ".join("readout" if a is None else type(a).__name__ for a in self.activations)
        kinds = ", ".join("USV" if f else "free" for f in self.usv_flags)
        return f"USVNetwork(widths={list(self.widths)}, activations=[{acts}], layers=[{kinds}])"

    @property
    def n_layers(self) -> int:
        """L."""
        return len(self.layers)

    @property
    def n_replica_layers(self) -> int:
        """Number of leading layers that are USV layers with a midnn activation."""
        n = 0
        for flag, act in zip(self.usv_flags, self.activations, strict=True):
            if not (flag and act is not None):
                break
            n += 1
        return n

    def forward(self, x: torch.Tensor, return_all: bool = False):
        """Output T_L, or ``(T_L, [T_1, ..., T_L])`` when ``return_all`` is True.

        Each T_l = f_l(W_l T_{l-1}) is the noiseless layer output (after the activation;
        for a readout with no activation, the logits).
        """
        outs = []
        t = x
        for layer, act in zip(self.layers, self.activations, strict=True):
            t = layer(t)
            if act is not None:
                t = act.torch_f(t)
            outs.append(t)
        return (t, outs) if return_all else t

    def usv_layers(self) -> list[USVLinear]:
        """The USV layers, in order."""
        return [m for m in self.layers if isinstance(m, USVLinear)]

    def spectra(self) -> list[Empirical]:
        """Spectra of W_l^T W_l of the USV layers, in order."""
        return [m.spectrum() for m in self.usv_layers()]

    def replica_layers(self, n_layers: int | None = None, *, noise: float = 1e-5,
                       inter_noise: float = 0.0) -> list[Layer]:
        """Replica description [Layer_1, ..., Layer_l] of X -> T_1 -> ... -> T_l.

        Parameters
        ----------
        n_layers : int, optional
            l, at most :attr:`n_replica_layers` (the default).
        noise : float
            Variance Delta_l of the Gaussian noise before the activation of the last layer
            l (``mi_noise`` = 1e-5 in the paper's experiments).
        inter_noise : float
            Noise variance of layers 1..l-1 (``inter_mi_noise`` = 0 in the paper).

        Returns
        -------
        list of midnn.model.Layer
            ``Layer(Empirical spectrum of W_k^T W_k, activation_k.with_noise(...))``. Prepend
            a data set's ``input_layers`` and use its ``input_prior`` to build the
            :class:`midnn.model.Model` (see :mod:`midnn.data`). With noise only in layer l,
            I(X; T_l) = I(T_l; T_{l-1}).
        """
        n_max = self.n_replica_layers
        if n_layers is None:
            n_layers = n_max
        if isinstance(n_layers, bool) or not isinstance(n_layers, (int, np.integer)) \
                or not 1 <= n_layers <= n_max:
            raise ValueError(f"n_layers must be an integer in [1, {n_max}] (the leading USV "
                             f"layers with a midnn activation), got {n_layers!r}")
        out = []
        for k in range(n_layers):
            nz = noise if k == n_layers - 1 else inter_noise
            layer = self.layers[k]
            act = self.activations[k]
            out.append(Layer(layer.spectrum(), act.with_noise(nz)))
        return out


def make_mlp(widths: Sequence[int], activations: Sequence[Activation | str | None],
             usv: bool | Sequence[bool] | None = None, *, seed: SeedLike = None,
             **kwargs) -> USVNetwork:
    """Shorthand for :class:`USVNetwork` (same arguments)."""
    return USVNetwork(widths, activations, usv, seed=seed, **kwargs)
