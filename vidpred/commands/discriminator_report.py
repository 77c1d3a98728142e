"""Did the discriminators of these runs learn? Accuracies averaged over each run's last half.

    python scripts/discriminator_report.py runs/quickstart runs/quickstart_full --goal 0.65

For every trained discriminator of every run: its accuracy on real and on predicted
inputs, their mean (balanced accuracy, 0.5 is chance) and the logit gap, averaged over
the last --tail of the steps where it was trained (from loss.disc_start on), read from
the run's metrics.jsonl. With --goal, a column says whether both accuracies reach it and
the exit code is 1 when one does not.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from vidpred.benchmark.discriminators import summarize_discriminators, summary_table
from vidpred.cli import finite, script, setup_logging


@script
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", help="run directories (each holds metrics.jsonl)")
    parser.add_argument("--tail", type=float, default=0.5, help="fraction of the logged steps, from the end (0.5)")
    parser.add_argument("--goal", type=float, default=None, help="accuracy both real and predicted should reach")
    args = parser.parse_args(argv)
    setup_logging()
    log = logging.getLogger("vidpred.discriminator_report")
    finite("--goal", args.goal, 0, 1)
    names = [Path(run).name for run in args.runs]
    # Each run by its folder's name, or by its path as given where two folders share a name.
    by_run = {run: summarize_discriminators(run, args.tail, label=run if names.count(name) > 1 else None)
              for run, name in zip(args.runs, names)}
    summaries = [s for found in by_run.values() for s in found]
    if not summaries:
        log.error("no trained discriminator logged an accuracy in %s", ", ".join(args.runs))
        return 2
    silent = [run for run, found in by_run.items() if not found]
    if silent:  # said, not dropped from the table without a word
        log.warning("no trained discriminator logged an accuracy in %s (none enabled, or stopped before "
                    "loss.disc_start): not in the table", ", ".join(silent))
    print(summary_table(summaries, args.goal))
    if args.goal is not None and any(min(s.acc_real, s.acc_fake) < args.goal for s in summaries):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
