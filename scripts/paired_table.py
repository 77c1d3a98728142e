"""Paired per-clip differences between the methods of one evaluation (scripts/eval_ucf101.py --out DIR).

    python scripts/paired_table.py --help

The command is vidpred/commands/paired_table.py, installed as ``vidpred-paired-table``.
"""

import sys

from vidpred.commands.paired_table import main

if __name__ == "__main__":
    sys.exit(main())
