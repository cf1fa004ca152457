"""Import time of the torch-free core: ``import midnn`` and a first replica solve.

Run: ``python benchmarks/bench_import.py`` (or ``make bench``). Each row is the best of 5
fresh interpreters (``python -X importtime`` is not used: the wall time of the whole
statement is what a user waits). The target is ``import midnn`` under 1 s on the 2-core
development machine, with torch not loaded.
"""

from __future__ import annotations

import subprocess
import sys
import time

STATEMENTS = {
    "python -c pass (interpreter start)": "pass",
    "import midnn": "import midnn",
    "import midnn + one replica solve": (
        "from midnn import Model, Layer, replica; from midnn.priors import Gaussian; "
        "from midnn.activations import ReLU; from midnn.spectra import MarchenkoPastur; "
        "replica(Model(Gaussian(), [Layer(MarchenkoPastur(1.5), ReLU(1e-3))]))"),
    "import midnn.sweeps (dask, xarray)": "import midnn.sweeps",
    "import midnn.nn (torch)": "import midnn.nn",
}


def best_of(statement: str, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", statement], check=True)
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    print(f"{'statement':42s} {'best of 5 (s)':>14s}")
    for label, statement in STATEMENTS.items():
        print(f"{label:42s} {best_of(statement):14.3f}")
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, midnn; print('torch' in sys.modules)"],
        check=True, capture_output=True, text=True).stdout.strip()
    print(f"torch loaded by import midnn: {loaded}")


if __name__ == "__main__":
    main()
