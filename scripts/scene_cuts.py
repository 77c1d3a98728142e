"""Where the refiner sees cuts between scenes in a video, and how clear the line is.

    python scripts/scene_cuts.py --help

The command is vidpred/commands/scene_cuts.py, installed as ``vidpred-scene-cuts``.
"""

import sys

from vidpred.commands.scene_cuts import main

if __name__ == "__main__":
    sys.exit(main())
