r"""Where each checkpoint lands between two videos of the development benchmark: a map and a table.

    python scripts/lever_map.py --reports docs/benchmarks/val_levers docs/benchmarks/val_seeds \
        --x val/bikes.mp4 --y val/face_noface_webcam --out docs/figures/lever_map_val.png

Each point is a checkpoint of the reports (``scripts/dev_benchmark.py --out DIR``): its
paired per-clip difference against a baseline (DIS extrapolation unless --against says
otherwise) on the --x video and on the --y video. A checkpoint scored in several reports is
one point. Reports scored under different settings (--clips-per-video, --n-context,
--adapt-steps, --grain or --flicker, a steady camera motion) are refused: their points would
not be measured on the same footage. So are reports on other clips of the two videos, or
whose clips copying the last input scores otherwise (to 0.01 dB): a report written before
its settings were recorded is checked by its footage. The table is printed, and written
beside the figure as a .md file.
"""

from __future__ import annotations

import argparse
import logging
import sys

from vidpred.cli import script, setup_logging, user_path
from vidpred.evaluation.lever_map import TABLE_START, is_our_map, lever_points, lever_table, plot_lever_map
from vidpred.evaluation.predictors import DIS_FLOW
from vidpred.safe_write import check_figure_and_table, write_text


@script
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", nargs="+", required=True, type=user_path,
                        help="development-benchmark output folders")
    parser.add_argument("--x", required=True, help="the video on the x axis, as the reports name it (val/bikes.mp4)")
    parser.add_argument("--y", required=True, help="the video on the y axis")
    parser.add_argument("--against", default=DIS_FLOW, help="the baseline at the origin (default %(default)s)")
    parser.add_argument("--key", default="psnr_whole_f1", help="the score compared (default %(default)s)")
    parser.add_argument("--out", default=None, type=user_path,
                        help="write the map here (.png) and the table beside it (.md)")
    parser.add_argument("--force", action="store_true", help="replace an --out that this script did not write")
    args = parser.parse_args(argv)
    setup_logging()
    if args.x == args.y:
        raise ValueError(f"--x and --y are both {args.x}: a lever's map sets one video against another")
    if args.out is not None:
        table_path = check_figure_and_table(args.out, ours=is_our_map, table_start=TABLE_START, noun="map",
                                            force=args.force)
    points = lever_points(args.reports, args.x, args.y, against=args.against, key=args.key)
    table = lever_table(points, args.x, args.y, args.against)
    print(table)
    if args.out is not None:
        plot_lever_map(points, args.out, args.x, args.y, against=args.against)
        write_text(table_path, table + "\n")
        logging.getLogger("vidpred").info("wrote %s and %s", args.out, table_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
