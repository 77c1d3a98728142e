"""Measure training speed (or the data pipeline's) and print one JSON line.

    python scripts/benchmark.py --help

The command is vidpred/commands/benchmark.py, installed as ``vidpred-benchmark``.
"""

import sys

from vidpred.commands.benchmark import main

if __name__ == "__main__":
    sys.exit(main())
