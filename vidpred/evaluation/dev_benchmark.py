"""The development benchmark: each video of the corpus's test (or validation) split scored
as its own source, every method on the same clips, with paired differences per source.

A single mean over all test videos would let a still-camera video hide a moving-camera one
(and the reverse), so every video of the split (:mod:`vidpred.data.corpus`: still camera,
moving camera) gets its own table: whole-frame PSNR, SSIM, sharpness and edge ratio of the
1st and 2nd predicted frames for each checkpoint and baseline, a verdict (the model against
the better baseline, and its edge ratio against the better flow extrapolation's), and the
per-clip paired differences between each checkpoint and each baseline. The blend row's
weight is fitted on the validation split: with ``subset="test"`` never on the scored clips;
with ``subset="val"`` on the scored videos themselves.

Choose recipes with ``subset="val"`` and report with ``subset="test"``:
``python scripts/dev_benchmark.py --subset val --checkpoint runs/a/checkpoints/latest.pt``.

With ``adapt`` (:class:`~vidpred.evaluation.adapt.AdaptSettings`), the clips come from the
second half of each video only, and each checkpoint gets a second row, "<name>, adapted":
a copy fine-tuned on the frames before that video's first scored clip
(:func:`~vidpred.evaluation.adapt.adapt_generator`), as a user would on the footage they
already have. The baselines and the unadapted rows are scored on the same clips.

With ``degrade`` (:class:`~vidpred.evaluation.degrade.Degradation`), every scored clip gets
sensor grain and brightness flicker first, the same for every method and run: where flow
extrapolation is expected to fall below copying.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch

from vidpred.cli import StopRequest
from vidpred.config import DataConfig
from vidpred.data.corpus import CORPUS
from vidpred.data.datasets import load_split
from vidpred.evaluation.adapt import AdaptSettings, adapt_generator, checked_frames
from vidpred.evaluation.baselines import Blend
from vidpred.evaluation.clips import ClipSelection, EvalClip, corpus_overlaps, load_eval_clips
from vidpred.evaluation.degrade import Degradation
from vidpred.evaluation.paired import paired_difference, paired_lines
from vidpred.evaluation.partial import partial_heading, partial_line, partial_mark
from vidpred.evaluation.pipeline import GIVEN_BLEND_FLOW, fit_blend_on_val, load_methods, record_context_frames
from vidpred.evaluation.predictors import (BASELINE_NAMES, BLEND, DIS_FLOW, CheckpointPredictor, Method,
                                          averaged_methods, blend_method)
from vidpred.evaluation.report import frame_table, markdown_table, summarize, verdict_lines
from vidpred.evaluation.runner import ClipResult, Protocol, evaluate
from vidpred.evaluation.steady_camera import SteadyCamera, SteadyZoom
from vidpred.safe_write import TEXT_ERRORS, check_output_folder, replacing_all

__all__ = ["ADAPTED_SUFFIX", "DEFAULT_CLIPS_PER_VIDEO", "SourceReport", "run_dev_benchmark"]

logger = logging.getLogger(__name__)

DEFAULT_CLIPS_PER_VIDEO = 12
# The paired differences shown per source, and the baselines a checkpoint is paired with.
PAIRED_KEYS = ("psnr_whole_f1", "psnr_whole_f2", "ssim_whole_f1", "ssim_whole_f2", "edges_whole_f1")
PAIRED_BASELINES = tuple(name for name in BASELINE_NAMES if name != BLEND)  # every baseline but the hedge
ADAPTED_SUFFIX = ", adapted"
# With adaptation, the scored clips lie in each video's second half; the first is adapted on.
ADAPT_FRACTION = 0.5


@dataclass
class SourceReport:
    """One video of the split: its clips' scores and their paired summary."""

    video: str  # "<split>/<name>"
    motion: str  # the corpus table's kind of motion
    results: list[ClipResult]
    summary: dict  # report.summarize of the results: per row and score key, the paired mean over the clips


def _motion_of(video: str) -> str:
    name = video.split("/", 1)[-1]
    return next((v.motion for v in CORPUS if v.name == name), "unknown")


def _paired_rows(results: Sequence[ClipResult]) -> list[dict]:
    return [{"video": r.name, "scores": r.scores} for r in results]


def _source_section(source: SourceReport, methods: Sequence[dict[str, Any]]) -> list[str]:
    names = [m["name"] for m in methods]
    first = source.results[0]
    n = len(source.results)
    lines = [f"### `{source.video}` ({source.motion}; {n} clip{'' if n == 1 else 's'} of {first.width}x{first.height})",
             ""]
    lines += frame_table(source.summary, names, "whole", 2, len(source.results))
    lines += verdict_lines(source.summary, methods, "whole")
    checkpoints = [m["name"] for m in methods if m["kind"] == "checkpoint"]
    pairs = [(a, b) for a in checkpoints for b in PAIRED_BASELINES if b in names]
    pairs += [(a, a.removesuffix(ADAPTED_SUFFIX)) for a in checkpoints  # what adapting changed
              if a.endswith(ADAPTED_SUFFIX) and a.removesuffix(ADAPTED_SUFFIX) in checkpoints]
    if pairs:
        lines += ["", *paired_lines(_paired_rows(source.results), pairs, PAIRED_KEYS,
                                    "a − b (paired, mean ± s.e. (wins/clips); edges: how much closer to 1)")]
    return lines + [""]


def _overview(sources: Sequence[SourceReport], methods: Sequence[dict[str, Any]]) -> list[str]:
    """One row per (source, checkpoint): 1st/2nd-frame PSNR against the better of last input and flow."""
    checkpoints = [m["name"] for m in methods if m["kind"] == "checkpoint"]
    baselines = [b for b in PAIRED_BASELINES if any(m["name"] == b for m in methods)]
    header = ["video", "motion", "model", "1st PSNR", "best baseline (1st)", "model − it (1st)",
              "2nd PSNR", "best baseline (2nd)", "model − it (2nd)", "edges model / DIS (1st)"]
    rows = []
    for source in sources:
        paired_rows = _paired_rows(source.results)
        for name in checkpoints or [None]:
            cells = [f"`{source.video}`", source.motion, name or "—"]
            for k in (1, 2):
                key = f"psnr_whole_f{k}"
                best = max(baselines, key=lambda b: source.summary[b][key]["mean"])
                if name is None:
                    cells += ["—", f"{best} {source.summary[best][key]['mean']:.2f}", "—"]
                    continue
                diff = paired_difference(paired_rows, name, best, key)
                cells += [f"{source.summary[name][key]['mean']:.2f}",
                          f"{best} {source.summary[best][key]['mean']:.2f}", diff.text(2)]
            if name is not None and DIS_FLOW in source.summary:
                cells.append(f"{source.summary[name]['edges_whole_f1']['mean']:.3f} / "
                             f"{source.summary[DIS_FLOW]['edges_whole_f1']['mean']:.3f}")
            else:
                cells.append("—")
            rows.append(cells)
    return markdown_table(header, rows)


def _adapted(methods: Sequence[Method], frames: np.ndarray, settings: AdaptSettings, device: torch.device,
             progress: bool, should_stop: Callable[[], bool] | None = None) -> list[Method]:
    """Each checkpoint row fine-tuned on ``frames`` (uint8 ``(T, H, W, C)``), as "<name>, adapted"
    (until ``should_stop`` says so: then the rows fine-tuned so far, the last cut short)."""
    out = []
    for method in methods:
        if method.kind != "checkpoint":
            continue
        if should_stop is not None and should_stop():
            break
        predictor = method.predict
        started = time.perf_counter()
        generator = adapt_generator(predictor.generator, frames, settings, predictor.config.loss, device,
                                    show_progress=progress, should_stop=should_stop)
        logger.info("%s: adapted in %.0f s", method.name, time.perf_counter() - started)
        out.append(_adapted_row(method, CheckpointPredictor(generator, predictor.config), settings))
    return out


def _adapted_row(method: Method, predict: CheckpointPredictor, settings: AdaptSettings) -> Method:
    info = {**method.info, "adapt": dataclasses.asdict(settings),
            "adapted_on": "each video's frames before its first scored clip"}
    return Method(name=method.name + ADAPTED_SUFFIX, kind="checkpoint", predict=predict, info=info)


def _after_checkpoints(methods: Sequence[Method], rows: Sequence[Method]) -> list[Method]:
    """``rows`` inserted after the checkpoint rows of ``methods`` (which come first)."""
    n = sum(m.kind == "checkpoint" for m in methods)
    return [*methods[:n], *rows, *methods[n:]]


def _score_adapted(clips: Sequence[EvalClip], methods: Sequence[Method], settings: AdaptSettings, data: DataConfig, subset: str,
                   protocol: Protocol, device: torch.device, workers: int, progress: bool,
                   should_stop: Callable[[], bool] | None = None) -> list[ClipResult]:
    """Per video: adapt every checkpoint on the frames before its first clip, score all rows
    (until ``should_stop``: :func:`~vidpred.evaluation.runner.evaluate`)."""
    videos = {v.name: v.frames for v in load_split(data, subset, min_frames=protocol.min_frames, progress=progress)}
    for video in dict.fromkeys(c.video for c in clips):  # every video's frames enough, before any is adapted
        first = min(c.start for c in clips if c.video == video)
        for method in (m for m in methods if m.kind == "checkpoint"):
            try:
                checked_frames(first, method.predict.generator.n_context, settings)
            except ValueError as exc:
                raise ValueError(f"{video}: {exc} (its frames before the first scored clip); check a smaller "
                                 "fraction (--adapt-check) or adapt without the check") from None
    results = []
    for video in dict.fromkeys(c.video for c in clips):
        if should_stop is not None and should_stop():
            break
        own = [c for c in clips if c.video == video]
        first = min(c.start for c in own)
        logger.info("%s: adapting on frames 0-%d, scoring %d clips from frame %d", video, first - 1, len(own), first)
        adapted = _adapted(methods, videos[video][:first], settings, device, progress, should_stop)
        if should_stop is not None and should_stop():  # stopped while fine-tuning: this video is not scored
            break
        results += evaluate(own, _after_checkpoints(methods, adapted), protocol, device, None,
                            show_progress=progress, workers=workers, should_stop=should_stop)
    return results


def _adapt_note(adapt: AdaptSettings) -> str:
    check = (f"; the newest {adapt.check_fraction:g} of those frames held out, and the fine-tuned copy kept only "
             "where it predicts them better" if adapt.check_fraction else "")
    return (f" Clips from the second half of each video only; \"{ADAPTED_SUFFIX.lstrip(', ')}\" rows are the "
            f"checkpoint fine-tuned on the frames before the video's first scored clip ({adapt.steps} steps, "
            f"learning rate {adapt.lr:g}, {adapt.crop}-px crops, seed {adapt.seed}{check}).")


def _skipped_note(selected: Sequence[str], skipped: Sequence[str], min_frames: int) -> str:
    """The split's videos left out of every table, named: the report is not the whole split's."""
    if not skipped:
        return ""
    n = len(skipped)
    return (f" {n} of the split's {len(selected)} video{'s' if len(selected) != 1 else ''} "
            f"{'is' if n == 1 else 'are'} not scored (unreadable, shorter than {min_frames} frames, or too small): "
            f"{', '.join(skipped)}.")


OUTPUT_FILES = ("report.md", "per_clip.json")


def _is_ours(out_dir: Path) -> bool:
    try:
        written = json.loads((out_dir / "per_clip.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(written, dict) and set(written) - {"partial", "settings"} == {"methods", "clips"}


def check_out_dir(out_dir: str | Path, force: bool = False) -> Path:
    """Refuse ``out_dir`` now, before the benchmark runs: a file, a folder holding a
    ``report.md`` or ``per_clip.json`` that no benchmark wrote (unless ``force``), or one
    that cannot be written.

    Raises:
        OutputRefused: naming the folder and what to do.
    """
    return check_output_folder(out_dir, OUTPUT_FILES, ours=_is_ours, what="benchmark", output="benchmark report",
                               force=force)


def run_dev_benchmark(checkpoints: Sequence[str | Path], *, names: Sequence[str] | None = None,
                      subset: str = "test", root: str | None = None, cache_dir: str = DataConfig.cache_dir,
                      clips_per_video: int = DEFAULT_CLIPS_PER_VIDEO, blend_weight: float | None = None,
                      device: torch.device = torch.device("cpu"), workers: int = 1, progress: bool = True,
                      out_dir: str | Path | None = None, force: bool = False,
                      adapt: AdaptSettings | None = None,
                      degrade: Degradation | None = None, ensemble: str | None = None,
                      mirror: bool = False, steady: SteadyCamera | None = None,
                      n_context: int = 4, frame_step: int = 1, skip_frame: bool = False,
                      stop: StopRequest | None = None) -> tuple[str, list[SourceReport]]:
    """Score checkpoints and the baselines on every video of the corpus's ``subset``.

    Args:
        checkpoints: vidpred checkpoints or exported models (may be empty: baselines only).
        names: their row names.
        subset: ``"test"`` (report) or ``"val"`` (choose recipes).
        root: the corpus folder (None: the fetch's default, ``.cache/vidpred/corpus``).
        cache_dir: the decoded-video cache.
        clips_per_video: clips spread evenly over each video (``n_context`` context + 2 scored frames).
        blend_weight: the blend row's weight on the last input; None fits it on the
            validation split's clips.
        device: where models run.
        workers: clips scored at once (the numbers do not depend on it).
        progress: progress bars.
        out_dir: where ``report.md`` and ``per_clip.json`` are written (None: nowhere).
        force: replace files of those names in ``out_dir`` that no benchmark wrote.
        adapt: score the second half of each video, with each checkpoint also adapted on
            the frames before it (None, or 0 steps: every clip spread over the whole video).
        degrade: grain and flicker added to every scored clip (None: the clips as they are).
            The blend's weight is still fitted on the clean validation clips.
        ensemble: also score one row of this name, the mean motion of all the checkpoints
            (refiners; :mod:`vidpred.models.averaged_motion`).
        mirror: also score each checkpoint (and the ensemble) with its motion averaged with
            its answer for the mirrored clip.
        steady: score a steady pan, zoom or roll of each clip's first frame instead of the clip
            (:mod:`vidpred.evaluation.steady_camera`; applied before ``degrade``).
        n_context: context frames given; a model that needs fewer reads the newest ones,
            the baselines the last one or two (more: longer clips, so other positions).
        frame_step: each clip's frames this far apart in its video, the validation clips the
            blend is fitted on too: the footage at 1/``frame_step`` of its frame rate, with
            ``frame_step`` times the motion a frame.
        skip_frame: each clip cut one frame longer and its frame before the newest context
            frame left out, so the context's newest step spans two (as a frame dropped by the
            camera, or left out by a conversion to a lower frame rate) and the scored frames
            follow at the steps before it.
        stop: installed while the clips are scored: on its first signal the clips started are
            finished and the report holds them, marked partial (:mod:`vidpred.evaluation.partial`).

    Returns:
        the Markdown report and one :class:`SourceReport` per video.

    Raises:
        KeyboardInterrupt: stopped before the first clip was scored (nothing is written).
    """
    averaging = ensemble is not None or mirror
    adapting = adapt is not None and adapt.steps > 0
    _check_options(subset, clips_per_video, n_context, adapting, bool(degrade), bool(steady), averaging, frame_step,
                   skip_frame)
    if isinstance(steady, SteadyZoom):
        steady.check_frames(n_context + 2)  # the context and the two scored
    if out_dir is not None:
        check_out_dir(out_dir, force)
    data = DataConfig(source="corpus", root=root, cache_dir=cache_dir)
    protocol = Protocol(n_context=n_context, n_scored=2, flicker_frames=0)
    methods = _load_rows(checkpoints, names, device, ensemble, mirror, adapting)
    record_context_frames(methods, protocol)
    blend, fitted_on = _blend(data, blend_weight, protocol, clips_per_video, device, progress, frame_step)
    methods.append(blend_method(blend))
    overlaps = corpus_overlaps(data, subset, [(m.name, m.info["training_data"]) for m in methods
                                              if m.kind == "checkpoint" and "training_data" in m.info])
    for line in overlaps:
        logger.warning("%s", line)
    clips, selection = load_eval_clips(data, every=1, start_frame=0, clip_frames=protocol.clip_frames + skip_frame,
                                       note="; ".join(overlaps) or None,
                                       min_frames=protocol.min_frames + skip_frame, clips_per_video=clips_per_video,
                                       subset=subset, progress=progress,
                                       start_fraction=ADAPT_FRACTION if adapting else 0.0, frame_step=frame_step)
    if skip_frame:  # the context's newest step spans two of the clip's steps
        clips = [dataclasses.replace(clip, frames=np.delete(clip.frames, n_context - 1, axis=0)) for clip in clips]
    if steady:
        clips = [steady.clip(clip) for clip in clips]
    if degrade:
        clips = [degrade.clip(clip) for clip in clips]
    should_stop = None if stop is None else lambda: stop.signal is not None
    with stop or contextlib.nullcontext():
        if adapting:
            results = _score_adapted(clips, methods, adapt, data, subset, protocol, device, workers, progress,
                                     should_stop)
        else:
            results = evaluate(clips, methods, protocol, device, None, show_progress=progress, workers=workers,
                               should_stop=should_stop)
    if adapting:
        methods = _after_checkpoints(methods, [_adapted_row(m, m.predict, adapt) for m in methods
                                               if m.kind == "checkpoint"])  # the report's rows
    partial = partial_mark(len(results), len(clips), None if stop is None else stop.signal)
    if partial:
        logger.warning("%s: the report holds the clips scored, each of its files marked partial", partial_line(partial))
    method_info = [{"name": m.name, "kind": m.kind, **m.info} for m in methods]
    sources = _sources(results, [m.name for m in methods], steady)
    intro = _intro(clips_per_video, n_context, blend, fitted_on, selection,
                   (protocol.min_frames + skip_frame - 1) * frame_step + 1, adapt if adapting else None, steady,
                   degrade, frame_step, skip_frame)  # the frames a video needs at the step
    lines = [*partial_heading(partial), f"# Development benchmark: the corpus's {subset} split", "", intro, ""]
    lines += ["## Overview", ""] + _overview(sources, method_info) + ["", "## Per source", ""]
    for source in sources:
        lines += _source_section(source, method_info)
    markdown = "\n".join(lines)
    if out_dir is not None:
        settings = {"clips_per_video": clips_per_video, "n_context": n_context, "frame_step": frame_step,
                    "skip_frame": skip_frame,
                    "adapt": dataclasses.asdict(adapt) if adapting else None,
                    "degrade": degrade.describe() if degrade else None, "steady": steady.describe() if steady else None}
        _write_outputs(Path(out_dir), markdown, results, method_info, partial, settings)
    return markdown, sources


def _intro(clips_per_video: int, n_context: int, blend: Blend, fitted_on: str | None, selection: ClipSelection,
           min_frames: int, adapt: AdaptSettings | None, steady: SteadyCamera | None,
           degrade: Degradation | None, frame_step: int = 1, skip_frame: bool = False) -> str:
    """The report's first paragraph: what was scored, how the blend was weighted, the videos
    left out, and the adaptation, steady camera motion, degradation, frame step or skipped
    frame applied."""
    step = (f", each clip's frames {frame_step} apart in the video (its footage at 1/{frame_step} of its frame "
            f"rate, the blend's validation clips too)" if frame_step > 1 else "")
    return (f"Every video is its own source: {clips_per_video} clips spread over it{step}, whole frames at its native "
            f"size, {n_context} context frames, the 1st and 2nd predicted frames (the 2nd as each method rolls out). "
            "Means and paired differences are over the same clips for every method. Blend: "
            f"{blend.weight:g} x last input + {1 - blend.weight:g} x {blend.flow_method.upper()} extrapolation"
            + (f", the weight fitted on {fitted_on}" if fitted_on else ", the weight given")
            + " (a reference for what hedging buys, not a target). "
            "Edges: the prediction's edge content over the truth's (below 1: smoother)."
            + _skipped_note(selection.selected, selection.skipped, min_frames)
            + (f" Warning: {selection.note}." if selection.note else "")
            + (_adapt_note(adapt) if adapt is not None else "")
            + (f" Every scored clip replaced by {steady.describe()} (the same motion for every method)."
               if steady else "")
            + (f" Every scored clip degraded first ({degrade.describe()}; the same draws for every method)."
               if degrade else "")
            + (" Each clip's frame before its newest context frame left out: the context's newest step spans two "
               "(a dropped frame), the scored frames one each." if skip_frame else ""))


def _load_rows(checkpoints: Sequence[str | Path], names: Sequence[str] | None, device: torch.device,
               ensemble: str | None, mirror: bool, adapting: bool = False) -> list[Method]:
    """The checkpoint rows, then the rows averaging their motion (``ensemble``, ``mirror``),
    then the baselines but the blend (:func:`~vidpred.evaluation.pipeline.load_methods`).

    Raises:
        ValueError: a row's name taken by another row, the blend row or (``adapting``) an
            adapted row, said before any work.
    """
    methods = load_methods(checkpoints, names, device)
    loaded = [m for m in methods if m.kind == "checkpoint"]
    if ensemble is not None or mirror:
        methods = loaded + averaged_methods(loaded, ensemble, mirror) + methods[len(loaded):]
    taken = [m.name for m in methods] + [BLEND] + [m.name + ADAPTED_SUFFIX for m in loaded if adapting]
    repeated = sorted({name for name in taken if taken.count(name) > 1})
    if repeated:
        raise ValueError(f"row names must differ; taken twice: {', '.join(map(repr, repeated))}")
    return methods


def _blend(data: DataConfig, weight: float | None, protocol: Protocol, clips_per_video: int, device: torch.device,
           progress: bool, frame_step: int = 1) -> tuple[Blend, str | None]:
    """The blend row's blend and what its weight was fitted on: ``weight`` on the last input
    and the rest on DIS extrapolation (None: nothing fitted), or, without ``weight``, the
    blend fitted on the 1st predicted frame of the validation videos' clips."""
    if weight is not None:
        return Blend(weight, GIVEN_BLEND_FLOW), None
    fit, _ = fit_blend_on_val(data, protocol, device, clips_per_video=clips_per_video, progress=progress,
                              frame_step=frame_step)
    return fit.blend, f"{fit.n_clips} validation clips"


def _sources(results: Sequence[ClipResult], names: Sequence[str], steady: SteadyCamera | None) -> list[SourceReport]:
    """One :class:`SourceReport` per video, in the order of its first clip in ``results``:
    its clips and their paired means over the rows ``names``."""
    sources = []
    for video in dict.fromkeys(r.video for r in results):
        own = [r for r in results if r.video == video]
        motion = _motion_of(video) if not steady else f"{steady.kind} over stills of it (the video: {_motion_of(video)})"
        sources.append(SourceReport(video, motion, own, summarize(own, names)))
    return sources


def _check_options(subset: str, clips_per_video: int, n_context: int, adapting: bool, degrading: bool,
                   steady: bool, averaging: bool, frame_step: int = 1, skip_frame: bool = False) -> None:
    """Refuse settings :func:`run_dev_benchmark` cannot score, or cannot score together."""
    if subset not in ("val", "test"):
        raise ValueError(f"subset must be 'val' or 'test', got {subset!r}")
    if clips_per_video < 1:
        raise ValueError(f"clips_per_video must be >= 1, got {clips_per_video}")
    if n_context < 2:
        raise ValueError(f"n_context must be >= 2 (flow extrapolation reads two frames), got {n_context}")
    if adapting and degrading:
        raise ValueError("adaptation and degradation cannot be combined: the model would adapt on clean frames "
                         "and be scored on degraded ones")
    if adapting and steady:
        raise ValueError("adaptation and steady camera motion cannot be combined: the model would adapt on the "
                         "video and be scored on moving stills")
    if adapting and averaging:
        raise ValueError("adaptation cannot be combined with an ensemble or mirroring: it fine-tunes one model")
    if frame_step < 1:
        raise ValueError(f"the frame step must be >= 1, got {frame_step}")
    if frame_step > 1 and (adapting or steady):
        raise ValueError("a frame step cannot be combined with " + ("adaptation: the model would adapt at the video's "
                         "own frame rate" if adapting else "steady camera motion: that moves one still of each clip"))
    if skip_frame and (adapting or steady):
        raise ValueError("a skipped frame cannot be combined with " + ("adaptation" if adapting else
                         "steady camera motion: that moves one still of each clip"))


def _write_outputs(out: Path, markdown: str, results: Sequence[ClipResult], method_info: list[dict],
                   partial: dict[str, Any] | None = None, settings: dict[str, Any] | None = None) -> None:
    """``report.md`` and ``per_clip.json`` (every clip's scores, NaN and inf as null; ``partial``
    first when a stop left clips unscored; ``settings``, what the clips were scored under, last)
    in ``out``, both or neither (an earlier report there stays whole when writing fails part way)."""
    per_clip = [{"video": r.name, "source": r.video, "height": r.height, "width": r.width,
                 "scores": {m: {k: (v if math.isfinite(v) else None) for k, v in s.items()}
                            for m, s in r.scores.items()}} for r in results]
    with replacing_all([out / "report.md", out / "per_clip.json"]) as (report, clips):
        report.write_text(markdown + "\n", encoding="utf-8", errors=TEXT_ERRORS)
        written = {**({"partial": partial} if partial else {}), "methods": method_info, "clips": per_clip,
                   **({"settings": settings} if settings is not None else {})}
        clips.write_text(json.dumps(written, indent=1) + "\n", encoding="utf-8")
    logger.info("wrote %s and %s", out / "report.md", out / "per_clip.json")

