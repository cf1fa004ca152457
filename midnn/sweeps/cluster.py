"""Where the points of a sweep run, always with single-threaded BLAS.

:func:`_executor` chooses the Dask client that runs the points: the caller's ``client``, a
scheduler at ``address`` (else ``DASK_SCHEDULER_ADDRESS``, else Dask's config), or an
embedded :class:`distributed.LocalCluster` of single-threaded worker processes; or none, to
run them serially in this process, where :func:`_one_blas_thread` limits the BLAS pools to
one thread as Dask does on its workers (the last bit of a BLAS reduction can depend on the
thread count). :func:`_check_runner` validates ``client``, ``address`` and ``n_workers``.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import sys
from collections.abc import Iterator
from typing import Any

from .. import _validate as check
from .results import _describe


def _cpu_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _configured_address() -> tuple[str, str] | None:
    """(address, where it came from) from the environment or Dask's config, else None."""
    env = os.environ.get("DASK_SCHEDULER_ADDRESS")
    if env:
        return env, "the environment variable DASK_SCHEDULER_ADDRESS"
    import dask

    # dask.config treats "scheduler-address" and "scheduler_address" as one key
    value = dask.config.get("scheduler-address", default=None)
    if value:
        return str(value), "Dask's config key 'scheduler-address'"
    return None


@contextlib.contextmanager
def _connect(address: str, origin: str) -> Iterator[Any]:
    from distributed import Client

    try:
        client = Client(address, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise OSError(f"cannot connect to the Dask scheduler at {address!r} (from {origin}): "
                      f"{_describe(exc)}") from exc
    with client:
        yield client


@contextlib.contextmanager
def _local_cluster(n_workers: int) -> Iterator[Any]:
    """An embedded LocalCluster: single-threaded worker processes, logs silenced below
    ERROR while it runs (distributed restores its handlers' levels on close), no
    dashboard."""
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        # a worker process (spawned) is re-running the caller's main script
        raise RuntimeError("sweep() was called while a new process was importing the main "
                           "script: put the script's top-level code under "
                           "`if __name__ == '__main__':`")
    from distributed import Client, LocalCluster

    # dashboard_address=None turns the dashboard off, but the scheduler's small HTTP server
    # (health routes) still binds, by default to port 8787, warning when that port is taken
    # (by another cluster): a random loopback port instead
    try:
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.ERROR,
                               scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})
    except RuntimeError as exc:
        main = sys.modules.get("__main__")
        if getattr(main, "__file__", None) is None:  # a notebook or an interactive session
            raise
        raise RuntimeError(f"the embedded LocalCluster could not start its workers "
                           f"({_describe(exc)}). Its workers are new processes that import "
                           f"the main script {main.__file__!r}: if that script calls sweep() "
                           f"at its top level, put that code under "
                           f"`if __name__ == '__main__':`") from exc
    with cluster, Client(cluster, set_as_default=False) as client:
        yield client


def _executor(client, address: str | None, n_workers: int | None, n_todo: int):
    """Context manager yielding the Client that runs the points, or None (serial)."""
    if isinstance(client, str) or n_workers == 0 or n_todo == 0:  # "serial", or nothing to do
        return contextlib.nullcontext(None)
    if client is not None:
        return contextlib.nullcontext(client)
    if address is not None:
        return _connect(address, "the address argument")
    if n_workers is None:
        configured = _configured_address()
        if configured is not None:
            return _connect(*configured)
    return _local_cluster(min(n_workers or _cpu_count(), n_todo))


def _check_runner(client, address, n_workers) -> int | None:
    if n_workers is not None:
        n_workers = check.integer("n_workers", n_workers, low=0)
    if isinstance(client, str):
        if client != "serial":
            raise ValueError(f"client must be a distributed.Client, 'serial' or None, got "
                             f"{client!r}")
    elif client is not None:
        from distributed import Client

        if not isinstance(client, Client):
            raise TypeError(f"client must be a distributed.Client, 'serial' or None, got "
                            f"{type(client).__name__}")
        if client.status != "running":
            raise ValueError(f"client must be connected; its status is {client.status!r}")
    if address is not None:
        if not isinstance(address, str):
            raise TypeError(f"address must be a string such as 'tcp://host:8786', got "
                            f"{type(address).__name__}")
        if client is not None:
            raise ValueError("give either client= or address=, not both")
    if n_workers is not None and (client is not None or address is not None):
        raise ValueError("n_workers sizes the embedded LocalCluster (0: serial); it cannot "
                         "be combined with client= or address=")
    return n_workers


def _one_blas_thread() -> contextlib.AbstractContextManager:
    """Limit this process's BLAS and OpenMP pools to one thread (threadpoolctl), as Dask
    starts its worker processes (``distributed.nanny.pre-spawn-environ`` sets
    ``OMP_NUM_THREADS=MKL_NUM_THREADS=OPENBLAS_NUM_THREADS=1``).

    The reason: a BLAS reduction (``np.dot`` of a long vector) splits its sum over threads
    when it has several, so the last bit of a value can depend on the thread count (seen on
    replica values at order 2). Without threadpoolctl this is a no-op.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a declared dependency
        return contextlib.nullcontext()
    return threadpool_limits(limits=1)
