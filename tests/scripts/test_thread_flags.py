"""Every script that takes --threads refuses 0 or a negative count in one line, exit code 2,
before it starts anything (eval_ucf101.py's own test is in test_eval_ucf101.py)."""

from __future__ import annotations

import importlib.util
import importlib
import logging

import pytest


def _main(name, argv):
    return importlib.import_module(f"vidpred.commands.{name}").main([*map(str, argv)])


@pytest.mark.parametrize("threads", [0, -2])
@pytest.mark.parametrize("script", ["run_ablations", "time_to_quality"])
def test_threads_below_one(script, threads, tmp_path, caplog):
    argv = {
        "run_ablations": ["--out", tmp_path / "out", "--threads", threads],
        "time_to_quality": ["--run", "configs/quickstart.yaml", "--runs", tmp_path / "runs", "--out",
                            tmp_path / "curves.png", "--threads", threads],
    }[script]
    assert _main(script, argv) == 2
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "--threads" in errors[0] and "\n" not in errors[0]
    assert list(tmp_path.iterdir()) == []  # nothing started
