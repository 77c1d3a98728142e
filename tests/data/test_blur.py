from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
import torch

from vidpred.data.blur import BLUR_KINDS, blur_frames


def _frames(seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(2, 3, 16, 20, generator=generator) * 2 - 1


def test_gaussian_is_5x5_with_variance_5():
    frames = _frames()
    expected = np.stack([
        cv2.GaussianBlur(f.permute(1, 2, 0).numpy(), (5, 5), math.sqrt(5), borderType=cv2.BORDER_REFLECT_101)
        for f in frames
    ])
    np.testing.assert_allclose(blur_frames(frames, "gaussian").permute(0, 2, 3, 1).numpy(), expected, atol=1e-5)


def test_median_is_a_5x5_median():
    frames = _frames(1)
    ours = blur_frames(frames, "median")
    for b in range(2):
        for c in range(3):
            # OpenCV pads differently at the border: compare the interior.
            expected = cv2.medianBlur(frames[b, c].numpy(), 5)
            np.testing.assert_allclose(ours[b, c, 2:-2, 2:-2].numpy(), expected[2:-2, 2:-2], atol=1e-6)


def test_bilateral_smooths_texture_but_keeps_a_strong_edge():
    generator = torch.Generator().manual_seed(2)
    edge = torch.zeros(1, 3, 16, 16)
    edge[..., 8:] = 1.0
    texture = 0.05 * torch.randn(1, 3, 16, 16, generator=generator)
    frames = (edge - 0.5 + texture).clamp(-1, 1)
    bilateral, gaussian = blur_frames(frames, "bilateral"), blur_frames(frames, "gaussian")
    step = lambda x: (x[..., 9] - x[..., 6]).mean()  # noqa: E731
    assert step(bilateral) > step(gaussian) + 0.2
    assert (bilateral - edge).std() < (frames - edge).std()


@pytest.mark.parametrize("kind", BLUR_KINDS)
def test_every_kind_keeps_shape_range_and_flat_frames(kind):
    frames = _frames()
    out = blur_frames(frames, kind)
    assert out.shape == frames.shape and out.min() >= -1 and out.max() <= 1
    flat = torch.full((1, 3, 8, 8), 0.25)
    torch.testing.assert_close(blur_frames(flat, kind), flat)


def test_unknown_kind():
    with pytest.raises(ValueError, match="unknown blur kind"):
        blur_frames(_frames(), "motion")


def test_bilateral_by_hand_at_one_pixel():
    # Weight of neighbour q of pixel p: exp(-|q - p|^2 / (2 * 5)) (spatial variance 5, as the
    # Gaussian's) times exp(-(L1 colour distance)^2 / (2 * 0.6^2)), normalised over the 5x5 window.
    frames = _frames(3)[:1, :, :9, :9]
    image = frames[0].double().numpy()
    centre = image[:, 4, 4]
    numerator, denominator = np.zeros(3), 0.0
    for dy in range(-2, 3):
        for dx in range(-2, 3):
            value = image[:, 4 + dy, 4 + dx]
            colour = np.abs(value - centre).sum()
            weight = math.exp(-(dy * dy + dx * dx) / 10) * math.exp(-colour**2 / (2 * 0.6**2))
            numerator, denominator = numerator + weight * value, denominator + weight
    np.testing.assert_allclose(blur_frames(frames, "bilateral")[0, :, 4, 4].numpy(), numerator / denominator,
                               atol=1e-5)


def test_the_median_reflects_the_frame_at_its_border():
    frames = torch.rand(1, 1, 7, 9, generator=torch.Generator().manual_seed(3)) * 2 - 1
    padded = np.pad(frames[0, 0].numpy(), 2, mode="reflect")  # the mirror without the edge pixel repeated
    expected = np.array([[np.median(padded[y:y + 5, x:x + 5]) for x in range(9)] for y in range(7)])
    np.testing.assert_allclose(blur_frames(frames, "median")[0, 0].numpy(), expected, atol=1e-6)


def test_blur_refuses_frames_without_a_batch_axis_and_a_kind_it_does_not_name_exactly():
    with pytest.raises(ValueError, match=r"expects \(N, C, H, W\), got \(3, 8, 8\)"):
        blur_frames(torch.zeros(3, 8, 8), "gaussian")
    with pytest.raises(ValueError, match="unknown blur kind 'gauss'"):
        blur_frames(torch.zeros(1, 3, 8, 8), "gauss")
