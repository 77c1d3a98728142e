"""Evaluation metrics on batches of frames ``(B, C, H, W)`` in ``[-1, 1]``, one value per image.

Whole-frame: :func:`psnr`, :func:`ssim`, :func:`sharpness_difference`, :func:`edge_ratio`, :class:`LPIPS`
(:func:`load_lpips`). Moving areas: :func:`masked_psnr`, :func:`masked_ssim`,
:func:`masked_sharpness_difference`. Over time, on clips ``(B, C, T, H, W)``:
:func:`temporal_high_frequency_share` (flicker). The official Torch7 evaluation's PSNR and
sharpness, in its own units: :mod:`vidpred.metrics.official`.
"""

from vidpred.metrics.flicker import temporal_energy, temporal_high_frequency_share
from vidpred.metrics.lpips import LPIPS, LPIPSUnavailable, backbone_weights_path, load_lpips
from vidpred.metrics.masked import MASK_MODES, masked_psnr, masked_sharpness_difference, masked_ssim
from vidpred.metrics.psnr import psnr
from vidpred.metrics.sharpness import edge_ratio, sharpness_difference
from vidpred.metrics.ssim import ssim

__all__ = [
    "LPIPS",
    "LPIPSUnavailable",
    "MASK_MODES",
    "backbone_weights_path",
    "edge_ratio",
    "load_lpips",
    "masked_psnr",
    "masked_sharpness_difference",
    "masked_ssim",
    "psnr",
    "sharpness_difference",
    "ssim",
    "temporal_energy",
    "temporal_high_frequency_share",
]
