"""Can a config's discriminators tell a trained generator's predictions from real frames?

    python scripts/discriminator_probe.py --help

The command is vidpred/commands/discriminator_probe.py, installed as ``vidpred-discriminator-probe``.
"""

import sys

from vidpred.commands.discriminator_probe import main

if __name__ == "__main__":
    sys.exit(main())
