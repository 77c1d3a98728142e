"""What the evaluation scores: trained generators from checkpoints, and the baselines.

Every predictor has one signature, ``predict(context, n_future, flow) -> prediction``:

* ``context``: ``(B, C, n_context, H, W)`` in ``[-1, 1]``, oldest frame first;
* ``n_future``: frames to predict, recursively (each prediction becomes the newest context
  frame for the next);
* ``flow``: ``(B, 2, H, W)``, the clip's backward flow of the last context step by the
  estimator its :class:`Method` names in ``flow`` (None for a method that reads no flow);
* returns ``(B, C, n_future, H, W)`` in ``[-1, 1]``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Callable

import torch
from torch import Tensor

from vidpred.build import build_generator
from vidpred.checkpoint import load_checkpoint, weights_mismatch
from vidpred.config import Config, ConfigError, config_from_dict
from vidpred.evaluation.baselines import Blend, flow_extrapolation, last_input
from vidpred.evaluation.flow import DIS_PRESET
from vidpred.models.averaged_motion import AveragedMotion
from vidpred.models.blur_discriminator import CHECKPOINT_KIND as BLUR_DISCRIMINATOR
from vidpred.models.generator import MultiScaleGenerator
from vidpred.models.refiner import FlowRefiner

__all__ = ["Predictor", "Method", "CheckpointPredictor", "load_checkpoint_predictor", "predictor_from_state",
           "baseline_methods", "frame_resize", "checkpoint_label", "blend_method", "averaged_methods", "LAST_INPUT", "FARNEBACK_FLOW",
           "DIS_FLOW", "BLEND", "BASELINE_NAMES"]

logger = logging.getLogger(__name__)

Predictor = Callable[[Tensor, int, "Tensor | None"], Tensor]

# The baselines' row names, reserved: a checkpoint may not take one.
LAST_INPUT = "last input"
FARNEBACK_FLOW = "Farneback flow (paper)"
DIS_FLOW = "DIS flow"
BLEND = "blend"
BASELINE_NAMES = (LAST_INPUT, FARNEBACK_FLOW, DIS_FLOW, BLEND)
_FLOW_ROWS = {"farneback": FARNEBACK_FLOW, "dis": DIS_FLOW}


@dataclass
class Method:
    """A row of the results table: a name, a kind, the predictor behind it and the flow it reads."""

    name: str
    kind: str  # "checkpoint" | "baseline"
    predict: Predictor  # the module docstring's signature
    info: dict  # JSON-able details for the report (path, training step, sizes, ...)
    flow: str | None = None  # the backward flow passed to predict: "farneback", "dis" or None


class CheckpointPredictor:
    """A trained generator rolled out recursively, in eval mode without gradients.

    Fully convolutional: a model trained on 32x32 patches predicts whole frames of any
    size (``generator.predict`` pads to its size multiple and crops back).

    Args:
        generator: the trained network, the paper's pyramid or the refiner (moved to the
            evaluation device by the caller).
        config: the run's config it was built from (its ``loss`` is what adapting it optimizes).
    """

    def __init__(self, generator: MultiScaleGenerator | FlowRefiner, config: Config | None = None) -> None:
        self.generator = generator.eval()
        self.config = config

    @torch.no_grad()
    def __call__(self, context: Tensor, n_future: int, flow: Tensor | None = None) -> Tensor:
        """``context`` ``(B, C, T, H, W)`` in ``[-1, 1]`` -> ``(B, C, n_future, H, W)`` in ``(-1, 1)``.

        A model with fewer context frames than ``T`` sees the newest ``n_context`` of them.
        """
        return self.generator.rollout(self._newest(context), n_future).float()

    @torch.no_grad()
    def with_motion(self, context: Tensor, n_future: int) -> tuple[Tensor, Tensor | None]:
        """The rollout ``(B, C, n_future, H, W)`` in ``[-1, 1]`` and, for a model that predicts
        motion (the flow head, the refiner: ``generator.predicts_motion``), its flow per
        predicted frame ``(B, 2, n_future, H, W)`` in pixels (None for the other heads)."""
        frames, flows, _ = self.generator.rollout_with_motion(self._newest(context), n_future)
        return frames.float(), flows

    def _newest(self, context: Tensor) -> Tensor:
        n_context = self.generator.n_context
        if context.shape[2] < n_context:
            raise ValueError(f"the model needs {n_context} context frames, the protocol gives {context.shape[2]}")
        return context[:, :, -n_context:]


def checkpoint_label(path: str | Path) -> str:
    """A readable row name: ``<run>/<file stem>`` for ``runs/<run>/checkpoints/<file>.pt``,
    else ``<parent>/<file stem>``."""
    path = Path(path)
    parent = path.parent.parent if path.parent.name == "checkpoints" else path.parent
    return f"{parent.name}/{path.stem}" if parent.name else path.stem


def load_checkpoint_predictor(path: str | Path, device: torch.device, name: str | None = None) -> Method:
    """Rebuild a generator from a vidpred checkpoint (its saved config, then its weights).

    Args:
        path: a checkpoint written by ``vidpred.checkpoint.save_checkpoint`` (holds
            ``config`` and ``generator``); read with ``weights_only=True``.
        device: where to run the generator.
        name: the table row's name (default :func:`checkpoint_label`).

    Raises:
        FileNotFoundError: no such file.
        ValueError: not a vidpred checkpoint, a config this version cannot read, or
            weights that do not fit the rebuilt generator; the message names the file.
    """
    path = Path(path)
    return predictor_from_state(load_checkpoint(path, map_location="cpu"), path, device, name)


def predictor_from_state(state: dict, path: Path, device: torch.device, name: str | None = None) -> Method:
    """:func:`load_checkpoint_predictor` of a checkpoint already read from ``path`` (named in
    its messages and its row)."""
    if state.get("kind") == BLUR_DISCRIMINATOR:
        raise ValueError(f"{path} is a blur discriminator checkpoint, not a model's: give a training run's checkpoint "
                         "(runs/<name>/checkpoints/best.pt) or an export (scripts/export_model.py)")
    for key in ("config", "generator"):
        if not isinstance(state.get(key), dict):
            raise ValueError(f"{path} has no '{key}' entry; is it a vidpred training checkpoint?")
    try:
        cfg: Config = config_from_dict(state["config"])
    except ConfigError as exc:
        raise ValueError(f"{path}: its saved config does not match this version of vidpred: {exc}") from None
    # Built without storage and given the checkpoint's tensors: no initial weights are drawn,
    # so loading neither reads nor moves torch's random stream, whichever thread draws from it.
    try:
        with torch.device("meta"):
            generator = build_generator(cfg)
    except ValueError as exc:  # a hand-edited size: the file is what the user must look at
        raise ValueError(f"{path}: {exc}") from None
    # The weights' moving average when the run kept one (train.ema_decay): what it validated.
    weights = "generator_ema" if isinstance(state.get("generator_ema"), dict) else "generator"
    mismatch = weights_mismatch(generator.state_dict(), state[weights])
    if mismatch:
        raise ValueError(f"{path}: the generator weights do not fit the generator its config describes ({mismatch})")
    broken = [k for k, v in state[weights].items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if broken:  # a diverged run's weights would predict NaN, which the 8-bit frames show as black
        raise ValueError(f"{path}: {len(broken)} of its generator weights hold NaN or infinity (e.g. {broken[0]})")
    generator.load_state_dict(state[weights], assign=True)
    unset = [name for name, tensor in chain(generator.named_parameters(), generator.named_buffers()) if tensor.is_meta]
    if unset:  # a tensor outside the state dict (a non-persistent buffer) has no value to load
        raise RuntimeError(f"{path}: the generator holds tensors its checkpoint cannot set: {', '.join(unset)}")
    generator.to(device, torch.float32)  # as trained, whatever torch's default dtype where it is loaded
    if cfg.model.channels != 3:
        raise ValueError(f"{path}: the model predicts {cfg.model.channels}-channel frames; evaluation needs RGB")
    info = {
        "path": str(path), "step": state.get("step"), "n_context": cfg.model.n_context,
        "n_scales": cfg.model.generator.n_scales, "width": cfg.model.generator.width,
        "head": cfg.model.generator.head,
        "parameters": sum(p.numel() for p in generator.parameters()),
        "trained_on": cfg.data.source, "patch_size": cfg.data.patch_size, "weights": weights,
        # What decides which videos the run held out (choose_eval_videos). A folder run's
        # checkpoint records the videos it held out ("held_out"): those, not a new draw over
        # the videos now in its folder.
        "training_data": {"source": cfg.data.source, "root": cfg.data.root, "split": cfg.data.split,
                          # where the run saw data.root (None in a checkpoint that does not record it)
                          "root_resolved": state.get("data_root"),
                          "val_videos": (state["held_out"] if cfg.data.source == "folder" and state.get("held_out")
                                         else cfg.data.val_videos),
                          "n_val_videos": cfg.data.n_val_videos,
                          # the exact names split.json recorded (None: an older checkpoint's, or not a folder's)
                          "held_out": state.get("held_out") if cfg.data.source == "folder" else None,
                          # how its validation clips were cut and sized, for the evaluation to follow or name
                          "cut_ratio": cfg.data.cut_ratio, "frame_size": cfg.data.frame_size,
                          "frame_height": cfg.data.frame_height},
    }
    if cfg.model.generator.head == "refiner":
        info["rollout"] = cfg.model.generator.rollout
        info["camera_still"] = cfg.model.generator.camera_still
        info["refine_flows"] = cfg.model.generator.refine_flows
        info["scene_cuts"] = cfg.model.generator.scene_cuts
        info["repeated_frames"] = cfg.model.generator.repeated_frames
        info["fades"] = cfg.model.generator.fades
        info["skipped_frames"] = cfg.model.generator.skipped_frames
        info["followed_inside"] = cfg.model.generator.followed_inside
        info["white_fades"] = cfg.model.generator.white_fades
        info["dissolves"] = cfg.model.generator.dissolves
        info["pans_not_cuts"] = cfg.model.generator.pans_not_cuts
        info["pan_flows"] = cfg.model.generator.pan_flows
        info["pan_restarts"] = cfg.model.generator.pan_restarts
        info["still_with_camera"] = cfg.model.generator.still_with_camera
    logger.info("loaded %s: step %s, generator %d parameters, %d context frames", path, info["step"],
                info["parameters"], cfg.model.n_context)
    return Method(name=name or checkpoint_label(path), kind="checkpoint", predict=CheckpointPredictor(generator, cfg),
                  info=info)


def averaged_methods(checkpoints: Sequence[Method], ensemble: str | None = None, mirror: bool = False) -> list[Method]:
    """Rows that average refiners' motion at test time (:mod:`vidpred.models.averaged_motion`).

    Args:
        checkpoints: loaded checkpoint rows, every one a refiner.
        ensemble: the name of one row whose motion is the mean of all ``checkpoints``' (None: none).
        mirror: one row per checkpoint, ``"<name>, mirrored"``: its motion averaged with its
            answer for the mirrored context (and the ensemble row mirrored too).

    Raises:
        ValueError: a checkpoint that is not a refiner, an ensemble of fewer than two, or
            mirroring without a checkpoint.
    """
    for method in checkpoints:
        if not isinstance(method.predict.generator, FlowRefiner):
            raise ValueError(f"{method.name} is not a refiner: only a refiner's motion can be averaged")
    if ensemble is not None and len(checkpoints) < 2:
        raise ValueError(f"an ensemble needs at least two checkpoints, got {len(checkpoints)}")
    if mirror and not checkpoints:
        raise ValueError("mirroring needs a checkpoint to mirror (a refiner), got none")

    def row(name: str, members: Sequence[Method], mirrored: bool) -> Method:
        model = AveragedMotion([m.predict.generator for m in members], mirror=mirrored)
        info = {**members[0].info, "path": [m.info["path"] for m in members] if len(members) > 1 else
                members[0].info["path"], "parameters": sum(m.info["parameters"] for m in members),
                "averaged": {"members": [m.name for m in members], "mirror": mirrored}}
        return Method(name, "checkpoint", CheckpointPredictor(model, members[0].predict.config), info)

    rows = [row(f"{m.name}, mirrored", [m], True) for m in checkpoints] if mirror else []
    if ensemble is not None:
        rows.append(row(ensemble, checkpoints, False))
        if mirror:
            rows.append(row(f"{ensemble}, mirrored", checkpoints, True))
    return rows


def frame_resize(frame_size: Sequence[int] | None, frame_height: int | None) -> tuple[str, str] | None:
    """How ``data.frame_size`` / ``data.frame_height`` resize a video's frames: the key that
    does and the size in words (``"128x160 (HxW, data.frame_size)"``, ``"a height of 144 px
    (data.frame_height)"``); None at native size."""
    if frame_size:
        return "frame_size", "{}x{} (HxW, data.frame_size)".format(*frame_size)
    if frame_height:
        return "frame_height", f"a height of {frame_height} px (data.frame_height)"
    return None


def baseline_methods(blend: Blend | None = None) -> list[Method]:
    """The baselines, in the report's order: the paper's two, DIS flow extrapolation, and the
    blend of last input and flow extrapolation when a fitted ``blend`` is given."""
    methods = [
        Method(LAST_INPUT, "baseline", last_input,
               {"description": "repeats the last context frame", "context_frames_used": 1}),
        Method(FARNEBACK_FLOW, "baseline", flow_extrapolation,
               {"description": "the paper's baseline, the last context frame warped by k times the backward Farneback "
                               "flow of the last context step, for the k-th predicted frame",
                "context_frames_used": 2, "extrapolates": "farneback"}, flow="farneback"),
        Method(DIS_FLOW, "baseline", flow_extrapolation,
               {"description": f"the last context frame warped by k times the backward DIS flow ({DIS_PRESET} preset) "
                               "of the last context step, for the k-th predicted frame",
                "context_frames_used": 2, "extrapolates": "dis"}, flow="dis"),
    ]
    return methods + ([blend_method(blend)] if blend is not None else [])


def blend_method(blend: Blend) -> Method:
    """The blend row: what hedging between the last input and the flow buys, not a target."""
    return Method(BLEND, "baseline", blend,
                  {"description": f"{blend.weight:g} x last input + {1 - blend.weight:g} x "
                                  f"{_FLOW_ROWS[blend.flow_method]} extrapolation",
                   "weight": blend.weight, "flow": blend.flow_method, "context_frames_used": 2},
                  flow=blend.flow_method)
