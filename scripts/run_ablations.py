"""Run the ablation study: train every config of configs/ablations/, then evaluate them all.

    python scripts/run_ablations.py --help

The command is vidpred/commands/run_ablations.py, installed as ``vidpred-run-ablations``.
"""

import sys

from vidpred.commands.run_ablations import main

if __name__ == "__main__":
    sys.exit(main())
