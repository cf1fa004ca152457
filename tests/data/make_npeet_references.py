"""Recipe of ``npeet_references.json``: k-NN estimates by the npeet-plus package.

npeet-plus (PyPI ``npeet_plus``, the maintained fork of NPEET by G. Ver Steeg) is an
independent implementation of the Kozachenko-Leonenko entropy and of the KSG mutual
information; it is not a dependency of midnn. Run in any environment that has it::

    pip install npeet_plus==0.2.0 && python tests/data/make_npeet_references.py

The data are ``z = default_rng(12).standard_normal((800, 5)) @ default_rng(0)
.standard_normal((5, 5))``, split as x = z[:, :3], y = z[:, 3:]. npeet adds 1e-10 uniform
noise from NumPy's global generator, which is seeded here (0), so the stored numbers are
reproducible; that noise limits the agreement with a noiseless estimator to ~1e-8.
"""

from __future__ import annotations

import json
import math
import pathlib
from importlib.metadata import version

import numpy as np
from npeet_plus import entropy, mi

K = 4


def data():
    z = np.random.default_rng(12).standard_normal((800, 5))
    return z @ np.random.default_rng(0).standard_normal((5, 5))


def main():
    z = data()
    np.random.seed(0)
    out = {
        "source": f"npeet_plus {version('npeet_plus')}, numpy {np.__version__}",
        "recipe": "tests/data/make_npeet_references.py",
        "k": K,
        "ksg_mi_x_y": float(mi(z[:, :3], z[:, 3:], k=K, base=math.e)),
        "kl_entropy_max_norm_z": float(entropy(z, k=K, base=math.e)),
    }
    path = pathlib.Path(__file__).with_name("npeet_references.json")
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
