"""The evaluation's one-pass scorer against the per-metric functions it replaces, on random data."""

from __future__ import annotations

import math

import kornia
import numpy as np
import pytest
import torch

from vidpred.evaluation.scoring import (MAX_PSNR_DB, MAX_SHARPNESS_DB, clip_mean, metric_key, score_frames,
                                        whole_frame_psnr)
from vidpred.metrics import (
    load_lpips,
    masked_psnr,
    masked_sharpness_difference,
    masked_ssim,
    edge_ratio,
    psnr,
    sharpness_difference,
    ssim,
)
from vidpred.metrics.official import official_sharpness


def _clip(M: int = 3, K: int = 3, C: int = 3, H: int = 40, W: int = 48, seed: int = 0):
    """Random predictions (M, K, C, H, W), targets (K, C, H, W) and masks (K, 1, H, W): the first frame's
    mask a disc (partial), the second everything, the third nothing."""
    generator = torch.Generator().manual_seed(seed)
    target = torch.rand(K, C, H, W, generator=generator) * 2 - 1
    preds = (target + 0.4 * torch.randn(M, K, C, H, W, generator=generator)).clamp(-1, 1)
    rows = torch.arange(H)[:, None].float()
    cols = torch.arange(W)[None, :].float()
    masks = torch.zeros(K, 1, H, W, dtype=torch.bool)
    masks[0, 0] = (rows - H / 2) ** 2 + (cols - W / 3) ** 2 < (H / 3) ** 2
    if K > 1:
        masks[1] = True
    return preds, target, masks


def test_every_mode_equals_the_per_metric_functions():
    preds, target, masks = _clip()
    scores = score_frames(preds, target, masks)
    M, K = preds.shape[:2]
    for k in range(K):
        has_motion = bool(masks[k].any())
        for i in range(M):
            p, t, m = preds[i, k:k + 1], target[k:k + 1], masks[k:k + 1]
            expected = {
                ("psnr", "whole"): psnr(p, t), ("ssim", "whole"): ssim(p, t),
                ("sharpness", "whole"): sharpness_difference(p, t), ("edges", "whole"): edge_ratio(p, t),
            }
            for mode in ("compat", "moving"):
                expected[("psnr", mode)] = masked_psnr(p, t, m, mode)
                expected[("ssim", mode)] = masked_ssim(p, t, m, mode)
                expected[("sharpness", mode)] = masked_sharpness_difference(p, t, m, mode)
            for (metric, region), value in expected.items():
                got = scores[metric_key(metric, region, k + 1)][i].item()
                if region != "whole" and not has_motion:
                    assert math.isnan(got), (metric, region, k)
                else:
                    assert got == pytest.approx(value.item(), rel=0, abs=1e-10), (metric, region, k)


def test_ssim_equals_kornias_map_the_previous_computation():
    preds, target, masks = _clip(M=2, K=2, seed=1)
    scores = score_frames(preds, target, masks)
    for k in range(2):
        for i in range(2):
            p, t = preds[i, k:k + 1].double(), target[k:k + 1].double()
            kmap = kornia.metrics.ssim((p + 1) / 2, (t + 1) / 2, 11, max_val=1.0, eps=0.0, padding="valid")  # [0, 1]
            assert scores[metric_key("ssim", "whole", k + 1)][i].item() == pytest.approx(kmap.mean().item(), abs=1e-12)
            m = masks[k, 0, 5:-5, 5:-5]
            assert scores[metric_key("ssim", "moving", k + 1)][i].item() == pytest.approx(
                kmap[0][:, m].mean().item(), abs=1e-12)
            composite = torch.where(masks[k:k + 1], p, t)
            compat = kornia.metrics.ssim((composite + 1) / 2, (t + 1) / 2, 11, max_val=1.0, eps=0.0, padding="valid").mean()
            assert scores[metric_key("ssim", "compat", k + 1)][i].item() == pytest.approx(compat.item(), abs=1e-12)


def test_official_sharpness_mode_uses_the_official_formula_and_black_masking():
    preds, target, masks = _clip(M=2, K=2, seed=2)
    scores = score_frames(preds, target, masks, sharpness="official")
    assert not any(key.startswith("sharpness_compat") for key in scores)
    black = torch.tensor(-1.0)
    for k in range(2):
        for i in range(2):
            p, t, m = preds[i, k:k + 1], target[k:k + 1], masks[k:k + 1]
            whole = official_sharpness(p, t).item()
            compat = official_sharpness(torch.where(m, p, black), torch.where(m, t, black)).item()
            assert scores[metric_key("sharpness_official", "whole", k + 1)][i].item() == pytest.approx(whole, abs=1e-10)
            assert scores[metric_key("sharpness_official", "compat", k + 1)][i].item() == pytest.approx(compat, abs=1e-10)
    # A mask over every pixel: the moving-pixels mean is the whole frame's, rescaled from the
    # inner pixels' count to the C H W the official code divides by.
    C, H, W = target.shape[1:]
    inner = C * (H - 2) * (W - 2)
    moving = scores[metric_key("sharpness_official", "moving", 2)]
    whole = scores[metric_key("sharpness_official", "whole", 2)]
    np.testing.assert_allclose(moving.numpy(), (whole - 10 * math.log10(C * H * W / inner)).numpy(), atol=1e-10)


def test_official_sharpness_over_moving_pixels_by_hand():
    # One bright pixel at (2, 2) of a 5x5 frame, predicted flat. The official term at the inner
    # pixels (1..3, 1..3) is |dx Y| + |dy Y| (left and upper neighbours): 2 at (2, 2), 1 at (2, 3)
    # and (3, 2), 0 elsewhere.
    target = torch.zeros(1, 1, 5, 5, dtype=torch.float64)
    target[..., 2, 2] = 1.0
    masks = torch.zeros(1, 1, 5, 5, dtype=torch.bool)
    masks[..., 2, 2:4] = True  # (2, 2) and (2, 3): mean term (2 + 1) / 2
    scores = score_frames(torch.zeros(1, 1, 1, 5, 5, dtype=torch.float64), target, masks, sharpness="official")
    assert scores["sharpness_official_moving_f1"].item() == pytest.approx(10 * math.log10(255**2 / (128**2 * 1.5)))
    assert scores["sharpness_official_whole_f1"].item() == pytest.approx(10 * math.log10(255**2 / (128**2 * 4 / 25)))


def test_lpips_batched_equals_one_pair_at_a_time():
    torch.manual_seed(0)
    lpips = load_lpips(random_backbone=True)  # plumbing only: random backbone, explicitly
    preds, target, masks = _clip(M=2, K=2, H=40, W=48, seed=3)
    scores = score_frames(preds, target, masks, lpips=lpips)
    for k in range(2):
        for i in range(2):
            single = lpips(preds[i, k:k + 1], target[k:k + 1]).item()
            assert scores[metric_key("lpips", "whole", k + 1)][i].item() == pytest.approx(single, rel=1e-5)
    small = score_frames(preds[..., :24, :24], target[..., :24, :24], masks[..., :24, :24], lpips=lpips)
    assert torch.isnan(small["lpips_whole_f1"]).all()  # under AlexNet's 31 px


def test_frames_under_the_ssim_window_get_nan_ssim_only():
    preds, target, masks = _clip(M=1, K=1, H=8, W=9)
    scores = score_frames(preds, target, masks)
    assert all(math.isnan(scores[metric_key("ssim", r, 1)].item()) for r in ("whole", "compat", "moving"))
    assert math.isfinite(scores["psnr_whole_f1"].item()) and math.isfinite(scores["sharpness_compat_f1"].item())
    # 11 px: one window fits, and all three modes are scored.
    preds, target, masks = _clip(M=1, K=1, H=11, W=12)
    scores = score_frames(preds, target, masks)
    assert scores[metric_key("ssim", "whole", 1)].item() == pytest.approx(ssim(preds[0], target).item(), abs=1e-12)
    assert all(math.isfinite(scores[metric_key("ssim", r, 1)].item()) for r in ("compat", "moving"))


def test_shapes_are_checked():
    preds, target, masks = _clip(M=1, K=2)
    with pytest.raises(ValueError, match="score_frames"):
        score_frames(preds, target[:1], masks)


def test_exact_predictions_score_the_floors_and_nearly_exact_ones_stay_below():
    assert MAX_PSNR_DB == pytest.approx(10 * math.log10(12 * 255**2))  # 58.92 dB
    assert MAX_SHARPNESS_DB == pytest.approx(10 * math.log10(4 * 255))  # 30.09 dB
    target = torch.rand(1, 3, 16, 20, dtype=torch.float64) * 2 - 1
    masks = torch.zeros(1, 1, 16, 20, dtype=torch.bool)
    masks[..., 4:8, 5:10] = True  # 20 of 320 pixels
    one_level = target + 2 / 255  # one grey level off everywhere: close, but not exact
    scores = score_frames(torch.stack([target, one_level]), target, masks)
    assert scores["psnr_whole_f1"][0].item() == pytest.approx(MAX_PSNR_DB)
    assert scores["psnr_moving_f1"][0].item() == pytest.approx(MAX_PSNR_DB)
    assert scores["sharpness_whole_f1"][0].item() == pytest.approx(MAX_SHARPNESS_DB)
    # Paper-compatible: the pixels outside the mask add no error, so the floor scales with the mask.
    assert scores["psnr_compat_f1"][0].item() == pytest.approx(MAX_PSNR_DB + 10 * math.log10(320 / 20))
    assert scores["psnr_whole_f1"][1].item() == pytest.approx(20 * math.log10(255))  # 48.13 dB: no floor
    assert scores["sharpness_moving_f1"][0].item() == pytest.approx(MAX_SHARPNESS_DB)
    assert scores["sharpness_compat_f1"][0].item() == pytest.approx(MAX_SHARPNESS_DB + 10 * math.log10(320 / 20))


def test_the_whole_frame_psnr_clips_an_overshoot_and_floors_an_exact_frame_as_the_evaluation_does():
    target = torch.zeros(2, 3, 4, 5)
    prediction = torch.full_like(target, 1.5)  # clipped to 1: an error of 1 everywhere
    prediction[1] = 0  # exact
    psnr = whole_frame_psnr(prediction, target, dim=(1, 2, 3))
    assert psnr.tolist() == pytest.approx([10 * math.log10(4), MAX_PSNR_DB])  # peak-to-peak 2 over an MSE of 1
    frames = torch.rand(1, 3, 6, 7, dtype=torch.float64) * 2.6 - 1.3  # overshooting both ways
    truth = torch.rand(1, 3, 6, 7, dtype=torch.float64) * 2 - 1
    expected = score_frames(frames.clamp(-1, 1)[None], truth)["psnr_whole_f1"][0]
    assert whole_frame_psnr(frames, truth, dim=(0, 1, 2, 3)).item() == pytest.approx(expected.item())


def test_methods_scored_together_score_exactly_as_each_alone():
    # Scored one method at a time (a 1080x1920 clip's batch of every method took 7 GB): the same sums, bit for bit.
    preds, target, masks = _clip(M=3, K=2, seed=5)
    together = score_frames(preds, target, masks)
    for i in range(3):
        alone = score_frames(preds[i:i + 1], target, masks)
        for key, values in together.items():
            assert torch.equal(values[i:i + 1], alone[key]) or (values[i].isnan() and alone[key][0].isnan()), key


def test_without_masks_only_the_whole_frame_is_scored_with_the_same_values():
    preds, target, masks = _clip()
    with_masks = score_frames(preds, target, masks)
    whole = score_frames(preds, target)
    assert set(whole) == {key for key in with_masks if "_whole_" in key}
    for key, values in whole.items():
        assert torch.equal(values.nan_to_num(-7.0), with_masks[key].nan_to_num(-7.0)), key


def test_scores_of_frames_too_small_to_score_stay_on_the_frames_device():
    # Meta tensors stand in for a GPU's: the NaN filling SSIM (under 11 px) and LPIPS (under
    # 31 px) must be made where the frames are, or the moving-area masking mixes devices.
    class SmallLPIPS:
        net = "alex"

        def __call__(self, pred, target):
            raise AssertionError("frames under LPIPS's minimum size are not scored")

    meta = torch.device("meta")
    preds, target, masks = (x.to(meta) for x in _clip(M=2, K=2, H=8, W=9))
    scores = score_frames(preds, target, masks, lpips=SmallLPIPS())
    assert {metric_key("ssim", "moving", 1), "lpips_whole_f1"} <= set(scores)
    assert {v.device for v in scores.values()} == {meta}


def test_clip_mean_averages_the_finite_values_only():
    assert clip_mean([1.0, math.nan, 3.0]) == 2.0  # a clip where the score is undefined does not count
    assert math.isnan(clip_mean([math.nan, math.nan])) and math.isnan(clip_mean([]))


def test_sharpness_units_name_their_keys_and_an_unknown_unit_is_refused():
    from vidpred.evaluation.scoring import sharpness_metric

    assert sharpness_metric("unit") == "sharpness" and sharpness_metric("official") == "sharpness_official"
    with pytest.raises(ValueError, match="sharpness units must be 'unit' or 'official', got 'dB'"):
        sharpness_metric("dB")
    preds, target, masks = _clip(M=1, K=1, H=12, W=12)
    with pytest.raises(ValueError, match="got 'dB'"):  # not scored in the official units under another name
        score_frames(preds, target, masks, sharpness="dB")


def test_without_masks_any_number_of_frames_is_scored():
    # Two frames of three channels: the whole-frame mask stands for every frame, not every channel.
    preds, target, _ = _clip(M=2, K=2, C=3)
    scores = score_frames(preds, target)
    for k in range(2):
        for i in range(2):
            p, t = preds[i, k:k + 1], target[k:k + 1]
            assert scores[metric_key("psnr", "whole", k + 1)][i].item() == pytest.approx(psnr(p, t).item(), abs=1e-10)
            assert scores[metric_key("ssim", "whole", k + 1)][i].item() == pytest.approx(ssim(p, t).item(), abs=1e-10)


def test_a_frame_under_the_ssim_window_on_one_side_only_gets_nan_ssim():
    preds, target, masks = _clip(M=1, K=1, H=8, W=40)  # 8 rows: no 11x11 window fits, however wide
    scores = score_frames(preds, target, masks)
    assert all(math.isnan(scores[metric_key("ssim", r, 1)].item()) for r in ("whole", "compat", "moving"))
    assert scores["psnr_whole_f1"].item() == pytest.approx(psnr(preds[0], target).item(), abs=1e-10)


def test_a_mask_missing_one_pixel_is_scored_as_a_composite_not_as_the_whole_prediction():
    # The shortcut for a mask over every pixel must not take in a mask that misses one: there
    # the composite holds the truth at that pixel, and every SSIM window over it sees it.
    preds, target, _ = _clip(M=2, K=1, seed=3)
    H, W = target.shape[-2:]
    masks = torch.ones(1, 1, H, W, dtype=torch.bool)
    masks[0, 0, H // 2, W // 2] = False
    scores = score_frames(preds, target, masks)
    for i in range(2):
        p = preds[i, :1]
        expected = masked_ssim(p, target, masks, "compat").item()
        got = scores[metric_key("ssim", "compat", 1)][i].item()
        assert got == pytest.approx(expected, rel=0, abs=1e-10)
        assert got != pytest.approx(ssim(p, target).item(), rel=0, abs=1e-6)  # not the whole frame's
