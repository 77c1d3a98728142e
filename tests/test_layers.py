"""The package's imports run one way (docs/design.md, "Package layers").

Every module's import statements are read with ``ast`` (so imports inside functions count
too) and each ``vidpred`` import is checked against the layer table below: a module may
import its own layer or a lower one, never a higher one.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import vidpred

PACKAGE_ROOT = Path(vidpred.__file__).parent

# Lowest first. A module's layer is that of its longest listed prefix.
LAYERS: list[set[str]] = [
    {"vidpred", "vidpred._progress", "vidpred.checkpoint"},
    {"vidpred.models"},
    # the config and what of it may change on resume; its checks ask the networks what patch sizes and layers they take
    {"vidpred.config", "vidpred.config_resume", "vidpred._config_checks"},
    {"vidpred.data", "vidpred.losses", "vidpred.metrics"},
    {"vidpred.adversaries"},
    {"vidpred.build"},
    {"vidpred.evaluation"},
    {"vidpred.training"},
    {"vidpred.benchmark"},
    {"vidpred.commands", "vidpred.api"},  # the command-line programs and the Python one
]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(source: str, name: str, is_package: bool = False) -> set[str]:
    """Absolute names of the ``vidpred`` modules (or names in them) that module ``name`` imports."""
    package = name if is_package else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            # `from vidpred import checkpoint` imports the submodule vidpred.checkpoint
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return {n for n in found if n == "vidpred" or n.startswith("vidpred.")}


def _layer(name: str) -> int:
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        prefix = ".".join(parts[:n])
        for level, members in enumerate(LAYERS):
            if prefix in members:
                return level
    raise KeyError(name)


def _graph() -> dict[str, set[str]]:
    return {_module_name(p): _imports(p.read_text(), _module_name(p), p.name == "__init__.py")
            for p in sorted(PACKAGE_ROOT.rglob("*.py"))}


def _imports_under(graph: dict[str, set[str]], importer: str, imported: str) -> list[str]:
    """``importer`` modules (the module or its package) that import anything under ``imported``."""
    return sorted(
        f"{module} imports {target}"
        for module, targets in graph.items()
        if module == importer or module.startswith(importer + ".")
        for target in targets
        if target == imported or target.startswith(imported + ".")
    )


def test_the_reader_sees_every_form_of_import():
    source = (
        "import os\n"
        "import vidpred.training.trainer as t\n"
        "from vidpred import checkpoint\n"
        "from vidpred.build import build_generator\n"
        "from . import validation\n"
        "from ..data import stream\n"
        "def later():\n"
        "    from vidpred.evaluation.runner import evaluate\n"
    )
    assert _imports(source, "vidpred.training.monitor") == {
        "vidpred.training.trainer", "vidpred", "vidpred.checkpoint", "vidpred.build", "vidpred.build.build_generator",
        "vidpred.training", "vidpred.training.validation", "vidpred.data", "vidpred.data.stream",
        "vidpred.evaluation.runner", "vidpred.evaluation.runner.evaluate",
    }
    # And the real package has the edges the layers are about.
    assert _imports_under(_graph(), "vidpred.training", "vidpred.build")


def test_every_module_has_a_layer():
    graph = _graph()
    unplaced = []
    for module in graph:
        try:
            _layer(module)
        except KeyError:
            unplaced.append(module)
    assert not unplaced, f"add these to LAYERS (and docs/design.md): {unplaced}"


@pytest.mark.parametrize(
    "importer, imported",
    [
        ("vidpred.build", "vidpred.training"),
        ("vidpred.evaluation", "vidpred.training"),
        ("vidpred.adversaries", "vidpred.build"),
        ("vidpred.adversaries", "vidpred.training"),
    ],
)
def test_named_cycles_stay_broken(importer, imported):
    assert not _imports_under(_graph(), importer, imported)


def test_no_module_imports_a_higher_layer():
    upward = [
        f"{module} (layer {_layer(module)}) imports {target} (layer {_layer(target)})"
        for module, targets in _graph().items()
        for target in sorted(targets)
        if _layer(target) > _layer(module)
    ]
    assert not upward, "\n".join(upward)



def _module_map() -> list[tuple[list[Path], str]]:
    """docs/design.md's "Where things live": each table, with the package folders its
    heading names (the package's root when it names none)."""
    text = (PACKAGE_ROOT.parent / "docs" / "design.md").read_text(encoding="utf-8")
    section = text.split("\n## Where things live\n", 1)[1].split("\n## ", 1)[0]
    tables = []
    for block in section.split("\n**")[1:]:
        heading, _, body = block.partition("\n")
        folders = [PACKAGE_ROOT / name for name in re.findall(r"`(\w+)/`", heading)] or [PACKAGE_ROOT]
        tables.append((folders, body))
    return tables


def test_the_module_map_lists_every_module_and_only_modules_that_exist():
    tables = _module_map()
    mapped = {folder for folders, _ in tables for folder in folders}
    packages = {p.parent for p in PACKAGE_ROOT.rglob("*.py") if p.name != "__init__.py"}
    assert mapped == packages, "a package without its table, or a table without its package"
    missing, stale = [], []
    for folders, body in tables:
        files = {f"{folder.name}/{p.name}" for folder in folders for p in folder.glob("*.py") if p.name != "__init__.py"}
        listed, folder = set(), folders[0].name
        for name in re.findall(r"`((?:\w+/)?\w+\.py)`", body):  # a bare name is in the folder of the name before
            folder, _, file = name.rpartition("/") if "/" in name else (folder, "/", name)
            listed.add(f"{folder}/{file}")
        missing += sorted(files - listed)
        stale += sorted(listed - files)
    assert not missing, f"add to docs/design.md, 'Where things live': {missing}"
    assert not stale, f"in docs/design.md, 'Where things live', but not in the package: {stale}"
