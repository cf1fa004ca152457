"""midnn: entropy and mutual information in models of deep neural networks.

Reproduces Gabrié, Manoel, Luneau, Barbier, Macris, Krzakala, Zdeborová, "Entropy and mutual
information in models of deep neural networks" (NeurIPS 2018; arXiv:1805.09785v2 with its
supplementary material; J. Stat. Mech. (2019) 124014): the replica formula for stochastic
multi-layer networks with orthogonally invariant weights, its rigorous two-layer case, and
USV-constrained training.

Public API (the core is NumPy/SciPy only: importing it does not import torch)::

    from midnn import Model, Layer, replica
    from midnn.priors import Gaussian, Binary, GaussBernoulli
    from midnn.activations import Linear, Sign, ReLU, LeakyReLU, HardTanh, Tanh
    from midnn.spectra import MarchenkoPastur, Empirical
    from midnn.precision import Precision, using
"""

from . import activations, priors, spectra
from .model import Layer, Model
from .precision import Precision
from .replica import UNIT, ConvergenceWarning, ReplicaResult, replica, replica_trajectory

__all__ = ["Model", "Layer", "replica", "replica_trajectory", "ReplicaResult",
           "ConvergenceWarning", "Precision", "UNIT", "priors", "activations", "spectra"]
__version__ = "0.2.0"
