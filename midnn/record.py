"""Run records: what a tracked training run measured, written as it goes.

A record is one JSON Lines file (``<name>.jsonl``):

* line 1, the **header** (``"kind": "header"``): format and version, the run id, the
  replica chain of the network (:class:`midnn.chainspec.ChainSpec`: prior, input layers,
  widths, activations, noises), the tracking options, the user's configuration and seeds,
  the provenance (midnn version, git commit when available, library versions) and the
  meaning and unit of every column;
* then one line per event, appended in order and flushed at once:
  ``"checkpoint"`` (the spectra of every tracked W_l^T W_l and the per-layer quantities at
  one step), ``"metrics"`` (numbers the training loop logged at one step, e.g. losses),
  ``"resume"`` (the run continued in another session) and ``"close"`` (the run stopped:
  status and number of checkpoints so far).

The header is written atomically (a temporary file renamed into place, forced to disk), and
a line is written with a single call and flushed to the operating system, so a crash of the
process (an exception, a killed kernel, out of memory) leaves a valid record, at worst
followed by one incomplete last line, which :func:`load` drops with a
:class:`RecordWarning`; with ``fsync=True`` every line is also forced to the disk, which
survives a power loss at the cost of a few milliseconds per line. The record can be loaded
while the run is still going.

:func:`load` checks the format version, that every line belongs to the run of the header,
that checkpoints are numbered consecutively with increasing steps, that every array has the
shape the chain implies (number of layers, widths) and that the checkpoint counts of the
``close`` lines match, and raises :class:`RecordError` naming the problem otherwise. Types
(activations, priors, spectra) are read through explicit allow-lists
(:mod:`midnn.chainspec`). Floats are written with Python's shortest round-trip representation,
so a reloaded record holds bitwise the values that were computed.

Units: every per-layer entropy and mutual information is in nats per unit of the chain
input, n_0 = n_X, or n_Y for generative data (chain Y -> X -> T_1 -> ...); the header's
``units`` and :attr:`RunRecord.units` spell it out column by column.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
import uuid
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._provenance import git_commit, utc_now, versions
from .chainspec import NETWORK_QUANTITIES, QUANTITIES, ChainSpec
from .serialize import encode

__all__ = ["FORMAT", "VERSION", "RecordError", "RecordWarning", "RunRecord", "RecordWriter",
           "load", "record_path", "provenance"]

FORMAT = "midnn.record"
VERSION = 1


class RecordError(ValueError):
    """A record that cannot be read as a run record of this version, or that contradicts
    itself (another run's lines, arrays that do not fit the chain, missing checkpoints)."""


class RecordWarning(UserWarning):
    """A recoverable problem in a record (an incomplete last line left by a crash)."""


def record_path(path: str | os.PathLike) -> Path:
    """``path`` with the ``.jsonl`` suffix added unless it has it."""
    p = Path(path)
    return p if p.suffix == ".jsonl" else p.with_name(p.name + ".jsonl")


# ----------------------------------------------------------------------------- provenance

def provenance() -> dict[str, Any]:
    """Where and with what a record was written: midnn version and git commit
    (:func:`midnn._provenance.git_commit`), Python and library versions, platform, UTC time."""
    from . import __version__

    libs = versions("numpy", "scipy", "torch")
    return {"midnn": __version__, "git": git_commit(), "python": libs.pop("python"),
            "libraries": libs, "platform": platform.platform(), "time": utc_now()}


def _jsonable(o):
    """JSON fallback for configuration values: NumPy scalars and arrays, midnn objects by
    their fields, anything else by its ``str`` (the configuration is provenance only)."""
    if isinstance(o, np.integer | np.bool_):
        return o.item()
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if hasattr(o, "__dataclass_fields__") and type(o).__module__.startswith("midnn."):
        return encode(o)
    return str(o)


def dumps(obj) -> str:
    """One JSON line (no newline inside)."""
    return json.dumps(obj, default=_jsonable, separators=(",", ":"))


# ----------------------------------------------------------------------------- record

@dataclass
class RunRecord:
    """A run record in memory (see the module docstring for the file).

    Attributes
    ----------
    header : dict
        The header line: ``run``, ``step`` (name of the step counter, e.g. ``"epoch"``),
        ``chain``, ``tracking``, ``config``, ``seeds``, ``provenance``, ``units``.
    chain : ChainSpec or None
        The replica chain (None for a run that recorded metrics only).
    checkpoints : dict of numpy arrays
        Keyed by the step name (n_ckpt,), every per-layer quantity (n_ckpt, m) (see
        :attr:`units`), ``converged`` (n_ckpt,), ``compute_time`` (seconds computing the
        checkpoint, wherever it ran) and ``blocking_time`` (seconds the training loop was
        stopped by the tracker's call), per checkpoint.
    history : dict of numpy arrays
        Keyed by the step name and by every logged metric, one entry per logged step in
        increasing order (the last value logged for a step wins; NaN where a metric was
        not logged).
    spectra : list of numpy arrays
        Per tracked layer, the eigenvalues of W_l^T W_l at every checkpoint,
        (n_ckpt, n_{l-1}).
    status : str
        ``"running"`` (no ``close`` line after the last event: in progress or killed),
        ``"complete"``, ``"interrupted"`` or ``"error: ..."``.
    close_wait : float
        Seconds the loop waited in ``close`` for the last background solves (summed over
        sessions).
    blocked : float
        Seconds the loop spent in the tracker's calls (checkpoints, waits, closing), summed
        over the sessions that were closed.
    """

    header: dict[str, Any]
    chain: ChainSpec | None
    checkpoints: dict[str, np.ndarray]
    history: dict[str, np.ndarray]
    spectra: list[np.ndarray]
    status: str
    close_wait: float = 0.0
    blocked: float = 0.0
    lines: list[str] = field(default_factory=list, repr=False, compare=False)
    #: In memory only (not saved): the replica results of the first and last checkpoints
    #: of the session that produced this object, for warm starts (``init=``).
    first_replica: Any = field(default=None, repr=False, compare=False)
    last_replica: Any = field(default=None, repr=False, compare=False)

    @property
    def config(self) -> dict[str, Any]:
        return self.header.get("config", {})

    @property
    def step_name(self) -> str:
        return self.header["step"]

    @property
    def units(self) -> dict[str, str]:
        """Meaning and unit of every per-layer column."""
        return self.header.get("units", {})

    @property
    def n_layers(self) -> int:
        return 0 if self.chain is None else self.chain.n_layers

    @property
    def n_checkpoints(self) -> int:
        return len(self.checkpoints[self.step_name])

    @property
    def last_step(self) -> int | None:
        """Step of the last recorded checkpoint (None before the first)."""
        steps = self.checkpoints[self.step_name]
        return int(steps[-1]) if len(steps) else None

    def save(self, path: str | os.PathLike) -> Path:
        """Write the record to ``path`` (``.jsonl`` added), atomically; returns the path."""
        target = record_path(path)
        _atomic_write(target, "".join(line + "\n" for line in self.lines))
        return target

    def frame(self, quantity: str = "mutual_information"):
        """One per-layer quantity as a ``pandas.DataFrame`` (index: steps, columns T1..Tm),
        its meaning and unit in ``attrs`` (pandas is optional: imported here)."""
        import pandas as pd

        if quantity not in self.checkpoints or np.ndim(self.checkpoints[quantity]) != 2:
            raise KeyError(f"no per-layer quantity {quantity!r}; available: "
                           f"{sorted(k for k, v in self.checkpoints.items() if v.ndim == 2)}")
        df = pd.DataFrame(self.checkpoints[quantity],
                          index=pd.Index(self.checkpoints[self.step_name], name=self.step_name),
                          columns=[f"T{l + 1}" for l in range(self.n_layers)])
        df.attrs.update(quantity=quantity, units=self.units.get(quantity, ""))
        return df

    def __repr__(self) -> str:
        chain = self.chain
        where = "" if chain is None else (f", widths={list(chain.widths)}, "
                                          f"chain input {chain.chain_input} "
                                          f"(n={chain.n_input})")
        return (f"RunRecord(run={self.header.get('run')!r}, {self.n_checkpoints} checkpoints, "
                f"{len(self.history[self.step_name])} logged {self.step_name}s, "
                f"status={self.status!r}{where})")


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


# ----------------------------------------------------------------------------- parsing

def load(path: str | os.PathLike) -> RunRecord:
    """Read and validate the record at ``path`` (``.jsonl`` added when missing).

    Raises
    ------
    RecordError
        Wrong format or version, lines of another run, arrays that do not fit the chain
        (number of layers, widths), checkpoints missing or out of order, a checkpoint count
        that contradicts a ``close`` line, or a malformed line other than the last.
    """
    p = record_path(path)
    if not p.exists():
        if Path(path).is_file():  # e.g. the .json + .npz pair of midnn.training/1
            raise RecordError(f"{path} is not a {FORMAT} run record (a .jsonl file)")
        raise FileNotFoundError(f"no run record at {p}")
    return parse(p.read_text(encoding="utf-8"), source=str(p))


def split_lines(text: str, source: str) -> list[str]:
    """Complete lines of a record; an unterminated last line (a write cut by a crash) is
    dropped with a RecordWarning."""
    lines = text.split("\n")
    tail = lines.pop()  # "" when the text ends with a newline
    if tail:
        warnings.warn(f"{source}: the last line is incomplete (a write interrupted by a crash "
                      f"or still in progress); it is ignored", RecordWarning, stacklevel=3)
    return lines


def parse(text: str, source: str = "record") -> RunRecord:
    """A :class:`RunRecord` from the text of a record file (see :func:`load`)."""
    return _Parser(split_lines(text, source), source).record()


class _Parser:
    """Validates the lines of one record and collects its arrays."""

    def __init__(self, lines: Sequence[str], source: str):
        self.lines, self.source = list(lines), source
        if not self.lines or not self.lines[0].strip():
            raise RecordError(f"{source}: empty record (no header)")
        self.header = self._json(0)
        self._check_header()
        self.run = self.header["run"]
        self.step = self.header["step"]
        self.columns = _columns(self.chain, self.header.get("tracking", {}))
        self.ck: dict[str, list] = {k: [] for k in (self.step, *self.columns, "converged",
                                                    "compute_time", "blocking_time")}
        self.eig: list[list[np.ndarray]] = [[] for _ in range(self.n_layers)]
        self.metrics: dict[int, dict[str, float]] = {}
        self.status, self.close_wait, self.blocked = "running", 0.0, 0.0

    @property
    def n_layers(self) -> int:
        return 0 if self.chain is None else self.chain.n_layers

    def fail(self, i: int, msg: str):
        raise RecordError(f"{self.source}, line {i + 1}: {msg}")

    def _json(self, i: int) -> dict:
        try:
            obj = json.loads(self.lines[i])
        except json.JSONDecodeError as err:
            self.fail(i, f"not valid JSON ({err.msg})")
        if not isinstance(obj, dict):
            self.fail(i, "not a JSON object")
        return obj

    def _check_header(self) -> None:
        h = self.header
        if h.get("kind") != "header" or h.get("format") != FORMAT:
            raise RecordError(f"{self.source}: not a {FORMAT} file (first line has format "
                              f"{h.get('format')!r})")
        if h.get("version") != VERSION:
            raise RecordError(f"{self.source}: record format version {h.get('version')!r} is "
                              f"not supported (this midnn reads version {VERSION})")
        for key in ("run", "step"):
            if not isinstance(h.get(key), str):
                raise RecordError(f"{self.source}: header has no {key!r}")
        try:
            self.chain = None if h.get("chain") is None else ChainSpec.from_json(h["chain"])
        except ValueError as err:
            raise RecordError(f"{self.source}: header: {err}") from None

    def record(self) -> RunRecord:
        for i in range(1, len(self.lines)):
            line = self._json(i)
            if line.get("run") != self.run:
                self.fail(i, f"belongs to run {line.get('run')!r}, not to this record's run "
                             f"{self.run!r}")
            kind = line.get("kind")
            handler = {"checkpoint": self._checkpoint, "metrics": self._metrics,
                       "close": self._close, "resume": self._resume}.get(kind)
            if handler is None:
                self.fail(i, f"unknown kind {kind!r}")
            handler(i, line)
        return self._build()

    def _checkpoint(self, i: int, line: dict) -> None:
        if self.chain is None:
            self.fail(i, "a checkpoint in a record without a chain")
        n = len(self.ck[self.step])
        if line.get("index") != n:
            self.fail(i, f"checkpoint index {line.get('index')!r} where {n} was expected "
                         "(a checkpoint is missing or repeated)")
        step = line.get(self.step)
        if not _is_int(step) or (n and step <= self.ck[self.step][-1]):
            self.fail(i, f"{self.step} {step!r} does not follow the previous checkpoint's")
        eig = line.get("eigvals")
        widths = [s.in_features for s in self.chain.layers]
        if not isinstance(eig, list) or [len(e) if isinstance(e, list) else None
                                         for e in eig] != widths:
            self.fail(i, f"eigvals must hold {self.n_layers} lists of lengths {widths} (the "
                         "input widths of the tracked layers)")
        for k, e in enumerate(eig):
            self.eig[k].append(self._array(i, f"eigvals[{k}]", e, len(e)))
        for col in self.columns:
            self.ck[col].append(self._array(i, col, line.get(col), self.n_layers))
        if not isinstance(line.get("converged"), bool):
            self.fail(i, "converged must be true or false")
        self.ck["converged"].append(line["converged"])
        for key in ("compute_time", "blocking_time"):
            self.ck[key].append(float(self._array(i, key, [line.get(key)], 1)[0]))
        self.ck[self.step].append(step)

    def _array(self, i: int, name: str, value, size: int) -> np.ndarray:
        if not isinstance(value, list) or len(value) != size or not all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in value):
            self.fail(i, f"{name} must be a list of {size} numbers, got {value!r:.80}")
        return np.asarray(value, float)

    def _metrics(self, i: int, line: dict) -> None:
        step, values = line.get(self.step), line.get("values")
        if not _is_int(step) or not isinstance(values, dict):
            self.fail(i, f"a metrics line needs an integer {self.step!r} and 'values'")
        arr = self._array(i, "values", list(values.values()), len(values))
        self.metrics[step] = dict(zip(values, arr.tolist(), strict=True))

    def _close(self, i: int, line: dict) -> None:
        n = len(self.ck[self.step])
        if line.get("n_checkpoints") != n:
            self.fail(i, f"the run closed with {line.get('n_checkpoints')!r} checkpoints but "
                         f"{n} precede this line: the record is truncated or edited")
        self.status = str(line.get("status", "complete"))
        self.close_wait += float(line.get("wait", 0.0))
        self.blocked += float(line.get("blocked", 0.0))

    def _resume(self, i: int, line: dict) -> None:
        self.status = "running"

    def _build(self) -> RunRecord:
        ck = {}
        for key, values in self.ck.items():
            if key == self.step:
                ck[key] = np.asarray(values, dtype=np.int64)
            elif key == "converged":
                ck[key] = np.asarray(values, dtype=bool)
            elif key in ("compute_time", "blocking_time"):
                ck[key] = np.asarray(values, dtype=float)
            else:
                ck[key] = np.asarray(values, float).reshape(-1, self.n_layers)
        steps = sorted(self.metrics)
        names = list(dict.fromkeys(k for s in steps for k in self.metrics[s]))
        history = {self.step: np.asarray(steps, dtype=np.int64)}
        history.update({k: np.array([self.metrics[s].get(k, np.nan) for s in steps], float)
                        for k in names})
        spectra = [np.asarray(e, float).reshape(-1, w) for e, w in
                   zip(self.eig, [] if self.chain is None else
                       [s.in_features for s in self.chain.layers], strict=True)]
        return RunRecord(self.header, self.chain, ck, history, spectra, self.status,
                         self.close_wait, self.blocked, lines=list(self.lines))


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _columns(chain: ChainSpec | None, tracking: Mapping[str, Any]) -> list[str]:
    """The per-layer columns a checkpoint line of this chain and these options holds."""
    if chain is None:
        return []
    base = list(QUANTITIES) + (list(NETWORK_QUANTITIES) if chain.input_layers else [])
    cols = list(base)
    if tracking.get("exact"):
        cols += [f"exact_{q}" for q in base]
    cols += [f"est_{name}" for name in tracking.get("estimators", [])]
    return cols


# ----------------------------------------------------------------------------- writing

class RecordWriter:
    """Appends the lines of one run to memory and, with a ``path``, to its file.

    Parameters
    ----------
    path : path or None
        The record file (``.jsonl`` added). None keeps the record in memory only.
    header : dict
        Header fields (``step``, ``chain``, ``tracking``, ``config``, ``seeds``, ``units``);
        ``kind``, ``format``, ``version``, ``run`` and ``provenance`` are added.
    resume : bool
        Continue the record at ``path``: it must exist, and its chain, tracking options and
        step name must equal ``header``'s (else RecordError). A torn last line is cut off
        and a ``resume`` line appended. Without ``resume`` an existing file is an error.
    fsync : bool
        Force every line to the disk (``os.fsync``), not only to the operating system.
    """

    def __init__(self, path: str | os.PathLike | None, header: Mapping[str, Any], *,
                 resume: bool = False, fsync: bool = False):
        self.path = None if path is None else record_path(path)
        self.fsync = bool(fsync)
        self._file = None
        self.closed = False
        self.last_step: int | None = None
        if resume:
            self._resume(header)
            return
        if self.path is not None and self.path.exists():
            raise FileExistsError(f"a run record already exists at {self.path}: pass "
                                  "resume=True to continue it, or choose another path")
        self.header = {"kind": "header", "format": FORMAT, "version": VERSION,
                       "run": uuid.uuid4().hex[:16], **header, "provenance": provenance()}
        self.lines = [dumps(self.header)]
        self.n_checkpoints = 0
        if self.path is not None:
            _atomic_write(self.path, self.lines[0] + "\n")
            self._file = open(self.path, "ab")  # noqa: SIM115 -- closed in close()

    @property
    def run(self) -> str:
        return self.header["run"]

    def _resume(self, header: Mapping[str, Any]) -> None:
        if self.path is None:
            raise ValueError("resume=True needs the path of the record to continue")
        if not self.path.exists():
            raise FileNotFoundError(f"resume=True but there is no run record at {self.path}")
        raw = self.path.read_bytes()
        complete = raw[:raw.rfind(b"\n") + 1]
        rec = parse(raw.decode("utf-8"), source=str(self.path))
        for key in ("step", "chain", "tracking"):
            mine = json.loads(dumps(header.get(key)))
            theirs = rec.header.get(key)
            if theirs != mine:
                raise RecordError(f"{self.path} was written by another run configuration: its "
                                  f"{key!r} differs from this tracker's ({_diff(theirs, mine)})")
        if len(complete) < len(raw):
            with open(self.path, "r+b") as f:  # cut the torn line before appending
                f.truncate(len(complete))
        self.header, self.lines = rec.header, list(rec.lines)
        self.n_checkpoints = rec.n_checkpoints
        self.last_step = rec.last_step
        self._file = open(self.path, "ab")  # noqa: SIM115 -- closed in close()
        self.append({"kind": "resume", "n_checkpoints": self.n_checkpoints,
                     "config": header.get("config"), "seeds": header.get("seeds"),
                     "provenance": provenance()})

    def append(self, line: Mapping[str, Any]) -> None:
        """Add one event line (the run id is added)."""
        text = dumps({"kind": line["kind"], "run": self.run,
                      **{k: v for k, v in line.items() if k != "kind"}})
        self.lines.append(text)
        if line["kind"] == "checkpoint":
            self.n_checkpoints += 1
            self.last_step = line[self.header["step"]]
        if self._file is not None:
            self._file.write(text.encode("utf-8") + b"\n")
            self._file.flush()
            if self.fsync:
                os.fsync(self._file.fileno())

    def record(self) -> RunRecord:
        """The record as written so far."""
        return _Parser(self.lines, str(self.path or "record")).record()

    def close(self, status: str, *, wait: float = 0.0, blocked: float = 0.0) -> None:
        """Append the ``close`` line and close the file (once; later calls do nothing).
        ``wait``: seconds the loop waited for the last results when closing; ``blocked``:
        seconds it spent in the tracker's calls in this session, that wait included."""
        if self.closed:
            return
        self.append({"kind": "close", "status": status, "n_checkpoints": self.n_checkpoints,
                     "wait": float(wait), "blocked": float(blocked)})
        self.closed = True
        if self._file is not None:
            self._file.close()
            self._file = None


def _diff(a, b) -> str:
    """A short description of where two JSON values differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if a.get(k) != b.get(k):
                return f"{k}: {_diff(a.get(k), b.get(k))}"
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{len(a)} entries in the record, {len(b)} here"
        for k, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return f"[{k}] {_diff(x, y)}"
    return f"{a!r:.60} in the record, {b!r:.60} here"
