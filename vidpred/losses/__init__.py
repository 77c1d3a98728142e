"""Loss functions: pure functions with an explicit reduction, each citing its equation or seed."""

from vidpred.losses.adversarial import bce_d_loss, bce_g_loss, sample_labels
from vidpred.losses.composite import generator_objective
from vidpred.losses.gradient import gradient_difference_loss
from vidpred.losses.lp import lp_loss
from vidpred.losses.path import clip_path, path_loss

__all__ = [
    "bce_d_loss",
    "bce_g_loss",
    "clip_path",
    "generator_objective",
    "gradient_difference_loss",
    "lp_loss",
    "path_loss",
    "sample_labels",
]
