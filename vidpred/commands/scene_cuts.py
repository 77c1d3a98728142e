r"""Where the refiner sees cuts between scenes in a video, and how clear the line is.

    python scripts/scene_cuts.py --video my_clip.mp4
    python scripts/scene_cuts.py --subset val --out docs/benchmarks/scene_cuts_val.md

Every step of each video (frame ``t-1`` to frame ``t``) is scored as a refiner reading cuts
(``model.generator.scene_cuts``) scores its context's steps: how much of the change the
step's DIS flow leaves unexplained (:func:`vidpred.models.scene_steps.unexplained_change`; along
the medium preset's flow, and along the flow refined at full size, as the refiner's newest
step is). A step above :data:`~vidpred.models.scene_steps.SCENE_CUT_RESIDUAL` along either is a
cut, unless one shift of the whole frame explains it as well as the line asks
(:func:`~vidpred.models.scene_steps.shifted_change`: a pan too fast for the flow, which the
shipped model, reading ``model.generator.pans_not_cuts``, does not take for a cut). The
table gives, per video, the steps scored, the cuts (the frame each one starts), the steps
over the line that one shift explains, how far the steps within scenes stay from the line
(their median, 99th percentile and largest score) and the smallest score of a cut, with the
smallest of the cuts' scores along one shift.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from vidpred.cli import add_threads_arg, positive, script, set_threads, setup_logging, user_path
from vidpred.commands import check_table_output, print_table
from vidpred.data.corpus import DEFAULT_CORPUS_ROOT, corpus_paths
from vidpred.data.sampler import to_model_input
from vidpred.data.video_io import iter_video
from vidpred.models.optical_flow import dis_flows_back, reused_flows
from vidpred.models.scene_steps import SCENE_CUT_RESIDUAL, cut_greys, shifted_change, unexplained_change

log = logging.getLogger("vidpred")
_HEADING = "# Cuts between scenes"


def step_scores(video: str | Path, max_frames: int | None = None) -> np.ndarray:
    """``(steps, 3)``: each step's unexplained change along DIS's medium-preset flow, along
    the flow refined at full size and along one shift of the whole frame (infinite where no
    shift is found), step ``t - 1`` (frame ``t - 1`` to ``t``) in row ``t - 1``."""
    scores, earlier = [], None
    frames = iter_video(video, max_frames=max_frames)
    with reused_flows():  # the refined flow starts from the medium preset's: estimated once
        for frame in tqdm(frames, desc=Path(video).name, unit="frame", leave=False):
            later = to_model_input(torch.from_numpy(frame)[None, None])[0, :, 0]  # (C, H, W)
            if earlier is not None:
                pair = torch.stack([earlier, later], dim=1).unsqueeze(0)  # (1, 3, 2, H, W)
                greys = cut_greys(pair)
                scores.append([float(unexplained_change(pair, dis_flows_back(pair, 1, refine_newest=refine))[0, 0])
                               for refine in (False, True)] + [shifted_change(greys[1][0, 0], greys[0][0, 0])])
            earlier = later
    return np.asarray(scores, dtype=np.float64).reshape(-1, 3)


def cuts_table(rows: list[tuple[str, np.ndarray]], threshold: float = SCENE_CUT_RESIDUAL) -> str:
    """The Markdown table of :func:`step_scores` for each (video name, scores)."""
    lines = [_HEADING, "",
             f"A step is a cut when its flow leaves more than {threshold:g} of the change unexplained (the larger "
             "of its scores along DIS's medium-preset flow and the refined flow) and one shift of the whole frame "
             "does too (a step over the line that one shift explains is a pan too fast for the flow). Within "
             "scenes: the steps that are not cuts.", "",
             "| video | steps | cuts (the frame each starts) | over the line, one shift explains | "
             "within scenes: median / 99th pct. / largest | smallest cut (along one shift) |",
             "|---|---|---|---|---|---|"]
    for name, scores in rows:
        score = scores[:, :2].max(axis=1) if len(scores) else scores.reshape(0)
        over = score > threshold
        cut = over & (scores[:, 2] > threshold) if len(scores) else over
        starts = ", ".join(f"{t + 1} ({score[t]:.2f})" for t in np.flatnonzero(cut)) or "none"
        panned = ", ".join(f"{t + 1} ({score[t]:.2f}; {scores[t, 2]:.2f})"
                           for t in np.flatnonzero(over & ~cut)) or "none"
        within = score[~cut]
        spread = (f"{np.median(within):.3f} / {np.percentile(within, 99):.3f} / {within.max():.3f}"
                  if len(within) else "-")
        smallest = f"{score[cut].min():.2f} ({scores[cut, 2].min():.2f})" if cut.any() else "-"
        lines.append(f"| {name} | {len(score)} | {starts} | {panned} | {spread} | {smallest} |")
    return "\n".join(lines) + "\n"


@script
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--video", nargs="+", type=user_path, help="video files or folders of frame images")
    source.add_argument("--subset", choices=("train", "val", "test"), help="the corpus's videos of one split")
    parser.add_argument("--root", default=DEFAULT_CORPUS_ROOT, type=user_path,
                        help=f"the corpus folder, with --subset (default {DEFAULT_CORPUS_ROOT})")
    parser.add_argument("--frames", type=int, default=None, help="read at most this many frames of each video")
    parser.add_argument("--out", type=user_path, help="also write the Markdown table here")
    parser.add_argument("--force", action="store_true", help="replace an --out that this script did not write")
    add_threads_arg(parser)
    args = parser.parse_args(argv)
    setup_logging()
    positive("--frames", args.frames)
    set_threads(args.threads)
    check_table_output(args.out, _HEADING, args.force)
    if args.subset:
        videos = [(f"{args.subset}/{path.name}", path) for path in corpus_paths(args.root, args.subset)]
    else:
        videos = [(str(path), path) for path in args.video]
    rows = [(name, step_scores(path, args.frames)) for name, path in videos]
    print_table(cuts_table(rows), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
