"""The run folder: which one a run may write to, and what a resumed run finds there.

A run folder is refused before any data is decoded (:func:`check_run_folder`): one inside a
folder data source's root, one another process trains into, a new run over an old one, a
resume without a readable training checkpoint, or one whose config or step does not fit.
The folder is claimed (:func:`claim_run_folder`) before anything is written there, and
refused then too if another run has written its ``checkpoints/latest.pt`` in the meantime.

A resumed run continues in the precision it trained in (:func:`resumed_precision`), and
once its logs end at the resumed step, ``checkpoints/best.pt`` is made the checkpoint of
the best row of ``validation.jsonl`` (:func:`align_best`). What a run writes there besides
checkpoints is :mod:`vidpred.training.run_log`'s.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import torch

from vidpred.checkpoint import load_checkpoint
from vidpred.config import Config, ConfigError
from vidpred.config_resume import check_resumable
from vidpred.safe_write import same_file
from vidpred.training.precision import resolve_precision
from vidpred.training.run_lock import RunLock, RunLocked
from vidpred.training.run_log import RunLogError, check_new_run_dir, check_run_dir, read_validation
from vidpred.training.validation import BEST_KEY, MODEL

__all__ = ["align_best", "check_outside_data", "check_run_folder", "claim_run_folder", "file_identity",
           "read_resume_state", "resumed_precision", "validation_rows"]

log = logging.getLogger(__name__)

# What a checkpoint written by Trainer.save holds besides the networks' entries.
_RESUME_KEYS = ("step", "best_psnr", "config", "rng", "generator", "opt_g")


def _latest(run_dir: Path) -> Path:
    return run_dir / "checkpoints" / "latest.pt"


def check_outside_data(run_dir: Path, cfg: Config) -> None:
    """Refuse a run folder in (or at) a folder data source's root: its sample images and
    logs would be listed as videos there, trained on by later runs and scored."""
    if cfg.data.source != "folder" or cfg.data.root is None:
        return
    # Asked of the disk, not of the spelling: on macOS and Windows "Data" and "data" are one
    # folder, and a bind mount shows one folder at two paths.
    run = run_dir.resolve()
    if any(same_file(folder, cfg.data.root) for folder in (run, *run.parents)):
        raise ConfigError(f"the run folder {run_dir} is inside data.root {cfg.data.root}: its samples would be read as "
                          "videos there; choose a run folder outside it (--run-dir or run.out_dir)")


def _before_first_checkpoint(best: Path) -> bool:
    """Whether ``best`` was kept before its run's first ``latest.pt``: under torchrun a new
    best is written at its validation and latest.pt only at the next checkpoint step, so a
    run killed in between leaves it alone (a run stopped before its first checkpoint)."""
    try:
        state = load_checkpoint(best)
        return int(state["step"]) < int(state["config"]["train"]["ckpt_every"])
    except (ValueError, KeyError, TypeError):
        return False


def check_run_folder(run_dir: Path, cfg: Config, *, resume: bool) -> dict | None:
    """Refuse the run folder now, before the data is decoded: one in use, a new run over
    an old one, a resume without a checkpoint, or one whose config or step does not fit.
    Under torchrun the main process alone asks (it alone writes there;
    :func:`~vidpred.training.distributed.main_decides`), and the others read the
    checkpoint it checked with :func:`read_resume_state`.

    Returns:
        The checkpoint to resume from, or None for a new run.
    """
    latest = _latest(run_dir)
    if not run_dir.is_dir():  # not in use: whether it can be made (a file in its place cannot)
        check_run_dir(run_dir)
    RunLock(run_dir).check_free()  # first: a folder in use is the news, not what it holds
    if resume and not latest.is_file():
        raise FileNotFoundError(f"cannot resume: no checkpoint at {latest}")
    if not resume and latest.is_file():
        raise FileExistsError(f"{run_dir} already holds a run; pass --resume to continue it or "
                              "choose another --run-dir or run.name")
    check_run_dir(run_dir)  # now, not after decoding the data and training
    if not resume:
        # Only a run stopped before its first checkpoint starts afresh: a best.pt or final
        # metrics left without latest.pt are a trained run's (latest.pt deleted to save space).
        kept = [name for name in ("checkpoints/best.pt", "final_metrics.json") if (run_dir / name).exists()
                and not (name == "checkpoints/best.pt" and _before_first_checkpoint(run_dir / name))]
        if kept:
            raise FileExistsError(f"{run_dir} holds a trained run ({', '.join(kept)}) without checkpoints/latest.pt; "
                                  "a new run would replace it: choose another --run-dir or run.name")
        check_new_run_dir(run_dir)
        return None
    state = read_resume_state(run_dir)
    check_resumable(state["config"], cfg, run_dir, saved_folders={
        "data.root": state.get("data_root"), "data.synthetic.photo_dir": state.get("photo_dir")})
    if cfg.train.steps < int(state["step"]):
        raise ConfigError(f"cannot resume {run_dir} for train.steps {cfg.train.steps}: it is at step "
                          f"{int(state['step'])} already; give a larger train.steps to train on")
    return state


def folders_as_recorded(cfg: Config, state: dict) -> Config:
    """``cfg`` with each folder key (``data.root``, ``data.synthetic.photo_dir``) that a
    resume spells relative to the current folder, otherwise than the run's own config did,
    given as the absolute path its checkpoint recorded (the same folder): the run's
    ``config.yaml`` then names it from any folder, as it did before the resume."""
    saved = state["config"].get("data", {})

    def as_recorded(now: str | None, spelled_before: str | None, recorded: str | None) -> str | None:
        if (now is None or recorded is None or Path(now).is_absolute() or now == spelled_before
                or not same_file(recorded, now)):
            return now
        return recorded

    synthetic = replace(cfg.data.synthetic, photo_dir=as_recorded(
        cfg.data.synthetic.photo_dir, saved.get("synthetic", {}).get("photo_dir"), state.get("photo_dir")))
    root = as_recorded(cfg.data.root, saved.get("root"), state.get("data_root"))
    return replace(cfg, data=replace(cfg.data, root=root, synthetic=synthetic))


def read_resume_state(run_dir: Path) -> dict:
    """The run's ``checkpoints/latest.pt`` read for resuming, or a one-line error saying
    what is wrong and whether ``best.pt`` beside it is intact.

    Raises:
        ValueError: unreadable (truncated, not a checkpoint) or not a training checkpoint
            (an exported model keeps no optimizer state).
    """
    latest = _latest(run_dir)
    try:
        state = load_checkpoint(latest)
    except ValueError as exc:
        raise ValueError(f"cannot resume: {exc}; {_best_note(latest.with_name('best.pt'))}") from None
    missing = [key for key in _RESUME_KEYS if key not in state]
    if missing:
        raise ValueError(f"cannot resume from {latest}: it is not a training checkpoint (no {', '.join(missing)}; an "
                         f"exported model keeps only the generator)")
    return state


def _best_note(best: Path) -> str:
    if not best.is_file():
        return f"there is no {best.name} to fall back on"
    try:
        step = load_checkpoint(best).get("step")
    except ValueError:
        return f"{best} is unreadable too"
    return f"{best} (step {step}) is intact: copy it to {best.with_name('latest.pt')} to resume from it"


def resumed_precision(state: dict, asked: str, resolved: str, device: torch.device, *, announce: bool) -> str:
    """The precision a resumed run continues in: the one it trained in. ``train.precision``
    cannot change on resume, but ``auto`` resolves by device, so the same config on another
    device (a GPU run resumed on a CPU, say) would otherwise switch between bf16 and fp32
    halfway. Checkpoints from before the precision was recorded continue in ``resolved``."""
    trained = state.get("precision")
    if trained is None or trained == resolved:
        return resolved
    if announce:
        log.warning("the run trained in %s (train.precision %s); it continues in %s, where %s would resolve "
                    "to %s", trained, asked, trained, asked, resolved)
    return resolve_precision(trained, device)


def file_identity(path: Path) -> tuple[int, int, int] | None:
    """``path``'s inode, size and modification time (None when absent): a checkpoint is
    replaced by a rename, so any write changes it."""
    try:
        stat = path.stat()
    except (FileNotFoundError, NotADirectoryError):  # absent, or a file where a folder of it would be
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


def claim_run_folder(run_dir: Path, latest_seen: tuple[int, int, int] | None) -> RunLock:
    """The run folder's lock, taken, when its ``checkpoints/latest.pt`` is still what was
    seen (``latest_seen``, :func:`file_identity`) when the run was set up.

    Raises:
        RunLocked: another process holds the lock, or has written ``latest.pt`` since.
        RunLogError: the folder cannot be created (a file system that takes no new folders, as ``/proc``).
    """
    try:
        lock = RunLock(run_dir).acquire()
    except OSError as exc:
        raise RunLogError(f"cannot create the run folder {run_dir}: {exc.strerror or exc}; choose another with "
                          "--run-dir or run.out_dir") from exc
    latest = _latest(run_dir)
    if file_identity(latest) != latest_seen:
        lock.release()
        raise RunLocked(f"another run wrote {latest} while this one was being set up: start this one again "
                        "(with --resume to continue that run) or choose another run.name / --run-dir")
    return lock


def validation_rows(path: Path) -> list[dict]:
    """``{"step", "best"}`` of each complete row of ``validation.jsonl`` whose model score
    that picks ``best.pt`` (:data:`~vidpred.training.validation.BEST_KEY`) is finite; none
    when the file is missing. Older runs' rows are read too."""
    rows = []
    for row in read_validation(path):
        try:
            value = float(row[MODEL][BEST_KEY])
            if math.isfinite(value):
                rows.append({"step": int(row["step"]), "best": value})
        except (ValueError, KeyError, TypeError):
            continue
    return rows


def align_best(run_dir: Path, step: int, save_best: Callable[[], object]) -> None:
    """After a resume at ``step`` (the logs now end there): make ``best.pt`` the checkpoint
    of the best row of ``validation.jsonl`` (``save_best`` writes it from the resumed state),
    or remove it when that state is gone. With no row at all (the logs not copied with the
    checkpoints), a ``best.pt`` from before ``step`` is kept.

    A run killed after a validation wrote ``best.pt`` but before ``latest.pt`` caught up
    resumes before that validation: its row is dropped and ``best.pt`` holds steps the
    resumed run retrains differently.
    """
    best = run_dir / "checkpoints" / "best.pt"
    rows = validation_rows(run_dir / "validation.jsonl")
    top = max(rows, key=lambda r: r["best"], default=None)  # the first of equal bests, as validation keeps it
    wanted = None if top is None else top["step"]
    try:
        held = load_checkpoint(best).get("step") if best.is_file() else None
    except ValueError:
        held = "unreadable"
    if held == wanted:
        return
    if wanted == step:  # the resumed state is the best one
        save_best()
        log.info("best.pt rewritten at step %d, the best validation in validation.jsonl", step)
    elif wanted is None and isinstance(held, int) and held <= step:
        # No validation logged (a run's checkpoints copied without its logs), and best.pt from
        # before the resumed step: the state it holds is the run's, and the resumed best score is its.
        log.warning("kept best.pt (step %d): validation.jsonl records no validation to check it against", held)
    elif best.is_file():
        best.unlink()
        log.warning("removed best.pt (step %s): validation.jsonl's best is %s, whose checkpoint is gone; the "
                    "next better validation writes it", held, "none" if wanted is None else f"step {wanted}")
