"""vidpred: adversarial video prediction (Mathieu, Couprie & LeCun, ICLR 2016) and beyond.

From Python, the shipped model on your own frames: ``from vidpred.api import load_model``
(:mod:`vidpred.api`). The command-line programs are in :mod:`vidpred.commands`.
"""

__version__ = "0.1.0"
