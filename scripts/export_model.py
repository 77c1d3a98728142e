"""Export a trained generator as a small stand-alone model file (for sharing or shipping).

    python scripts/export_model.py --help

The command is vidpred/commands/export_model.py, installed as ``vidpred-export-model``.
"""

import sys

from vidpred.commands.export_model import main

if __name__ == "__main__":
    sys.exit(main())
