r"""How well the camera's next motion is forecast from its past steps, on the corpus and on recorded camera paths.

    python scripts/camera_forecast.py --subset val --out docs/benchmarks/camera_forecast_val.md
    python scripts/camera_forecast.py --subset paths --out docs/benchmarks/camera_forecast_paths.md \
        --figure docs/figures/camera_paths.png
    python scripts/camera_forecast.py --subset val --fit-on paths --out docs/benchmarks/camera_forecast_val_fit_paths.md

Fits the forecasters on the training videos' camera steps and scores them on the subset's
videos; what they are: vidpred/evaluation/camera_forecast.py. ``--subset paths`` scores
motion-capture and odometry camera paths instead (vidpred/data/camera_paths.py; fetched
once from evo's PyPI source archive, ~11 MB), each fitted on the other paths and on its
own earlier half; ``--fit-on paths`` fits on those paths and scores corpus videos.

Ctrl-C finishes the video (or path) in hand and writes the table of those scored, marked
partial (no --figure); one while the videos fitted on are still measured finishes the video in
hand and stops, writing nothing (there is nothing to fit on yet); a second stops at once,
writing nothing.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from vidpred.cli import StopRequest, add_threads_arg, positive, script, set_threads, setup_logging, user_path
from vidpred.commands import check_table_output, print_table, stopped_exit_code
from vidpred.data.camera_paths import CAMERA_PATHS, DEFAULT_PATHS_ROOT, fetch_camera_paths, path_steps
from vidpred.data.corpus import DEFAULT_CORPUS_ROOT
from vidpred.evaluation.camera_forecast import (forecast_table, is_our_figure, plot_path_forecasts,
                                                score_forecasts, score_paths)
from vidpred.evaluation.partial import STOP_AT_ONCE, partial_heading, partial_line
from vidpred.safe_write import check_output, same_file

log = logging.getLogger("vidpred")
_HEADING = "# Forecasts of the camera's next step"


@script
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subset", choices=("train", "val", "test", "leave-one-out", "paths"), default="val",
                        help="what to score (default val; train scores the videos fitted on; leave-one-out "
                             "scores each training and validation video fitted on all the others; paths scores "
                             "the recorded camera paths)")
    parser.add_argument("--fit-on", choices=("train", "paths"), default="train",
                        help="fit on the training videos' steps (default) or on the recorded camera paths' "
                             "(with --subset train, val or test)")
    parser.add_argument("--root", default=DEFAULT_CORPUS_ROOT, type=user_path,
                        help=f"the corpus folder (default {DEFAULT_CORPUS_ROOT})")
    parser.add_argument("--paths-root", default=DEFAULT_PATHS_ROOT, type=user_path,
                        help=f"the camera paths' folder (default {DEFAULT_PATHS_ROOT})")
    parser.add_argument("--fetch-paths", action="store_true",
                        help="download the camera paths first if they are not in --paths-root")
    parser.add_argument("--rate", type=float,
                        help="frames a second the camera paths are resampled to (default 30; KITTI keeps its 10)")
    parser.add_argument("--plane-depth", type=float,
                        help="the camera paths' translation too, seen on a plane this many metres ahead "
                             "(default: their rotation alone)")
    parser.add_argument("--figure", type=user_path,
                        help="with --subset paths: also draw each path's true steps and forecasts in this PNG")
    parser.add_argument("--out", type=user_path, help="also write the Markdown table here")
    parser.add_argument("--force", action="store_true", help="replace an --out that this script did not write")
    add_threads_arg(parser)
    args = parser.parse_args(argv)
    uses_paths = args.subset == "paths" or args.fit_on == "paths"
    _check_flags(args, uses_paths)
    setup_logging()
    set_threads(args.threads)
    check_table_output(args.out, _HEADING, args.force)
    if args.figure:
        check_output(args.figure, ours=is_our_figure, what="a figure written by this script", force=args.force)
    paths = None
    if uses_paths:
        if args.fetch_paths:
            fetch_camera_paths(args.paths_root)
        paths = path_steps(args.paths_root, rate=args.rate, plane_depth=args.plane_depth)
    stop = StopRequest("finishing the video or path in hand, then writing the table of those scored (nothing "
                       "while the videos fitted on are still measured)", STOP_AT_ONCE)
    if args.subset == "paths":
        scores = score_paths(paths, stop=stop)
        if args.figure and "partial" in scores:
            log.warning("stopped: %s not drawn", args.figure)
        elif args.figure:
            plot_path_forecasts(paths, args.figure)
            log.info("wrote %s", args.figure)
        table = (f"{_HEADING} (recorded camera paths)\n\n{_paths_text(args)}## Fitted on the other paths\n\n"
                 f"{forecast_table(scores['other paths'], 'path')}\n## Fitted on the path's own earlier half\n\n"
                 f"{forecast_table(scores['own past'], 'path')}")
    else:
        subset = args.subset.replace("-", " ")
        scores = score_forecasts(subset, args.root, progress=lambda line: log.info("camera steps of %s", line),
                                 fit_on=paths, stop=stop)
        title = f"{_HEADING} ({subset}" + (")" if subset == "leave one out" else " videos)")
        table = title + "\n\n" + (_paths_text(args) if paths else "") + forecast_table(scores)
    partial = scores.get("partial")
    if partial:
        log.warning("%s: the table holds those scored, marked partial", partial_line(partial))
        table = "".join(line + "\n" for line in partial_heading(partial)) + table
    print_table(table, args.out)
    return stopped_exit_code(stop)


_DEFAULT_RATE = 30.0  # frames a second the camera paths are resampled to


def _check_flags(args: argparse.Namespace, uses_paths: bool) -> None:
    """Refuse flags that do not go together, or values out of range, before any work."""
    if args.fit_on == "paths" and args.subset not in ("train", "val", "test"):
        raise ValueError("--fit-on paths scores corpus videos: use it with --subset train, val or test")
    if not uses_paths and (args.fetch_paths or args.plane_depth is not None or args.rate is not None):
        raise ValueError("--fetch-paths, --plane-depth and --rate are for --subset paths or --fit-on paths")
    if args.figure and args.subset != "paths":
        raise ValueError("--figure draws the recorded camera paths: use it with --subset paths")
    if args.figure and Path(args.figure).suffix.lower() != ".png":
        raise ValueError(f"--figure {args.figure}: give a .png")
    if args.figure and args.out and (os.path.abspath(args.figure) == os.path.abspath(args.out)
                                     or same_file(args.figure, args.out)):
        raise ValueError(f"--figure and --out are both {args.out}: give each its own file")
    positive("--plane-depth", args.plane_depth)
    positive("--rate", args.rate)
    if args.rate is None:
        args.rate = _DEFAULT_RATE


def _paths_text(args: argparse.Namespace) -> str:
    """The table's paragraph on the recorded camera paths: their rate, what of the camera's
    motion they hold, and each path's kind of motion and source."""
    seen = "rotation alone" if args.plane_depth is None else f"rotation and translation, a plane {args.plane_depth:g} m ahead"
    kinds = "; ".join(f"{p.name}: {p.motion} ({p.source})" for p in CAMERA_PATHS)
    return f"Camera paths at {args.rate:g} frames a second ({seen}; a 640-px-wide frame): {kinds}.\n\n"


if __name__ == "__main__":
    sys.exit(main())
