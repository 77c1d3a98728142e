"""How the multi-scale discriminator is scored: BCE (the paper) or hinge (the CogVideo loss notes), on hand-made logits."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from vidpred.adversaries import MultiScaleAdversary, SpatioTemporalAdversary


class FixedLogits(nn.Module):
    """Stands in for the multi-scale D: returns preset per-scale logits for a real+fake batch."""

    def __init__(self, logits: list[torch.Tensor]) -> None:
        super().__init__()
        self.n_scales = len(logits)
        self.logits = logits
        self.weight = nn.Parameter(torch.ones(()))  # so the logits carry a graph

    def forward(self, contexts, frames):
        assert len(contexts) == len(frames) == self.n_scales
        return [self.weight * l for l in self.logits]


def _inputs(batch: int = 2, n_scales: int = 2):
    context = torch.zeros(batch, 3, 4, 8, 8)
    scales = [torch.zeros(batch, 3, 1, 8 // 2 ** (n_scales - 1 - k), 8 // 2 ** (n_scales - 1 - k))
              for k in range(n_scales)]
    return context, scales


def test_hinge_objective_on_hand_made_logits():
    # Two scales; real logits first, then fake (batch 2 each).
    logits = [torch.tensor([2.0, 0.0, -3.0, 0.5]), torch.tensor([0.5, 1.5, -0.5, -2.0])]
    adversary = MultiScaleAdversary(FixedLogits(logits), [1.0, 1.0], [0.0, 0.0], objective="hinge")
    context, scales = _inputs()
    loss, logs = adversary.d_loss(context, scales, scales, torch.Generator())
    # Scale 0: relu(1-2)=0, relu(1-0)=1 -> 0.5; relu(1-3)=0, relu(1+0.5)=1.5 -> 0.75.
    # Scale 1: relu(1-0.5)=0.5, relu(1-1.5)=0 -> 0.25; relu(1-0.5)=0.5, relu(1-2)=0 -> 0.25.
    assert float(loss.detach()) == pytest.approx(0.5 + 0.75 + 0.25 + 0.25)
    assert float(logs["d_acc_real"]) == pytest.approx(3 / 4) and float(logs["d_acc_fake"]) == pytest.approx(3 / 4)
    assert float(logs["d_acc_s0"]) == pytest.approx(0.5) and float(logs["d_acc_s1"]) == pytest.approx(1.0)
    # G: -mean(D) per scale, summed (the stand-in returns all four logits as predictions).
    g = adversary.g_loss(context, scales)
    assert float(g.detach()) == pytest.approx(-(-0.5 / 4) - (-0.5 / 4))


def test_bce_objective_is_the_paper_loss():
    logits = [torch.zeros(4), torch.zeros(4)]
    adversary = MultiScaleAdversary(FixedLogits(logits), [1.0, 1.0], [0.0, 0.0])
    context, scales = _inputs()
    loss, _ = adversary.d_loss(context, scales, scales, torch.Generator())
    assert float(loss.detach()) == pytest.approx(2 * 2 * math.log(2))  # two terms per scale at chance
    assert float(adversary.g_loss(context, scales).detach()) == pytest.approx(2 * math.log(2))


def test_unknown_objective_is_refused():
    with pytest.raises(ValueError, match="objective"):
        MultiScaleAdversary(FixedLogits([torch.zeros(2)]), [1.0, 1.0], [0.0, 0.0], objective="wasserstein")


class LinearScales(nn.Module):
    """A multi-scale "D" whose logit at scale k is ``c_k * sum(frame)``: its input gradient is c_k everywhere."""

    def __init__(self, coefficients: list[float]) -> None:
        super().__init__()
        self.n_scales = len(coefficients)
        self.c = nn.Parameter(torch.tensor(coefficients))

    def forward(self, contexts, frames):
        return [self.c[k] * frame.flatten(1).sum(dim=1) for k, frame in enumerate(frames)]


def test_r1_penalty_on_the_real_frames_of_every_scale():
    context, scales = _inputs(batch=3, n_scales=2)  # frames of 3x4x4 and 3x8x8: 48 and 192 values
    scales = [s + torch.rand_like(s) for s in scales]
    plain = MultiScaleAdversary(LinearScales([1.0, 0.5]), [1.0, 1.0], [0.0, 0.0])
    penalised = MultiScaleAdversary(LinearScales([1.0, 0.5]), [1.0, 1.0], [0.0, 0.0], r1_weight=2.0)
    loss, _ = plain.d_loss(context, scales, scales, torch.Generator())
    loss_r1, logs = penalised.d_loss(context, scales, scales, torch.Generator())
    # ||grad||^2 per sample: 1^2 * 48 + 0.5^2 * 192 = 96, whatever the frame.
    assert float(logs["d_r1"]) == pytest.approx(96.0)
    assert float(loss_r1.detach()) == pytest.approx(float(loss.detach()) + 2.0 * 96.0)
    # The penalty trains D: d/dc_k of c_k^2 * n_k is 2 c_k n_k, on top of the BCE gradient.
    loss.backward()
    loss_r1.backward()
    expected = plain.model.c.grad + 2.0 * torch.tensor([2 * 1.0 * 48, 2 * 0.5 * 192])
    torch.testing.assert_close(penalised.model.c.grad, expected)


class LinearClips(nn.Module):
    """A clip "D" whose logit is ``c * sum(clip)``: its input gradient is c everywhere."""

    def __init__(self, c: float) -> None:
        super().__init__()
        self.c = nn.Parameter(torch.tensor(c))

    def forward(self, clips):
        return self.c * clips.flatten(1).sum(dim=1)


@pytest.mark.parametrize("center", [1.0, 0.0])
def test_spatiotemporal_penalty_pulls_the_gradient_norm_to_its_centre(center):
    context, scales = _inputs(batch=2, n_scales=2)  # clips of 3 x (4 + 1) x 8 x 8: 960 values
    real = [s + 1 for s in scales]
    adversary = SpatioTemporalAdversary(LinearClips(0.5), gp_weight=3.0, gp_center=center)
    loss, logs = adversary.d_loss(context, real, scales, torch.Generator())
    # ||grad|| = 0.5 * sqrt(960) per clip; the penalty is (||grad|| - centre)^2
    norm = 0.5 * math.sqrt(960)
    assert float(logs["d_st_gp"]) == pytest.approx((norm - center) ** 2)
    # hinge: real logits 0.5 * 192 (a zero context, one frame of ones: max(0, 1 - 96) = 0), fake logits 0
    # (max(0, 1 + 0) = 1)
    assert float(logs["d_st_loss"]) == pytest.approx(0.0 + 1.0 + 3.0 * (norm - center) ** 2)
    # Real logits 96 are above 0 (real), fake logits 0 at it (predicted): both right.
    assert (float(logs["d_st_acc_real"]), float(logs["d_st_acc_fake"]), float(logs["d_st_gap"])) == (1.0, 1.0, 96.0)


class FrameFeatures(nn.Module):
    """Stands in for the multi-scale D's features: each judged frame's values, flattened."""

    n_scales = 1

    def features(self, contexts, frames):
        return [frame.flatten(1) for frame in frames]


def test_the_contrastive_term_scores_every_step_with_the_clip_s_other_steps_as_negatives():
    # One clip, two predicted steps of 2-channel 1x1 frames: the rows are the two steps, each
    # the other's negative. Predictions (1, 0), (0, 1); truths (1, 0), (1, 1); temperature 1.
    adversary = MultiScaleAdversary(FrameFeatures(), [1.0], [0.0])
    context = torch.zeros(1, 2, 4, 1, 1)
    pred = torch.tensor([[1.0, 0.0], [0.0, 1.0]]).T.reshape(1, 2, 2, 1, 1)  # (B, C, n_future, H, W)
    real = torch.tensor([[1.0, 0.0], [1.0, 1.0]]).T.reshape(1, 2, 2, 1, 1)
    c = 1 / math.sqrt(2)  # cosine of (1, 0) or (0, 1) with (1, 1)
    step_1 = -math.log(math.exp(1) / (math.exp(1) + math.exp(c)))
    step_2 = -math.log(math.exp(c) / (math.exp(0) + math.exp(c)))
    loss = adversary.contrastive_loss(context, [pred], [real], temperature=1.0)
    assert float(loss) == pytest.approx((step_1 + step_2) / 2)


class TwoScales(nn.Module):
    """A two-scale multi-scale "D" that is never called: only :meth:`MultiScaleAdversary.inputs` is."""

    n_scales = 2


def test_each_predicted_step_is_judged_with_the_frames_before_it():
    # Two clips; every pixel of clip b's frame t holds 100 b + t: frames 0, 1 are context, 2, 3 predicted.
    def frames(times):
        return torch.tensor([[100.0 * b + t for t in times] for b in range(2)]).view(2, 1, len(times), 1, 1)

    context = frames([0, 1]).expand(2, 1, 2, 4, 4)
    future = frames([2, 3])
    future_scales = [future.expand(2, 1, 2, s, s) for s in (1, 2, 4)]  # the generator's three levels
    adversary = MultiScaleAdversary(TwoScales(), [1.0, 1.0], [0.0, 0.0])
    contexts, judged = adversary.inputs(context, future_scales)
    # Rows step-major: step 1 of both clips, then step 2; D's two scales are the finest two levels.
    assert [tuple(c.shape) for c in contexts] == [(4, 1, 2, 2, 2), (4, 1, 2, 4, 4)]
    assert [tuple(f.shape) for f in judged] == [(4, 1, 2, 2), (4, 1, 4, 4)]
    for c, f in zip(contexts, judged):
        assert c[:, 0, :, 0, 0].tolist() == [[0, 1], [100, 101], [1, 2], [101, 102]]
        assert f[:, 0, 0, 0].tolist() == [2, 102, 3, 103]


def test_logged_verdicts_are_probabilities_averaged_over_the_scales():
    # Real logits first, then fake (batch 2); sigmoid(log 3) = 0.75, sigmoid(0) = 0.5, sigmoid(-log 3) = 0.25.
    third = math.log(3)
    logits = [torch.tensor([third, 0.0, -third, -third]), torch.tensor([0.0, 0.0, 0.0, -third])]
    adversary = MultiScaleAdversary(FixedLogits(logits), [1.0, 1.0], [0.0, 0.0])
    context, scales = _inputs()
    _, logs = adversary.d_loss(context, scales, scales, torch.Generator())
    assert float(logs["d_real"]) == pytest.approx(((0.75 + 0.5) / 2 + 0.5) / 2)
    assert float(logs["d_fake"]) == pytest.approx((0.25 + (0.5 + 0.25) / 2) / 2)


def test_the_contrastive_term_is_the_mean_over_the_discriminator_s_scales():
    # The one-scale example above with constant 2x2 frames judged at two scales (2x2 and 1x1):
    # repeating a feature does not change a cosine, so each scale's loss is that example's.
    class TwoScaleFeatures(FrameFeatures):
        n_scales = 2

    adversary = MultiScaleAdversary(TwoScaleFeatures(), [1.0, 1.0], [0.0, 0.0])
    context = torch.zeros(1, 2, 4, 2, 2)
    pred = torch.tensor([[1.0, 0.0], [0.0, 1.0]]).T.reshape(1, 2, 2, 1, 1)
    real = torch.tensor([[1.0, 0.0], [1.0, 1.0]]).T.reshape(1, 2, 2, 1, 1)
    c = 1 / math.sqrt(2)
    step_1 = -math.log(math.exp(1) / (math.exp(1) + math.exp(c)))
    step_2 = -math.log(math.exp(c) / (math.exp(0) + math.exp(c)))
    loss = adversary.contrastive_loss(context, [pred, pred.expand(1, 2, 2, 2, 2)], [real, real.expand(1, 2, 2, 2, 2)],
                                      temperature=1.0)
    assert float(loss) == pytest.approx((step_1 + step_2) / 2)


class MeanFrame(nn.Module):
    """A blur "D" whose logit is ``log 3`` times a frame's mean: 0.75 sharp for a white frame, 0.25 for black."""

    def __init__(self) -> None:
        super().__init__()
        self.c = nn.Parameter(torch.tensor(math.log(3)))
        self.norm = nn.BatchNorm2d(3)  # a layer whose mode matters

    def forward(self, frames):
        return self.c * frames.mean(dim=(1, 2, 3))


def test_the_blur_detector_learns_real_frames_as_sharp_and_predictions_as_blurred():
    from vidpred.adversaries import BlurAdversary

    adversary = BlurAdversary(MeanFrame(), trainable=True, real_label=[1.0, 1.0], fake_label=[0.0, 0.0])
    context = torch.zeros(2, 3, 4, 4, 4)
    real, fake = [torch.ones(2, 3, 2, 4, 4)], [-torch.ones(2, 3, 2, 4, 4)]  # 2 clips x 2 steps: 4 frames each
    loss, logs = adversary.d_loss(context, real, fake, torch.Generator())
    # -log(0.75) for the real frames called sharp, -log(1 - 0.25) for the predictions called blurred.
    assert float(loss.detach()) == pytest.approx(2 * math.log(4 / 3))
    assert float(logs["d_blur_real"]) == pytest.approx(0.75) and float(logs["d_blur_fake"]) == pytest.approx(0.25)
    assert float(logs["d_blur_acc"]) == 1.0
    # G wants its predictions called sharp: -log(0.25).
    assert float(adversary.g_loss(context, fake).detach()) == pytest.approx(math.log(4))


def test_a_frozen_judge_is_in_eval_mode_and_takes_no_gradient():
    from vidpred.adversaries import BlurAdversary

    frozen = BlurAdversary(MeanFrame().train(), trainable=False, real_label=[1.0, 1.0], fake_label=[0.0, 0.0])
    assert not frozen.model.training and not any(p.requires_grad for p in frozen.model.parameters())
    trained = BlurAdversary(MeanFrame().train(), trainable=True, real_label=[1.0, 1.0], fake_label=[0.0, 0.0])
    assert trained.model.training and all(p.requires_grad for p in trained.model.parameters())


def test_noisy_labels_are_drawn_across_their_whole_range():
    from vidpred.adversaries import _labels

    rng = torch.Generator().manual_seed(0)
    labels = _labels(torch.zeros(2000), [0.7, 1.2], rng)  # the sharper-predictions article's real range
    assert labels.shape == (2000,) and 0.7 <= labels.min() and labels.max() <= 1.2
    assert float(labels.mean()) == pytest.approx(0.95, abs=0.01) and float(labels.std()) == pytest.approx(
        0.5 / math.sqrt(12), rel=0.05)  # uniform on [0.7, 1.2]
    assert _labels(torch.zeros(3), [1.0, 1.0], rng) == 1.0  # plain labels: a constant, nothing drawn
