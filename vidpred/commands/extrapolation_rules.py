"""Classical extrapolation rules against DIS extrapolation, paired per clip, on the corpus.

    python scripts/extrapolation_rules.py --subset val --out docs/benchmarks/extrapolation_rules_val.md
    python scripts/extrapolation_rules.py --subset val --steady-zoom 4 --rules DIS followed "fixed point 3"
    python scripts/extrapolation_rules.py --subset val --videos bikes.mp4 --clips-per-video 2 --rules DIS "damped 0.85"
    python scripts/extrapolation_rules.py --subset test --speed-hindsight   # a faster or slower camera, in hindsight

The rules and what they show: vidpred/evaluation/extrapolation_rules.py. Ctrl-C finishes the
clip in hand and writes the table of the clips scored, marked partial; a second stops at once.
"""

from __future__ import annotations

import argparse
import logging
import sys

from vidpred.cli import StopRequest, add_steady_args, add_threads_arg, script, set_threads, setup_logging, user_path
from vidpred.commands import check_table_output, print_table, stopped_exit_code
from vidpred.config import DataConfig
from vidpred.evaluation.extrapolation_rules import RULES, SPEED_RULES
from vidpred.evaluation.partial import STOP_AT_ONCE, STOP_THEN, partial_heading, partial_line
from vidpred.evaluation.rule_scores import rules_table, score_rules, speed_hindsight_table
from vidpred.evaluation.steady_camera import steady_camera

log = logging.getLogger("vidpred")


@script
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subset", choices=("val", "test"), default="val", help="corpus videos (default val)")
    parser.add_argument("--root", type=user_path, help="the corpus folder (default: the fetch's)")
    parser.add_argument("--clips-per-video", type=int, default=12, help="clips spread over each video (default 12)")
    parser.add_argument("--videos", nargs="+", metavar="VIDEO",
                        help="score only these videos of the subset (e.g. bikes.mp4; default all)")
    parser.add_argument("--cache-dir", default=DataConfig.cache_dir, type=user_path,
                        help="decoded-video cache (default %(default)s)")
    parser.add_argument("--rules", nargs="+", choices=list(RULES), metavar="RULE",
                        help="rules to score (default all): " + ", ".join(f"'{rule}'" for rule in RULES))
    parser.add_argument("--speed-hindsight", action="store_true",
                        help="score the last step's refined DIS velocity at other speeds (and --rules, if given) and "
                             "add what the best speed, chosen with the answer known, would gain per video and per clip")
    parser.add_argument("--out", type=user_path, help="also write the Markdown table here")
    parser.add_argument("--force", action="store_true", help="replace an --out that this script did not write")
    add_steady_args(parser)
    add_threads_arg(parser)
    args = parser.parse_args(argv)
    setup_logging()
    set_threads(args.threads)
    if args.clips_per_video < 1:
        raise ValueError(f"--clips-per-video must be >= 1, got {args.clips_per_video}")
    steady = steady_camera(args.steady_pan, args.steady_zoom, args.steady_roll)
    heading = "# Extrapolation rules against DIS extrapolation"
    check_table_output(args.out, heading, args.force)
    where = (f"{args.subset} videos" + (f" ({', '.join(args.videos)} only)" if args.videos else "")
             + (f"; every clip replaced by {steady.describe()}" if steady else ""))
    rules = args.rules
    if args.speed_hindsight:
        rules = list(dict.fromkeys(["DIS"] + (rules or []) + SPEED_RULES))
    elif rules is not None:  # every rule is scored against DIS extrapolation
        rules = list(dict.fromkeys(["DIS"] + rules))
    stop = StopRequest(STOP_THEN, STOP_AT_ONCE)
    by_video, partial = score_rules(args.subset, args.root, args.clips_per_video, rules, steady,
                                    cache_dir=args.cache_dir, videos=args.videos, stop=stop)
    if partial:
        log.warning("%s: the table holds the clips scored, marked partial", partial_line(partial))
    table = "".join(line + "\n" for line in partial_heading(partial)) + f"{heading} ({where})\n\n" + rules_table(by_video)
    if args.speed_hindsight:
        table += ("\n## The speed of the motion, chosen in hindsight\n\nAgainst the last step's refined DIS "
                  "velocity at its own speed, paired per clip: the one factor that does best over the video's "
                  "clips, and each clip's own best factor (neither is a predictor: both read the true frames).\n\n"
                  + speed_hindsight_table(by_video))
    print_table(table, args.out)
    return stopped_exit_code(stop)


if __name__ == "__main__":
    sys.exit(main())
