"""Classical extrapolation rules against DIS extrapolation, paired per clip, on the corpus.

    python scripts/extrapolation_rules.py --help

The command is vidpred/commands/extrapolation_rules.py, installed as ``vidpred-extrapolation-rules``.
"""

import sys

from vidpred.commands.extrapolation_rules import main

if __name__ == "__main__":
    sys.exit(main())
