"""midnn: entropy and mutual information in models of deep neural networks.

Reproduces Gabrie, Manoel, Luneau, Barbier, Macris, Krzakala, Zdeborova (NeurIPS 2018):
the replica formula for stochastic multi-layer networks with orthogonally invariant weights,
its rigorous two-layer case, and USV-constrained training.

Public API::

    from midnn import Model, Layer, replica
    from midnn.priors import Gaussian, Binary, GaussBernoulli
    from midnn.activations import Linear, Sign, ReLU, LeakyReLU, HardTanh, Tanh
    from midnn.spectra import MarchenkoPastur, Empirical
"""

from . import activations, priors, spectra
from .model import Layer, Model
from .replica import ConvergenceWarning, ReplicaResult, replica, replica_trajectory

__all__ = ["Model", "Layer", "replica", "replica_trajectory", "ReplicaResult",
           "ConvergenceWarning", "priors", "activations", "spectra"]
__version__ = "0.1.0"
