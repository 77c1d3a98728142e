"""Evaluation metrics on batches of frames ``(B, C, H, W)`` in ``[-1, 1]``, one value per image."""

from vidpred.metrics.psnr import psnr
from vidpred.metrics.sharpness import sharpness_difference
from vidpred.metrics.ssim import ssim

__all__ = ["psnr", "sharpness_difference", "ssim"]
