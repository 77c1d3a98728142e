"""Fetch the real-video corpus (docs/data.md) and list what is there.

    python scripts/fetch_videos.py --help

The command is vidpred/commands/fetch_videos.py, installed as ``vidpred-fetch-videos``.
"""

import sys

from vidpred.commands.fetch_videos import main

if __name__ == "__main__":
    sys.exit(main())
