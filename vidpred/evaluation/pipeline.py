"""The whole evaluation in one call: clips, methods, scores, report (what ``scripts/eval_ucf101.py`` runs)."""

from __future__ import annotations

import contextlib
import logging
import math
import platform
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Sequence

import torch

import vidpred
from vidpred.cli import StopRequest
from vidpred.config import DataConfig
from vidpred.data.datasets import select_videos
from vidpred.data.errors import DataError
from vidpred.data.sampler import to_model_input
from vidpred.evaluation.baselines import Blend, BlendFit, fit_blend_weight
from vidpred.evaluation.clips import ClipSelection, EvalClip, choose_eval_videos, load_eval_clips
from vidpred.evaluation.flow import DIS_PRESET, FARNEBACK_PARAMS
from vidpred.evaluation.partial import partial_line, partial_mark
from vidpred.evaluation.predictors import (BASELINE_NAMES, Method, baseline_methods, blend_method, frame_resize,
                                           load_checkpoint_predictor)
from vidpred.evaluation.report import markdown_report, summarize
from vidpred.evaluation.report_files import check_report_folder, write_report
from vidpred.evaluation.runner import ClipResult, Protocol, evaluate
from vidpred.metrics.lpips import LPIPS, LPIPSUnavailable, backbone_weights_path, load_lpips
from vidpred.models.perceptual_networks import LPIPS_BACKBONES, is_named_file

__all__ = ["EvalOutcome", "run_evaluation", "load_methods", "fit_blend_on_clips", "fit_blend_on_val",
           "record_context_frames", "BLEND_FIT_SOURCES", "GIVEN_BLEND_FLOW"]

# Sources whose "val" videos are disjoint from the scored "test" videos: the blend's weight
# is fitted there. Folder and samples data hold out one set for both.
BLEND_FIT_SOURCES = ("procedural", "ucf101", "corpus")

logger = logging.getLogger(__name__)


@dataclass
class EvalOutcome:
    """What an evaluation produced: the report text, the averages, and the files written."""

    markdown: str
    summary: dict
    meta: dict[str, Any]
    paths: dict[str, Path]


def load_methods(checkpoints: Sequence[str | Path], names: Sequence[str] | None, device: torch.device) -> list[Method]:
    """Checkpoint rows (in the order given) followed by the baselines (the blend, whose weight
    :func:`run_evaluation` fits, comes last).

    Raises:
        ValueError: ``names`` of the wrong length, empty, repeated or naming a baseline, unreadable
            checkpoints.
    """
    if names is not None and len(names) != len(checkpoints):
        raise ValueError(f"got {len(names)} names for {len(checkpoints)} checkpoints")
    for i, name in enumerate(names or ()):  # the names a user typed are the rows' names, as typed
        if not name.strip():
            raise ValueError(f"--name: the name of checkpoint {i + 1} ({checkpoints[i]}) is empty")
        if list(names).count(name) > 1:
            raise ValueError(f"--name {name!r} is given to {list(names).count(name)} checkpoints: give each its own")
    methods = [load_checkpoint_predictor(path, device, None if names is None else names[i])
               for i, path in enumerate(checkpoints)]
    for method in methods:  # a --name, or a default label ("blend.pt" is labelled "blend")
        _refuse_baseline_name(method.name)
    methods += baseline_methods()
    seen: dict[str, int] = {}
    for method in methods:  # two runs' "latest.pt" would otherwise share a row name
        if method.name in seen:
            seen[method.name] += 1
            method.name = f"{method.name} ({seen[method.name]})"
        else:
            seen[method.name] = 1
    return methods


def _refuse_baseline_name(name: str) -> None:
    if name in BASELINE_NAMES:
        raise ValueError(f"row name {name!r} is a baseline's; give the checkpoint another with --name "
                         f"(reserved: {', '.join(BASELINE_NAMES)})")


def _lpips(mode: str, weights: str | Path | None, device: torch.device) -> tuple[LPIPS | None, dict[str, Any]]:
    if mode == "off":
        return None, {"available": False, "reason": "LPIPS skipped: disabled with --no-lpips."}
    try:
        metric = load_lpips("alex", weights_path=weights, device=device)
    except LPIPSUnavailable as exc:
        if weights is not None:  # a file the user named: not a column to skip without them
            raise ValueError(f"--lpips-weights {weights} cannot serve: {str(exc).removeprefix('LPIPS skipped: ')}") \
                from None
        logger.warning("%s", exc)
        return None, {"available": False, "reason": str(exc)}
    used = Path(weights) if weights is not None else backbone_weights_path("alex")
    verified = is_named_file(used, LPIPS_BACKBONES["alex"])
    return metric, {"available": True, "reason": None, "net": "alex", "version": "0.1", "backbone_weights": str(used),
                    "verified": verified}


def record_context_frames(methods: Sequence[Method], protocol: Protocol) -> None:
    """Record in each checkpoint's info how many of the protocol's context frames it sees
    (each baseline's is set where it is defined: 1 for the last input, 2 for the others).

    Raises ValueError for a model that needs more context frames than the protocol gives.
    """
    for method in methods:
        if method.kind == "checkpoint":
            needed = method.info["n_context"]
            if needed > protocol.n_context:
                raise ValueError(f"{method.name} needs {needed} context frames, the protocol gives "
                                 f"{protocol.n_context} (--n-context)")
            method.info["context_frames_used"] = needed


def fit_blend_on_clips(clips: Sequence[EvalClip], n_context: int, device: torch.device) -> BlendFit:
    """:func:`~vidpred.evaluation.baselines.fit_blend_weight` on uint8 clips: the first
    ``n_context`` frames as context, the next as the 1st frame to predict."""
    contexts, targets = [], []
    for clip in clips:
        x = to_model_input(torch.from_numpy(clip.frames[:n_context + 1]).unsqueeze(0).to(device))
        contexts.append(x[:, :, :n_context])
        targets.append(x[:, :, n_context])
    return fit_blend_weight(contexts, targets)


def _warn_of_training_frame_sizes(data: DataConfig, trained: Sequence[tuple[str, dict[str, Any]]]) -> None:
    """Say so when a checkpoint trained on resized frames is scored at another size: its
    motions are then larger (or smaller) than the ones it learned, and its scores unlike its
    validation's."""
    scored = frame_resize(data.frame_size and list(data.frame_size), data.frame_height)
    for name, cfg in trained:
        resize = frame_resize(cfg.get("frame_size") and list(cfg["frame_size"]), cfg.get("frame_height"))
        if resize is None or resize == scored:
            continue
        key, shown = resize
        value = cfg[key]
        here = "at each video's native size" if scored is None else f"at {scored[1]}"
        logger.warning("%s trained on frames resized to %s and is scored %s: --set data.%s=%s scores it at the size "
                       "it learned", name, shown, here, key,
                       f"[{','.join(map(str, value))}]" if key == "frame_size" else value)


def _with_training_cut_ratio(data: DataConfig, trained: Sequence[tuple[str, dict[str, Any]]]) -> DataConfig:
    """``data`` with the scene-cut rule the checkpoints' validation clips followed, when it sets
    none itself and they agree on one: validation and evaluation then select clips alike."""
    ratios = {cfg.get("cut_ratio") for _, cfg in trained} - {None}
    if data.cut_ratio is not None or len(ratios) != 1:
        return data
    ratio = ratios.pop()
    logger.info("clips span no scene cut (data.cut_ratio=%g, as the checkpoints were trained and validated)", ratio)
    return replace(data, cut_ratio=ratio)


# The flow a blend of a given weight mixes with the last input (--blend-weight): DIS, the
# stronger extrapolation on real footage.
GIVEN_BLEND_FLOW = "dis"


def fit_blend_on_val(data: DataConfig, protocol: Protocol, device: torch.device, *, start_frame: int = 0,
                     clips_per_video: int = 1, progress: bool = True,
                     frame_step: int = 1) -> tuple[BlendFit, ClipSelection]:
    """The blend fitted on the 1st predicted frame of clips of the source's validation videos
    (their frames ``frame_step`` apart, :func:`~vidpred.evaluation.clips.load_eval_clips`),
    and which clips those were."""
    clips, selection = load_eval_clips(data, every=1, start_frame=start_frame, clip_frames=protocol.n_context + 1,
                                       min_frames=protocol.n_context + 1, clips_per_video=clips_per_video,
                                       subset="val", progress=progress, frame_step=frame_step)
    return fit_blend_on_clips(clips, protocol.n_context, device), selection


def _blend(data: DataConfig, subset: str, weight: float | None, protocol: Protocol, start_frame: int,
           device: torch.device, progress: bool) -> tuple[Blend | None, dict[str, Any]]:
    """The blend row and a note for the report: a given weight (blending DIS extrapolation),
    else one fitted on the source's "val" videos when they are disjoint from the scored ones,
    else none."""
    if weight is not None:
        return Blend(weight, GIVEN_BLEND_FLOW), {"weight": weight, "flow": GIVEN_BLEND_FLOW, "fitted_on": None}
    if data.source not in BLEND_FIT_SOURCES or subset != "test":
        return None, {"omitted": f"no blend row: {data.source} data has no validation videos apart from the scored "
                                 "ones to fit its weight on (give one with --blend-weight)"}
    try:
        fit, selection = fit_blend_on_val(data, protocol, device, start_frame=start_frame, progress=progress)
    except (FileNotFoundError, DataError) as exc:  # the scored videos may all be there: score them without it
        reason = " ".join(str(exc).split())
        logger.warning("no blend row: the validation videos its weight is fitted on cannot be read (%s); give one with "
                       "--blend-weight", reason)
        return None, {"omitted": f"no blend row: the validation videos its weight is fitted on cannot be read "
                                 f"({reason}); give one with --blend-weight"}
    logger.info("blend fitted on %d validation clips: %.2f x last input + %.2f x %s flow extrapolation",
                fit.n_clips, fit.blend.weight, 1 - fit.blend.weight, fit.blend.flow_method)
    return fit.blend, {"weight": fit.blend.weight, "flow": fit.blend.flow_method,
                       "fitted_on": f"{fit.n_clips} clips of {selection.description}", "mse": fit.mse,
                       "mse_by_flow": fit.mse_by_flow, "mse_last_input": fit.mse_last_input}


def _meta(methods: Sequence[Method], protocol: Protocol, psnr_filter: float | None, selection: ClipSelection,
          data: DataConfig, results: Sequence[ClipResult], blend_note: dict[str, Any], lpips_status: dict[str, Any],
          device: torch.device, workers: int, partial: dict[str, Any] | None, scoring_s: float) -> dict[str, Any]:
    """What the report says beside the scores (``summary.json`` holds it whole): the rows, the
    protocol, the clips and data, the moving areas, the flow, the blend, LPIPS, the
    environment and the time spent. ``wall_time_s`` is left None for the caller to fill in."""
    n = max(len(results), 1)
    return {
        **({"partial": partial} if partial else {}),
        "methods": [{"name": m.name, "kind": m.kind, **m.info} for m in methods],
        "protocol": {**asdict(protocol), "clip_frames": protocol.clip_frames, "min_frames": protocol.min_frames,
                     "psnr_filter": psnr_filter},
        "selection": selection.as_dict(),
        "data": {"source": data.source, "root": data.root, "split": data.split, "frame_size": data.frame_size,
                 "frame_height": data.frame_height, "cut_ratio": data.cut_ratio,
                 "procedural": asdict(data.procedural) if data.source == "procedural" else None},
        "n_clips": len(results),
        "n_moving_clips": sum(r.moving_fraction > 0 for r in results),
        "mean_moving_fraction": sum(r.moving_fraction for r in results) / n,
        "mean_moving_fraction_per_frame": [sum(r.moving_fractions[k] for r in results) / n
                                           for k in range(protocol.n_scored)],
        "flow": {"method": "cv2.calcOpticalFlowFarneback, last context frame -> previous frame, grey levels",
                 "params": ", ".join(f"{k}={v}" for k, v in FARNEBACK_PARAMS.items()),
                 "dis_preset": DIS_PRESET},
        "blend": blend_note,
        "lpips": lpips_status,
        "environment": {"vidpred": vidpred.__version__, "torch": torch.__version__, "python": platform.python_version(),
                        "device": str(device), "threads": torch.get_num_threads(), "workers": workers},
        "wall_time_s": None,
        "scoring_wall_time_s": round(scoring_s, 1),  # the clips' scoring alone, without loading them
        # Summed over clips (with --workers > 1 the sum exceeds the wall time): where it went.
        "seconds_per_stage": {stage: round(sum(r.seconds.get(stage, 0.0) for r in results), 2)
                              for stage in dict.fromkeys(k for r in results for k in r.seconds)},
    }


def run_evaluation(data: DataConfig, checkpoints: Sequence[str | Path], out_dir: str | Path, *,
                   protocol: Protocol = Protocol(), every: int = 1, start_frame: int = 0,
                   clips_per_video: int = 1, names: Sequence[str] | None = None, device: torch.device = torch.device("cpu"),
                   lpips: str = "auto", lpips_weights: str | Path | None = None, videos: str = "auto",
                   psnr_filter: float | None = None, blend_weight: float | None = None, workers: int = 1,
                   progress: bool = True, force: bool = False, stop: StopRequest | None = None) -> EvalOutcome:
    """Evaluate checkpoints and the baselines on the selected clips; write the report.

    Args:
        data: source, root, split, cache_dir, frame_size (None: native), procedural settings.
        checkpoints: vidpred training checkpoints (may be empty: baselines only).
        out_dir: where ``report.md``, ``summary.{csv,json}``, ``per_video.{csv,json}`` go.
        protocol: context frames, scored frames, flicker frames, flow threshold.
        every: keep every ``every``-th video (10 for the paper's UCF101 protocol).
        start_frame: first frame of each clip.
        clips_per_video: clips per video, spread evenly from ``start_frame`` to its end.
        names: row names for the checkpoints (default ``<run>/<file stem>``).
        device: where models and metrics run.
        lpips: ``"auto"`` (computed when the backbone file is on disk, else skipped with
            the reason) or ``"off"``.
        lpips_weights: the AlexNet backbone file (default torch.hub's cache path); a file given
            that is missing or unreadable is an error, where the default's absence skips LPIPS.
        videos: which videos of a folder (``choose_eval_videos``): ``"auto"`` (the held-out
            ones of a checkpoint trained on that folder, else all), ``"held-out"``, ``"all"``.
        psnr_filter: leave a (clip, method, frame) out of the paper-compatible table when
            its paper-compatible PSNR in the official code's units is at least this many dB
            (the official code: 50); None keeps every clip.
        blend_weight: the blend row's weight on the last input (the rest on DIS flow
            extrapolation); None fits it on the source's "val" videos when they are apart
            from the scored ones (:data:`BLEND_FIT_SOURCES`), else the row is left out.
        workers: clips scored at once, in threads (the numbers do not depend on it).
        progress: show progress bars.
        force: replace files of the report's names in ``out_dir`` that no evaluation wrote.
        stop: installed while the clips are scored: on its first signal the clips started are
            finished and the report holds them, marked partial (``meta["partial"]``).

    Raises:
        OutputRefused: ``out_dir`` cannot take the report (checked before any scoring).
        KeyboardInterrupt: stopped before the first clip was scored (nothing is written).
    """
    started = time.monotonic()
    check_report_folder(out_dir, force)
    if lpips != "off" and lpips_weights is not None and not Path(lpips_weights).is_file():  # said before the data
        raise FileNotFoundError(f"LPIPS weights not found: {lpips_weights} (--lpips-weights)")
    if psnr_filter is not None and not (math.isfinite(psnr_filter) and psnr_filter >= 0):
        raise ValueError(f"the PSNR filter must be a finite number of dB >= 0, got {psnr_filter}")
    methods = load_methods(checkpoints, names, device)
    record_context_frames(methods, protocol)
    trained = [(m.name, m.info["training_data"]) for m in methods if m.kind == "checkpoint"]
    given = data
    data, subset, note = choose_eval_videos(data, trained, videos)
    # A folder's held-out videos named from the checkpoints' runs, not from data.val_videos.
    held_out_by = ("held out in training by the checkpoints' runs"
                   if data.source == "folder" and data.val_videos != given.val_videos else None)
    data = _with_training_cut_ratio(data, trained)
    _warn_of_training_frame_sizes(data, trained)
    if data.source in BLEND_FIT_SOURCES:  # a missing corpus or test list is said alone, not after the blend's warning
        select_videos(data, subset, every=every, max_frames=None)
    blend, blend_note = _blend(data, subset, blend_weight, protocol, start_frame, device, progress)
    if blend is not None:
        methods.append(blend_method(blend))
    clips, selection = load_eval_clips(data, every=every, start_frame=start_frame,
                                       clip_frames=protocol.clip_frames, min_frames=protocol.min_frames,
                                       clips_per_video=clips_per_video, subset=subset, note=note, progress=progress,
                                       held_out_by=held_out_by)
    lpips_metric, lpips_status = _lpips(lpips, lpips_weights, device)  # after the data: a bad root is said alone
    scoring_started = time.monotonic()
    with stop or contextlib.nullcontext():
        results = evaluate(clips, methods, protocol, device, lpips_metric, show_progress=progress, workers=workers,
                           should_stop=None if stop is None else lambda: stop.signal is not None)
    partial = partial_mark(len(results), len(clips), None if stop is None else stop.signal)
    if partial:
        logger.warning("%s: the report holds the clips scored, each of its files marked partial", partial_line(partial))
    scoring_s = time.monotonic() - scoring_started
    logger.info("scored %d clips in %.1f s (%.2f clips/s)", len(results), scoring_s, len(results) / max(scoring_s, 1e-9))
    summary = summarize(results, [m.name for m in methods], psnr_filter=psnr_filter)
    meta = _meta(methods, protocol, psnr_filter, selection, data, results, blend_note, lpips_status, device, workers,
                 partial, scoring_s)
    meta["wall_time_s"] = round(time.monotonic() - started, 1)
    paths = write_report(out_dir, results, summary, meta)
    return EvalOutcome(markdown=markdown_report(summary, meta), summary=summary, meta=meta, paths=paths)
