#!/usr/bin/env python
"""Check that every jupytext notebook source has an in-sync paired ``.ipynb``.

For each ``DIR/*.py`` (files named ``_*.py`` are helpers and skipped) there must be a
``DIR/*.ipynb`` next to it, and the lists of ``(cell_type, source.strip(), sorted(tags))``
read by ``jupytext.read`` from both files must be equal.  Outputs, execution counts and
other metadata are ignored.  An ``.ipynb`` without a ``.py`` is an error too.

Usage: ``python tools/check_pairs.py [DIR ...]`` (default: ``notebooks``).
Exit status 0 when all pairs are in sync, 1 otherwise.

This replaces ``jupytext --diff`` (exits 0 on differences) and ``jupytext --sync`` +
``git diff`` (mtime-based false alarms on a fresh clone) as a CI gate.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

import jupytext

Cell = tuple[str, str, list[str]]


def cells(path: Path) -> list[Cell]:
    """The comparable content of a notebook: one (type, stripped source, tags) per cell."""
    nb = jupytext.read(path)
    return [
        (cell.cell_type, cell.source.strip(), sorted(cell.get("metadata", {}).get("tags", [])))
        for cell in nb.cells
    ]


def render(cell_list: list[Cell]) -> list[str]:
    """A line-oriented rendering of a cell list, for readable diffs."""
    lines: list[str] = []
    for i, (kind, source, tags) in enumerate(cell_list):
        header = f"--- cell {i}: {kind}"
        if tags:
            header += f" tags={tags}"
        lines.append(header)
        lines.extend(source.splitlines() or [""])
    return lines


def check_pair(py: Path, ipynb: Path) -> list[str]:
    """Problems found for one pair, one (possibly multi-line) message each; empty if in sync."""
    if not ipynb.exists():
        return [f"{py}: no paired {ipynb.name} (run `make sync`)"]
    try:
        a, b = cells(py), cells(ipynb)
    except Exception as exc:  # unreadable file: report, do not crash the gate
        return [f"{py} / {ipynb}: cannot read: {type(exc).__name__}: {exc}"]
    if a == b:
        return []
    first = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y),
                 min(len(a), len(b)))
    msg = [
        f"{py} and {ipynb.name} differ: {len(a)} vs {len(b)} cells, first difference at "
        f"cell {first} (run `make sync`, or `make notebooks` to re-execute)"
    ]
    diff = difflib.unified_diff(render(b), render(a), fromfile=str(ipynb), tofile=str(py),
                                lineterm="", n=2)
    msg.extend("    " + line for line in diff)
    return ["\n".join(msg)]


def check_dir(directory: Path) -> tuple[int, list[str]]:
    """Number of pairs checked and problems found in one directory."""
    problems: list[str] = []
    sources = sorted(p for p in directory.glob("*.py") if not p.name.startswith("_"))
    for py in sources:
        problems.extend(check_pair(py, py.with_suffix(".ipynb")))
    stems = {p.stem for p in sources}
    for ipynb in sorted(directory.glob("*.ipynb")):
        if ipynb.stem not in stems:
            problems.append(f"{ipynb}: no paired {ipynb.stem}.py (notebooks are authored as "
                            "py:percent; run `jupytext --set-formats ipynb,py:percent` on it)")
    return len(sources), problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dirs", nargs="*", type=Path, default=[Path("notebooks")],
                        help="directories holding the pairs (default: notebooks)")
    args = parser.parse_args(argv)

    n_pairs, problems = 0, []
    for directory in args.dirs:
        if not directory.is_dir():
            problems.append(f"{directory}: not a directory")
            continue
        n, found = check_dir(directory)
        n_pairs += n
        problems.extend(found)

    if problems:
        print("\n".join(problems), file=sys.stderr)
        print(f"check_pairs: FAILED ({len(problems)} problem(s), {n_pairs} .py file(s) checked)",
              file=sys.stderr)
        return 1
    print(f"check_pairs: {n_pairs} pairs in sync")
    return 0


if __name__ == "__main__":
    sys.exit(main())
