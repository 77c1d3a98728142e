"""Write a video as a conversion to a higher frame rate shows it: a frame shown twice every few.

    python scripts/repeat_frames.py --help

The command is vidpred/commands/repeat_frames.py, installed as ``vidpred-repeat-frames``.
"""

import sys

from vidpred.commands.repeat_frames import main

if __name__ == "__main__":
    sys.exit(main())
