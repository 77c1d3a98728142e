"""The Python that README.md names is the one the package and its tests run on."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = (ROOT / "pyproject.toml").read_text(encoding="utf-8")

# Standard modules a Python version added: code for an older one cannot import them.
_ADDED_STANDARD_MODULES = {(3, 11): {"tomllib", "wsgiref.types"}}


def test_the_readme_s_python_runs_the_package_and_its_tests():
    """README.md's "Python 3.10 or newer" is pyproject.toml's requires-python, and no module of
    the package or of its tests imports a standard module newer than that (one test file that
    did stopped the whole suite at collection on the oldest Python)."""
    oldest = re.search(r"Python (\d+)\.(\d+) or newer", (ROOT / "README.md").read_text(encoding="utf-8"))
    assert oldest and f'requires-python = ">={oldest[1]}.{oldest[2]}"' in PYPROJECT
    newer = {name for version, names in _ADDED_STANDARD_MODULES.items()
             if version > (int(oldest[1]), int(oldest[2])) for name in names}
    wrong = []
    for path in sorted([*(ROOT / "vidpred").rglob("*.py"), *(ROOT / "tests").rglob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import) else
                     [node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
            wrong += [f"{path.relative_to(ROOT)}:{node.lineno}: {name} is not in Python {oldest[1]}.{oldest[2]}"
                      for name in names if name in newer]
    assert not wrong, "\n".join(wrong)

