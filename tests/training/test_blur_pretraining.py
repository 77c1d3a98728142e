"""vidpred/training/blur_pretraining.py: the crops it trains on, the blur mix and the held-out accuracy."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from vidpred.data.blur import BLUR_KINDS, blur_frames
from vidpred.training.blur_pretraining import FramePool, _blur_mixed, blur_accuracy


def test_the_pool_keeps_only_videos_large_enough_to_crop():
    small, large = np.zeros((5, 8, 16, 3), np.uint8), np.full((1, 16, 12, 3), 255, np.uint8)
    pool = FramePool([small, large], size=10)
    assert len(pool.videos) == 1 and pool.videos[0] is large
    crops = pool.sample(3, np.random.default_rng(0))
    assert crops.shape == (3, 3, 10, 10) and crops.dtype == torch.float32
    assert torch.all(crops == 1.0)  # 255 is 1 in [-1, 1]
    with pytest.raises(ValueError, match="no frame of at least 17x17 pixels"):
        FramePool([small, large], size=17)


def test_the_pool_draws_frames_uniformly_not_videos():
    three_frames, one_frame = np.zeros((3, 4, 4, 1), np.uint8), np.full((1, 4, 4, 1), 255, np.uint8)
    crops = FramePool([three_frames, one_frame], size=4).sample(4000, np.random.default_rng(0))
    assert crops[:, 0, 0, 0].eq(-1.0).float().mean().item() == pytest.approx(0.75, abs=0.03)


def test_the_pool_crops_every_position_edges_included():
    frame = np.arange(9, dtype=np.uint8).reshape(1, 3, 3, 1)  # values 0..8, a 3x3 grey frame
    crops = FramePool([frame], size=2).sample(200, np.random.default_rng(0))
    values = ((crops[:, 0] + 1) * 127.5).round().long()  # (200, 2, 2) back to 0..8
    assert {int(v[0, 0]) for v in values} == {0, 1, 3, 4}  # a 2x2 crop starts at row 0 or 1 and column 0 or 1
    assert all(v.tolist() == [[v[0, 0], v[0, 0] + 1], [v[0, 0] + 3, v[0, 0] + 4]] for v in values)  # whole crops


def test_each_third_of_the_negatives_gets_one_kind_of_blur():
    frames = torch.rand(6, 3, 8, 8, generator=torch.Generator().manual_seed(0)) * 2 - 1
    mixed = _blur_mixed(frames)
    for third, kind in enumerate(BLUR_KINDS):
        part = frames[2 * third : 2 * third + 2]
        assert torch.equal(mixed[2 * third : 2 * third + 2], blur_frames(part, kind)), kind
    assert _blur_mixed(frames[:2]).shape == (2, 3, 8, 8)  # fewer frames than kinds: no empty part


class _Lookup(nn.Module):
    """A stand-in discriminator that gives each held-out frame, sharp or blurred by each kind,
    the logit ``logits[kind][i]`` (kind None: sharp), and notes the mode it ran in."""

    def __init__(self, frames, logits):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(()))
        self.table = [(frame, logit) for kind, row in logits.items()
                      for frame, logit in zip(frames if kind is None else blur_frames(frames, kind), row)]
        self.modes = []

    def forward(self, x):
        self.modes.append(self.training)
        logits = [next(logit for frame, logit in self.table if torch.allclose(frame, f, atol=1e-5)) for f in x]
        return self.weight * torch.tensor(logits)


def test_held_out_accuracy_counts_sharp_logits_above_0_and_blurred_below():
    frames = torch.rand(4, 3, 8, 8, generator=torch.Generator().manual_seed(0)) * 2 - 1
    logits = {None: [1.0, 1.0, 1.0, 0.0], "gaussian": [-1.0, -1.0, 1.0, 1.0], "median": [-1.0] * 4,
              "bilateral": [1.0, 1.0, 0.0, -1.0]}  # 0: neither sharp nor blurred
    model = _Lookup(frames, logits).train()
    accuracy = blur_accuracy(model, frames, batch_size=3)  # in chunks of 3 and 1
    assert accuracy == pytest.approx({"sharp": 0.75, "gaussian": 0.5, "median": 1.0, "bilateral": 0.25,
                                      "balanced": (0.75 + (0.5 + 1.0 + 0.25) / 3) / 2})
    assert model.modes == [False] * 2 * 4 and model.training  # evaluated in eval mode, then set back



@pytest.mark.parametrize("steps", [1, 3])
def test_a_step_that_leaves_the_weights_not_finite_is_caught_the_last_one_too(steps, monkeypatch):
    from vidpred.models.blur_discriminator import BlurDiscriminator
    from vidpred.training.blur_pretraining import pretrain_blur_discriminator
    from vidpred.training.monitor import TrainingDiverged

    class SpoilingAdam(torch.optim.Adam):  # the step after a finite loss leaves one weight NaN
        def step(self, closure=None):
            super().step(closure)
            with torch.no_grad():
                self.param_groups[0]["params"][0].view(-1)[0] = float("nan")

    monkeypatch.setattr(torch.optim, "Adam", SpoilingAdam)
    frames = np.random.default_rng(0).integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
    torch.manual_seed(0)
    model = BlurDiscriminator(3, width=4, n_down=2)
    # steps=1: the loss was finite, the weights left are not; steps=3: the 2nd step's loss is NaN
    with pytest.raises(TrainingDiverged, match=f"diverged at step {min(steps, 2)}"):
        pretrain_blur_discriminator(model, FramePool([frames], 16), torch.zeros(2, 3, 16, 16), steps=steps,
                                    batch_size=2)
