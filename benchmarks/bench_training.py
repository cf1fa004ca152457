"""Tracking overhead of midnn.training: replica (+ exact) time over total time.

Prints one row per configuration: training seconds, tracking seconds (replica solves, exact
log-det when linear), their fraction, and the number of checkpoints. Run:
``.venv/bin/python benchmarks/bench_training.py``.
"""

from __future__ import annotations

import time

import torch

from midnn import data, training
from midnn.activations import HardTanh, Linear, ReLU
from midnn.usv import USVNetwork


def _row(name, net, ds, **kw):
    t0 = time.perf_counter()
    rec = training.train(net, ds, progress=False, **kw)
    wall = time.perf_counter() - t0
    o = training.tracking_overhead(rec)
    return (name, o["train_s"], o["tracking_s"], o["fraction"], len(rec.checkpoints["epoch"]),
            wall)


def main() -> None:
    torch.set_num_threads(1)
    ts = data.teacher_student((100, 4), n_samples=4000, seed=1)
    cl = data.teacher_student((100, 4), task="classification", n_samples=4000, seed=2)
    gen = data.generative((20, 100), n_samples=4000, seed=3)
    rows = [
        _row("linear [100,100,100,100,4] +exact", USVNetwork([100, 100, 100, 100, 4],
             [Linear()] * 4, [True, True, True, False], seed=0), ts, epochs=10, mi_every=1),
        _row("linear, track=False", USVNetwork([100, 100, 100, 100, 4], [Linear()] * 4,
             [True, True, True, False], seed=0), ts, epochs=10, track=False),
        _row("hardtanh [100,200,50,4]", USVNetwork([100, 200, 50, 4],
             [Linear(), HardTanh(), None], seed=0), cl, epochs=10, mi_every=1),
        _row("generative relu, 2 layers", USVNetwork([100, 200, 100, 50, 20, 2],
             [Linear(), ReLU(), Linear(), ReLU(), None], seed=0), gen, epochs=10, mi_every=1,
             n_mi_layers=2, batch_size=100),
        _row("generative relu, 3 layers, warm", USVNetwork([100, 200, 100, 50, 20, 2],
             [Linear(), ReLU(), Linear(), ReLU(), None], seed=0), gen, epochs=4, mi_every=2,
             n_mi_layers=3, batch_size=100, warm_start=True),
    ]
    print(f"{'configuration':36s} {'train s':>8s} {'track s':>8s} {'fraction':>8s} "
          f"{'ckpts':>5s} {'wall s':>7s}")
    for name, tr, tk, fr, n, wall in rows:
        print(f"{name:36s} {tr:8.2f} {tk:8.2f} {fr:8.1%} {n:5d} {wall:7.1f}")


if __name__ == "__main__":
    main()
