"""Paired per-clip differences between the methods of one evaluation (scripts/eval_ucf101.py --out DIR).

    python scripts/paired_table.py --eval runs/eval_samples --a flow --b "Farneback flow (paper)" --b "last input"

For every (a, b) pair and score key: the mean over clips of a - b, its standard error
and in how many clips a is better, e.g. "+0.21 ± 0.05 (11/12)"; for the edge ratio, how
much closer to the truth's 1 a is than b. Keys default to the whole-frame PSNR, SSIM,
sharpness and edge ratio of the 1st and 2nd predicted frames.
"""

from __future__ import annotations

import argparse
import sys

from vidpred.cli import script, setup_logging
from vidpred.evaluation.paired import paired_table, read_per_video

DEFAULT_KEYS = ["psnr_whole_f1", "psnr_whole_f2", "ssim_whole_f1", "ssim_whole_f2", "sharpness_whole_f1",
                "sharpness_whole_f2", "edges_whole_f1", "edges_whole_f2"]


@script
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--eval", required=True, help="an evaluation's output folder (holds per_video.json)")
    parser.add_argument("--a", action="append", required=True, help="method(s) compared")
    parser.add_argument("--b", action="append", required=True, help="method(s) compared against")
    parser.add_argument("--keys", nargs="*", default=DEFAULT_KEYS, help="score keys (default: whole-frame f1/f2)")
    args = parser.parse_args(argv)
    setup_logging()
    rows = read_per_video(args.eval)
    pairs = [(a, b) for a in args.a for b in args.b if a != b]
    print(paired_table(rows, pairs, args.keys))
    return 0


if __name__ == "__main__":
    sys.exit(main())
