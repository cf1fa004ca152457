"""The one unit convention of the package's results.

Every entropy and mutual information that midnn reports (replica results, exact results,
training records, sweep tables, estimator results) is in nats divided by the width n_0 of the
network's input (the paper's normalization), whatever the layer; the MMSE is per component of
the input. Objects that implement the protocols of the ``bmi`` benchmark
(:mod:`midnn.interface`: ``estimate(x, y)``, ``Sampler.mutual_information()``) follow bmi
and return total nats; their midnn wrappers say which is which.
"""

NATS_PER_N0 = "nats per input unit (n_0)"
MMSE_PER_COMPONENT = "mean squared error per component of X"
TOTAL_NATS = "nats (total)"

__all__ = ["NATS_PER_N0", "MMSE_PER_COMPONENT", "TOTAL_NATS"]
