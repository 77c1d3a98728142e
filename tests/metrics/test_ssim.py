from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage.metrics import structural_similarity

from vidpred.metrics import ssim


def _reference(pred: torch.Tensor, target: torch.Tensor) -> list[float]:
    """scikit-image's SSIM of the same frames as [0, 255] images."""
    return [
        structural_similarity(
            ((t.double() + 1) * 127.5).numpy(), ((p.double() + 1) * 127.5).numpy(), data_range=255,
            gaussian_weights=True, sigma=1.5, use_sample_covariance=False, channel_axis=0,
        )
        for p, t in zip(pred, target)
    ]


def _structured(height: int, width: int) -> torch.Tensor:
    """(1, 3, H, W) in [-1, 1]: a ramp, a checkerboard and a disc, one per channel."""
    rows = torch.arange(height, dtype=torch.float64)[:, None]
    cols = torch.arange(width, dtype=torch.float64)[None, :]
    ramp = (cols / (width - 1)) * 2 - 1 + 0 * rows
    checker = ((rows // 4 + cols // 4) % 2) * 1.6 - 0.8
    disc = torch.where((rows - height / 2) ** 2 + (cols - width / 3) ** 2 < (height / 4) ** 2, 0.9, -0.6)
    return torch.stack([ramp, checker, disc]).unsqueeze(0)


def test_matches_scikit_image_on_random_images():
    generator = torch.Generator().manual_seed(0)
    target = torch.rand(3, 3, 32, 40, generator=generator) * 2 - 1
    pred = (target + 0.3 * torch.randn(target.shape, generator=generator)).clamp(-1, 1)
    ours = ssim(pred, target)
    assert ours.shape == (3,)
    np.testing.assert_allclose(ours.numpy(), _reference(pred, target), rtol=0, atol=1e-8)


def test_matches_scikit_image_on_structured_images():
    target = _structured(36, 48)
    shifted = torch.roll(target, shifts=(1, 2), dims=(-2, -1))
    blurred = torch.nn.functional.avg_pool2d(target, 3, stride=1, padding=1, count_include_pad=False)
    pred = torch.cat([shifted, blurred, 0.5 * target])
    target = target.expand(3, -1, -1, -1)
    np.testing.assert_allclose(ssim(pred, target).numpy(), _reference(pred, target), rtol=0, atol=1e-8)


def test_identical_images_score_one_even_when_flat():
    image = torch.rand(2, 3, 16, 16) * 2 - 1
    image[1] = -1.0
    torch.testing.assert_close(ssim(image, image.clone()), torch.ones(2, dtype=torch.float64))


def test_luminance_reads_intensities_above_black():
    """Two flat mid-grey images 25 grey levels apart: SSIM's luminance term on 8-bit
    intensities, (2 m1 m2 + c1) / (m1^2 + m2^2 + c1) with c1 = (0.01 * 255)^2, by hand. On
    the signed [-1, 1] values it would be about -0.96."""
    m1, m2 = 140.0, 115.0
    c1 = (0.01 * 255) ** 2
    expected = (2 * m1 * m2 + c1) / (m1**2 + m2**2 + c1)  # 0.981...; the structure terms are 1 (flat)
    a = torch.full((1, 1, 16, 16), m1 / 127.5 - 1, dtype=torch.float64)
    b = torch.full((1, 1, 16, 16), m2 / 127.5 - 1, dtype=torch.float64)
    assert float(ssim(a, b)) == pytest.approx(expected, abs=1e-12)
    assert expected > 0.98


def test_frames_as_small_as_the_window():
    # 11 px: one valid window, scikit-image's single uncropped pixel.
    generator = torch.Generator().manual_seed(4)
    target = torch.rand(2, 3, 11, 11, generator=generator) * 2 - 1
    pred = (target + 0.3 * torch.randn(target.shape, generator=generator)).clamp(-1, 1)
    np.testing.assert_allclose(ssim(pred, target).numpy(), _reference(pred, target), rtol=0, atol=1e-8)


def test_rejects_unsupported_arguments():
    image = torch.zeros(1, 3, 16, 16)
    with pytest.raises(ValueError, match="sigma"):
        ssim(image, image, sigma=2.0)
    with pytest.raises(ValueError, match="window_size"):
        ssim(image[..., :8, :8], image[..., :8, :8])


def test_map_equals_kornias_and_both_filter_paths_agree():
    import kornia

    from vidpred.metrics.ssim import blur_valid, gaussian_window, ssim_map

    torch.testing.assert_close(gaussian_window(11, 1.5),
                               kornia.filters.get_gaussian_kernel1d(11, 1.5, dtype=torch.float64).flatten())
    generator = torch.Generator().manual_seed(3)
    target = torch.rand(2, 3, 30, 41, generator=generator, dtype=torch.float64) * 2 - 1
    pred = (target + 0.3 * torch.randn(target.shape, generator=generator, dtype=torch.float64)).clamp(-1, 1)
    reference = kornia.metrics.ssim((pred + 1) / 2, (target + 1) / 2, 11, max_val=1.0, eps=0.0, padding="valid")
    ours = ssim_map(pred, target)
    assert ours.shape == (2, 3, 20, 31)
    torch.testing.assert_close(ours, reference, rtol=0, atol=1e-12)
    # float64 on the CPU goes through OpenCV, anything else through conv2d: the same sums.
    window = gaussian_window()
    torch.testing.assert_close(blur_valid(target.float(), window).double(), blur_valid(target, window),
                               rtol=0, atol=1e-6)


def test_frames_one_or_two_pixels_smaller_than_the_window_are_refused():
    for size in (9, 10):
        image = torch.zeros(1, 3, size, size)
        with pytest.raises(ValueError, match="window_size"):
            ssim(image, image)


def test_an_inverted_image_scores_below_zero():
    generator = torch.Generator().manual_seed(0)
    image = torch.rand(1, 1, 24, 24, generator=generator) * 2 - 1
    assert -1 <= ssim(-image, image).item() < -0.5
