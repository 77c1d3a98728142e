r"""Paired per-clip differences between the methods of one evaluation.

    python scripts/paired_table.py --eval runs/eval_samples --a flow --b "Farneback flow (paper)" --b "last input"

For every (a, b) pair and score key: the mean over clips of a - b, its standard error
and in how many clips a is better, e.g. "+0.21 ± 0.05 (11/12)" (for LPIPS a lower a is the
win); for the edge ratio, how much closer to the truth's 1 a is than b, and for the flicker
share, how much closer to the target frames'. Keys default to the whole-frame PSNR, SSIM,
sharpness and edge ratio of the 1st and 2nd predicted frames. --eval is the output folder
of scripts/eval_ucf101.py (per_video.json) or of scripts/dev_benchmark.py (per_clip.json:
one table per source video).

Two recipes over training seeds: name the runs with {seed} and list the seeds. Each seed's
mean difference over the clips is then one observation; the table gives the mean over
seeds, its standard error and the seeds where a is better:

    python scripts/paired_table.py --eval docs/benchmarks/val_recipes_seeds --seeds 0 1 2 3 4 \
        --a "step scale, seed {seed}" --b "shipped recipe, seed {seed}" --keys psnr_whole_f1 psnr_whole_f2

--plot draws one --a against each --b, source by source: the paired PSNR difference of the
1st and 2nd predicted frames with its standard error (vidpred/evaluation/paired_plot.py):

    python scripts/paired_table.py --eval docs/benchmarks/test_refined --a "refiner (shipped)" \
        --b "last input" --b "Farneback flow (paper)" --b "DIS flow" --plot margins.png
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vidpred.cli import script, setup_logging, user_path
from vidpred.evaluation.lever_map import read_report
from vidpred.evaluation.paired import check_pairs, paired_table, read_per_video, seed_paired_table
from vidpred.evaluation.paired_plot import PLOT_KEYS, is_our_paired_plot, plot_paired
from vidpred.safe_write import check_output

DEFAULT_KEYS = ["psnr_whole_f1", "psnr_whole_f2", "ssim_whole_f1", "ssim_whole_f2", "sharpness_whole_f1",
                "sharpness_whole_f2", "edges_whole_f1", "edges_whole_f2"]


@script
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--eval", required=True, type=user_path,
                        help="an evaluation's output folder (per_video.json or per_clip.json)")
    parser.add_argument("--a", action="append", required=True, help="method(s) compared")
    parser.add_argument("--b", action="append", required=True, help="method(s) compared against")
    parser.add_argument("--keys", nargs="*", default=DEFAULT_KEYS, help="score keys (default: whole-frame f1/f2)")
    parser.add_argument("--seeds", nargs="+", type=int, metavar="SEED",
                        help="compare recipes over these training seeds: --a and --b hold '{seed}'")
    parser.add_argument("--plot", default=None, metavar="PNG", type=user_path,
                        help="also draw --a against each --b, source by source (PSNR, 1st and 2nd frame; a .png)")
    parser.add_argument("--force", action="store_true", help="replace an existing --plot this script did not write")
    args = parser.parse_args(argv)
    setup_logging()
    if args.seeds and not all("{seed}" in name for name in args.a + args.b):
        parser.error("with --seeds every --a and --b name must hold '{seed}', e.g. 'census, seed {seed}'")
    if args.plot is not None:
        if args.seeds or len(args.a) != 1:
            raise ValueError("--plot draws one method against the others: give one --a, without --seeds")
        if Path(args.plot).suffix.lower() != ".png":
            raise ValueError(f"--plot {args.plot}: give a .png")
        check_output(args.plot, ours=is_our_paired_plot, what="a plot written by paired_table.py", force=args.force)
    if Path(args.eval).is_file():
        raise ValueError(f"--eval {args.eval} is a file: give the folder an evaluation wrote (the --out of "
                         "eval_ucf101.py or dev_benchmark.py)")
    rows = read_report(args.eval)[1] if (Path(args.eval) / "per_clip.json").is_file() else read_per_video(args.eval)
    pairs = [(a, b) for a in args.a for b in args.b if a != b]
    by_source = {source: [row for row in rows if row.get("source") == source]
                 for source in dict.fromkeys(row.get("source") for row in rows)}
    if args.plot is not None:
        check_pairs(rows, pairs, list(PLOT_KEYS))
    tables = []  # all made before any is printed: an unknown method or key is then the only output
    for source, these in by_source.items():
        heading = "" if source is None else f"\n### `{source}` ({len(these)} clips)\n\n"
        tables.append(heading + (seed_paired_table(these, pairs, args.seeds, args.keys) if args.seeds
                                 else paired_table(these, pairs, args.keys)))
    print("\n".join(tables))
    if args.plot is not None:
        named = {source or Path(args.eval).name: these for source, these in by_source.items()}
        print(f"wrote {plot_paired(named, args.a[0], [b for _, b in pairs], args.plot)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
