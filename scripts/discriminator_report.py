"""Did the discriminators of these runs learn? Accuracies averaged over each run's last half.

    python scripts/discriminator_report.py --help

The command is vidpred/commands/discriminator_report.py, installed as ``vidpred-discriminator-report``.
"""

import sys

from vidpred.commands.discriminator_report import main

if __name__ == "__main__":
    sys.exit(main())
