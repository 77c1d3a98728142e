"""vidpred/losses/ssim.py: 1 - SSIM as a loss, against hand-worked values, scikit-image and the metric."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage.metrics import structural_similarity

from vidpred.losses.ssim import ssim_loss
from vidpred.metrics.ssim import ssim


def test_zero_on_identical_inputs():
    x = torch.rand(2, 3, 2, 16, 20) * 2 - 1
    assert float(ssim_loss(x, x.clone())) == pytest.approx(0.0, abs=1e-6)


def test_flat_frames_differ_by_luminance_alone():
    # On flat frames every window's variances and covariance are 0, so the structure term is
    # c2 / c2 = 1 and SSIM is the luminance term of the two greys above black, on the 0-255
    # scale: 0.0 is 127.5, -0.5 is 63.75, and c1 = (0.01 * 255)^2.
    a, b, c1 = 127.5, 63.75, 2.55**2
    expected = 1 - (2 * a * b + c1) / (a * a + b * b + c1)
    flat = torch.zeros(1, 1, 12, 12, dtype=torch.float64)
    assert float(ssim_loss(flat, flat - 0.5)) == pytest.approx(expected, rel=1e-12)
    # 2x2 valid pixels of 12x12 frames, 3 channels, 2 frames: the sum is 24 of them
    assert float(ssim_loss(flat.expand(1, 3, 12, 12).unsqueeze(2).expand(1, 3, 2, 12, 12), flat.new_full(
        (1, 3, 2, 12, 12), -0.5), reduction="sum")) == pytest.approx(24 * expected, rel=1e-12)


def test_one_minus_scikit_images_ssim_of_each_frame_averaged():
    g = torch.Generator().manual_seed(0)
    target = torch.rand(2, 3, 2, 24, 30, generator=g, dtype=torch.float64) * 2 - 1
    pred = (target + 0.2 * torch.randn(target.shape, generator=g, dtype=torch.float64)).clamp(-1, 1)
    references = []
    for b in range(2):
        for t in range(2):
            x, y = ((v[b, :, t].numpy().transpose(1, 2, 0) + 1) / 2 for v in (pred, target))
            references.append(structural_similarity(y, x, data_range=1, gaussian_weights=True, sigma=1.5,
                                                    use_sample_covariance=False, channel_axis=2))
    assert float(ssim_loss(pred, target)) == pytest.approx(1 - np.mean(references), abs=1e-9)


def test_float32_with_a_gradient_matches_the_metric():
    g = torch.Generator().manual_seed(1)
    target = torch.rand(3, 3, 32, 32, generator=g) * 2 - 1
    pred = (target + 0.1 * torch.randn(target.shape, generator=g)).clamp(-1, 1).requires_grad_(True)
    loss = ssim_loss(pred, target)
    loss.backward()
    assert loss.dtype == torch.float32 and pred.grad.abs().sum() > 0
    assert float(loss.detach()) == pytest.approx(1 - float(ssim(pred.detach(), target).mean()), abs=1e-5)


def test_gradient_matches_finite_differences():
    g = torch.Generator().manual_seed(2)
    target = torch.rand(1, 1, 13, 14, generator=g, dtype=torch.float64) * 2 - 1
    pred = (torch.rand(1, 1, 13, 14, generator=g, dtype=torch.float64) * 2 - 1).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda p: ssim_loss(p, target), (pred,))


def test_frames_smaller_than_the_window_are_refused():
    x = torch.zeros(1, 1, 10, 40)
    with pytest.raises(ValueError, match="ssim_loss needs frames of at least 11 px, got \\(10, 40\\)"):
        ssim_loss(x, x)
