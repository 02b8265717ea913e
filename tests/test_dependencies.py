"""Every declared dependency earns its place: it is imported by the package, where it is the
natural tool (issue 18). A dependency that nothing imports fails here, and so does an import
of a third-party package that pyproject.toml does not declare.

diffprivlib was declared by privsynth 0.1 and never imported; it was dropped in 0.2 (its
floating-point mechanisms are weaker than the exact integer samplers of
privsynth.mechanisms, it pinned scikit-learn below 1.9, and it installs a top-level
``tests`` package that shadows other projects' test helpers). The samplers are checked
against exact probability mass functions instead (tests/test_mechanisms.py).
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "privsynth"
#: distribution name -> the module it provides
MODULE_OF = {"numpy": "numpy", "pandas": "pandas", "scipy": "scipy", "networkx": "networkx",
             "scikit-learn": "sklearn", "dp-accounting": "dp_accounting", "torch": "torch",
             "opacus": "opacus", "pyarrow": "pyarrow", "dask": "dask",
             "distributed": "distributed", "threadpoolctl": "threadpoolctl"}
#: declared but not imported by the package, on purpose
NOT_IMPORTED = {
    # the cluster client users start before fitting on Dask (docs/scale.md); the backend
    # counts on whatever scheduler is active and never imports it
    "distributed",
}


def _imported_modules() -> set[str]:
    found: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
    return found


def _declared(extra: str | None) -> list[str]:
    """Distribution names declared in pyproject.toml (core, or one extra)."""
    import tomllib

    project = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())["project"]
    reqs = project["dependencies"] if extra is None else \
        project["optional-dependencies"][extra]
    names = [re.match(r"[A-Za-z0-9_.\-]+", r).group(0).lower()  # type: ignore[union-attr]
             for r in reqs]
    return [n for n in names if not n.startswith("privsynth")]


def test_every_core_dependency_is_imported_by_the_package() -> None:
    imported = _imported_modules()
    unused = [d for d in _declared(None) if MODULE_OF.get(d, d) not in imported]
    assert not unused, f"declared in pyproject.toml but never imported: {unused}"


def test_every_extra_dependency_is_imported_by_the_package() -> None:
    imported = _imported_modules()
    for extra in ("gan", "parquet", "dask"):
        unused = [d for d in _declared(extra)
                  if MODULE_OF.get(d, d) not in imported and d not in NOT_IMPORTED]
        assert not unused, f"extra {extra!r} declares {unused} which nothing imports"


def test_every_third_party_import_is_declared() -> None:
    declared = {MODULE_OF.get(d, d) for e in (None, "gan", "parquet", "dask")
                for d in _declared(e)}
    stdlib = set(sys.stdlib_module_names)
    third_party = {m for m in _imported_modules() if m not in stdlib and m != "privsynth"}
    undeclared = sorted(third_party - declared)
    assert not undeclared, f"imported but not declared in pyproject.toml: {undeclared}"


def test_diffprivlib_is_gone() -> None:
    assert "diffprivlib" not in _declared(None)
    assert "diffprivlib" not in _imported_modules()
