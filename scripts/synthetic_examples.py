"""Show and time the synthetic training videos (vidpred/data/synthetic.py).

    python scripts/synthetic_examples.py --help

The command is vidpred/commands/synthetic_examples.py, installed as ``vidpred-synthetic-examples``.
"""

import sys

from vidpred.commands.synthetic_examples import main

if __name__ == "__main__":
    sys.exit(main())
