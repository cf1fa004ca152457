"""The sweep runner (midnn.sweeps) on a real LocalCluster of 2 single-threaded worker processes.

Every value a sweep returns must be bitwise the value of the same point computed in this
process (serial mode, and a plain loop over ``replica``), whatever worker ran it, on 1 or 2
workers, at any precision, computed or read back from a store.

Tasks are module-level functions of this module, registered with cloudpickle by value: the
runner pickles them with cloudpickle, so the workers receive their code and need not import
this module (the route a user's notebook or script takes).
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import warnings

import cloudpickle
import dask
import numpy as np
import pytest
import xarray as xr
from threadpoolctl import threadpool_limits

distributed = pytest.importorskip("distributed")

from midnn import Layer, Model, replica  # noqa: E402
from midnn.activations import ReLU  # noqa: E402
from midnn.precision import Precision, current, using  # noqa: E402
from midnn.priors import Gaussian  # noqa: E402
from midnn.spectra import MarchenkoPastur  # noqa: E402
from midnn.sweeps import (  # noqa: E402
    SWEEP_VARIABLES,
    load,
    point_seed,
    replica_task,
    save,
    sweep,
)

cloudpickle.register_pickle_by_value(sys.modules[__name__])

GRID = {"alpha": [0.5, 1.5], "noise": [1e-3, 1e-1], "depth": [1, 2]}


# ---------------------------------------------------------------------------------------
# tasks
# ---------------------------------------------------------------------------------------

def relu_chain(alpha, noise, depth=1):
    """Gaussian -> depth MP(alpha) ReLU layers, noise at the last one (padded per layer)."""
    hidden = [Layer(MarchenkoPastur(alpha), ReLU(0.0))] * (depth - 1)
    res = replica(Model(Gaussian(), hidden + [Layer(MarchenkoPastur(alpha), ReLU(noise))]))
    return {"entropy": res.entropy, "mutual_information": res.mutual_information,
            "mmse": res.mmse, "converged": res.converged}


relu_chain.dims = {"entropy": ("layer",), "mutual_information": ("layer",), "mmse": ("layer",)}


def order_task(x):
    return {"order": current().order, "screening": current().screening, "pid": os.getpid()}


def fragile(x):
    if x == 2:
        raise ValueError("x = 2 is not allowed")
    return {"y": 1.5 * x, "n": np.arange(x), "ok": True, "label": f"x{x}"}


def seeded(x, seed=None):
    return {"draw": np.random.default_rng(seed).standard_normal(3), "twice": 2.0 * x}


def noisy(x):
    warnings.warn(f"careful with {x}", stacklevel=1)
    warnings.warn(f"careful with {x}", stacklevel=1)
    warnings.warn("converged slowly", RuntimeWarning, stacklevel=1)
    return {"y": x}


#: Calls of `counted` in this process (serial sweeps), and the point that interrupts it.
CALLS: list[int] = []
STOP: dict[str, int | None] = {"at": None}


class Interrupted(BaseException):
    """Stands for Ctrl-C: not an Exception, so a serial sweep does not catch it."""


def counted(x):
    if x == STOP["at"]:
        raise Interrupted
    CALLS.append(x)
    return {"y": np.array([x, x ** 2]) / 3.0}


# ---------------------------------------------------------------------------------------
# helpers and fixtures
# ---------------------------------------------------------------------------------------

def assert_same(a: xr.Dataset, b: xr.Dataset, *, time: bool = False) -> None:
    """Identical Datasets (attrs but the creation date), every variable bitwise with the
    same dtype; ``time`` compared only when asked."""
    if not time:
        a, b = a.drop_vars("time"), b.drop_vars("time")
    a = a.assign_attrs(created="")
    b = b.assign_attrs(created="")
    xr.testing.assert_identical(a, b)
    for name, var in a.variables.items():
        other = b.variables[name]
        assert var.dtype == other.dtype, (name, var.dtype, other.dtype)
        if var.dtype.kind in "biufc":
            assert var.values.tobytes() == other.values.tobytes(), name


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=logging.ERROR,
                                  scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}) as c:
        yield c


@pytest.fixture(scope="module")
def client(cluster):
    with distributed.Client(cluster, set_as_default=False) as c:
        yield c


@pytest.fixture(scope="module")
def serial():
    """The reference: the replica grid computed in this process."""
    return sweep(relu_chain, GRID, client="serial", progress=False)


# ---------------------------------------------------------------------------------------
# values
# ---------------------------------------------------------------------------------------

def test_serial_equals_plain_loop(serial):
    assert list(serial.entropy.dims) == ["alpha", "noise", "depth", "layer"]
    assert serial.sizes == {"alpha": 2, "noise": 2, "depth": 2, "layer": 2}
    for a in GRID["alpha"]:
        for nz in GRID["noise"]:
            for d in GRID["depth"]:
                with threadpool_limits(limits=1):  # as the sweep runs it (see midnn.sweeps)
                    ref = relu_chain(a, nz, d)
                got = serial.sel(alpha=a, noise=nz, depth=d)
                for name in ("entropy", "mutual_information", "mmse"):
                    assert got[name].values[:d].tobytes() == ref[name].tobytes()
                    assert np.isnan(got[name].values[d:]).all()  # padded: a shallower chain
                assert bool(got.converged) == ref["converged"]
    assert (serial.error == "").all() and (serial.warning == "").all()
    assert serial.time.dtype == float and (serial.time > 0).all()


def test_two_workers_bitwise(client, serial):
    ds = sweep(relu_chain, GRID, client=client, progress=False)
    assert_same(ds, serial)
    for batch_size in (1, 3):  # every point its own Dask task; uneven batches
        assert_same(sweep(relu_chain, GRID, client=client, progress=False,
                          batch_size=batch_size), serial)
    # both workers took part (4 of 8 points each would be typical; at least one each)
    pids = sweep(order_task, {"x": list(range(8))}, client=client, progress=False).pid
    assert len(np.unique(pids)) == 2 or len(client.scheduler_info()["workers"]) < 2


def test_automatic_batches():
    from midnn.sweeps.runner import _auto_batch

    assert _auto_batch(400, 2) == 13  # 31 tasks, about 16 per worker
    assert _auto_batch(5, 2) == 1 and _auto_batch(1, 0) == 1


def test_one_embedded_worker_bitwise_and_quiet(serial, capfd):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = sweep(relu_chain, GRID, n_workers=1, progress=False)
    assert_same(ds, serial)
    assert [str(w.message) for w in caught] == []
    out, err = capfd.readouterr()
    assert out == "" and err == "", (out, err)  # no log line of the embedded cluster


def test_precision_reaches_the_workers(client):
    with using(order=2):
        ds = sweep(order_task, {"x": [0, 1, 2, 3]}, client=client, progress=False)
    assert (ds.order == 2).all() and not ds.screening.any()
    assert json.loads(ds.attrs["precision"]) == {"order": 2, "screening": False}
    ds = sweep(order_task, {"x": [0, 1]}, client=client, progress=False,
               precision=Precision(order=3, screening=True))
    assert (ds.order == 3).all() and ds.screening.all()
    assert current() == Precision()  # the caller's context is left as it was


def test_precision_values_bitwise(client, serial):
    with using(order=2):
        ref = sweep(relu_chain, GRID, client="serial", progress=False)
        ds = sweep(relu_chain, GRID, client=client, progress=False)
    assert_same(ds, ref)
    diff = np.abs(ref.entropy - serial.entropy)
    # order 2 moves the values, by a tiny amount
    assert 0 < float(diff.max()) < 1e-8


# ---------------------------------------------------------------------------------------
# failures, warnings, outputs
# ---------------------------------------------------------------------------------------

def test_failing_point_is_recorded(client):
    ds = sweep(fragile, {"x": [1, 2, 3]}, client=client, progress=False)
    assert list(ds.error.values) == ["", "ValueError: x = 2 is not allowed", ""]
    assert list(ds.y.values[[0, 2]]) == [1.5, 4.5] and np.isnan(ds.y.values[1])
    # fills of the other types, and padding of the shorter arange(1)
    n = ds.n.values
    fill = np.iinfo(np.int64).min
    assert n.dtype == np.int64 and list(n[0]) == [0, fill, fill] and (n[1] == fill).all()
    assert list(ds.ok.values) == [True, False, True]
    assert list(ds.label.values) == ["x1", "", "x3"]
    assert_same(ds, sweep(fragile, {"x": [1, 2, 3]}, client="serial", progress=False))


def test_conflicting_and_invalid_outputs_are_recorded():
    def shapes(x):
        return {"a": np.zeros(2) if x == 0 else np.zeros((2, 2))}

    ds = sweep(shapes, {"x": [0, 1]}, client="serial", progress=False)
    assert ds.error.values[0] == "" and ds.error.values[1].startswith("ValueError: output 'a'")

    def strings(x):
        return {"a": 1.0 if x == 0 else "one"}

    ds = sweep(strings, {"x": [0, 1]}, client="serial", progress=False)
    assert ds.error.values[1].startswith("TypeError: output 'a' has dtype")
    assert ds.a.dtype == float and ds.a.values[0] == 1.0  # not turned into a string

    def flags(x):
        return {"a": True if x == 0 else 2}

    ds = sweep(flags, {"x": [0, 1]}, client="serial", progress=False)
    assert ds.a.dtype == bool and ds.error.values[1].startswith("TypeError")

    def clash(x):
        return {"time": 1.0}

    ds = sweep(clash, {"x": [0]}, client="serial", progress=False)
    assert ds.error.values[0].startswith("ValueError: output 'time' collides")

    def objects(x):
        return {"a": object()}

    ds = sweep(objects, {"x": [0]}, client="serial", progress=False)
    assert "Python objects" in ds.error.values[0]

    def nothing(x):
        return None

    ds = sweep(nothing, {"x": [0]}, client="serial", progress=False)
    assert ds.error.values[0].startswith("TypeError: the task returned a NoneType")

    def bad_dims(x):
        return {"a": np.zeros((2, 2))}

    bad_dims.dims = {"a": ("layer",)}
    ds = sweep(bad_dims, {"x": [0]}, client="serial", progress=False)
    assert "task.dims declares ('layer',)" in ds.error.values[0]


def test_warnings_are_recorded_not_shown(client):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        local = sweep(noisy, {"x": [1, 2]}, client="serial", progress=False)
    assert caught == []
    assert local.warning.values[0] == ("UserWarning: careful with 1; "
                                       "RuntimeWarning: converged slowly")
    assert (local.error == "").all()  # pytest's error filter on RuntimeWarning does not apply
    assert_same(sweep(noisy, {"x": [1, 2]}, client=client, progress=False), local)


class _Result:
    def __init__(self, x):
        self.x = x

    def to_xarray(self):
        return xr.Dataset({"v": ("layer", [self.x, 2 * self.x], {"units": "nats"})},
                          coords={"layer": [1, 2]})


def as_object(x):
    return _Result(x)


def test_output_kinds(client):
    ds = sweep(as_object, {"x": [1.0, 2.0]}, client=client, progress=False)
    assert list(ds.v.dims) == ["x", "layer"] and list(ds.layer.values) == [1, 2]
    assert ds.v.attrs == {"units": "nats"}
    assert ds.v.sel(x=2.0).values.tolist() == [2.0, 4.0]

    def dataset(x):
        return _Result(x).to_xarray()

    assert_same(sweep(dataset, {"x": [1.0, 2.0]}, client="serial", progress=False).drop_attrs(),
                ds.drop_attrs())

    def scalar(x):
        return x / 2

    assert sweep(scalar, {"x": [1, 3]}, client="serial", progress=False).value.values.tolist() \
        == [0.5, 1.5]

    def arrays(x):
        return {"w": xr.DataArray([x, x], dims="k", coords={"k": ["a", "b"]})}

    ds = sweep(arrays, {"x": [1]}, client="serial", progress=False)
    assert list(ds.w.dims) == ["x", "k"] and list(ds.k.values) == ["a", "b"]

    ds = sweep(replica_task, {"alpha": [0.1, 0.5], "noise": [1e-3], "prior": ["binary"]},
               client="serial", progress=False)
    assert list(ds.mmse.dims) == ["alpha", "noise", "prior", "layer"]
    assert ds.converged.dtype == bool and ds.converged.all()
    assert ds.iterations.dtype.kind == "i" and ds.solver.dtype.kind == "U"
    # the paper's first-order transition: the MMSE drops to 0 between alpha = 0.1 and 0.5
    assert float(ds.mmse.sel(alpha=0.1).max()) > 0.5 > 1e-6 > float(ds.mmse.sel(alpha=0.5).max())


# ---------------------------------------------------------------------------------------
# grids, seeds
# ---------------------------------------------------------------------------------------

def test_explicit_list_of_points(client, serial):
    points = [{"alpha": 1.5, "noise": 1e-1, "depth": 2}, {"alpha": 0.5, "noise": 1e-3, "depth": 1}]
    ds = sweep(relu_chain, points, client=client, progress=False)
    assert list(ds.entropy.dims) == ["point", "layer"]
    assert list(ds.alpha.values) == [1.5, 0.5] and list(ds.depth.values) == [2, 1]
    assert "point" not in ds.coords and set(ds.coords) == {"alpha", "noise", "depth"}
    for k, p in enumerate(points):
        ref = serial.sel(p)
        assert ds.entropy.values[k].tobytes() == ref.entropy.values.tobytes()
    assert json.loads(ds.attrs["grid"]) == points


def test_seeds_per_point(client):
    grid = {"x": [0, 1, 2, 3, 4]}
    ds = sweep(seeded, grid, client=client, seed=2024, progress=False)
    children = np.random.SeedSequence(2024).spawn(5)
    expected = [int(c.generate_state(1, np.uint64)[0] >> np.uint64(1)) for c in children]
    assert ds.seed.dtype == np.int64 and ds.seed.values.tolist() == expected
    assert expected == [point_seed(2024, k) for k in range(5)]
    for k, s in enumerate(expected):
        assert ds.draw.values[k].tobytes() == np.random.default_rng(s).standard_normal(3).tobytes()
    assert_same(ds, sweep(seeded, grid, client="serial", seed=2024, progress=False))
    other = sweep(seeded, grid, client="serial", seed=2025, progress=False)
    assert not np.array_equal(other.draw, ds.draw)
    assert json.loads(ds.attrs["seed"])["root"] == 2024
    # without seed= the task's own default applies and no seed variable is made
    assert "seed" not in sweep(seeded, grid, client="serial", progress=False)


# ---------------------------------------------------------------------------------------
# resume, netCDF
# ---------------------------------------------------------------------------------------

def test_resume_after_an_interruption(tmp_path):
    grid = {"x": [1, 2, 3, 4, 5, 6]}
    CALLS.clear()
    STOP["at"] = 4
    try:
        with pytest.raises(Interrupted):
            sweep(counted, grid, client="serial", store=tmp_path, progress=False)
    finally:
        STOP["at"] = None
    assert CALLS == [1, 2, 3] and len(list(tmp_path.glob("*.npz"))) == 3
    CALLS.clear()
    resumed = sweep(counted, grid, client="serial", store=tmp_path, progress=False)
    assert CALLS == [4, 5, 6]  # continues where it stopped
    CALLS.clear()
    again = sweep(counted, grid, client="serial", store=tmp_path, progress=False)
    assert CALLS == []
    assert_same(again, resumed, time=True)  # read back: the same Dataset, times included
    assert_same(resumed, sweep(counted, grid, client="serial", progress=False))


def test_resume_on_the_cluster(client, tmp_path, serial):
    first = sweep(relu_chain, GRID, client=client, store=tmp_path, progress=False)
    assert_same(first, serial)
    files = sorted(tmp_path.glob("*.npz"))
    assert len(files) == 8
    # an interrupted sweep: two points never reached the store
    for f in files[:2]:
        f.unlink()
    inodes = {f.name: f.stat().st_ino for f in files[2:]}
    again = sweep(relu_chain, GRID, client=client, store=tmp_path, progress=False)
    assert sorted(tmp_path.glob("*.npz")) == files
    assert {f.name: f.stat().st_ino for f in files[2:]} == inodes  # not rewritten
    assert_same(again, first)
    recomputed = again.time.values != first.time.values
    assert recomputed.sum() <= 2  # read back points keep their time exactly
    # everything stored: nothing runs, not even a cluster, and the Dataset is identical
    assert_same(sweep(relu_chain, GRID, store=tmp_path, progress=False), again, time=True)
    # resume=False recomputes and rewrites every point
    sweep(relu_chain, GRID, client=client, store=tmp_path, resume=False, progress=False)
    assert all(f.stat().st_ino != inodes[f.name] for f in files[2:])


def test_store_skips_failures_and_keys_by_parameters(tmp_path):
    ds = sweep(fragile, {"x": [1, 2, 3]}, client="serial", store=tmp_path, progress=False)
    assert ds.error.values[1] != ""
    assert len(list(tmp_path.glob("*.npz"))) == 2  # the failed point is retried next time
    # a wider grid reuses the points already stored (no seed: keyed by parameters)
    CALLS.clear()
    sweep(counted, {"x": [1, 2]}, client="serial", store=tmp_path, progress=False)
    sweep(counted, {"x": [1, 2, 3]}, client="serial", store=tmp_path, progress=False)
    assert CALLS == [1, 2, 3]
    # another precision is another point
    with using(order=2):
        sweep(counted, {"x": [1]}, client="serial", store=tmp_path, progress=False)
    assert CALLS == [1, 2, 3, 1]
    # so is another sweep name (the identity of the task in the store)
    sweep(counted, {"x": [1]}, client="serial", store=tmp_path, name="other", progress=False)
    assert CALLS == [1, 2, 3, 1, 1]


def test_netcdf_round_trip(tmp_path, client):
    def fragile_tagged(x, tag, flag):
        return fragile(x)

    ds = sweep(fragile_tagged, [{"x": 1, "tag": "a", "flag": True},
                                {"x": 2, "tag": "bb", "flag": False},
                                {"x": 3, "tag": "c", "flag": True}],
               client=client, progress=False)
    back = load(save(ds, tmp_path / "sweep.nc"))
    xr.testing.assert_identical(back, ds)
    assert_same(back, ds, time=True)
    assert back.attrs == ds.attrs
    grid = sweep(relu_chain, GRID, client=client, progress=False)
    back = load(save(grid, str(tmp_path / "grid.nc")))
    assert_same(back, grid, time=True)
    assert back.attrs["created"] == grid.attrs["created"]
    objects = sweep(as_object, {"x": [1.0]}, client="serial", progress=False)
    assert_same(load(save(objects, tmp_path / "obj.nc")), objects, time=True)
    seeded_ds = sweep(seeded, {"x": [0, 1]}, client="serial", seed=7, progress=False)
    assert_same(load(save(seeded_ds, tmp_path / "seed.nc")), seeded_ds, time=True)


def test_save_rejects_what_netcdf_cannot_hold(tmp_path):
    ds = xr.Dataset({"a": ("x", [1.0])})
    with pytest.raises(TypeError, match=r"ds.attrs\['flag'\]"):
        save(ds.assign_attrs(flag=True), tmp_path / "a.nc")
    with pytest.raises(TypeError, match=r"ds.attrs\['meta'\]"):
        save(ds.assign_attrs(meta={"a": 1}), tmp_path / "a.nc")
    with pytest.raises(TypeError, match="Python objects"):
        save(xr.Dataset({"o": ("x", np.array([object()]))}), tmp_path / "a.nc")
    with pytest.raises(TypeError, match="ds must be"):
        save({"a": 1}, tmp_path / "a.nc")
    with pytest.raises(TypeError, match="path"):
        save(ds, 3)
    assert not list(tmp_path.iterdir())  # nothing half-written


# ---------------------------------------------------------------------------------------
# where the points run
# ---------------------------------------------------------------------------------------

def test_address_of_an_existing_scheduler(cluster, client, serial):
    ds = sweep(relu_chain, GRID, address=cluster.scheduler_address, progress=False)
    assert_same(ds, serial)


def test_scheduler_address_from_the_environment(cluster, client, monkeypatch):
    workers = set(client.run(os.getpid).values())
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", cluster.scheduler_address)
    ds = sweep(order_task, {"x": [0, 1, 2]}, progress=False)
    assert set(ds.pid.values.tolist()) <= workers
    # an explicit n_workers takes precedence: 0 runs here
    ds = sweep(order_task, {"x": [0]}, n_workers=0, progress=False)
    assert ds.pid.values.tolist() == [os.getpid()]
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS")
    with dask.config.set({"scheduler-address": cluster.scheduler_address}):
        ds = sweep(order_task, {"x": [0, 1]}, progress=False)
    assert set(ds.pid.values.tolist()) <= workers


def test_provenance(serial):
    attrs = serial.attrs
    assert set(attrs) == {"name", "task", "grid", "precision", "seed", "midnn_version",
                          "git_commit", "versions", "created"}
    assert all(isinstance(v, str) for v in attrs.values())
    assert attrs["task"].endswith("relu_chain")
    assert json.loads(attrs["grid"]) == GRID
    assert json.loads(attrs["seed"]) == {"root": None, "rule": None}
    import midnn

    assert attrs["midnn_version"] == midnn.__version__
    assert re.fullmatch(r"([0-9a-f]{40}(-dirty)?)?", attrs["git_commit"])
    assert set(json.loads(attrs["versions"])) == {"python", "numpy", "dask", "distributed",
                                                  "xarray"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", attrs["created"])
    assert set(SWEEP_VARIABLES) - set(serial.data_vars) == {"seed"}


def test_progress_bar(capfd):
    sweep(order_task, {"x": [0, 1]}, client="serial", name="demo")
    assert "demo" in capfd.readouterr().err
    sweep(order_task, {"x": [0, 1]}, client="serial", progress=False)
    assert capfd.readouterr().err == ""


# ---------------------------------------------------------------------------------------
# bad inputs
# ---------------------------------------------------------------------------------------

def two(x, y=0):
    return {"z": x + y}


@pytest.mark.parametrize("grid, error, match", [
    ({}, ValueError, "grid must hold at least one parameter"),
    ([], ValueError, "grid must hold at least one point"),
    ("x", TypeError, "grid must be a dict"),
    (3, TypeError, "grid must be a dict"),
    ({"x": []}, ValueError, r"grid\['x'\] must hold at least 1"),
    ({"x": "abc"}, TypeError, r"grid\['x'\] must be a sequence"),
    ({"x": 1.0}, TypeError, r"grid\['x'\] must be a sequence"),
    ({"x": [None]}, TypeError, r"grid\['x'\]\[0\] must be a bool, a real number or a string"),
    ({"x": [1, 1.0]}, ValueError, r"grid\['x'\] holds the value 1.0 more than once"),
    ({"x": [1, "a"]}, TypeError, r"grid\['x'\] mixes number and str"),
    ({"x": [1], "z": [2]}, ValueError, r"grid names \['z'\] are not keyword parameters"),
    ({"y": [1]}, ValueError, r"parameters \['x'\] of task .* have no default"),
    ({"x": [1], "time": [1]}, ValueError, "'time' is reserved"),
    ({"x y": [1]}, ValueError, "must be a Python identifier"),
    ([{"x": 1}, {"y": 2}], ValueError, r"grid\[1\] has the parameters \['y'\]"),
    ([{"x": 1}, 3], TypeError, r"grid\[1\] must be a dict"),
    ([{"x": 1, "point": 2}], ValueError, "'point' is reserved"),
])
def test_bad_grid(grid, error, match):
    with pytest.raises(error, match=match):
        sweep(two, grid, client="serial", progress=False)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"task": 3}, TypeError, "task must be callable"),
    ({"seed": -1}, ValueError, "seed must be an integer in"),
    ({"seed": 1.5}, TypeError, "seed must be an integer"),
    ({"n_workers": -1}, ValueError, "n_workers must be an integer in"),
    ({"n_workers": 1.5}, TypeError, "n_workers must be an integer"),
    ({"n_workers": True}, TypeError, "n_workers must be an integer"),
    ({"client": "local"}, ValueError, "client must be a distributed.Client, 'serial' or None"),
    ({"client": 3}, TypeError, "client must be a distributed.Client"),
    ({"address": 8786}, TypeError, "address must be a string"),
    ({"client": "serial", "address": "tcp://x:1"}, ValueError, "either client= or address="),
    ({"client": "serial", "n_workers": 2}, ValueError, "n_workers sizes the embedded"),
    ({"address": "tcp://x:1", "n_workers": 2}, ValueError, "n_workers sizes the embedded"),
    ({"precision": 2}, TypeError, "precision must be a midnn.precision.Precision"),
    ({"resume": "yes"}, TypeError, "resume must be True or False"),
    ({"progress": 1}, TypeError, "progress must be True or False"),
    ({"store": 3}, TypeError, "store must be a directory path"),
    ({"name": ""}, ValueError, "name must be a non-empty string"),
    ({"name": 3}, TypeError, "name must be a string"),
    ({"batch_size": 0}, ValueError, "batch_size must be an integer in"),
    ({"batch_size": 2.0}, TypeError, "batch_size must be an integer"),
])
def test_bad_arguments(kwargs, error, match):
    args = {"task": two, "grid": {"x": [1]}, "client": "serial", "progress": False}
    if "n_workers" in kwargs or "address" in kwargs:
        args.pop("client")
    args.update(kwargs)
    with pytest.raises(error, match=match):
        sweep(**args)


def test_bad_arguments_needing_context(tmp_path):
    with pytest.raises(ValueError, match="seed= needs a task with a 'seed' parameter"):
        sweep(two, {"x": [1]}, client="serial", seed=1)
    with pytest.raises(ValueError, match="'seed' is reserved"):
        sweep(seeded, {"x": [1], "seed": [1]}, client="serial", seed=1)
    file = tmp_path / "file"
    file.write_text("")
    with pytest.raises(ValueError, match="store must be a directory"):
        sweep(two, {"x": [1]}, client="serial", store=file)
    with pytest.raises(ValueError, match="pass name="):
        sweep(lambda x: x, {"x": [1]}, client="serial", store=tmp_path / "s")
    sweep(lambda x: x, {"x": [1]}, client="serial", store=tmp_path / "s", name="square",
          progress=False)

    def declared(x):
        return {"a": x}

    declared.dims = {"a": "layer"}
    with pytest.raises(TypeError, match=r"task.dims\['a'\] must be a tuple"):
        sweep(declared, {"x": [1]}, client="serial")


class _Unpicklable:
    def __call__(self, x):
        return x

    def __reduce__(self):
        raise TypeError("not picklable")


def test_unpicklable_task(client):
    with pytest.raises(TypeError, match="task could not be pickled"):
        sweep(_Unpicklable(), {"x": [1]}, client=client, progress=False)


def test_replica_task_arguments():
    with pytest.raises(ValueError, match="prior must be one of"):
        replica_task(0.5, 1e-2, prior="laplace")
    with pytest.raises(ValueError, match="depth must be an integer in"):
        replica_task(0.5, 1e-2, depth=0)
    res = replica_task(0.5, 1e-2, activation="relu", depth=2)
    assert res.entropy.shape == (2,)
