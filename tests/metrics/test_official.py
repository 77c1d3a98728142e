"""The official Torch7 evaluation's PSNR and sharpness: hand-worked values and a transcription of its steps."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from vidpred.metrics import psnr, sharpness_difference
from vidpred.metrics.official import (
    OFFICIAL_PSNR_OFFSET_DB,
    official_db,
    official_psnr,
    official_sharpness,
)


def _torch7_computel1difference(pred: np.ndarray, true: np.ndarray) -> float:
    """``image_error_measures.lua``'s steps on one (C, H, W) image: shift with zero padding
    (``nn.SpatialZeroPadding(1, -1, 0, 0)`` and ``(0, 0, 1, -1)``), subtract, crop rows and
    columns 2..s-1 (1-based), sum, scale by 128^2 / (C H W), clamp at 1e-4."""
    def dx(img):  # pad one zero column on the left, drop the last column
        return np.pad(img, ((0, 0), (0, 0), (1, 0)))[:, :, :-1]

    def dy(img):  # pad one zero row on top, drop the last row
        return np.pad(img, ((0, 0), (1, 0), (0, 0)))[:, :-1, :]

    C, H, W = true.shape
    crop = (slice(None), slice(1, H - 1), slice(1, W - 1))
    diff = (np.abs(np.abs(dx(pred) - pred)[crop] - np.abs(dx(true) - true)[crop])
            + np.abs(np.abs(dy(pred) - pred)[crop] - np.abs(dy(true) - true)[crop]))
    error = 128 * 128 * diff.sum() / (C * H * W)
    return 10 * math.log10(255 * 255 / error) if error > 1e-4 else 10 * math.log10(255 * 255 / 1e-4)


def _torch7_psnr(true: np.ndarray, pred: np.ndarray) -> float:
    error = 128 * 128 * ((pred - true) ** 2).sum() / pred.size
    return 10 * math.log10(255 * 255 / error) if error > 1e-4 else 10 * math.log10(255 * 255 / 1e-4)


def _pair(seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    target = torch.rand(3, 3, 20, 24, generator=generator, dtype=torch.float64) * 2 - 1
    pred = (target + 0.2 * torch.randn(target.shape, generator=generator, dtype=torch.float64)).clamp(-1, 1)
    return pred, target


def test_sharpness_matches_a_transcription_of_the_torch7_steps():
    pred, target = _pair()
    ours = official_sharpness(pred, target)
    reference = [_torch7_computel1difference(p.numpy(), t.numpy()) for p, t in zip(pred, target)]
    np.testing.assert_allclose(ours.numpy(), reference, rtol=0, atol=1e-10)


def test_psnr_matches_the_torch7_formula_and_sits_0034_db_below_ours():
    pred, target = _pair(1)
    ours = official_psnr(pred, target)
    np.testing.assert_allclose(ours.numpy(), [_torch7_psnr(t.numpy(), p.numpy()) for p, t in zip(pred, target)],
                               atol=1e-10)
    np.testing.assert_allclose((ours - psnr(pred, target)).numpy(), OFFICIAL_PSNR_OFFSET_DB, atol=1e-10)
    assert OFFICIAL_PSNR_OFFSET_DB == pytest.approx(-0.0340, abs=1e-4)


def test_hand_worked_sharpness_and_the_clamp():
    target = torch.zeros(1, 1, 3, 3, dtype=torch.float64)
    target[..., 1, 1] = 1.0
    # Only the centre pixel is inner: ||0 - 0| - |0 - 1|| + ||0 - 0| - |0 - 1|| = 2, over C H W = 9 values.
    assert official_sharpness(torch.zeros_like(target), target).item() == pytest.approx(
        10 * math.log10(255**2 / (128**2 * 2 / 9)))
    # Identical frames: the error is clamped at 1e-4, not zero.
    assert official_sharpness(target, target).item() == pytest.approx(10 * math.log10(255**2 / 1e-4))
    assert official_db(torch.tensor([0.0])).item() == pytest.approx(88.1308, abs=1e-4)


def test_units_differ_from_vidpreds_by_2977_db_where_the_formulas_agree():
    # A vertical edge moved right by one column: only horizontal gradients differ, so comparing
    # the directions separately (official) or their sums (vidpred) gives the same term.
    H, W = 32, 40
    target = torch.full((1, 1, H, W), -1.0, dtype=torch.float64)
    target[..., W // 2:] = 1.0
    pred = torch.full_like(target, -1.0)
    pred[..., W // 2 + 1:] = 1.0
    # vidpred, [0, 1] units: term 1 at 2 columns of the H - 1 rows, mean over (H - 1)(W - 1).
    ours = sharpness_difference(pred, target).item()
    assert ours == pytest.approx(10 * math.log10((W - 1) / 2))
    # official, [-1, 1] data: term 2 + 2 at 2 columns of the H - 2 inner rows, over H W values.
    official = official_sharpness(pred, target).item()
    assert official == pytest.approx(10 * math.log10(255**2 * H * W / (128**2 * 4 * (H - 2))))
    # The difference: the units, 10 log10(255^2 / (2 * 128^2)) = 2.977 dB, and the pixel counts.
    units = 10 * math.log10(255**2 / (2 * 128**2))
    assert units == pytest.approx(2.977, abs=1e-3)
    assert official - ours == pytest.approx(units + 10 * math.log10(H * W / ((H - 2) * (W - 1))))
