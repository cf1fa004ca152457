"""pyproject.toml, environment.yml and constraints.txt describe the same environment.

Adding a dependency (or changing a lower bound) in one file only makes these tests fail.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]
PROJECT = "midnn"
OPTIONAL_GROUPS = ("notebooks", "test")

# conda-forge name -> PyPI name, where they differ (after normalisation).
CONDA_TO_PYPI = {
    "pytorch": "torch",
    "pytorch-cpu": "torch",
    "pytorch-gpu": "torch",
    "py-yaml": "pyyaml",
}
# conda packages that are the environment itself, not project dependencies.
CONDA_ONLY = {"python", "pip"}

_CONDA_SPEC = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*?)\s*$")


def normalize(name: str) -> str:
    """PEP 503 normalised name, with conda names mapped to their PyPI equivalent."""
    name = re.sub(r"[-_.]+", "-", name).lower()
    return CONDA_TO_PYPI.get(name, name)


@pytest.fixture(scope="module")
def pyproject() -> dict:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)


@pytest.fixture(scope="module")
def environment() -> dict:
    with open(ROOT / "environment.yml", encoding="utf-8") as f:
        return yaml.safe_load(f)


@pytest.fixture(scope="module")
def pip_requirements(pyproject) -> dict[str, Requirement]:
    """Runtime dependencies plus the notebooks and test extras, without self-references."""
    project = pyproject["project"]
    groups = project.get("optional-dependencies", {})
    missing = set(OPTIONAL_GROUPS) - set(groups)
    assert not missing, f"pyproject.toml lacks the extras {sorted(missing)}"
    lines = list(project["dependencies"])
    for group in OPTIONAL_GROUPS:
        lines += groups[group]
    reqs: dict[str, Requirement] = {}
    for line in lines:
        req = Requirement(line)
        name = normalize(req.name)
        if name == PROJECT:  # "midnn[notebooks]" in the test extra
            continue
        assert name not in reqs, f"{name} listed twice in pyproject.toml"
        reqs[name] = req
    return reqs


@pytest.fixture(scope="module")
def conda_specs(environment) -> dict[str, str]:
    """conda dependencies (normalised PyPI name -> version spec), python and pip excluded."""
    specs: dict[str, str] = {}
    for dep in environment["dependencies"]:
        if isinstance(dep, dict):  # the pip: section, checked separately
            continue
        match = _CONDA_SPEC.match(str(dep))
        assert match, f"cannot parse conda spec {dep!r}"
        raw, spec = match.groups()
        if raw.lower() in CONDA_ONLY:
            continue
        name = normalize(raw)
        assert name not in specs, f"{name} listed twice in environment.yml"
        specs[name] = spec
    return specs


def test_same_packages(pip_requirements, conda_specs):
    only_pip = sorted(set(pip_requirements) - set(conda_specs))
    only_conda = sorted(set(conda_specs) - set(pip_requirements))
    assert not only_pip and not only_conda, (
        f"only in pyproject.toml: {only_pip}; only in environment.yml: {only_conda}")


def test_same_lower_bounds(pip_requirements, conda_specs):
    """A bound written in either file must be written identically in the other."""
    mismatched = {
        name: (str(req.specifier), conda_specs[name])
        for name, req in pip_requirements.items()
        if name in conda_specs
        and SpecifierSet(conda_specs[name].replace(" ", "")) != req.specifier
    }
    assert not mismatched, f"version specs differ (pyproject, environment.yml): {mismatched}"


def test_environment_header(environment, pyproject):
    assert environment["name"] == PROJECT
    assert environment["channels"] == ["conda-forge"]
    python = [d for d in environment["dependencies"]
              if isinstance(d, str) and _CONDA_SPEC.match(d).group(1) == "python"]
    assert len(python) == 1, "environment.yml must pin python exactly once"
    version = python[0].split("=", 1)[1].lstrip("=")
    requires = SpecifierSet(pyproject["project"]["requires-python"])
    assert Version(version) in requires, f"python={version} violates requires-python {requires}"
    assert "pip" in environment["dependencies"], "the pip: section needs pip itself"
    pip_sections = [d["pip"] for d in environment["dependencies"] if isinstance(d, dict)]
    assert pip_sections == [["-e ."]], "environment.yml must install the project with pip -e ."


def test_torch_unpinned_in_pyproject(pip_requirements):
    torch = pip_requirements["torch"]
    specs = list(torch.specifier)
    assert len(specs) == 1 and specs[0].operator == ">=", (
        f"pyproject.toml must require an unpinned torch>=X (pin it in constraints.txt), "
        f"got {torch}")


def test_constraints_pin_cpu_torch(pip_requirements):
    lines = [line.split("#", 1)[0].strip()
             for line in (ROOT / "constraints.txt").read_text().splitlines()]
    lines = [line for line in lines if line]
    assert "torch==2.13.0" in lines, f"constraints.txt must pin torch==2.13.0, has {lines}"
    pinned = Version("2.13.0")
    assert pinned in pip_requirements["torch"].specifier, (
        "the torch pin in constraints.txt violates the requirement in pyproject.toml")
    for line in lines:
        assert normalize(Requirement(line).name) in pip_requirements, (
            f"constraints.txt constrains {line!r}, which is not a dependency")


# import name -> distribution, where they differ
IMPORT_TO_DIST = {"yaml": "pyyaml"}
# distributions midnn needs without importing them: the netCDF engine xarray loads by name
LOADED_BY_NAME = {"h5netcdf", "h5py"}


def _third_party_imports(package: Path) -> set[str]:
    import ast

    stdlib = set(sys.stdlib_module_names)
    found = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in stdlib and top not in ("__future__", PROJECT):
                    found.add(normalize(IMPORT_TO_DIST.get(top, top)))
    return found


def test_runtime_dependencies_are_what_midnn_imports(pyproject):
    declared = {normalize(Requirement(line).name) for line in pyproject["project"]["dependencies"]}
    imported = _third_party_imports(ROOT / PROJECT)
    assert declared - LOADED_BY_NAME == imported, (
        f"declared but not imported: {sorted(declared - LOADED_BY_NAME - imported)}; "
        f"imported but not declared: {sorted(imported - declared)}")


def test_core_imports_without_torch():
    """import midnn and a replica solve load neither torch nor the plotting stack."""
    import subprocess

    code = ("import sys, midnn; from midnn import Model, Layer, replica; "
            "from midnn.priors import Gaussian; from midnn.activations import ReLU; "
            "from midnn.spectra import MarchenkoPastur; "
            "replica(Model(Gaussian(), [Layer(MarchenkoPastur(1.5), ReLU(1e-3))])); "
            "print(sorted(m for m in ('torch', 'matplotlib', 'pandas', 'dask') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
