"""Recipe of ``channel_references.json``: independent ground truths of the scalar channels.

Run from the repository root: ``python tests/data/make_channel_references.py`` (about a
minute on 2 cores). Each case stores the activation (``midnn.serialize.encode``), the point
(rho_tilde, A_tilde, V_tilde) and the reference values computed by ``tests/references.py``:

* ``output_entropy``: H(t | omega) by nested adaptive quadrature (tolerance 1e-12);
* ``hidden_mi``: I(t; y | omega) by nested adaptive quadrature (tolerance 1e-12);
* ``dense_grid``: (I, A, V) of the hidden channel on a dense grid (~1e-5 accurate).

The file records the versions of numpy and scipy that produced it.
"""

from __future__ import annotations

import json
import pathlib
import sys

import numpy as np
import scipy

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from references import dense_grid_hidden, nested_quad_hidden_mi, output_entropy_quad  # noqa: E402

from midnn.activations import HardSigmoid, HardTanh, LeakyReLU, ReLU, Sign, Tanh  # noqa: E402
from midnn.serialize import encode  # noqa: E402

OUTPUT = [(act, 0.5, V) for act in (ReLU(0.01), HardTanh(0.02), Sign(0.05),
                                    LeakyReLU(0.01, slope=0.3), HardTanh(0.01, threshold=0.5),
                                    HardSigmoid(0.02))
          for V in (0.1, 1e-4, 0.49)]
HIDDEN = [
    (ReLU(0.01), 0.5, 30.0, 0.1, 1e-9),
    (HardTanh(0.0), 0.5, 30.0, 0.1, 1e-9),
    (LeakyReLU(0.01, slope=0.2), 0.5, 30.0, 0.1, 1e-9),
    # sharp observations: atom width 0.03 against sqrt(v) = 0.14, and Ã v ~ 1e3
    (ReLU(0.0), 1.0, 1e3, 0.02, 1.5e-9),
    (HardTanh(0.05), 1.0, 1e3, 0.02, 1.5e-9),
    (ReLU(0.0), 1.0, 1e4, 0.1, 1.5e-9),
    (HardTanh(0.0), 1.0, 3e3, 0.3, 1.5e-9),
    # sign (two atoms, logistic-normal method)
    (Sign(0.05), 0.5, 10.0, 0.25, 1e-11),
    (Sign(0.0), 1.0, 3.0, 0.01, 1e-11),
    (Sign(0.0), 2.0, 0.1, 0.02, 1e-11),
    (Sign(0.3), 1.0, 10.0, 1e-4, 1e-11),
    (Sign(0.0), 1.0, 1e4, 1e-4, 1e-11),
    # a piecewise-linear activation neither odd nor of unit slope (docs/new_activation.md)
    (HardSigmoid(0.01), 2.0, 30.0, 0.5, 1e-9),
    (HardSigmoid(0.0), 4.0, 300.0, 0.2, 1.5e-9),
]
DENSE = [(act, 0.5, 5.0, 0.25) for act in (ReLU(0.05), HardTanh(0.05), HardSigmoid(0.05),
                                          Tanh(0.05))]


def main() -> None:
    out = {"recipe": "python tests/data/make_channel_references.py (tests/references.py)",
           "numpy": np.__version__, "scipy": scipy.__version__,
           "output_entropy": [], "hidden_mi": [], "dense_grid": []}
    for act, rho, V in OUTPUT:
        out["output_entropy"].append({"activation": encode(act), "rho": rho, "V_tilde": V,
                                      "value": output_entropy_quad(act, rho, V),
                                      "tolerance": 1e-11})
    for act, rho, A, V, tol in HIDDEN:
        out["hidden_mi"].append({"activation": encode(act), "rho": rho, "A_tilde": A,
                                 "V_tilde": V, "value": nested_quad_hidden_mi(act, rho, A, V),
                                 "tolerance": tol})
    for act, rho, A, V in DENSE:
        I, Ag, Vp = dense_grid_hidden(act, rho, A, V)
        out["dense_grid"].append({"activation": encode(act), "rho": rho, "A_tilde": A,
                                  "V_tilde": V, "I": I, "A": Ag, "V": Vp})
    (HERE / "channel_references.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
