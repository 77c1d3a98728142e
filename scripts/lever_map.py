"""Where each checkpoint lands between two videos of the development benchmark: a map and a table.

    python scripts/lever_map.py --help

The command is vidpred/commands/lever_map.py, installed as ``vidpred-lever-map``.
"""

import sys

from vidpred.commands.lever_map import main

if __name__ == "__main__":
    sys.exit(main())
