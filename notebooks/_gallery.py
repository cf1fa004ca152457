"""Writing the notebooks' figures (imported by every notebook; not a notebook itself).

PNGs are written with a fixed dpi and without the date and software metadata that matplotlib
stores by default, so that redrawing the same record gives the same bytes.
"""

from __future__ import annotations

from pathlib import Path

DPI = 120


def save(fig, figdir: str, name: str) -> Path:
    """Write ``fig`` to ``<figdir>/<name>.png`` (creating the folder) and return the path."""
    path = Path(figdir) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, metadata={"Software": None})
    return path
