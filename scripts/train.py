"""Train a video predictor.

    python scripts/train.py --help

The command is vidpred/commands/train.py, installed as ``vidpred-train``.
"""

import sys

from vidpred.commands.train import main

if __name__ == "__main__":
    sys.exit(main())
