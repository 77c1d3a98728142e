"""What a run writes into its directory besides checkpoints (rank 0 only)::

    config.yaml               the resolved config
    events.out.tfevents.*     TensorBoard: train/*, val/*, samples/*, the config as text
    metrics.jsonl             one line per logged step: {"step": .., losses, rates}
    validation.jsonl          one line per validation: {"step": .., "train_seconds": .., record}
    samples/step_NNNNNNN.png  context | prediction | target | error (flow_NNNNNNN.png: flow | mask)
    final_metrics.json        the last validation: {"step": .., "n_val_clips": .., "train_seconds": .., record}

A validation record (:mod:`vidpred.training.validation`) holds each method's scores under
the evaluation's names, ``{"model": {"psnr_whole_f1": .., ...}, "last input": {...}, ...,
"blend_weight": w}``; TensorBoard gets them as ``val/<method>/<key>``
(``val/model/psnr_whole_f1``). :func:`read_validation` reads a ``validation.jsonl``, older
runs' flat lines (``psnr``, ``psnr_f2``, ``baseline_psnr``, ...) included.

Each step is logged exactly once however often the run is stopped and resumed: a resumed
run drops what was logged after its checkpoint's step (it will log those steps again),
and a fresh run in a folder left without a checkpoint starts new logs. Each method
returns once what it logged is in its file (TensorBoard's events too, which the writer
otherwise leaves queued for a background thread), so a run killed right after a
checkpoint keeps everything logged up to its step.

A write the file system refuses (disk full, a folder made read-only) raises
:class:`RunLogError` with one line naming the file; the checkpoints are not touched.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import torch
import yaml
from torch.utils.tensorboard import SummaryWriter
from torchvision.utils import save_image

from vidpred._writable import unwritable_reason
from vidpred.config import Config, config_from_dict, dump_config
from vidpred.safe_write import replacing, write_text

__all__ = ["RunLog", "RunLogError", "check_run_dir", "check_new_run_dir", "final_metrics", "read_step_rows",
           "read_validation", "upgrade_validation_row"]

log = logging.getLogger(__name__)

JSONL_LOGS = ("metrics.jsonl", "validation.jsonl")


class RunLogError(OSError):
    """A run output could not be written (disk full, read-only folder)."""


@contextlib.contextmanager
def _writing(what: str | Path) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        raise RunLogError(f"cannot write {what}: {exc.strerror or exc}") from exc


def check_run_dir(run_dir: str | Path) -> None:
    """Refuse, before any data is decoded, a run folder that cannot receive the run's files.

    Raises:
        RunLogError: naming the folder and why (read-only file system, permission).
    """
    run_dir = Path(run_dir)
    for folder in (run_dir, run_dir / "checkpoints", run_dir / "samples"):
        reason = unwritable_reason(folder)
        if reason is not None:
            raise RunLogError(f"the run folder {folder} is not writable: {reason}; "
                              "choose another with --run-dir or run.out_dir")


# What a new run replaces or removes in its folder (besides checkpoints/latest.pt, which
# makes the folder a run to --resume).
_NEW_RUN_REPLACES = ("config.yaml", *JSONL_LOGS, "final_metrics.json", "split.json", "checkpoints/best.pt")


def _is_run_config(path: Path) -> bool:
    """Whether ``path`` is a ``config.yaml`` as a run writes it (the resolved config, unchanged)."""
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text)
        return isinstance(data, dict) and dump_config(config_from_dict(data)) == text
    except (OSError, UnicodeDecodeError, yaml.YAMLError, ValueError, TypeError, KeyError):
        return False


def check_new_run_dir(run_dir: str | Path) -> None:
    """Refuse, before any work, a folder for a new run that holds files at the names a run
    writes (``config.yaml``, ``metrics.jsonl``, TensorBoard events, ``samples/``...) when no vidpred run
    wrote them: the new run would replace or remove them. A folder left by a run stopped
    before its first checkpoint (its ``config.yaml`` is a run's) is started afresh.

    Raises:
        FileExistsError: naming the folder and the files.
    """
    run_dir = Path(run_dir)
    present = [name for name in _NEW_RUN_REPLACES if (run_dir / name).exists()]
    present += sorted(p.name for p in run_dir.glob("events.out.tfevents.*"))
    present += sorted(f"samples/{p.name}" for p in run_dir.glob("samples/*"))  # where the run writes its pictures
    if present and not _is_run_config(run_dir / "config.yaml"):
        raise FileExistsError(f"{run_dir} holds {', '.join(present)} that no vidpred run wrote and a new run would "
                              "replace: choose another --run-dir or run.name")


def _save_png(grid: torch.Tensor, path: Path) -> None:
    """``grid`` (3, H, W) in [0, 1] as a PNG, whole or not at all (a kill mid-write leaves
    the hidden temporary file a resumed run removes, never a truncated picture)."""
    with replacing(path) as tmp:
        save_image(grid, tmp, format="png")


def _sample_step(path: Path) -> int | None:
    """The step of a ``samples/{step,flow}_NNNNNNN.png`` a run drew; None for any other file."""
    kind, _, number = path.stem.partition("_")
    return int(number) if path.suffix == ".png" and kind in ("step", "flow") and number.isdigit() else None


def _drop_logs_after(run_dir: Path, step: int) -> None:
    """Keep only what was logged up to ``step`` (the checkpoint's); at step 0 remove every log."""
    for picture in (run_dir / "samples").glob("*.png"):  # drawn after the checkpoint (or by a run without one)
        drawn = _sample_step(picture)
        if drawn is not None and (step == 0 or drawn > step):
            picture.unlink()
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
        kept = [line for line in lines if _step_of(line) is not None and _step_of(line) <= step]
        if len(kept) != len(lines):
            write_text(path, "".join(kept))


def _after_the_last_event_file(run_dir: Path) -> None:
    """Wait, if need be, until a new event file's name sorts after those in ``run_dir``.

    TensorBoard reads a folder's event files in the order of their names, which start with
    the second they were opened in and then the host and process id: a run resumed within
    the second its killed predecessor opened its file could sort before it, and the steps
    it purges would come back from the older file, read after.
    """
    stamps = [int(p.name.split(".")[3]) for p in run_dir.glob("events.out.tfevents.*")
              if len(p.name.split(".")) > 3 and p.name.split(".")[3].isdigit()]
    now = time.time()
    if stamps and 0 <= max(stamps) - int(now) <= 1:  # not a clock set back by minutes: that is not ours to wait for
        time.sleep(max(stamps) + 1 - now)


def _step_of(line: str) -> int | None:
    """The step of a JSONL log line; None for a blank line or one cut short by a failed write."""
    try:
        return int(json.loads(line)["step"])
    except (ValueError, KeyError, TypeError):
        return None


def final_metrics(step: int, n_val_clips: int, train_seconds: float, record: dict) -> dict:
    """``final_metrics.json``: the last validation's record (each method's scores under the
    evaluation's names, and ``blend_weight``), with its step, clip count and training time."""
    return {"step": step, "n_val_clips": n_val_clips, "train_seconds": round(train_seconds, 3), **record}


# Older runs wrote flat lines: "psnr" (the model's 1st frame), "psnr_f2", "baseline_psnr" (the
# last input), "flow_*" (Farneback), "dis_*", "blend_*"; every score was of whole frames.
_OLD_PREFIXES = (("baseline_", "last input"), ("flow_", "Farneback flow (paper)"), ("dis_", "DIS flow"),
                 ("blend_", "blend"))
_OLD_METRICS = ("psnr", "ssim", "sharpness", "edges")


def upgrade_validation_row(row: dict) -> dict:
    """A ``validation.jsonl`` line in today's shape: an older run's flat line
    (``{"psnr": .., "baseline_psnr_f2": ..}``) becomes ``{"model": {"psnr_whole_f1": ..},
    "last input": {"psnr_whole_f2": ..}}``; a line in today's shape is returned as it is."""
    if any(isinstance(value, dict) for value in row.values()):
        return row
    out: dict = {}
    for key, value in row.items():
        if key in ("step", "train_seconds", "blend_weight"):
            out[key] = value
            continue
        method, rest = "model", key
        for prefix, name in _OLD_PREFIXES:
            if key.startswith(prefix):
                method, rest = name, key.removeprefix(prefix)
                break
        metric, _, frame = rest.partition("_f")
        if metric not in _OLD_METRICS or not (frame == "" or frame.isdigit()):
            out[key] = value  # not a score: keep it as it was
            continue
        out.setdefault(method, {})[f"{metric}_whole_f{frame or 1}"] = value
    return out


def read_step_rows(path: str | Path) -> list[dict]:
    """The rows of a run's JSONL log (``metrics.jsonl``, ``validation.jsonl``) in file order:
    each line that is a JSON object with a ``step``. A line cut short by a failed write (the
    run stopped mid-line) is skipped; none when the file is missing."""
    path = Path(path)
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict) and "step" in row:
            rows.append(row)
    return rows


def read_validation(path: str | Path) -> list[dict]:
    """The complete lines of a ``validation.jsonl`` (:func:`upgrade_validation_row`'s shape), in
    order; none when the file is missing. A line cut short by a failed write is skipped."""
    return [upgrade_validation_row(row) for row in read_step_rows(path)]


class RunLog:
    """Opens a run directory's logs for a run that starts (or resumed) at ``step``.

    Writes ``config.yaml``, trims the logs to ``step`` and opens the TensorBoard writer and
    the JSONL files for appending. Use it as a context manager: leaving the block closes
    the files, and a failure to close them is an error only when nothing else has failed
    (else it would hide the first error).

    Raises:
        RunLogError: from any method, when a file cannot be written.
    """

    def __init__(self, run_dir: str | Path, cfg: Config, step: int) -> None:
        self.run_dir = Path(run_dir)
        with _writing(self.run_dir / "config.yaml"):
            self.run_dir.mkdir(parents=True, exist_ok=True)
            write_text(self.run_dir / "config.yaml", dump_config(cfg))
        with _writing(f"the logs in {self.run_dir}"):
            _drop_logs_after(self.run_dir, step)
            if step:
                _after_the_last_event_file(self.run_dir)
            # purge_step hides events at and after it: the checkpoint's own step was logged
            # before the stop and is not logged again, so purge from the step after it.
            self.writer = SummaryWriter(str(self.run_dir), purge_step=step + 1 if step else None)
            # Again on resume (which may change train.steps and the intervals), at the first step it
            # trains: within the purged steps, so a run resumed twice from one checkpoint shows it once.
            self.writer.add_text("config", "```yaml\n" + dump_config(cfg) + "\n```", step + 1 if step else 0)
            self._metrics = open(self.run_dir / "metrics.jsonl", "a", encoding="utf-8")
            self._validation = open(self.run_dir / "validation.jsonl", "a", encoding="utf-8")

    def __enter__(self) -> RunLog:
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        try:
            self.close()
        except RunLogError as close_error:
            if exc_type is None:
                raise
            log.warning("%s", close_error)

    def train(self, step: int, values: dict[str, float]) -> None:
        """One logged training step: ``train/<key>`` scalars and a ``metrics.jsonl`` line."""
        with _writing(self.run_dir / "metrics.jsonl"):
            for key, value in values.items():
                self.writer.add_scalar(f"train/{key}", value, step)
            self._metrics.write(json.dumps({"step": step, **values}) + "\n")
            self._metrics.flush()
            self.writer.flush()

    def validation(self, step: int, train_seconds: float, record: dict) -> None:
        """One validation record: ``val/<method>/<key>`` scalars (``val/<key>`` for a number
        such as ``blend_weight``) and a ``validation.jsonl`` line."""
        with _writing(self.run_dir / "validation.jsonl"):
            for name, value in record.items():
                for key, number in (value.items() if isinstance(value, dict) else [(None, value)]):
                    self.writer.add_scalar(f"val/{name}" if key is None else f"val/{name}/{key}", number, step)
            self._validation.write(json.dumps({"step": step, "train_seconds": round(train_seconds, 3), **record}) + "\n")
            self._validation.flush()
            self.writer.flush()

    def _sample_file(self, kind: str, step: int) -> Path:
        return self.run_dir / "samples" / f"{kind}_{step:07d}.png"

    def has_samples(self, step: int) -> bool:
        """Whether the picture grid of ``step`` is in ``samples/``."""
        return self._sample_file("step", step).is_file()

    def samples(self, step: int, grid: torch.Tensor, motion: torch.Tensor | None = None) -> None:
        """Picture grids (3, H, W) in [0, 1] to TensorBoard and ``samples/``."""
        with _writing(self.run_dir / "samples"):
            (self.run_dir / "samples").mkdir(exist_ok=True)
            self.writer.add_image("samples/context|prediction|target|error", grid, step)
            _save_png(grid, self._sample_file("step", step))
            if motion is not None:
                self.writer.add_image("samples/flow|mask", motion, step)
                _save_png(motion, self._sample_file("flow", step))
            self.writer.flush()

    def training_on(self) -> None:
        """A finished run resumed to train on is unfinished again: its ``final_metrics.json``,
        of the earlier end, is removed (written again at the new end), so that nothing reads a
        run stopped part way as one that ended there."""
        path = self.run_dir / "final_metrics.json"
        if path.is_file():
            with _writing(path):
                path.unlink()
            log.info("removed %s, of the run's earlier end: written again at its new end", path)

    def final(self, metrics: dict) -> None:
        """Write ``final_metrics.json`` (atomically: a reader never sees half of it)."""
        with _writing(self.run_dir / "final_metrics.json"):
            write_text(self.run_dir / "final_metrics.json", json.dumps(metrics, indent=2) + "\n")

    def close(self) -> None:
        """Close every file, even when one fails; then report the first failure."""
        failure = None
        for name, close in (("metrics.jsonl", self._metrics.close), ("validation.jsonl", self._validation.close),
                            ("the TensorBoard events", self.writer.close)):
            try:
                with _writing(self.run_dir / name if name.endswith(".jsonl") else f"{name} in {self.run_dir}"):
                    close()
            except RunLogError as exc:
                failure = failure or exc
        if failure is not None:
            raise failure
