"""Cost of information tracking in midnn.training at paper scale (target: at most 5 % of SGD).

Paper scale = notebook 05 with ``params/full/05_generative_model.yaml``: decoder [20 -> 100]
(linear, noise 0.01, latent N(0, 1), label sign(Y_1)), 20000 samples (half test), encoder
[100, 200, 100, 50, 20, 2] with activations [linear, f, linear, f, softmax] (first four layers
USV), SGD lr 0.01, batch 100, 100 epochs, I(Y; T_l) of 4 layers every 2 epochs (51
warm-started replica calls, the first one cold). One seed (s = 0) per family f in {ReLU,
hardtanh}, in three modes: ``bare`` (no tracking: the SGD time alone), ``serial`` (the
checkpoints computed in the loop) and ``background`` (the default of
:func:`midnn.training.train`: computed in a worker process while training goes on; values
checked bitwise equal to the serial run's). The tracked runs write their record to a
temporary directory as they go, as a user's run would.

Columns: ``train s`` SGD steps; ``eval s`` per-epoch loss evaluation (not tracking);
``track s`` computing the checkpoints, wherever it ran; ``blocked s`` the time the training
loop spent in the tracker's calls (describing the weights, submitting, recording, the final
wait); ``added`` = blocked / train, the fraction tracking adds to the SGD time (the target);
``sgd +`` the SGD time against the bare run's (what sharing the CPU with the worker costs the
steps themselves); ``wall +`` the whole ``train`` call against the bare run's; ``calls``
checkpoints; ``ms/call`` mean compute time of the warm ones; ``wall s`` the ``train`` call.

Run ``.venv/bin/python benchmarks/bench_training.py`` (a few minutes; the background rows
need a second free core). ``--quick`` runs a shorter proxy (20 epochs instead of 100, the
rest as at paper scale: same epochs, same checkpoint density) in about half a minute; only
the fixed final wait for the last checkpoint weighs five times more in it. ``--modes`` and
``--families`` restrict the rows.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from midnn import data, training
from midnn.activations import HardTanh, Linear, ReLU
from midnn.usv import USVNetwork

SEED = 276635  # notebook 05
ACT = {"relu": ReLU, "hardtanh": HardTanh}
MODES = ("bare", "serial", "background")


def run(ds, family: str, epochs: int, mode: str, save=None):
    act = ACT[family]()
    net = USVNetwork([100, 200, 100, 50, 20, 2], [Linear(), act, Linear(), act, None],
                     [True, True, True, True, False], seed=SEED)
    t0 = time.perf_counter()
    rec = training.train(net, ds, epochs=epochs, lr=0.01, batch_size=100, mi_every=2,
                         noise=1e-5, n_mi_layers=4, warm_start=True, seed=0, progress=False,
                         track=mode != "bare", background=mode == "background", save=save,
                         device="cpu")
    return rec, time.perf_counter() - t0


def _row(fam, mode, rec, wall, bare):
    o = training.tracking_overhead(rec)
    ct = rec.checkpoints["compute_time"]
    sgd = o["train_s"] / bare[0] - 1 if bare else float("nan")
    wall_plus = wall / bare[1] - 1 if bare else float("nan")
    calls, per_call = len(ct), 1e3 * np.mean(ct[1:]) if len(ct) > 1 else float("nan")
    return (f"{fam:9s} {mode:10s} {o['train_s']:8.2f} {o['eval_s']:7.2f} "
            f"{o['tracking_s']:8.2f} {o['blocking_s']:9.2f} {o['added']:7.1%} {sgd:7.1%} "
            f"{wall_plus:7.1%} {calls:5d} {per_call:8.1f} {wall:7.1f}")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="20 epochs instead of 100")
    p.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    p.add_argument("--families", nargs="+", default=["relu", "hardtanh"], choices=list(ACT))
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    n_samples, epochs = 20000, (20 if args.quick else 100)
    ds = data.generative((20, 100), decoder_noise=0.01, task="classification",
                         n_samples=n_samples, seed=SEED)
    scale = "short proxy" if args.quick else "paper scale"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{scale}: {n_samples} samples, {epochs} epochs, MI of 4 layers every 2 epochs; "
          f"{os.cpu_count()} CPU(s), load average {load:.2f} at start")
    print(f"{'family':9s} {'mode':10s} {'train s':>8s} {'eval s':>7s} {'track s':>8s} "
          f"{'blocked s':>9s} {'added':>7s} {'sgd +':>7s} {'wall +':>7s} {'calls':>5s} "
          f"{'ms/call':>8s} {'wall s':>7s}")
    if "background" in args.modes:  # start the shared worker outside the timed runs
        run(data.generative((20, 100), n_samples=200, seed=0), "relu", 1, "background")
    tmp = Path(tempfile.mkdtemp(prefix="bench_training_"))
    for fam in args.families:
        bare, serial = None, None
        for mode in [m for m in MODES if m in args.modes]:
            rec, wall = run(ds, fam, epochs, mode, save=tmp / f"{fam}_{mode}")
            if mode == "bare":
                bare = (training.tracking_overhead(rec)["train_s"], wall)
                print(_row(fam, mode, rec, wall, bare), flush=True)
                continue
            flag = ""
            if not rec.checkpoints["converged"].all():
                flag = "  (NOT converged)"
            if serial is None:
                serial = rec
            elif not all(np.array_equal(rec.checkpoints[q], serial.checkpoints[q]) for q in
                         ("entropy", "mutual_information", "conditional_entropy", "mmse")):
                flag += "  (background != serial)"
            print(_row(fam, mode, rec, wall, bare) + flag, flush=True)


if __name__ == "__main__":
    main()
