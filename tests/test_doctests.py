"""The runnable examples in vidpred's docstrings run and print what they say.

The same as ``python -m pytest --doctest-modules vidpred``, inside the default test run.
"""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

import vidpred

PACKAGE = Path(vidpred.__file__).parent
MODULES = sorted(
    ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    for path in PACKAGE.rglob("*.py")
    if ">>>" in path.read_text(encoding="utf-8")
)


def test_there_are_examples():
    assert len(MODULES) >= 10


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, capsys):
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted and not result.failed, capsys.readouterr().out
