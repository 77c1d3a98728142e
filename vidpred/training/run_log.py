"""What a run writes into its directory besides checkpoints (rank 0 only)::

    config.yaml               the resolved config
    events.out.tfevents.*     TensorBoard: train/*, val/*, samples/*, the config as text
    metrics.jsonl             one line per logged step: {"step": .., losses, rates}
    validation.jsonl          one line per validation: {"step": .., "train_seconds": .., scores}
    samples/step_NNNNNNN.png  context | prediction | target | error (flow_NNNNNNN.png: flow | mask)
    final_metrics.json        the last validation, the model's scores apart from the baselines'

Each step is logged exactly once however often the run is stopped and resumed: a resumed
run drops what was logged after its checkpoint's step (it will log those steps again),
and a fresh run in a folder left without a checkpoint starts new logs.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import torch
from torch.utils.tensorboard import SummaryWriter
from torchvision.utils import save_image

from vidpred.config import Config, dump_config

__all__ = ["RunLog", "final_metrics"]

log = logging.getLogger(__name__)

JSONL_LOGS = ("metrics.jsonl", "validation.jsonl")


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _drop_logs_after(run_dir: Path, step: int) -> None:
    """Keep only what was logged up to ``step`` (the checkpoint's); at step 0 remove every log."""
    if step == 0:
        stale = [*run_dir.glob("events.out.tfevents.*"), *(run_dir / n for n in JSONL_LOGS if (run_dir / n).exists())]
        if stale:
            log.info("%s holds logs of a run without a checkpoint: starting new logs", run_dir)
        for path in stale:
            path.unlink()
        return
    for name in JSONL_LOGS:
        path = run_dir / name
        if not path.exists():
            continue
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        kept = [line for line in lines if line.strip() and json.loads(line)["step"] <= step]
        if len(kept) != len(lines):
            _write_atomic(path, "".join(kept))


def final_metrics(step: int, n_val_clips: int, train_seconds: float, scores: dict[str, float]) -> dict:
    """The last validation's scores split into the model's and each baseline's
    (``baseline_*`` is the last-input baseline, ``flow_*`` the optical-flow one)."""
    return {
        "step": step,
        "n_val_clips": n_val_clips,
        "train_seconds": round(train_seconds, 3),
        "model": {k: v for k, v in scores.items() if not k.startswith(("baseline_", "flow_"))},
        "last_input_baseline": {k.removeprefix("baseline_"): v for k, v in scores.items() if k.startswith("baseline_")},
        "flow_baseline": {k.removeprefix("flow_"): v for k, v in scores.items() if k.startswith("flow_")},
    }


class RunLog:
    """Opens a run directory's logs for a run that starts (or resumed) at ``step``.

    Writes ``config.yaml``, trims the logs to ``step`` and opens the TensorBoard writer and
    the JSONL files for appending; use as a context manager (or call :meth:`close`).
    """

    def __init__(self, run_dir: str | Path, cfg: Config, step: int) -> None:
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / "config.yaml").write_text(dump_config(cfg), encoding="utf-8")
        _drop_logs_after(self.run_dir, step)
        # purge_step hides events at and after it: the checkpoint's own step was logged
        # before the stop and is not logged again, so purge from the step after it.
        self.writer = SummaryWriter(str(self.run_dir), purge_step=step + 1 if step else None)
        if step == 0:
            self.writer.add_text("config", "```yaml\n" + dump_config(cfg) + "\n```", 0)
        self._metrics = open(self.run_dir / "metrics.jsonl", "a", encoding="utf-8")
        self._validation = open(self.run_dir / "validation.jsonl", "a", encoding="utf-8")

    def __enter__(self) -> RunLog:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def train(self, step: int, values: dict[str, float]) -> None:
        """One logged training step: ``train/<key>`` scalars and a ``metrics.jsonl`` line."""
        for key, value in values.items():
            self.writer.add_scalar(f"train/{key}", value, step)
        self._metrics.write(json.dumps({"step": step, **values}) + "\n")
        self._metrics.flush()

    def validation(self, step: int, train_seconds: float, scores: dict[str, float]) -> None:
        """One validation: ``val/<key>`` scalars and a ``validation.jsonl`` line."""
        for key, value in scores.items():
            self.writer.add_scalar(f"val/{key}", value, step)
        self._validation.write(json.dumps({"step": step, "train_seconds": round(train_seconds, 3), **scores}) + "\n")
        self._validation.flush()

    def samples(self, step: int, grid: torch.Tensor, motion: torch.Tensor | None = None) -> None:
        """Picture grids (3, H, W) in [0, 1] to TensorBoard and ``samples/``."""
        (self.run_dir / "samples").mkdir(exist_ok=True)
        self.writer.add_image("samples/context|prediction|target|error", grid, step)
        save_image(grid, self.run_dir / "samples" / f"step_{step:07d}.png")
        if motion is not None:
            self.writer.add_image("samples/flow|mask", motion, step)
            save_image(motion, self.run_dir / "samples" / f"flow_{step:07d}.png")

    def final(self, metrics: dict) -> None:
        """Write ``final_metrics.json`` (atomically: a reader never sees half of it)."""
        _write_atomic(self.run_dir / "final_metrics.json", json.dumps(metrics, indent=2) + "\n")

    def close(self) -> None:
        self._metrics.close()
        self._validation.close()
        self.writer.close()
