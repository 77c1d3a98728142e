"""How well the camera's next motion is forecast from its past steps, on the corpus.

    python scripts/camera_forecast.py --help

The command is vidpred/commands/camera_forecast.py, installed as ``vidpred-camera-forecast``.
"""

import sys

from vidpred.commands.camera_forecast import main

if __name__ == "__main__":
    sys.exit(main())
