"""Imports flow one way: base ← theory ← simulators ← analysis ← paper_figures, benchmarks ← CLI.

Every ``import``/``from ... import`` in the package's source (at module level or inside a
function), and every ``importlib.import_module``/``__import__`` of a literal name, is read
from the syntax tree and resolved to a module of ``selfconsume``; an import from a higher
layer, a sibling top layer, or (inside analysis) from the registry into the catalogue fails
the test with the file and line. ``ARCHITECTURE.md`` explains the layers.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Source folder -> package, as mapped in pyproject.toml.
FOLDERS = {
    "selfconsume": "selfconsume",
    "theory": "selfconsume.theory",
    "simulators": "selfconsume.simulators",
    "analysis": "selfconsume.analysis",
    "paper_figures": "selfconsume.paper_figures",
    "benchmarks": "selfconsume.benchmarks",
}

#: Layer of each package; a module may import its own layer and those below it.
RANK = {
    "base": 0,            # selfconsume._validation, selfconsume._parallel
    "theory": 1,
    "simulators": 2,
    "analysis": 3,
    "paper_figures": 4,
    "benchmarks": 4,
    "cli": 5,
}

#: Inside analysis: the registry and the statistics below the catalogue, the runner and the tables.
ANALYSIS_FOUNDATION = ("selfconsume.analysis._registry", "selfconsume.analysis._stats",
                       "selfconsume.analysis._cache")
ANALYSIS_UPPER = ("selfconsume.analysis.claims", "selfconsume.analysis.tables", "selfconsume.analysis._verify")


def layer(module: str) -> str | None:
    """The layer of a ``selfconsume`` module name (None for outside modules)."""
    parts = module.split(".")
    if parts[0] != "selfconsume":
        return None
    if len(parts) == 1:
        return "base"
    if parts[1] == "cli":
        return "cli"
    if parts[1] in RANK:
        return parts[1]
    return "base"


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT)
    pkg = FOLDERS[rel.parts[0]]
    tail = [p for p in rel.with_suffix("").parts[1:] if p != "__init__"]
    return ".".join([pkg, *tail])


def source_files():
    for folder in FOLDERS:
        yield from sorted((ROOT / folder).rglob("*.py"))


def _resolve(importer: str, is_package: bool, level: int, module: str | None) -> str:
    if level == 0:
        return module or ""
    base = importer.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, module] if module else base)


def imports_of(source: str, importer: str, is_package: bool = False):
    """Yield ``(line, imported module)`` for every import in ``source`` (module ``importer``)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield node.lineno, a.name
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(importer, is_package, node.level, node.module)
            yield node.lineno, target
            for a in node.names:  # `from selfconsume import theory` imports the subpackage
                if a.name != "*":
                    yield node.lineno, f"{target}.{a.name}"
        elif isinstance(node, ast.Call):
            fn = node.func
            name = fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", "")
            if name in ("import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant):
                yield node.lineno, str(node.args[0].value)


def violations(source: str, importer: str, is_package: bool = False, where: str = "<string>") -> list[str]:
    """The one-way rules, applied to one module's source."""
    own = layer(importer)
    out = []
    for line, target in imports_of(source, importer, is_package):
        tl = layer(target)
        if tl is None or own is None:
            continue
        msg = f"{where}:{line}: {importer} ({own}) imports {target} ({tl})"
        if RANK[tl] > RANK[own]:
            out.append(msg + ": upward import")
        elif RANK[tl] == RANK[own] and tl != own:
            out.append(msg + ": sibling top layers stay independent")
        elif (importer.startswith(ANALYSIS_FOUNDATION)
              and target.startswith(ANALYSIS_UPPER)):
            out.append(msg + ": the registry and statistics import no claim, table or runner")
    return out


def test_every_source_file_is_checked():
    files = list(source_files())
    names = {module_name(f) for f in files}
    assert len(files) >= 60
    assert {"selfconsume.theory", "selfconsume.analysis._registry", "selfconsume.analysis.claims.gaussian",
            "selfconsume.simulators._curation_kernels", "selfconsume.cli"} <= names


def test_imports_flow_one_way():
    bad = []
    for f in source_files():
        bad += violations(f.read_text(), module_name(f), f.name == "__init__.py", str(f.relative_to(ROOT)))
    assert not bad, "imports against the layering:\n" + "\n".join(bad)


@pytest.mark.parametrize("importer, source, what", [
    ("selfconsume.theory._curation_operator", "from selfconsume.simulators import _curation_kernels\n", "upward"),
    ("selfconsume.theory._gaussian", "def f():\n    from ..simulators import simulate_gaussian\n", "upward"),
    ("selfconsume.simulators._gaussian", "import selfconsume.analysis._stats\n", "upward"),
    ("selfconsume.analysis.claims.gaussian", "from selfconsume import paper_figures\n", "upward"),
    ("selfconsume.analysis._verify", "import importlib\nimportlib.import_module('selfconsume.benchmarks')\n",
     "upward"),
    ("selfconsume.benchmarks._run", "from selfconsume.paper_figures import set_style\n", "sibling"),
    ("selfconsume._validation", "from selfconsume.theory import alpha\n", "upward"),
    ("selfconsume.analysis._registry", "from . import claims\n", "registry"),
    ("selfconsume.analysis._registry", "from .claims.gaussian import _alpha_law\n", "registry"),
])
def test_a_new_upward_import_is_caught(importer, source, what):
    found = violations(source, importer)
    assert len(found) >= 1 and what in found[0], found


@pytest.mark.parametrize("importer, source", [
    ("selfconsume.simulators._curation_kernels", "from selfconsume.theory._curation_kernels import log_h_levels\n"),
    ("selfconsume.analysis.claims.gaussian", "from .._registry import Comparison\nfrom selfconsume import theory\n"),
    ("selfconsume.cli", "from selfconsume.paper_figures import get_figure\nfrom selfconsume.benchmarks import x\n"),
    ("selfconsume.theory._laws", "from scipy import stats\nfrom ._quadrature import _Law\n"),
])
def test_downward_imports_are_allowed(importer, source):
    assert violations(source, importer) == []


def test_torch_is_imported_by_the_adapter_only():
    """torch is optional: only ``simulators/torch.py`` imports it (lazily); everything else goes through it."""
    bad = []
    for f in source_files():
        for line, target in imports_of(f.read_text(), module_name(f), f.name == "__init__.py"):
            if (target == "torch" or target.startswith("torch.")) and f != ROOT / "simulators" / "torch.py":
                bad.append(f"{f.relative_to(ROOT)}:{line}: imports {target}")
    assert not bad, "torch imported outside the adapter:\n" + "\n".join(bad)
