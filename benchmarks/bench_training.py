"""Cost of replica tracking in midnn.training at paper scale (issue: at most +20 % of training).

Paper scale = notebook 05 with ``params/full/05_generative_model.yaml``: decoder [20 -> 100]
(linear, noise 0.01, latent N(0, 1), label sign(Y_1)), 20000 samples (half test), encoder
[100, 200, 100, 50, 20, 2] with activations [linear, f, linear, f, softmax] (first four layers
USV), SGD lr 0.01, batch 100, 100 epochs, I(Y; T_l) of 4 layers every 2 epochs (51 warm-started
replica calls, the first one cold). One seed (s = 0) per family f in {ReLU, hardtanh}, run
serially (default of :func:`midnn.training.train`) and with ``overlap=True`` (replica solves in
a child process, opt-in; recorded values identical to the serial run, checked here).

Columns: ``train s`` SGD steps; ``eval s`` per-epoch loss evaluation on the train and test sets
(recorded but not counted as tracking); ``track s`` replica computation; ``track/train`` the
fraction tracking adds to training time (the issue's criterion); ``blocked s`` the time the
training loop waited for tracking (= ``track s`` serially); ``added`` = blocked / train;
``calls`` replica calls; ``ms/call`` mean of the warm calls (the first, cold, call apart);
``wall s`` the whole ``train`` call.

Run ``.venv/bin/python benchmarks/bench_training.py`` (about 2 minutes on one free core; the
overlapped rows need a second one). ``--quick`` runs a reduced-scale proxy (4000 samples,
20 epochs, same network and tracking) in about 20 s; ``--no-overlap`` skips the overlapped rows;
``--families relu`` restricts the families.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

from midnn import data, training
from midnn.activations import HardTanh, Linear, ReLU
from midnn.usv import USVNetwork

SEED = 276635  # notebook 05
ACT = {"relu": ReLU, "hardtanh": HardTanh}


def run(ds, family: str, epochs: int, overlap):
    act = ACT[family]()
    net = USVNetwork([100, 200, 100, 50, 20, 2], [Linear(), act, Linear(), act, None],
                     [True, True, True, True, False], seed=SEED)
    t0 = time.perf_counter()
    rec = training.train(net, ds, epochs=epochs, lr=0.01, batch_size=100, mi_every=2,
                         noise=1e-5, n_mi_layers=4, warm_start=True, seed=0, progress=False,
                         overlap=overlap)
    return rec, time.perf_counter() - t0


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="reduced-scale proxy (~20 s)")
    p.add_argument("--no-overlap", action="store_true", help="serial rows only")
    p.add_argument("--families", nargs="+", default=["relu", "hardtanh"], choices=list(ACT))
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    n_samples, epochs = (4000, 20) if args.quick else (20000, 100)
    ds = data.generative((20, 100), decoder_noise=0.01, task="classification",
                         n_samples=n_samples, seed=SEED)
    scale = "reduced-scale proxy" if args.quick else "paper scale"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{scale}: {n_samples} samples, {epochs} epochs, MI of 4 layers every 2 epochs; "
          f"{os.cpu_count()} CPU(s), load average {load:.2f} at start")
    head = (f"{'family':9s} {'mode':8s} {'train s':>8s} {'eval s':>7s} {'track s':>8s} "
            f"{'track/train':>11s} {'blocked s':>9s} {'added':>7s} {'calls':>5s} "
            f"{'ms/call':>8s} {'wall s':>7s}")
    print(head)
    for fam in args.families:
        serial = None
        for mode in ("serial",) + (() if args.no_overlap else ("overlap",)):
            rec, wall = run(ds, fam, epochs, mode == "overlap")
            o = training.tracking_overhead(rec)
            rt = rec.checkpoints["replica_time"]
            ok = bool(rec.checkpoints["converged"].all())
            if serial is None:
                serial = rec
            else:  # overlapped values must equal the serial run's
                for q in ("entropy", "mutual_information", "conditional_entropy", "mmse"):
                    ok &= bool(np.array_equal(rec.checkpoints[q], serial.checkpoints[q]))
            print(f"{fam:9s} {mode:8s} {o['train_s']:8.2f} {o['eval_s']:7.2f} "
                  f"{o['tracking_s']:8.2f} {o['ratio']:11.1%} {o['blocking_s']:9.2f} "
                  f"{o['added']:7.1%} {len(rt):5d} {1e3 * np.mean(rt[1:]):8.1f} {wall:7.1f}"
                  + ("" if ok else "  (NOT converged or overlap != serial)"), flush=True)


if __name__ == "__main__":
    main()
