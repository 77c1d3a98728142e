"""Show what a model predicts: context | prediction | ground truth | error, side by side.

    python scripts/predict.py --video my_clip.mp4 --out pred.gif      # the shipped model
    python scripts/predict.py --checkpoint runs/quickstart/checkpoints/latest.pt --video clip.avi --out pred.gif
    python scripts/predict.py --checkpoint best.pt --video v_Basketball_g01_c01.avi --out pred.mp4 --frames 8 --start-frame 30
    python scripts/predict.py --video my_clip.mp4 --out steps.mp4 --one-step --frames 200   # every frame, one step ahead
    python scripts/predict.py --video my_clip.mp4 --out steps.mp4 --one-step --frames 200 --plot steps.png
    python scripts/predict.py --video my_clip.mp4 --out steps.mp4 --one-step --frames 200 --scores steps.csv

The model sees n_context real frames starting at --start-frame, then predicts --frames frames:
every frame of the shipped refiner is one resampling of the newest real frame along its
motion, each step continuing from where the one before ended (a refiner exported with
--rollout linear goes k times as far for the k-th frame); the pyramid models of the paper
predict recursively (each prediction is fed back as context). The output (.gif, .mp4 or .avi) plays
the context, then the rollout; a green bar over the prediction panel marks real frames, a
red bar predicted ones. The error panel is black where the prediction is exact and white
where it is off by half the range or more. --show-flow adds the model's motion as a
fifth panel (colour wheel: hue is the direction, saturation the speed, white is still).
It also logs the PSNR of every predicted frame beside the two baselines a prediction has
to beat on that footage: copying the newest context frame, and extrapolating it along
OpenCV's DIS optical flow.

With --one-step each of the --frames frames is predicted one step ahead from the real
frames before it (as a predictor running along a video would), the context panel showing
the newest real frame it saw, and the log gives each method's mean PSNR over those frames,
how many of them the model predicts better than each baseline, and each method's mean SSIM
and edge ratio (below 1: smoother than the truth, so a PSNR win bought with blur shows).
Where the video holds its frames in a steady rhythm (every frame shown twice, as footage at
15 frames a second shown at 30 or an animation on twos; one frame in four shown twice, as
film converted from 24 to 30 frames a second), the shipped model keeps the newest frame where
the rhythm holds the next one, and predicts a frame it moves from the frames its moving steps
started from, the held ones left out (--no-held-frames: the model predicts every frame from
the frames before it).
Its frames are read, predicted and scored one at a time, and an .mp4 or .avi is written as
they come. With --show-flow (its colours on one speed scale for the whole video), and into
a .gif (written whole at the end), each frame's panels are held on disk, in an unnamed
temporary file beside the output, until the end; a GIF's writer keeps the frames in its
palette, a byte a pixel (about 1.2 MB a frame at 640x360 with the motion, a quarter of it
with --scale 0.5). A frame that cannot be decoded ends the run
with the frames predicted before it, and so does Ctrl-C (twice: at once, writing nothing).
--plot draws each frame's PSNR along the video, the model's and the baselines', and below
it the model's margin over the better baseline, frame by frame; it is refused inside a
--video that is a folder of frame images, where it would be read as a frame from then on.

--scores writes every predicted frame's PSNR, SSIM and edge ratio, the model's and the
baselines', as a table for a spreadsheet or pandas: one row per frame and method, the
frame's index in the video and how many steps ahead it was predicted (1 with --one-step).
--out, --plot and --scores are renamed into place together, once all are written: a run
that fails part way leaves the files of the run before it as they were.

Without --checkpoint the model shipped with vidpred is used (vidpred/pretrained/refiner.pt,
DIS optical flow refined by a small network, trained on real video: docs/results.md).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import itertools
import logging
import math
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from vidpred._progress import progress
from vidpred._writable import nearest_existing
from vidpred.build import select_device
from vidpred.cli import StopRequest, add_device_arg, checkpoint_path, finite, script, setup_logging, user_path
from vidpred.commands import stopped_exit_code
from vidpred.data.sampler import to_model_input
from vidpred.data.video_io import (VideoReadError, announced_frames, height_to_size, iter_video, read_video,
                                  reads_as_frame)
from vidpred.evaluation import load_checkpoint_predictor
from vidpred.evaluation.baselines import flow_extrapolation, last_input
from vidpred.evaluation.partial import partial_line, partial_mark
from vidpred.evaluation.prediction_scores import (is_scores_file, score_frame, score_lines, summary_lines,
                                                 write_scores)
from vidpred.evaluation.predictors import DIS_FLOW, LAST_INPUT, Method, frame_resize
from vidpred.evaluation.visualize import (FPS_RANGE, Animation, animation_size, animation_video, check_writable_size,
                                         fitting_scale, is_our_animation, is_our_plot, plot_one_step, side_by_side,
                                         write_animation)
from vidpred.models.frame_timing import HeldFrames, changed_fractions
from vidpred.models.optical_flow import reused_flows
from vidpred.pretrained import default_model_path
from vidpred.safe_write import check_output, replacing_all


MAX_HEIGHT = 8640  # --height: a 16K frame's, past any camera's
_MAX_PANEL_HEIGHT = 540  # the default shrinks taller frames' panels to this: four 4K panels side by side fit no screen


@script
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", default=None,
                        help="vidpred checkpoint (default: the shipped model, vidpred/pretrained/refiner.pt)")
    parser.add_argument("--video", required=True, type=user_path, help="a video file (or folder of frame images)")
    parser.add_argument("--out", required=True, type=user_path, help="output .gif, .mp4 or .avi")
    parser.add_argument("--frames", type=int, default=8, help="frames to predict (default 8)")
    parser.add_argument("--start-frame", type=int, default=0, help="index of the first context frame (default 0)")
    parser.add_argument("--fps", type=float, default=4.0, help="output frame rate, 0.01-100 (default 4)")
    parser.add_argument("--scale", type=float, default=None,
                        help="each panel's size against the frame's: a whole number magnifies, a fraction in (0, 1) "
                             f"shrinks (default: panels at least 128 and at most {_MAX_PANEL_HEIGHT} px high, and "
                             "side by side within what --out's format takes)")
    parser.add_argument("--height", type=int, default=None,
                        help="predict the video resized to this height, its aspect ratio kept (default: its own "
                             "size); 4K frames at 720 took a fifth of the time and a third of the memory")
    parser.add_argument("--show-flow", action="store_true", help="add the model's predicted motion as a fifth panel")
    parser.add_argument("--one-step", action="store_true",
                        help="predict each of the --frames frames one step ahead from the real frames before it, "
                             "and log mean PSNR against the baselines over them")
    parser.add_argument("--no-held-frames", action="store_true",
                        help="with --one-step, let the model predict every frame from the frames before it, even "
                             "where the video holds its frames in a steady rhythm (each shown twice, say): there a "
                             "model that reads repeated frames otherwise keeps the newest frame where the rhythm "
                             "holds the next one, and leaves the held frames out of the context where it moves")
    parser.add_argument("--plot", default=None, metavar="PNG", type=user_path,
                        help="with --one-step, also plot each frame's PSNR along the video, the model's against the "
                             "baselines' (a .png)")
    parser.add_argument("--scores", default=None, metavar="CSV", type=user_path,
                        help="also write each predicted frame's PSNR, SSIM and edge ratio, the model's and the "
                             "baselines', as a table (a .csv)")
    add_device_arg(parser)
    parser.add_argument("--force", action="store_true",
                        help="replace an existing --out (or --plot, --scores) that this script did not write")
    args = parser.parse_args(argv)

    setup_logging()
    log = logging.getLogger("vidpred")
    if args.checkpoint is not None:
        args.checkpoint = checkpoint_path(args.checkpoint)
    _check_flags_and_outputs(args)
    if not Path(args.video).exists():  # said now, not after the model has loaded
        raise FileNotFoundError(f"cannot read video {args.video}: no such file or directory")
    height, width = next(iter_video(args.video, max_frames=1)).shape[:2]
    if args.height is not None:
        height, width = height_to_size(args.height, (height, width))
    if (args.one_step or args.scores is not None) and min(height, width) < 2:  # the edge ratio compares neighbours
        raise ValueError(f"{args.video} is {width}x{height}: --one-step and --scores score frames of at least 2x2 px")
    if args.scale is not None and args.scale < 1 and round(min(height, width) * args.scale) < min(height, width, 16):
        raise ValueError(f"--scale {args.scale:g} shows {width}x{height} frames as panels of "
                         f"{max(1, round(width * args.scale))}x{max(1, round(height * args.scale))} px: give at least "
                         f"{min(height, width, 16) / min(height, width):.2g}")
    check_writable_size(args.out, animation_size(height, width, _panel_scale(args, height, width), args.show_flow))
    device = select_device(args.device, "--device")
    method = load_checkpoint_predictor(default_model_path() if args.checkpoint is None else args.checkpoint,
                                       device)
    if args.show_flow and not method.predict.generator.predicts_motion:
        raise ValueError(f"--show-flow needs a model that predicts motion (flow or refiner head); {method.name} "
                         f"has the {method.info['head']} head")
    n_context = method.info["n_context"]
    if args.start_frame:
        log.info("reading %s from frame %d", args.video, args.start_frame)
    expected = _expected_frames(args, n_context)
    _warn_if_memory_short(args, expected, height, width)
    _warn_if_disk_short(args, expected, height, width)
    _warn_if_trained_at_another_size(method, args.video, height, width)
    if args.one_step:
        with replacing_all(_outputs(args)) as paths:
            with _animation_sink(args, paths[0], height, width) as sink:
                frames, scores, stop = _one_step(method, args, n_context, expected, device, sink,
                                                 spool=paths[0].parent if _spools(args) else None)
            n_future = len(next(iter(scores.values()))["psnr"])  # the model's row first
            partial = None if stop.signal is None else partial_mark(n_future, args.frames, stop.signal, "frames")
            if partial:
                log.warning("%s: the outputs hold the frames predicted, the scores marked partial",
                            partial_line(partial))
            _write_outputs(args, paths, frames, scores, n_context, n_future, one_step=True, partial=partial)
        _log_outputs(args, n_context, n_future)
        for line in summary_lines(scores):
            log.info("%s", line)
        return stopped_exit_code(stop)
    frames, rows, target, scores = _rollout(method, args, n_context, device)
    with replacing_all(_outputs(args)) as paths:
        _write_outputs(args, paths, frames, scores, n_context, target.shape[2], one_step=False)
    _log_outputs(args, n_context, target.shape[2])
    for line in score_lines(rows, target):
        log.info("%s", line)
    return 0


def _check_flags_and_outputs(args: argparse.Namespace) -> None:
    """Refuse flag values out of range and outputs that may not be written (a wrong suffix, a
    file this script did not write, a --plot inside a frame folder), before any decoding."""
    if args.frames < 1 or args.start_frame < 0:
        raise ValueError(f"need --frames >= 1 and --start-frame >= 0, got {args.frames} and {args.start_frame}")
    if args.height is not None and not 2 <= args.height <= MAX_HEIGHT:
        raise ValueError(f"--height must be a whole number of pixels from 2 to {MAX_HEIGHT}, got {args.height}")
    finite("--fps", args.fps, *FPS_RANGE)
    if args.no_held_frames and not args.one_step:
        raise ValueError("--no-held-frames is read along a video, with --one-step: add --one-step, or leave it out")
    if args.scale is not None and not (0 < args.scale < 1 or (args.scale >= 1 and args.scale.is_integer())):
        raise ValueError(f"--scale must be a whole number >= 1 or a fraction in (0, 1), got {args.scale:g}")
    if Path(args.out).suffix.lower() not in (".gif", ".mp4", ".avi"):
        raise ValueError(f"--out {args.out}: use .gif, .mp4 or .avi")
    unmarked = ("" if Path(args.out).suffix.lower() == ".gif"
                else " (a video carries no mark that tells predict.py's from yours)")
    check_output(args.out, inputs=[args.video, args.checkpoint], ours=is_our_animation,
                 what="a GIF written by predict.py" + unmarked, force=args.force)
    if args.plot is not None:
        if not args.one_step:
            raise ValueError("--plot draws the scores of --one-step: add --one-step, or leave --plot out")
        if Path(args.plot).suffix.lower() != ".png":  # and so never --out, a .gif, .mp4 or .avi
            raise ValueError(f"--plot {args.plot}: give a .png")
        if reads_as_frame(args.plot, args.video):  # (--out, a .gif, .mp4 or .avi, never is)
            raise ValueError(f"--plot {args.plot} is inside the frame folder --video {args.video}: it would be read "
                             "as a frame of the video from then on; write it elsewhere")
        check_output(args.plot, inputs=[args.video, args.checkpoint], ours=is_our_plot,
                     what="a plot written by predict.py", force=args.force)
    if args.scores is not None:
        if Path(args.scores).suffix.lower() != ".csv":
            raise ValueError(f"--scores {args.scores}: give a .csv")
        check_output(args.scores, inputs=[args.video, args.checkpoint], ours=is_scores_file,
                     what="a scores table written by predict.py", force=args.force)


def _rollout(method: Method, args: argparse.Namespace, n_context: int, device: torch.device
             ) -> tuple[np.ndarray, dict[str, torch.Tensor], torch.Tensor, dict[str, dict[str, list[float]]] | None]:
    """Roll the model out over ``args.frames`` frames after the ``n_context`` context frames
    read from ``args.start_frame`` (fewer where the video ends first), beside the baselines.

    Returns:
        the animation's frames (uint8 ``(n_context + K, H', W', 3)``), each row's prediction
        (name -> ``(1, C, K, H, W)`` in ``[-1, 1]``, the model's first), the true frames
        ``(1, C, K, H, W)`` in ``[-1, 1]``, and with ``--scores`` each row's per-frame scores
        (:func:`write_scores`), else None.
    """
    video = read_video(args.video, start=args.start_frame, max_frames=n_context + args.frames,  # from start_frame
                       frame_height=args.height)
    n_future = len(video) - n_context
    _check_length(args, len(video), n_context)
    clip = to_model_input(torch.from_numpy(video).unsqueeze(0).to(device))  # (1, C, T, H, W)
    context, target = clip[:, :, :n_context], clip[:, :, n_context:]
    flow = None
    if args.show_flow:
        prediction, flows = method.predict.with_motion(context, n_future)
        flow = flows[0]
    else:
        prediction = method.predict(context, n_future, None)  # a generator needs no flow
    baselines = {LAST_INPUT: last_input(context, n_future),
                 DIS_FLOW: flow_extrapolation(context, n_future, method="dis")}
    frames = side_by_side(context[0], prediction[0].float(), target[0], scale=_panel_scale(args, *context.shape[-2:]),
                          flow=flow)
    rows = {method.name: prediction.float(), **baselines}
    scores = None
    if args.scores is not None:
        with_ssim = min(target.shape[-2:]) >= 11
        scores = {name: {"psnr": [], "edges": [], **({"ssim": []} if with_ssim else {})} for name in rows}
        for name, frames_of_row in rows.items():
            for k in range(n_future):
                score_frame(scores[name], frames_of_row[:, :, k].clamp(-1, 1), target[:, :, k], with_ssim)
    return frames, rows, target, scores


def _outputs(args: argparse.Namespace) -> list[str]:
    """``--out`` and, when asked, ``--plot`` and ``--scores``: the files written together,
    each beside its target first and all renamed into place only once every one is written,
    so that a failure part way (a full disk, Ctrl-C) leaves the files of an earlier run as
    they were, not a mix (:func:`~vidpred.safe_write.replacing_all`)."""
    return [args.out, *([args.plot] if args.plot is not None else []),
            *([args.scores] if args.scores is not None else [])]


def _write_outputs(args: argparse.Namespace, paths: list[Path], frames: np.ndarray | None,
                   scores: dict[str, dict[str, list[float]]] | None, n_context: int, n_future: int, one_step: bool,
                   partial: dict | None = None) -> None:
    """Write the animation's ``frames`` (None: written to ``paths[0]`` as they came) and, when
    asked, the plot and the scores to ``paths``, the temporary files of :func:`_outputs`.
    ``partial`` (:func:`~vidpred.evaluation.partial.partial_mark`, a one-step run stopped
    early) heads the scores table."""
    first_frame = args.start_frame + n_context
    if frames is not None:
        write_animation(paths[0], frames, fps=args.fps, shown_as=args.out)
    if args.plot is not None:
        plot_one_step({name: row["psnr"] for name, row in scores.items()}, first_frame, paths[1],
                      f"{Path(args.video).name}: each frame's PSNR, predicted one step ahead")
    if args.scores is not None:
        write_scores(paths[-1], scores, first_frame, one_step=one_step, partial=partial)


def _log_outputs(args: argparse.Namespace, n_context: int, n_future: int) -> None:
    log = logging.getLogger("vidpred")
    log.info("wrote %s: %d context + %d predicted frames of %s", args.out, n_context, n_future, args.video)
    for path in _outputs(args)[1:]:
        log.info("wrote %s", path)


def _streams(args: argparse.Namespace) -> bool:
    """Whether a one-step run writes its animation as the frames come: an ``.mp4`` or
    ``.avi`` without the motion panel (a GIF's palette, and the motion's one speed scale,
    wait for every frame)."""
    return args.one_step and Path(args.out).suffix.lower() != ".gif" and not args.show_flow


def _spools(args: argparse.Namespace) -> bool:
    """Whether a one-step run holds its animation's frames on disk until the end: every one
    that does not :func:`_streams`, a GIF or the motion panel, whose colours wait for the
    fastest motion of the video (a GIF's writer then keeps each frame in its palette, a
    byte a pixel)."""
    return args.one_step and not _streams(args)


def _animation_sink(args: argparse.Namespace, path: Path, height: int, width: int
                    ) -> contextlib.AbstractContextManager[Callable[[np.ndarray], None] | None]:
    """Where a one-step run's animation of ``height`` x ``width`` video goes frame by frame:
    ``path``'s writer when it :func:`_streams`, else None (its frames are kept)."""
    if not _streams(args):
        return contextlib.nullcontext()
    return animation_video(path, animation_size(height, width, _panel_scale(args, height, width)), args.fps)


def _warn_if_trained_at_another_size(method: Method, video: str, height: int, width: int) -> None:
    """Say so when the model trained on frames resized to another size than the video's: its
    motions there are larger (or smaller) than the ones it learned."""
    trained = method.info.get("training_data", {})
    size, tall = trained.get("frame_size"), trained.get("frame_height")
    resize = frame_resize(size, tall)
    if resize is None or (tuple(size) == (height, width) if size else tall == height):
        return
    shown = resize[1]
    logging.getLogger("vidpred").warning(
        "%s trained on frames resized to %s; %s's are %dx%d and are predicted at that size, where motions are larger "
        "or smaller than the ones it learned: give a copy of the video at its training size (or --height) for "
        "predictions like its validation's", method.name, shown, video, height, width)


def _panel_scale(args: argparse.Namespace, height: int, width: int) -> float:
    """Each panel's size against a ``height`` x ``width`` frame: ``--scale``, else a whole
    magnification to at least 128 px high, or a shrink to :data:`_MAX_PANEL_HEIGHT` for taller
    frames, then as much smaller as ``--out``'s format needs (a panorama's panels side by side)."""
    if args.scale:
        return args.scale
    scale = _MAX_PANEL_HEIGHT / height if height > _MAX_PANEL_HEIGHT else max(1, -(-128 // height))
    return fitting_scale(args.out, height, width, scale, args.show_flow)


def _check_length(args: argparse.Namespace, n_read: int, n_context: int) -> None:
    """Refuse a video without a frame to predict after the context; warn when it has fewer than asked."""
    n_future = n_read - n_context
    if n_future < 1:
        n_frames = args.start_frame + n_read
        raise ValueError(f"{args.video} has {n_frames} frame{'' if n_frames == 1 else 's'}: not enough for {n_context} "
                         f"context frames from frame {args.start_frame} and one to predict")
    if n_future < args.frames:
        logging.getLogger("vidpred").warning(
            "%s ends after %d frames: predicting %d frame%s instead of %d", args.video, args.start_frame + n_read,
            n_future, "" if n_future == 1 else "s", args.frames)


# What a prediction holds in memory, as measured on 640x272 and 2160x3840 frames: the model
# and the libraries, then per pixel of the frame for the model's work. A rollout keeps every
# method's frames, the scores and the panels to the end (per pixel and predicted frame); a
# one-step prediction writes its panels as they come (_streams) or holds them on disk
# (_spools), and into a GIF its writer keeps each whole frame in its palette, a byte a pixel.
_BASE_BYTES, _BYTES_PER_PIXEL, _BYTES_PER_PIXEL_AND_FRAME = 0.8e9, 400, 100


def _bytes_per_frame(args: argparse.Namespace, height: int, width: int) -> float:
    """The memory each predicted ``height`` x ``width`` frame adds until the end."""
    scale = _panel_scale(args, height, width)
    if args.one_step:
        gif = Path(args.out).suffix.lower() == ".gif"
        return float(math.prod(animation_size(height, width, scale, args.show_flow))) if gif else 0.0
    shown = max(1, round(height * scale)) * max(1, round(width * scale))
    n_panels = 5 if args.show_flow else 4
    # the measured figure holds panels at the frame's size or smaller; magnified ones add
    return _BYTES_PER_PIXEL_AND_FRAME * height * width + 3 * n_panels * max(0, shown - height * width)


def _physical_memory() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # Windows, or a system that does not say
        return None


def _expected_frames(args: argparse.Namespace, n_context: int) -> int:
    """How many frames will be predicted: ``--frames``, or fewer where the video says it
    ends sooner (:func:`~vidpred.data.video_io.announced_frames`)."""
    announced = announced_frames(args.video)
    if announced is None:
        return args.frames
    return min(args.frames, max(1, announced - args.start_frame - n_context))


def _warn_if_memory_short(args: argparse.Namespace, n_frames: int, height: int, width: int) -> None:
    """Warn before decoding when predicting ``n_frames`` frames of ``args.video`` (``height``
    x ``width``) would take most of the machine's memory, so that the user learns why rather
    than meets the out-of-memory killer."""
    memory = _physical_memory()
    if memory is None:
        return
    needed = _BASE_BYTES + _BYTES_PER_PIXEL * height * width + n_frames * _bytes_per_frame(args, height, width)
    if needed > 0.8 * memory:
        kept = "their panels" if args.one_step else "them all"
        # (a one-step run that keeps them in memory writes a .gif: an .mp4 or .avi keeps none there)
        streamed = ", write an .mp4 or .avi (no frame held in memory)" if args.one_step else ""
        logging.getLogger("vidpred").warning(
            "predicting %d frames of %dx%d keeps %s in memory: about %.0f GB, and this machine has %.0f GB; "
            "predict fewer (--frames)%s or give a downscaled copy", n_frames, width, height, kept, needed / 1e9,
            memory / 1e9, streamed)


def _warn_if_disk_short(args: argparse.Namespace, n_frames: int, height: int, width: int) -> None:
    """Warn before decoding when the panels a one-step run holds on disk (:func:`_spools`)
    for ``n_frames`` frames of ``height`` x ``width`` would take most of the free space
    beside ``--out``."""
    if not _spools(args):
        return
    scale = _panel_scale(args, height, width)
    shown = max(1, round(height * scale)) * max(1, round(width * scale))
    per_frame = 3 * math.prod(animation_size(height, width, scale, args.show_flow))  # the frame, and its motion:
    per_frame += 8 * shown if args.show_flow else 0
    try:
        free = shutil.disk_usage(nearest_existing(Path(args.out).parent)).free
    except OSError:
        return
    if n_frames * per_frame > 0.9 * free:
        held = "into a .gif" if Path(args.out).suffix.lower() == ".gif" else "with --show-flow"
        logging.getLogger("vidpred").warning(
            "predicting %d frames of %dx%d %s holds their panels on disk beside %s until the end: about %s, and "
            "%s are free there; predict fewer (--frames), give --scale 0.5 or a downscaled copy, or write an .mp4 "
            "or .avi without --show-flow (written as they come)", n_frames, width, height, held, args.out,
            _amount(n_frames * per_frame), _amount(free))


def _amount(n_bytes: float) -> str:
    return f"{n_bytes / 1e9:.1f} GB" if n_bytes >= 1e9 else f"{n_bytes / 1e6:.1f} MB"


def _one_step(method: Method, args: argparse.Namespace, n_context: int, expected: int, device: torch.device,
              sink: Callable[[np.ndarray], None] | None = None, spool: Path | None = None
              ) -> tuple[np.ndarray | None, dict[str, dict[str, list[float]]], StopRequest]:
    """Predict each of ``args.frames`` frames of ``args.video`` one step ahead from the
    ``n_context`` real frames before it; return the animation's frames (None: given to
    ``sink`` as they came, :func:`_animation_sink`; held on disk in the folder ``spool``
    when given, :func:`_spools`), each method's per-frame scores
    (:func:`summary_lines`) and the stop request, whose ``signal`` is set when Ctrl-C (or
    SIGTERM) ended the run before its last frame. ``expected`` is how many frames the video
    has for it (:func:`_expected_frames`), the progress bar's length.

    Frames are decoded, predicted and scored one at a time: what stays in memory is the
    scores; a GIF's or the motion panel's frames wait on disk
    (:class:`~vidpred.evaluation.visualize.Animation`), an ``.mp4``'s or ``.avi``'s
    without it go to the writer as they come.
    """
    log = logging.getLogger("vidpred")

    def as_input(frame: np.ndarray) -> torch.Tensor:  # uint8 (H, W, C) -> (1, C, 1, H, W)
        return to_model_input(torch.from_numpy(frame)[None, None].to(device))

    reader = iter_video(args.video, start=args.start_frame, max_frames=n_context + args.frames,
                        frame_height=args.height)
    window = [as_input(frame) for frame in itertools.islice(reader, n_context + 1)]  # the context and a target
    if len(window) <= n_context:
        _check_length(args, len(window), n_context)  # refused: nothing to predict
    height, width = window[0].shape[-2:]
    animation = Animation(torch.cat(window[:n_context], dim=2)[0], args.frames, scale=_panel_scale(args, height, width),
                          with_flow=args.show_flow, sink=sink, spool=spool)
    with_ssim = min(height, width) >= 11
    n_future = 0
    # the video's steps, for its rhythm of held frames (None: not read)
    held: HeldFrames | None = None
    if method.info.get("repeated_frames"):
        if args.no_held_frames:  # its row named apart from the same model's reading them
            method = dataclasses.replace(method, name=f"{method.name} (every frame predicted)")
        else:
            held = HeldFrames(n_context)
    n_held = n_moving = 0  # frames the rhythm held (the newest frame kept), and moving ones read from its motion
    names = (method.name, LAST_INPUT, DIS_FLOW)
    scores: dict[str, dict[str, list[float]]] = {name: {"psnr": [], "ssim": [], "edges": []} for name in names}
    frames = itertools.chain(window[n_context:], map(as_input, reader))
    stop = StopRequest("writing the frames predicted so far")
    # reused_flows: each frame pair's DIS flow once, for the model and the baseline
    with stop, reused_flows(), progress(total=expected, desc="predicting", unit="frame", disable=expected < 10,
                                        leave=False) as bar:
        while True:
            try:
                target = next(frames, None)
            except VideoReadError as exc:  # the frames predicted before it are kept, as a long video's work should be
                if not n_future:
                    raise
                log.warning("%s: keeping the %d frame%s predicted before it", exc, n_future, "" if n_future == 1 else "s")
                break
            if target is None:  # the video, or --frames, ends
                _check_length(args, n_context + n_future, n_context)
                break
            if stop.signal is not None:
                if not n_future:
                    raise KeyboardInterrupt  # nothing predicted yet: nothing to write
                break
            seen = window[:n_context]  # each (1, C, 1, H, W): a frame the rhythm keeps is kept alone, not its context
            context, window = torch.cat(seen, dim=2), window[1:n_context] + [target]
            flow = None
            if held is not None:  # the context's steps at the start, then each newest step
                for t in range(1 if not held.n_steps else n_context - 1, n_context):
                    step = float(changed_fractions(context[:, :, t - 1:t + 1])[0, 0])
                    held = held.after(step, seen[t - 1])
            if held is not None and held.holds_next():  # the video's rhythm holds the next frame
                n_held += 1
                prediction = context[:, :, -1:].float()
                if args.show_flow:
                    flow = torch.zeros(2, height, width, device=context.device)
            else:
                moving = held.moving_context(seen[-1]) if held is not None else None
                if moving is not None:  # a moving step of the rhythm: predicted from the motion, held frames left out
                    n_moving += 1
                    model_input = torch.cat(moving, dim=2)
                else:
                    model_input = context
                if args.show_flow:
                    prediction, motion = method.predict.with_motion(model_input, 1)
                    flow = motion[0][:, 0]
                else:
                    prediction = method.predict(model_input, 1, None)
            rows = {method.name: prediction.float(), LAST_INPUT: context[:, :, -1:],
                    DIS_FLOW: flow_extrapolation(context, 1, method="dis")}
            for name, frame in rows.items():
                score_frame(scores[name], frame[:, :, 0].clamp(-1, 1), target[:, :, 0], with_ssim)
            animation.add(rows[method.name][0, :, 0], target[0, :, 0], seen=context[0, :, -1], flow=flow)
            n_future += 1
            bar.update()
    if not with_ssim:
        for row in scores.values():
            del row["ssim"]
    if n_held:
        moving = (f", and predicted {n_moving} moving frame{'s' if n_moving != 1 else ''} after held ones from the "
                  "video's moving frames alone" if n_moving else "")
        log.info("%s kept the newest frame for %d of the %d frames, where the video holds its frames in a steady "
                 "rhythm that held them%s (--no-held-frames: the model predicts every frame from the frames before "
                 "it)", method.name, n_held, n_future, moving)
    return None if sink else animation.frames(), scores, stop


if __name__ == "__main__":
    sys.exit(main())
