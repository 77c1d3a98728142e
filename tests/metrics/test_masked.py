"""Moving-area PSNR / SSIM / sharpness against scikit-image and hand-worked values."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from vidpred.metrics import (
    masked_psnr,
    masked_sharpness_difference,
    masked_ssim,
    psnr,
    sharpness_difference,
    ssim,
)


def _pair(seed: int = 0, shape=(2, 3, 32, 40)) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Random (pred, target) in [-1, 1] and a blob-shaped mask (B, 1, H, W)."""
    generator = torch.Generator().manual_seed(seed)
    target = torch.rand(shape, generator=generator, dtype=torch.float64) * 2 - 1
    pred = (target + 0.3 * torch.randn(shape, generator=generator, dtype=torch.float64)).clamp(-1, 1)
    B, _, H, W = shape
    rows = torch.arange(H, dtype=torch.float64)[:, None]
    cols = torch.arange(W, dtype=torch.float64)[None, :]
    mask = torch.stack([((rows - H / 2) ** 2 + (cols - W / (3 + b)) ** 2) < (H / 3) ** 2 for b in range(B)])
    return pred, target, mask.unsqueeze(1)


def _skimage_ssim_map(pred: np.ndarray, target: np.ndarray, data_range: float = 2.0) -> np.ndarray:
    _, full = structural_similarity((target + 1) / 2, (pred + 1) / 2, data_range=data_range / 2, gaussian_weights=True,
                                    sigma=1.5, use_sample_covariance=False, channel_axis=0,
                                    full=True)  # as [0, 1] images, where the range is half as wide
    return full  # (C, H, W); only the part 5 px inside the border is independent of padding


def test_psnr_moving_matches_scikit_image_on_the_masked_pixels():
    pred, target, mask = _pair()
    ours = masked_psnr(pred, target, mask, "moving")
    for b in range(len(pred)):
        m = mask[b, 0].numpy()
        reference = peak_signal_noise_ratio(target[b].numpy()[:, m], pred[b].numpy()[:, m], data_range=2)
        assert ours[b].item() == pytest.approx(reference, abs=1e-9)


def test_psnr_compat_is_the_composite_and_adds_the_static_share():
    pred, target, mask = _pair()
    ours = masked_psnr(pred, target, mask, "compat")
    composite = torch.where(mask, pred, target)
    for b in range(len(pred)):
        reference = peak_signal_noise_ratio(target[b].numpy(), composite[b].numpy(), data_range=2)
        assert ours[b].item() == pytest.approx(reference, abs=1e-9)
    # Masked-out pixels count in the denominator: + 10 log10(N / N_mask) over "moving".
    share = mask.double().mean(dim=(1, 2, 3))
    np.testing.assert_allclose(ours.numpy(), (masked_psnr(pred, target, mask, "moving") - 10 * torch.log10(share)).numpy(),
                               atol=1e-9)


def test_ssim_moving_is_scikit_image_full_map_averaged_over_the_mask():
    pred, target, mask = _pair(1)
    ours = masked_ssim(pred, target, mask, "moving")
    for b in range(len(pred)):
        full = _skimage_ssim_map(pred[b].numpy(), target[b].numpy())[:, 5:-5, 5:-5]
        m = mask[b, 0].numpy()[5:-5, 5:-5]
        assert ours[b].item() == pytest.approx(full[:, m].mean(), abs=1e-8)


def test_ssim_compat_is_scikit_image_ssim_of_the_composite():
    pred, target, mask = _pair(2)
    ours = masked_ssim(pred, target, mask, "compat")
    composite = torch.where(mask, pred, target)
    for b in range(len(pred)):
        reference = structural_similarity((target[b].numpy() + 1) / 2, (composite[b].numpy() + 1) / 2, data_range=1,
                                          gaussian_weights=True, sigma=1.5, use_sample_covariance=False, channel_axis=0)
        assert ours[b].item() == pytest.approx(reference, abs=1e-8)


def _unit(values: list[list[float]]) -> torch.Tensor:
    """A (1, 1, H, W) frame given in [0, 1], returned in [-1, 1]."""
    return torch.tensor(values, dtype=torch.float64).reshape(1, 1, len(values), len(values[0])) * 2 - 1


def test_ssim_data_range_reaches_both_modes():
    # A peak-to-peak of 1 on [-1, 1] data: SSIM's constants are (0.01 L)^2 and (0.03 L)^2 of that L.
    pred, target, mask = _pair(6)
    moving = masked_ssim(pred, target, mask, "moving", data_range=1.0)
    compat = masked_ssim(pred, target, mask, "compat", data_range=1.0)
    composite = torch.where(mask, pred, target)
    for b in range(len(pred)):
        full = _skimage_ssim_map(pred[b].numpy(), target[b].numpy(), data_range=1.0)[:, 5:-5, 5:-5]
        assert moving[b].item() == pytest.approx(full[:, mask[b, 0].numpy()[5:-5, 5:-5]].mean(), abs=1e-8)
        whole = _skimage_ssim_map(composite[b].numpy(), target[b].numpy(), data_range=1.0)[:, 5:-5, 5:-5].mean()
        assert compat[b].item() == pytest.approx(whole, abs=1e-8)
    assert (moving != masked_ssim(pred, target, mask, "moving")).all()  # the constants matter on these frames


def test_sharpness_hand_worked_in_both_modes():
    target = _unit([[0, 0, 0], [0, 0.5, 0], [0, 0, 0]])
    pred = _unit([[0, 0, 0], [0, 0.25, 0], [0, 0, 0]])
    mask = torch.tensor([[0, 0, 0], [0, 1, 1], [0, 0, 0]], dtype=torch.bool).reshape(1, 3, 3)
    # Gradient terms g = |Y_ij - Y_(i-1)j| + |Y_ij - Y_i(j-1)| at (i, j >= 1):
    #   target (1,1) 1, (1,2) 0.5, (2,1) 0.5, (2,2) 0;  pred (1,1) 0.5, (1,2) 0.25, (2,1) 0.25, (2,2) 0
    # moving: the mask on those pixels is {(1,1), (1,2)}: mean(|1-0.5|, |0.5-0.25|) = 0.375
    assert masked_sharpness_difference(pred, target, mask, "moving").item() == pytest.approx(10 * math.log10(1 / 0.375))
    # compat: the composite is pred (the centre 0.25 is masked in; (1,2) is 0 in both), so all
    # four terms count over 4 pixels: (0.5 + 0.25 + 0.25 + 0) / 4 = 0.25
    assert masked_sharpness_difference(pred, target, mask, "compat").item() == pytest.approx(10 * math.log10(4))
    # With the centre masked out, the composite equals the target: no error at all.
    outside = torch.tensor([[1, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=torch.bool).reshape(1, 3, 3)
    assert math.isinf(masked_sharpness_difference(pred, target, outside, "compat").item())


def test_psnr_hand_worked():
    target = torch.zeros(1, 3, 4, 4, dtype=torch.float64)
    pred = target.clone()
    pred[..., :2, :] = 0.5  # error 0.5 on the top half
    mask = torch.zeros(1, 4, 4, dtype=torch.bool)
    mask[:, :1, :] = True  # the first row only
    # moving: MSE over the first row = 0.25 -> 10 log10(4 / 0.25); compat: 0.25 * 4 / 16 = 1/16
    assert masked_psnr(pred, target, mask, "moving").item() == pytest.approx(10 * math.log10(16))
    assert masked_psnr(pred, target, mask, "compat").item() == pytest.approx(10 * math.log10(64))
    # A peak-to-peak of 1: L^2 = 1 instead of 4 in both.
    assert masked_psnr(pred, target, mask, "moving", data_range=1.0).item() == pytest.approx(10 * math.log10(4))
    assert masked_psnr(pred, target, mask, "compat", data_range=1.0).item() == pytest.approx(10 * math.log10(16))


def test_full_mask_equals_the_whole_frame_metrics():
    pred, target, _ = _pair(3)
    full = torch.ones(pred.shape[0], 1, *pred.shape[-2:], dtype=torch.bool)
    for mode in ("moving", "compat"):
        torch.testing.assert_close(masked_psnr(pred, target, full, mode), psnr(pred, target))
        torch.testing.assert_close(masked_ssim(pred, target, full, mode), ssim(pred, target))
        torch.testing.assert_close(masked_sharpness_difference(pred, target, full, mode),
                                   sharpness_difference(pred, target))


def test_empty_mask_is_nan_when_moving_and_exact_when_compat():
    pred, target, mask = _pair(4)
    empty = torch.zeros_like(mask)
    assert torch.isnan(masked_psnr(pred, target, empty, "moving")).all()
    assert torch.isnan(masked_ssim(pred, target, empty, "moving")).all()
    assert torch.isnan(masked_sharpness_difference(pred, target, empty, "moving")).all()
    assert torch.isinf(masked_psnr(pred, target, empty, "compat")).all()
    torch.testing.assert_close(masked_ssim(pred, target, empty, "compat"), torch.ones(2, dtype=torch.float64))


def test_per_image_batching_and_mask_shapes():
    pred, target, mask = _pair(5)
    both = masked_ssim(pred, target, mask, "moving")
    torch.testing.assert_close(both[1:], masked_ssim(pred[1:], target[1:], mask[1:], "moving"))
    torch.testing.assert_close(masked_psnr(pred, target, mask[:, 0], "moving"), masked_psnr(pred, target, mask, "moving"))
    assert masked_psnr(pred.float(), target.float(), mask).dtype == torch.float64


def test_rejects_bad_arguments():
    pred, target, mask = _pair()
    with pytest.raises(ValueError, match="mode"):
        masked_psnr(pred, target, mask, "paper")
    with pytest.raises(ValueError, match="mask"):
        masked_psnr(pred, target, mask[..., :-1])
    with pytest.raises(ValueError, match="window_size"):
        masked_ssim(pred[..., :8, :8], target[..., :8, :8], mask[..., :8, :8])


def test_masked_mean_over_leading_dimensions_and_an_empty_mask():
    from vidpred.metrics.masked import masked_mean

    values = torch.arange(2 * 3 * 1 * 2 * 2, dtype=torch.float64).reshape(2, 3, 1, 2, 2)  # (M, K, C, h, w)
    mask = torch.zeros(3, 1, 2, 2, dtype=torch.float64)  # (K, 1, h, w)
    mask[0, 0, 0, 1] = 1
    mask[1] = 1
    out = masked_mean(values, mask)
    assert out.shape == (2, 3)
    assert out[:, 0].tolist() == [1.0, 13.0]  # the one masked pixel
    assert out[:, 1].tolist() == [5.5, 17.5]  # every pixel of frame 1
    assert torch.isnan(out[:, 2]).all()  # no masked pixel


def test_ssim_moving_on_frames_the_size_of_the_window():
    # An 11x11 frame has one window inside it, centred on pixel (5, 5): masked there, the frame's SSIM.
    pred, target, _ = _pair(shape=(2, 3, 11, 11))
    mask = torch.zeros(2, 11, 11, dtype=torch.bool)
    mask[:, 5, 5] = True
    torch.testing.assert_close(masked_ssim(pred, target, mask, "moving"), ssim(pred, target))
    assert masked_ssim(pred, target, ~mask, "moving").isnan().all()  # no masked pixel has its window inside
