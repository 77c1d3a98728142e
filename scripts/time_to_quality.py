"""Validation quality against training time: train configs for N minutes each, plot the curves.

    python scripts/time_to_quality.py --help

The command is vidpred/commands/time_to_quality.py, installed as ``vidpred-time-to-quality``.
"""

import sys

from vidpred.commands.time_to_quality import main

if __name__ == "__main__":
    sys.exit(main())
