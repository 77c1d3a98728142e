"""Pretrain the blur-detecting discriminator (the sharper-predictions article) and save it for training to load.

    python scripts/pretrain_blur_discriminator.py --help

The command is vidpred/commands/pretrain_blur_discriminator.py, installed as ``vidpred-pretrain-blur-discriminator``.
"""

import sys

from vidpred.commands.pretrain_blur_discriminator import main

if __name__ == "__main__":
    sys.exit(main())
