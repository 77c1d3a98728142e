import pytest
import torch

from vidpred.losses._frames import as_image_batch


def test_each_time_step_of_each_clip_becomes_one_image_in_order():
    clips = torch.arange(2 * 3 * 4 * 5 * 6, dtype=torch.float32).reshape(2, 3, 4, 5, 6)  # (B, C, T, H, W)
    images, same = as_image_batch(clips, clips.clone(), "mean")
    assert images.shape == (8, 3, 5, 6)
    for b in range(2):
        for t in range(4):
            assert torch.equal(images[b * 4 + t], clips[b, :, t])
    assert torch.equal(images, same)
    frames = torch.rand(2, 3, 5, 6)
    assert as_image_batch(frames, frames, "sum")[0] is frames  # 4-D input passes unchanged


@pytest.mark.parametrize("pred, target, reduction, message", [
    (torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 4, 5), "mean", "shapes differ"),
    (torch.zeros(1, 4, 4), torch.zeros(1, 4, 4), "mean", r"expected \(B, C, T, H, W\)"),
    (torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 4, 4), "none", "reduction"),
])
def test_bad_inputs_are_refused(pred, target, reduction, message):
    with pytest.raises(ValueError, match=message):
        as_image_batch(pred, target, reduction)
