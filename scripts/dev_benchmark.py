"""The development benchmark: every video of the real-video corpus scored as its own source.

    python scripts/dev_benchmark.py --help

The command is vidpred/commands/dev_benchmark.py, installed as ``vidpred-dev-benchmark``.
"""

import sys

from vidpred.commands.dev_benchmark import main

if __name__ == "__main__":
    sys.exit(main())
