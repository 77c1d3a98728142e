r"""Export a trained generator as a small stand-alone model file (for sharing or shipping).

    python scripts/export_model.py --checkpoint runs/real_quickstart/checkpoints/best.pt \
        --out runs/real_flow.pt --note "configs/real_quickstart.yaml, 20 min"

Keeps what prediction needs: the run's config, the generator's weights (its moving
average when the run kept one) and the step, plus a provenance note; drops the
optimizers, discriminators and random states, which only resuming needs. The result is a
vidpred checkpoint that predict.py and eval_ucf101.py read (weights_only=True).

    # a refiner that rolls out its later frames composed (model.generator.rollout), whose
    # followed candidate keeps the camera's motion still (model.generator.camera_still) and
    # whose last-step DIS flow is refined at full size (model.generator.refine_flows)
    python scripts/export_model.py --checkpoint runs/corpus_refiner/checkpoints/latest.pt \
        --out runs/refiner.pt --rollout composed --camera-still --refine-flows

A model shipped in vidpred/pretrained/ (predict.py's default among them) is replaced only
with --force.
"""

from __future__ import annotations

import argparse
import copy
import logging
import sys
from pathlib import Path

import torch

from vidpred.checkpoint import describe_file, load_checkpoint, save_checkpoint
from vidpred.cli import checkpoint_path, script, setup_logging, user_path
from vidpred.config import config_from_dict, validate
from vidpred.evaluation.predictors import predictor_from_state
from vidpred.models.refiner import ROLLOUTS
from vidpred.pretrained import DEFAULT_MODEL, SHIPPED_DIR
from vidpred.safe_write import OutputRefused, check_output, landing_path, same_file
from vidpred.training.run_folder import validation_rows
from vidpred.training.validation import WELL_BELOW_BEST_DB

# The refiner's prediction-time choices an export can switch on (model.generator.<key>):
# what each does to the exported model.
READINGS = {
    "camera_still": "the exported model's followed candidate keeps the camera's motion where it is and follows "
                    "only the rest",
    "refine_flows": "the exported model refines the last step's DIS flow at full resolution",
    "scene_cuts": "a cut between scenes among the context's steps starts the exported model's context there, and "
                  "one at the newest step is predicted by copying",
    "repeated_frames": "a context frame that shows the one before it again (a frame-rate conversion's) is taken out "
                       "of the exported model's context, so the motion goes on after it",
    "fades": "in a steady fade of the frame's brightness, the exported model reads the context at one brightness "
             "and carries the fade on",
    "skipped_frames": "where the newest context step skips a frame (twice the steady steps before it), the "
                      "exported model halves its velocity",
    "followed_inside": "the exported model's followed candidate does not take up the flow of the pixels whose "
                       "content entered the frame over the last step (DIS's guess), keeping each pixel's own there",
    "white_fades": "the exported model reads each fade towards black or towards white, whichever describes its "
                   "steps better, and carries a fade to or from white on as one",
    "dissolves": "in a cross-dissolve, each frame the exported model predicts adds the context steps' mean change "
                 "once more, so the next scene goes on mixing in",
    "pans_not_cuts": "a context step one shift of the whole frame explains (a pan too fast for DIS's flow) is not "
                     "read as a cut by the exported model",
    "pan_flows": "the flow of such a step is estimated again by DIS started from the shift, not from still",
    "pan_restarts": "a context step under the cut line whose whole frame moves by 8 px or more is flowed again by "
                    "DIS started from that shift where that explains more of it (a pan DIS reaches only in part)",
    "still_with_camera": "where the camera's motion moves a pixel 16 px or more, the still candidate is that "
                         "motion, so the network's small weight on still does not shorten a fast pan's step",
}


def _is_exported_model(path: Path) -> bool:
    """Whether ``path`` is an earlier export: a vidpred checkpoint holding a generator without
    optimizer state, never a run's training checkpoint (its run resumes from it) nor a
    checkpoint of another kind (a pretrained blur discriminator)."""
    try:
        state = load_checkpoint(path)
        return "generator" in state and "opt_g" not in state
    except (FileNotFoundError, ValueError):
        return False


@script
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True, help="a vidpred training checkpoint")
    parser.add_argument("--out", required=True, type=user_path, help="output file")
    parser.add_argument("--note", default="", help="provenance: how and on what it was trained")
    parser.add_argument("--rollout", choices=ROLLOUTS, default=None,
                        help="refiners: how the exported model rolls out frames after the 1st "
                             "(model.generator.rollout; default: as it was trained)")
    for key, effect in READINGS.items():  # each a flag, e.g. --camera-still
        parser.add_argument("--" + key.replace("_", "-"), action="store_true",
                            help=f"refiners: {effect} (model.generator.{key})")
    parser.add_argument("--force", action="store_true",
                        help="replace an existing --out that is not a model exported by this script (a file of "
                             "yours, a run's training checkpoint, a blur discriminator)")
    args = parser.parse_args(argv)
    setup_logging()
    log = logging.getLogger("vidpred")
    args.checkpoint = checkpoint_path(args.checkpoint)
    landing = landing_path(args.out)
    if landing.is_file() and same_file(landing.parent, SHIPPED_DIR) and not args.force:
        raise OutputRefused(f"{args.out} is a model shipped with vidpred ({DEFAULT_MODEL} is what predict.py and "
                            "load_model() use without a checkpoint): pass --force to replace it")
    check_output(args.out, inputs=[args.checkpoint], ours=_is_exported_model,
                 what="a model exported by export_model.py", force=args.force)
    state = load_checkpoint(Path(args.checkpoint), map_location="cpu")
    for key in ("config", "generator"):
        if key not in state:
            raise ValueError(f"{args.checkpoint} has no '{key}' entry; is it a vidpred training checkpoint?")
    weights = "generator_ema" if isinstance(state.get("generator_ema"), dict) else "generator"
    _warn_if_well_below_the_run_s_best(Path(args.checkpoint), state.get("step"), log)
    config = copy.deepcopy(state["config"])
    changes = {**({"rollout": args.rollout} if args.rollout is not None else {}),
               **{key: True for key in READINGS if getattr(args, key)}}
    if changes:
        generator = config.get("model", {}).get("generator", {})
        if generator.get("head") != "refiner":
            flags = " and ".join("--" + key.replace("_", "-") for key in changes)
            raise ValueError(f"{flags} for refiners only; {args.checkpoint} holds a {generator.get('head')!r} head")
        generator.update(changes)
        validate(config_from_dict(config))
    # Rebuilt as predict.py will: a config this version cannot read, or weights that do not fit
    # it, are refused here rather than written into a model no one can load.
    predictor_from_state(state, Path(args.checkpoint), torch.device("cpu"))
    # An export of an export keeps where its weights came from first (a run's moving average?).
    earlier = {"earlier": state["exported_from"]} if isinstance(state.get("exported_from"), dict) else {}
    exported = {
        "config": config,
        "generator": {k: v.contiguous() for k, v in state[weights].items()},
        "step": state.get("step"),
        "train_seconds": state.get("train_seconds"),
        "precision": state.get("precision"),  # what it trained in (train.precision "auto" resolved)
        "held_out": state.get("held_out"),  # the run's validation videos, for evaluation's "auto"
        "data_root": state.get("data_root"),  # ... and the folder they are in
        "exported_from": {"checkpoint": str(args.checkpoint), "weights": weights, "note": args.note, **changes,
                          **earlier},
    }
    replaced = describe_file(landing)  # where the file lands: "new/../model.pt" is model.pt
    save_checkpoint(exported, Path(args.out))
    if replaced is not None:
        log.warning("replaced %s, %s", args.out, replaced)
    size = Path(args.out).stat().st_size
    log.info("wrote %s (%.2f MB): %s weights at step %s", args.out, size / 1e6, weights, exported["step"])
    return 0


def _warn_if_well_below_the_run_s_best(checkpoint: Path, step: int | None, log: logging.Logger) -> None:
    """Warn when a run's checkpoint scored far below the run's best on its validation clips
    (a run that fell apart late: its ``latest.pt`` is not its ``best.pt``)."""
    if checkpoint.parent.name != "checkpoints" or step is None:
        return
    rows = validation_rows(checkpoint.parent.parent / "validation.jsonl")
    here = [row["best"] for row in rows if row["step"] == step]
    if not here:
        return
    best = max(rows, key=lambda row: row["best"])
    if best["best"] - here[-1] > WELL_BELOW_BEST_DB:
        log.warning("%s: at step %d it scored %.2f dB on the run's validation clips, %.2f below the run's best (step "
                    "%d, best.pt's): did the run fall apart after it? Export best.pt instead", checkpoint, step,
                    here[-1], best["best"] - here[-1], best["step"])


if __name__ == "__main__":
    sys.exit(main())
