"""Provenance of a computed result: code version, git state, library versions, date.

Used by :mod:`midnn.sweeps` to stamp every Dataset it returns, and by the notebooks to stamp
their stored records (:func:`stamp`); the values are plain strings (or None) so that callers
can store them as netCDF attributes.
"""

from __future__ import annotations

import datetime
import importlib.metadata
import json
import platform
import subprocess
from pathlib import Path

__all__ = ["git_commit", "versions", "utc_now", "stamp"]

_PACKAGE_DIR = Path(__file__).resolve().parent
#: folders (relative to the top of the checkout) of computed outputs, not code
OUTPUT_DIRS = ("results", "figures")


def _git(args: list[str], cwd: Path) -> str | None:
    """stdout of ``git <args>`` in ``cwd`` (stripped), None when git fails or is missing."""
    try:
        out = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                             timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def git_commit(path: str | Path | None = None) -> str | None:
    """Commit of the git working tree holding ``path`` (default: the midnn package).

    Returns ``git rev-parse HEAD``, with ``-dirty`` appended when ``git status --porcelain``
    lists anything (modified, staged or untracked files) outside ``results/`` and
    ``figures/`` at the top of the checkout, or None when ``path`` is not part of a git
    checkout (an installed package, or git not available). Those two folders hold what the
    notebooks compute (:data:`OUTPUT_DIRS`): a paper-scale run rewrites them notebook after
    notebook, and the records written late in the run were made by the same code as the
    first ones, so they do not mark the code as modified.

    The package's ``__init__.py`` must be tracked by the repository found: a package
    installed into an environment that happens to live inside some other repository (an
    ignored ``.venv``) is not reported with that repository's commit.
    """
    cwd = _PACKAGE_DIR if path is None else Path(path).resolve()
    if cwd.is_file():
        cwd = cwd.parent
    if path is None and _git(["ls-files", "--error-unmatch", "--", "__init__.py"], cwd) is None:
        return None
    head = _git(["rev-parse", "HEAD"], cwd)
    if not head:
        return None
    status = _git(["status", "--porcelain", "--", ":(top)",
                   *(f":(top,exclude){d}" for d in OUTPUT_DIRS)], cwd)
    return head + ("-dirty" if status else "")


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def versions(*packages: str) -> dict[str, str | None]:
    """Versions of python and of the installed distributions ``packages`` (None: absent)."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in packages:
        out[name] = _version(name)
    return out


def utc_now() -> str:
    """The current time, ISO 8601 in UTC to the second (``2026-05-01T12:00:00+00:00``)."""
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()


def stamp(ds, config, *, seed=None, commit: str | None = None):
    """``ds`` (an xarray Dataset) with the provenance of a stored record in its attributes.

    Sets ``config`` (JSON of the mapping ``config``: the parameters that produced the
    record), ``midnn_version`` and ``git_commit``: ``commit`` when given (e.g. taken before
    a run that writes several records, so that the first record written does not mark the
    next ones ``-dirty``), else the one already there (a sweep's), else :func:`git_commit`
    now. ``versions`` (JSON), ``created`` (UTC) and ``seed`` (JSON) are added when absent
    (a sweep's own are kept); ``seed`` is replaced when given. Returns ``ds`` (modified in
    place).
    """
    from . import __version__

    attrs = ds.attrs
    attrs["config"] = json.dumps(config, sort_keys=True, default=float)
    attrs["midnn_version"] = __version__
    if commit is None:
        commit = attrs.get("git_commit") or git_commit()
    attrs["git_commit"] = commit or ""
    attrs.setdefault("versions", json.dumps(versions("numpy", "scipy", "xarray")))
    attrs.setdefault("created", utc_now())
    if seed is not None or "seed" not in attrs:
        attrs["seed"] = json.dumps(seed)
    return ds
