"""What of a run's config may change when it resumes: :data:`RESUMABLE_CHANGES`, and the
check that names every other change (:func:`check_resumable`)."""

from __future__ import annotations

from pathlib import Path

from vidpred.config import UNREAD_DATA_KEYS, Config, ConfigError, config_from_dict, config_to_dict
from vidpred.safe_write import same_file

# Keys that may change when a run is resumed: they do not alter what is computed.
RESUMABLE_CHANGES = {
    "train.steps",
    "train.max_minutes",
    "train.device",
    "train.log_every",
    "train.val_every",
    "train.ckpt_every",
    "train.sample_every",
    "train.chance_warning_steps",
    "train.chance_accuracy",
    "data.num_workers",
    "data.cache_dir",
    # Where the run folder is: a resumed run is the folder it is given (a copied or moved run).
    "run.name",
    "run.out_dir",
    # Layout and compilation change how fast, not what is computed (precision does).
    "train.channels_last",
    "train.compile",
    # The blur discriminator's weights are restored from the run's checkpoint, not this file.
    "model.blur_discriminator.checkpoint",
}


def _flatten(d: dict, prefix: str = "") -> dict:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``."""
    out = {}
    for key, value in d.items():
        full = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            out.update(_flatten(value, full))
        else:
            out[full] = value
    return out


def resume_differences(saved: dict, cfg: Config, saved_folders: dict[str, str | None] | None = None) -> str:
    """What a run written with config ``saved`` (plain data) would have to change to resume
    under ``cfg``: ``"key: old -> new, ..."`` over every changed key outside
    :data:`RESUMABLE_CHANGES`, sorted; ``""`` when it may resume.

    The saved config is read through the current schema first, so a key added since (with
    its default) is not a difference. ``saved_folders`` holds where the run's folder keys
    (``data.root``, ``data.synthetic.photo_dir``) were on disk, resolved (its checkpoints
    record them): the same folder may be spelled otherwise (an absolute path, or a relative
    one from another folder). The photos' folder is compared by that record alone, so a
    relative spelling that now names another folder (a resume from elsewhere) is a
    difference; ``data.root``'s is checked against the run's recorded split
    (:mod:`vidpred.data.split_record`).
    """
    before = _flatten(config_to_dict(config_from_dict(saved)))
    now = _flatten(config_to_dict(cfg))
    for key, where in (saved_folders or {}).items():
        if where is None or now.get(key) is None:
            continue
        if same_file(where, now[key]):
            before[key] = now[key]
        elif key == "data.synthetic.photo_dir":
            before[key] = where
    resumable = _resumable_changes(before)
    changed = sorted(k for k in before if before[k] != now.get(k) and k not in resumable)
    return ", ".join(f"{k}: {before[k]!r} -> {now.get(k)!r}" + (" (the length of its cosine learning-rate schedule)"
                                                               if k == "train.steps" else "") for k in changed)


def _resumable_changes(saved: dict) -> set[str]:
    """:data:`RESUMABLE_CHANGES` for a run of config ``saved`` (flat keys): under a cosine
    learning-rate schedule ``train.steps`` sets every step's rate, so it may not change."""
    # Data keys the run's source never read (refused in a new config since; a run started
    # before may drop them): the run trained as without them.
    inert = set(UNREAD_DATA_KEYS.get(saved.get("data.source"), {}))
    if saved.get("loss.l_path", 0) > 0 and saved.get("train.n_future", 1) < 2:
        inert.add("loss.l_path")  # refused since over one predicted frame (its MSE again): a run before may drop it
    if saved.get("train.lr_schedule") == "cosine":
        return (RESUMABLE_CHANGES | inert) - {"train.steps"}
    return RESUMABLE_CHANGES | inert


def check_resumable(saved: dict, cfg: Config, run: str | Path, saved_folders: dict[str, str | None] | None = None
                    ) -> None:
    """Refuse to resume ``run`` (written with config ``saved``, plain data) under a ``cfg``
    that differs in anything but :data:`RESUMABLE_CHANGES` (:func:`resume_differences`).

    Raises:
        ConfigError: naming every changed key with its old and new value.
    """
    details = resume_differences(saved, cfg, saved_folders)
    if details:
        # the keys a user may change: not the unread data keys an old run may only drop
        resumable = _resumable_changes(_flatten(config_to_dict(config_from_dict(saved)))) & RESUMABLE_CHANGES
        raise ConfigError(
            f"cannot resume {run}: the config differs from the checkpoint's in {details}. "
            f"Only {', '.join(sorted(resumable))} may change on resume."
        )
