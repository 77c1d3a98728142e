"""The model shipped with vidpred, used by ``scripts/predict.py`` when no checkpoint is given.

``real_flow.pt`` is a flow-head generator (generator weights and config only), trained
by ``configs/real_quickstart.yaml``; how, on what, and its figures against both
baselines are in ``docs/results.md``. It is an ordinary vidpred checkpoint: every script
that takes ``--checkpoint`` reads it, with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["DEFAULT_MODEL", "default_model_path"]

DEFAULT_MODEL = "real_flow.pt"


def default_model_path() -> Path:
    """Path of the shipped model.

    Raises:
        FileNotFoundError: the file is missing from this installation.
    """
    path = Path(__file__).with_name(DEFAULT_MODEL)
    if not path.is_file():
        raise FileNotFoundError(f"the shipped model {path} is missing; reinstall vidpred or pass --checkpoint")
    return path
