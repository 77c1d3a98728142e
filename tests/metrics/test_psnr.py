from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from skimage.metrics import peak_signal_noise_ratio

from vidpred.metrics import psnr
from vidpred.metrics.psnr import psnr_from_mse


def test_matches_scikit_image():
    generator = torch.Generator().manual_seed(0)
    target = torch.rand(3, 3, 24, 32, generator=generator) * 2 - 1
    pred = (target + 0.2 * torch.randn(target.shape, generator=generator)).clamp(-1, 1)
    ours = psnr(pred, target)
    reference = [
        peak_signal_noise_ratio(t.double().numpy(), p.double().numpy(), data_range=2) for p, t in zip(pred, target)
    ]
    assert ours.shape == (3,)
    np.testing.assert_allclose(ours.numpy(), reference, rtol=0, atol=1e-9)


def test_hand_worked_value_and_identical_images():
    target = torch.full((2, 3, 4, 4), 0.5)
    pred = torch.zeros(2, 3, 4, 4)
    pred[1] = 0.5
    values = psnr(pred, target)  # MSE 0.25 -> 10 log10(4 / 0.25) = 10 log10(16); MSE 0 -> inf
    assert values[0].item() == pytest.approx(10 * math.log10(16))
    assert math.isinf(values[1].item()) and values[1] > 0
    # The same dB from the MSE alone, with the default peak-to-peak of [-1, 1] data.
    assert psnr_from_mse(torch.tensor([0.25])).item() == pytest.approx(10 * math.log10(16))


def test_low_precision_input_is_measured_in_float64():
    generator = torch.Generator().manual_seed(1)
    target = (torch.rand(2, 3, 8, 8, generator=generator) * 2 - 1).half()
    pred = (target.float() + 0.01 * torch.randn(2, 3, 8, 8, generator=generator)).clamp(-1, 1).half()
    value = psnr(pred, target)
    assert value.dtype == torch.float64
    # The half-precision values themselves, differenced and averaged in float64 (by NumPy).
    error = pred.numpy().astype(np.float64) - target.numpy().astype(np.float64)
    expected = [10 * math.log10(4 / np.mean(e**2)) for e in error]
    np.testing.assert_allclose(value.numpy(), expected, rtol=1e-12, atol=0)


def test_data_range_is_the_peak_squared():
    # [0, 1] frames off by 0.1 everywhere: MSE 0.01 -> 10 log10(1 / 0.01) = 20 dB; a peak of 10 adds 20 dB.
    target = torch.zeros(1, 3, 4, 4)
    pred = torch.full((1, 3, 4, 4), 0.1)
    assert psnr(pred, target, data_range=1.0).item() == pytest.approx(20.0)
    assert psnr(pred, target, data_range=10.0).item() == pytest.approx(40.0)


def test_refuses_frames_that_are_not_four_dimensional():
    clip = torch.zeros(1, 3, 2, 8, 8)  # (B, C, T, H, W): one value per clip would not be per image
    with pytest.raises(ValueError, match="psnr expects two"):
        psnr(clip, clip)
