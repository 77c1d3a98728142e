"""Loss functions: pure functions with an explicit reduction, each citing its equation or seed."""

from vidpred.losses.adaptive import adaptive_weight
from vidpred.losses.adversarial import bce_d_loss, bce_g_loss, sample_labels
from vidpred.losses.census import census_loss
from vidpred.losses.composite import generator_objective
from vidpred.losses.contrastive import info_nce
from vidpred.losses.gradient import gradient_difference_loss
from vidpred.losses.gradient_penalty import gradient_penalty
from vidpred.losses.hinge import hinge_d_loss, hinge_g_loss
from vidpred.losses.laplacian import laplacian_loss, laplacian_pyramid
from vidpred.losses.lp import lp_loss
from vidpred.losses.path import clip_path, path_loss
from vidpred.losses.perceptual import lpips_loss, sample_frames, vgg_feature_loss

__all__ = [
    "adaptive_weight",
    "bce_d_loss",
    "bce_g_loss",
    "census_loss",
    "clip_path",
    "generator_objective",
    "gradient_difference_loss",
    "gradient_penalty",
    "hinge_d_loss",
    "hinge_g_loss",
    "info_nce",
    "laplacian_loss",
    "laplacian_pyramid",
    "lp_loss",
    "lpips_loss",
    "path_loss",
    "sample_frames",
    "sample_labels",
    "vgg_feature_loss",
]
