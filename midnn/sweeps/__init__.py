"""Parameter sweeps on Dask distributed, returned as labelled :class:`xarray.Dataset`.

:func:`sweep` evaluates a task (a plain function of keyword parameters) at every point of a
grid, on an embedded :class:`distributed.LocalCluster`, on an existing Dask scheduler, or
serially in this process, and gathers the results into one Dataset whose dimensions are the
grid's parameters followed by the task's own dimensions (``layer``, ...)::

    from midnn.sweeps import sweep, replica_task, save, load

    ds = sweep(replica_task, {"alpha": np.linspace(0.05, 0.6, 20),
                              "noise": np.logspace(-4, 0, 20),
                              "prior": ["binary"]})
    ds.mmse.sel(layer=1, prior="binary").plot()      # the first-order transition
    save(ds, "phase_diagram.nc")

Where the points run
--------------------
* default: an embedded ``LocalCluster`` with one single-threaded worker process per CPU
  (at most one per point), quiet logs and no dashboard, started and closed within the call
  (a few seconds: its workers import midnn; for repeated sweeps start a ``Client`` once and
  pass it as ``client=``);
* ``client=``: a :class:`distributed.Client` of yours (left open);
* ``address=``, else the environment variable ``DASK_SCHEDULER_ADDRESS``, else Dask's
  config key ``scheduler-address``: the scheduler at that address (a cluster); the worker
  processes must be able to import midnn (the task itself is sent with cloudpickle, see
  *Tasks*);
* ``client="serial"`` or ``n_workers=0``: in this process, in grid order (debugging; the
  reference of the tests: a point computes bitwise the same value wherever it runs).

Points run with single-threaded BLAS everywhere: Dask starts its workers so, and the serial
mode limits this process's BLAS pools to one thread while it runs (threadpoolctl), because
the last bit of a BLAS reduction can depend on the number of threads sharing it.

An explicit ``n_workers`` asks for the embedded cluster and takes precedence over the
environment variable and the Dask config.

Points travel in batches (``batch_size`` points per Dask task, run one after the other on a
worker; by default about 16 batches per worker thread): Dask spends about a millisecond of
scheduler and client time per task, more than a small replica model costs, and the batches
are still many enough to keep every worker busy until the end.

Tasks
-----
The task is called as ``task(**point)`` (plus ``seed=`` when seeds are requested) and
returns one of

* a Mapping of name -> scalar, array, or :class:`xarray.DataArray`. An array's dimensions
  are named by ``task.dims`` (an attribute of the function, e.g. ``task.dims = {"entropy":
  ("layer",)}``) when it declares them, else ``{name}_dim_{i}``; an entry whose declared
  dimensions are its own name (``"layer": ("layer",)``) is the coordinate of that dimension;
* an :class:`xarray.Dataset`, or an object with a ``to_xarray()`` method returning one,
  or an object with a ``to_dict()`` method returning a Mapping;
* a :class:`midnn.ReplicaResult` (variables per ``layer``, numbered from 1);
* a bare scalar or array: one variable named ``value``.

Values must be numbers, booleans, strings or datetimes (no Python objects: they cannot be
stored). A point whose arrays are shorter along a dimension than other points' is padded
with the fill value (below), so a sweep over the depth of a network is one Dataset.

The task is serialized with cloudpickle on the caller's side: functions defined in a
notebook or a script travel by value; functions of an importable module by reference (the
workers import that module; register a module of yours with
``cloudpickle.register_pickle_by_value(module)`` to send it by value instead).

Grid
----
A dict ``{name: values}`` is a cartesian product: one dimension per parameter, in the
order given, with the values as its coordinate (points run in C order: the last name
fastest). A list of dicts ``[{name: value, ...}, ...]`` (the same names in every dict)
is a list of points: one dimension ``point`` with every parameter as a coordinate along it.
Values are bools, real numbers or strings (one kind per parameter; they reach the task as
Python ``bool``, ``int``, ``float`` or ``str``); objects such as priors are chosen inside
the task from a name (see :func:`replica_task`).

Failures, warnings, time
------------------------
An exception raised by the task never stops the sweep: its point gets the fill value in
every output (NaN for floats and complex numbers, the minimum of a signed integer type, the
maximum of an unsigned one, False, "" and NaT) and the message
``"ExceptionType: message"`` in the string variable ``error`` ("" where the task
succeeded). Warnings raised by the task are recorded in ``warning`` (one
``"Category: message"`` per distinct warning, joined by "; ") and not shown; ``time`` holds
the wall time of each task call in seconds. A point that conflicts with the others (other
dimensions or an incompatible type for the same output, a coordinate that disagrees) is
reported the same way, the first point in grid order setting the reference.

Numerical precision
-------------------
The :class:`midnn.precision.Precision` in force in the caller (or the ``precision=``
argument) is captured when :func:`sweep` is called and re-entered around every task on
the workers, whose own context starts at the default: a sweep run inside
``using(order=2)`` computes at order 2 everywhere.

Seeds
-----
With ``seed=root`` (an int >= 0), the task must accept a ``seed`` parameter; the point at
flat position ``k`` of the grid (C order for a dict grid, list order for a list of points)
receives ``point_seed(root, k)``::

    SeedSequence(root).spawn(n)[k].generate_state(1, numpy.uint64)[0] >> 1

(``spawn(n)[k]`` is ``SeedSequence(root, spawn_key=(k,))`` for any n > k, which is what
is computed), a non-negative int below 2**63, recorded in the int64 variable ``seed``. It
depends only on the root and the position, never on the worker or on the order in which
points finish. Adding values to a grid moves positions, hence changes seeds.

Resume
------
With ``store=`` a directory, every point that succeeded is written there as soon as its
result (its batch) reaches the caller, in one file ``<key>.npz`` (NumPy arrays and a JSON header; no
pickles), where ``key`` is the SHA-256 of the canonical JSON of the task's identity (the
``name`` argument, else the task's qualified name), the point's parameters, its seed and
the precision. With ``resume=True`` a later call reads the stored points back instead of
computing them, so an interrupted sweep continues where it stopped; the Dataset is the
same, bitwise (``time`` included), whether a point was computed or read back. Failed points
are not stored: a resumed sweep retries them. The files are written by the caller, so the
workers of a remote cluster need no access to the store.

Provenance
----------
``ds.attrs`` (netCDF-compatible: strings and numbers; structured values as JSON strings):
``name``, ``task`` (qualified name), ``grid`` (JSON), ``precision`` (JSON), ``seed``
(JSON: the root seed or null, and the rule), ``midnn_version``, ``git_commit`` (the commit
of the git checkout holding midnn, ``-dirty`` when ``git status --porcelain`` lists
anything; "" when midnn is not a git checkout), ``versions`` (JSON: python, numpy, dask,
distributed, xarray), ``created`` (UTC, ISO 8601).

:func:`save` writes a Dataset to netCDF (engine h5netcdf) and :func:`load` reads it back:
``load(save(ds, path))`` is identical to ``ds``, attributes included.

Modules
-------
Each module imports only those listed before it: :mod:`~midnn.sweeps.grid` (grid parsing,
point seeds), :mod:`~midnn.sweeps.taskinfo` (the task's name, declared dimensions and
signature), :mod:`~midnn.sweeps.results` (a task's result as variables; the records of every
point as one Dataset), :mod:`~midnn.sweeps.store` (the per-point files; netCDF
:func:`save` and :func:`load`), :mod:`~midnn.sweeps.cluster` (where the points run) and
:mod:`~midnn.sweeps.runner` (one point, batches, :func:`sweep`). :func:`replica_task` is
defined here, so that its qualified name (a sweep's default name, ``attrs["task"]`` and the
identity of its points in a store) stays ``midnn.sweeps.replica_task``.
"""

from __future__ import annotations

from .. import _validate as check
from .grid import point_seed
from .results import SWEEP_VARIABLES
from .runner import sweep
from .store import load, save

__all__ = ["sweep", "save", "load", "point_seed", "replica_task", "SWEEP_VARIABLES"]


# --------------------------------------------------------------------------------------
# a ready-made task
# --------------------------------------------------------------------------------------

_PRIORS = ("gaussian", "binary", "gauss_bernoulli")


def replica_task(alpha: float, noise: float, *, prior: str = "gaussian",
                 activation: str = "linear", depth: int = 1, rho: float = 0.5,
                 solver: str = "auto"):
    """Replica values of a network with Marchenko-Pastur weights: a task for :func:`sweep`.

    The model is ``prior -> depth layers``, each ``Layer(MarchenkoPastur(alpha),
    activation)``, the hidden layers noiseless and the last one with variance ``noise``
    (the paper's "noise at the evaluated layer"; entry l of the result observes layer l
    through ``noise``). ``prior="binary", activation="linear"`` has the first-order
    transition of the paper (the MMSE jumps to 0 as alpha grows, for noise below ~0.05).

    Parameters
    ----------
    alpha : float
        Aspect ratio n_l / n_{l-1} of every layer (> 0).
    noise : float
        Noise variance of the last layer (>= 0; > 0 for a continuous activation).
    prior : {"gaussian", "binary", "gauss_bernoulli"}
        N(0, 1), +-1 with probability 1/2, or Gauss-Bernoulli with density ``rho``.
    activation : str
        A name of :data:`midnn.activations.ACTIVATIONS` ("linear", "relu", "sign", "hardtanh",
        "tanh", "leaky_relu").
    depth : int
        Number of layers (>= 1).
    rho : float
        Density of the Gauss-Bernoulli prior (ignored by the others).
    solver : str
        Passed to :func:`midnn.replica`.

    Returns
    -------
    midnn.ReplicaResult
        :func:`sweep` turns it into variables ``entropy``, ``mutual_information``,
        ``conditional_entropy``, ``mmse``, ``iterations`` per ``layer`` (1..depth),
        ``converged`` and ``solver``.
    """
    from .. import Layer, Model, replica
    from ..priors import Binary, GaussBernoulli, Gaussian
    from ..spectra import MarchenkoPastur
    from ..tasks import make_activation

    prior = check.choice("prior", prior, _PRIORS)
    depth = check.integer("depth", depth, low=1)
    p = {"gaussian": lambda: Gaussian(), "binary": lambda: Binary(0.5),
         "gauss_bernoulli": lambda: GaussBernoulli(check.probability("rho", rho))}[prior]()
    spectrum = MarchenkoPastur(check.positive("alpha", alpha))
    layers = [Layer(spectrum, make_activation(activation, 0.0)) for _ in range(depth - 1)]
    layers.append(Layer(spectrum, make_activation(activation, noise)))
    return replica(Model(p, layers), solver=solver)
