"""Atomic, code-free checkpoints.

A checkpoint is a plain dict of tensors, numbers, strings and nested containers. It is
written to a temporary file beside the target, flushed to disk, then renamed over the
target, so a crash mid-write leaves the previous checkpoint intact. It is read with
``torch.load(weights_only=True)``, which refuses anything that would run code on load.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch

from vidpred.safe_write import remove_abandoned_temporaries, replacing

log = logging.getLogger(__name__)

# Written into every checkpoint; load_checkpoint refuses a file of a higher one.
FORMAT_VERSION = 1


class CheckpointWriteError(OSError):
    """A checkpoint could not be written (disk full, read-only folder...); the previous one is intact."""


def save_checkpoint(state: dict[str, Any], path: str | Path) -> None:
    """Write ``state`` to ``path`` atomically (temp file + fsync + rename, :func:`replacing`).

    Raises:
        CheckpointWriteError: the file system refused the write; a checkpoint already at
            ``path`` is left as it was, and no temp file is left behind.
    """
    path = Path(path)
    try:
        with replacing(path, durable=True) as tmp, open(tmp, "wb") as f:
            torch.save({"format_version": FORMAT_VERSION, **state}, f)
    except (OSError, RuntimeError) as exc:
        refused = _os_error(exc)
        if refused is None:  # a RuntimeError of torch's own: a bug, not the file system
            raise
        kept = "the previous one is kept" if path.is_file() else "there was none before"
        raise CheckpointWriteError(f"cannot write the checkpoint {path}: {refused.strerror or refused}; {kept}") from exc


def _os_error(exc: BaseException) -> OSError | None:
    """``exc`` if it is an ``OSError``, else the ``OSError`` it was raised from or while
    handling: ``torch.save`` reports a full disk as a ``RuntimeError`` ("unexpected pos")
    raised while handling the ``OSError``."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, OSError):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def remove_partial_writes(folder: str | Path) -> None:
    """Delete the temp files of saves that never finished (the process was killed mid-write).

    Only for a folder no other process is writing into (a run's, under its lock): every
    temporary checkpoint there is taken as abandoned, however recent.
    """
    # ``.<name>.pt.<random>.tmp`` is the name earlier versions of vidpred gave, still found in
    # older runs' folders; replacing() names them ``.<name>.pt.<random>.tmp.pt``.
    older = list(Path(folder).glob(".*.pt.*.tmp"))
    for stray in older:
        stray.unlink(missing_ok=True)
    for stray in [*older, *remove_abandoned_temporaries(folder, ".pt", older_than_s=0)]:
        log.info("removed %s, a checkpoint write that never finished", stray)


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint without executing code from it.

    Args:
        path: a checkpoint file written by :func:`save_checkpoint`.
        map_location: where its tensors go, as ``torch.load``'s argument.

    Returns:
        The saved dict, ``format_version`` included.

    Raises:
        FileNotFoundError: no such file.
        ValueError: a folder (naming the run's checkpoints when it is a run's), a file that
            is not a vidpred checkpoint or cannot be read safely, or one written by a newer
            vidpred; the message names the file.
    """
    path = Path(path).expanduser()
    if path.is_dir():
        run = path / "checkpoints"
        hint = f" (a run keeps its checkpoints in {run}: give {run / 'best.pt'} or latest.pt)" if run.is_dir() else ""
        raise ValueError(f"{path} is a folder, not a checkpoint file{hint}")
    if not path.is_file():
        shipped = Path(__file__).with_name("pretrained") / path.name
        hint = (f" (the shipped {path.name} is {shipped}; relative paths are read from the current folder)"
                if not path.is_absolute() and path.parent.name == "pretrained" and shipped.is_file() else "")
        raise FileNotFoundError(f"checkpoint not found: {path}{hint}")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # truncated, random bytes, or objects weights_only refuses
        # torch's own message advises retrying with weights_only=False, which would run
        # code from the file: never pass that advice on.
        raise ValueError(f"{path} is not a readable vidpred checkpoint: it is truncated, not a checkpoint, "
                         f"or holds objects that a safe load refuses ({type(exc).__name__})") from None
    version = state.get("format_version") if isinstance(state, dict) else None
    if isinstance(version, bool) or not isinstance(version, (int, float)):
        raise ValueError(f"{path} is not a vidpred checkpoint")
    if state["format_version"] > FORMAT_VERSION:
        raise ValueError(
            f"{path} was written by a newer vidpred (format {state['format_version']}, "
            f"this one reads up to {FORMAT_VERSION})"
        )
    return state


def is_checkpoint(path: str | Path) -> bool:
    """Whether ``path`` is a vidpred checkpoint (read safely, as :func:`load_checkpoint` does)."""
    try:
        load_checkpoint(path)
    except (FileNotFoundError, ValueError):
        return False
    return True


def describe_file(path: str | Path) -> str | None:
    """What the file at ``path`` is, in a few words, for a message saying it was replaced: a
    run's training checkpoint, an exported model, a checkpoint of another kind (a pretrained
    blur discriminator), or no vidpred checkpoint at all. None when there is no file."""
    if not Path(path).is_file():
        return None
    try:
        state = load_checkpoint(path)
    except ValueError:
        return "a file that is not a vidpred checkpoint"
    step = state.get("step")
    if "opt_g" in state:
        return f"a run's training checkpoint at step {step}"
    source = state.get("exported_from")
    if isinstance(source, dict) and "checkpoint" in source:
        return f"the model exported from {source['checkpoint']} at step {step}"
    if "generator" in state:
        return f"a model at step {step}"
    kind = state.get("kind")
    if not isinstance(kind, str):
        return "a vidpred checkpoint of another kind"
    trained_on = (state.get("training") or {}).get("source")
    balanced = (state.get("accuracy") or {}).get("balanced")
    return (f"a {kind.replace('_', ' ')}" + (f" trained on {trained_on}" if trained_on else "")
            + (f" (held-out balanced accuracy {balanced:.3f})" if isinstance(balanced, float) else ""))


def weights_mismatch(expected: dict[str, torch.Tensor], weights: dict[str, Any]) -> str | None:
    """How ``weights`` differ from a module's ``expected`` state dict, in a few words (None: they fit).

    Counts instead of torch's list of every differing name, so that the error stays one line.
    """
    missing = [k for k in expected if k not in weights]
    unexpected = [k for k in weights if k not in expected]
    reshaped = [k for k in expected if k in weights and getattr(weights[k], "shape", None) != expected[k].shape]
    # Integers where floats belong (or the reverse): torch would refuse them in a page of text.
    retyped = [k for k in expected if k in weights and k not in reshaped
               and weights[k].is_floating_point() != expected[k].is_floating_point()]
    if not (missing or unexpected or reshaped or retyped):
        return None
    return (f"{len(missing)} weights missing, {len(unexpected)} unexpected, {len(reshaped)} of another shape"
            + (f", {len(retyped)} of another kind (integer or floating point)" if retyped else "")
            + f", e.g. {(missing + unexpected + reshaped + retyped)[0]}")
