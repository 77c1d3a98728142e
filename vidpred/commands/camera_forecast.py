"""How well the camera's next motion is forecast from its past steps, on the corpus.

    python scripts/camera_forecast.py --subset val --out docs/benchmarks/camera_forecast_val.md

Fits the forecasters on the training videos' camera steps and scores them on the subset's
videos; what they are: vidpred/evaluation/camera_forecast.py.
"""

from __future__ import annotations

import argparse
import logging
import sys

from vidpred.cli import add_threads_arg, script, set_threads, setup_logging
from vidpred.data.corpus import DEFAULT_CORPUS_ROOT
from vidpred.evaluation.camera_forecast import forecast_table, score_forecasts
from vidpred.safe_write import check_output, text_starts_with, write_text

log = logging.getLogger("vidpred")


@script
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subset", choices=("train", "val", "test", "leave-one-out"), default="val",
                        help="corpus videos to score (default val; train scores the videos fitted on; leave-one-out "
                             "scores each training and validation video fitted on all the others)")
    parser.add_argument("--root", default=DEFAULT_CORPUS_ROOT, help=f"the corpus folder (default {DEFAULT_CORPUS_ROOT})")
    parser.add_argument("--out", help="also write the Markdown table here")
    parser.add_argument("--force", action="store_true", help="replace an --out that this script did not write")
    add_threads_arg(parser)
    args = parser.parse_args(argv)
    setup_logging()
    set_threads(args.threads)
    heading = "# Forecasts of the camera's next step"
    if args.out:
        check_output(args.out, ours=lambda p: text_starts_with(p, heading),
                     what="a table written by this script", force=args.force)
    subset = args.subset.replace("-", " ")
    scores = score_forecasts(subset, args.root, progress=lambda line: log.info("camera steps of %s", line))
    table = f"{heading} ({subset}" + (")" if subset == "leave one out" else " videos)") + "\n\n" + forecast_table(scores)
    print(table)
    if args.out:
        write_text(args.out, table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
