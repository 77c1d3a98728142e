"""Show what a model predicts: context | prediction | ground truth | error, side by side.

    python scripts/predict.py --help

The command is vidpred/commands/predict.py, installed as ``vidpred-predict``.
"""

import sys

from vidpred.commands.predict import main

if __name__ == "__main__":
    sys.exit(main())
