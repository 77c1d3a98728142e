from __future__ import annotations

import pytest
import torch

from vidpred.losses import clip_path, lp_loss, path_loss


def _one_pixel_clip(values: list[float]) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float32).reshape(1, 1, len(values), 1, 1)  # (B, C, T, H, W)


TARGET = _one_pixel_clip([128, 128, 128])
SMOOTH = _one_pixel_clip([129, 129, 129])
FLICKER = _one_pixel_clip([127, 129, 127])


def test_path_loss_note_example():
    # both predictions are one grey level off in every frame
    assert lp_loss(SMOOTH, TARGET).item() == pytest.approx(1)
    assert lp_loss(FLICKER, TARGET).item() == pytest.approx(1)
    # paths: target [128, 0, 0]; smooth [129, 0, 0] -> (1 + 0 + 0) / 3; flicker [127, 2, -2] -> (1 + 4 + 4) / 3
    assert path_loss(SMOOTH, TARGET).item() == pytest.approx(1 / 3)
    assert path_loss(FLICKER, TARGET).item() == pytest.approx(3)


def test_path_loss_note_example_with_anchor():
    anchor = torch.full((1, 1, 1, 1), 128.0)
    torch.testing.assert_close(clip_path(FLICKER, anchor).flatten(), torch.tensor([-1.0, 2.0, -2.0]))
    assert path_loss(SMOOTH, TARGET, anchor=anchor).item() == pytest.approx(1 / 3)
    assert path_loss(FLICKER, TARGET, anchor=anchor).item() == pytest.approx(3)


def test_zero_for_identical_and_frame_mse_for_one_frame():
    clip = torch.rand(2, 3, 3, 8, 8) * 2 - 1
    assert path_loss(clip, clip.clone()) == 0
    pred, target = torch.rand(2, 3, 1, 8, 8), torch.rand(2, 3, 1, 8, 8)
    torch.testing.assert_close(path_loss(pred, target, anchor=torch.rand(2, 3, 8, 8)), lp_loss(pred, target, p=2))


def test_reductions_are_consistent():
    pred, target = torch.randn(2, 3, 3, 4, 4), torch.randn(2, 3, 3, 4, 4)
    total = path_loss(pred, target, reduction="sum")
    torch.testing.assert_close(path_loss(pred, target, reduction="mean") * pred.numel(), total)
    none = path_loss(pred, target, reduction="none")
    assert none.shape == pred.shape
    torch.testing.assert_close(none.sum(), total)


def test_gradcheck():
    generator = torch.Generator().manual_seed(0)
    pred = torch.randn(1, 2, 3, 3, 3, dtype=torch.float64, generator=generator).requires_grad_()
    target = torch.randn(1, 2, 3, 3, 3, dtype=torch.float64, generator=generator)
    anchor = torch.randn(1, 2, 3, 3, dtype=torch.float64, generator=generator)
    assert torch.autograd.gradcheck(lambda x: path_loss(x, target, anchor=anchor), (pred,))


def test_rejects_bad_shapes():
    clip = torch.zeros(1, 1, 2, 4, 4)
    with pytest.raises(ValueError, match="anchor"):
        path_loss(clip, clip, anchor=torch.zeros(1, 1, 3, 3))
    with pytest.raises(ValueError, match="B, C, T, H, W"):
        path_loss(clip[:, :, 0], clip[:, :, 0])


def test_the_path_starts_at_the_first_frame_not_the_last():
    # The note's examples are the same played backwards; these are not. Frame MSE is 3 for both.
    early = _one_pixel_clip([131, 128, 128])  # path [131, -3, 0] against [128, 0, 0] -> (9 + 9 + 0) / 3
    late = _one_pixel_clip([128, 128, 131])  # path [128, 0, 3] -> (0 + 0 + 9) / 3
    assert path_loss(early, TARGET).item() == pytest.approx(6)
    assert path_loss(late, TARGET).item() == pytest.approx(3)
    anchor = torch.full((1, 1, 1, 1), 128.0)
    torch.testing.assert_close(clip_path(early, anchor).flatten(), torch.tensor([3.0, -3.0, 0.0]))
    assert path_loss(early, TARGET, anchor=anchor).item() == pytest.approx(6)
