"""Evaluate video predictors with the protocol of Mathieu, Couprie & LeCun (ICLR 2016), Table 1.

    python scripts/eval_ucf101.py --help

The command is vidpred/commands/eval_ucf101.py, installed as ``vidpred-eval``.
"""

import sys

from vidpred.commands.eval_ucf101 import main

if __name__ == "__main__":
    sys.exit(main())
