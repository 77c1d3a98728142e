from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from vidpred.config import LossConfig
from vidpred.losses import (bce_g_loss, census_loss, generator_objective, gradient_difference_loss, laplacian_loss,
                            lp_loss, path_loss)
from vidpred.losses.composite import FINEST_SCALE_LOSSES

LOG2 = math.log(2)
WEIGHTS = dict(l_adv=0.05, l_p=1.0, p=2, l_gdl=1.0, gdl_alpha=1.0, l_path=2.0)


def _multiscale_d(logits):
    """The multi-scale D's generator loss, as the trainer hands it over."""
    return {"multiscale": bce_g_loss(logits)}


def _hand_case():
    """Two scales, one-pixel-high frames, T = 2, flat (zero) prediction.

    Finest: target frames [0, 1] and [0, 1]. Lp = (0+1+0+1)/4 = 0.5; GDL: no vertical
    pairs, horizontal |1-0| vs 0 in both frames -> mean 1; path [[0, 1], [0, 0]] -> 1/4.
    Coarse: target [0.5], [0.5]. Lp = 0.25; GDL has no pairs -> 0; path [0.5, 0] -> 0.125.
    """
    finest = torch.tensor([[0.0, 1.0], [0.0, 1.0]]).reshape(1, 1, 2, 1, 2)
    coarse = torch.full((1, 1, 2, 1, 1), 0.5)
    targets = [coarse, finest]
    preds = [torch.zeros_like(t).requires_grad_() for t in targets]
    return preds, targets


def test_hand_computed_combination():
    preds, targets = _hand_case()
    total, terms = generator_objective(preds, targets, **WEIGHTS, adv_losses=_multiscale_d([torch.zeros(1)]))
    assert terms["g_adv"].item() == pytest.approx(LOG2)
    assert terms["g_lp"].item() == pytest.approx(0.5 + 0.25)
    assert terms["g_gdl"].item() == pytest.approx(1.0)
    assert terms["g_path"].item() == pytest.approx(0.25 + 0.125)
    assert total.item() == pytest.approx(0.05 * LOG2 + 0.75 + 1.0 + 2.0 * 0.375)
    assert terms["g_total"].item() == pytest.approx(total.item())
    assert all(not value.requires_grad for value in terms.values())
    total.backward()
    assert all(pred.grad is not None and pred.grad.abs().sum() > 0 for pred in preds)


def test_finest_scale_only():
    preds, targets = _hand_case()
    total, terms = generator_objective(preds, targets, **WEIGHTS, multiscale=False)
    assert set(terms) == {"g_lp", "g_gdl", "g_path", "g_total"}
    assert total.item() == pytest.approx(0.5 + 1.0 + 2.0 * 0.25)


def test_finest_scale_only_pairs_the_finest_anchor_with_the_finest_prediction():
    # The anchor cancels in the path loss, so the finest scale's path term stays 1/4 whatever its value.
    preds, targets = _hand_case()
    anchors = [torch.full((1, 1, 1, 1), 0.3), torch.full((1, 1, 1, 2), -0.7)]
    total, terms = generator_objective(preds, targets, **WEIGHTS, anchor_scales=anchors, multiscale=False)
    assert terms["g_path"].item() == pytest.approx(0.25)
    assert total.item() == pytest.approx(0.5 + 1.0 + 2.0 * 0.25)


def test_adaptive_weight_is_clamped_at_adaptive_max():
    # pred = W h with h = (1, 2, 2), so ||dL/dW|| = 3 ||dL/dpred||. L_p (p = 2, mean of 2 values)
    # of pred (1, 2) against (4, -2): dL/dpred = (-3, 4), ||dL/dW|| = 15. L_adv = 1e-3 (pred_0 + pred_1):
    # ||dL/dW|| = 3e-3 sqrt(2). Unclamped w = 15 / (3e-3 sqrt(2) + 1e-4), about 3454.
    h = torch.tensor([1.0, 2.0, 2.0])
    W = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], requires_grad=True)
    out = W @ h
    pred, target = out.view(1, 1, 1, 1, 2), torch.tensor([4.0, -2.0]).view(1, 1, 1, 1, 2)
    weights = dict(l_adv=0.1, l_p=1.0, p=2, l_gdl=0.0, gdl_alpha=1.0, l_path=0.0)
    adv = {"d": 1e-3 * out.sum()}
    _, terms = generator_objective([pred], [target], **weights, adv_losses=adv, last_layer=W)
    assert terms["g_adv_weight"].item() == pytest.approx(15 / (3e-3 * math.sqrt(2) + 1e-4), rel=1e-5)
    total, terms = generator_objective([pred], [target], **weights, adv_losses=adv, last_layer=W,
                                       adaptive_max=10.0)
    assert terms["g_adv_weight"].item() == 10.0
    assert total.item() == pytest.approx(12.5 + 10.0 * 0.1 * 3e-3)


def test_zero_weights_are_skipped_and_not_reported():
    preds, targets = _hand_case()
    weights = {**WEIGHTS, "l_gdl": 0.0, "l_path": 0.0, "l_adv": 0.0}
    total, terms = generator_objective(preds, targets, **weights, adv_losses=_multiscale_d([torch.zeros(1)]))
    assert set(terms) == {"g_lp", "g_total"}
    assert total.item() == pytest.approx(0.75)
    with pytest.raises(ValueError, match="weight 0"):
        generator_objective(preds, targets, **{**weights, "l_p": 0.0, "l_adv": 1.0})


def test_matches_the_individual_losses():
    generator = torch.Generator().manual_seed(0)
    shapes = [(2, 3, 2, 8, 8), (2, 3, 2, 16, 16)]
    preds = [torch.rand(s, generator=generator) * 2 - 1 for s in shapes]
    targets = [torch.rand(s, generator=generator) * 2 - 1 for s in shapes]
    anchors = [torch.rand(s[:2] + s[3:], generator=generator) * 2 - 1 for s in shapes]
    logits = [torch.randn(2, generator=generator) for _ in shapes]
    weights = dict(l_adv=0.3, l_p=0.7, p=1, l_gdl=1.3, gdl_alpha=2.0, l_path=0.4)
    total, _ = generator_objective(preds, targets, **weights, anchor_scales=anchors, adv_losses=_multiscale_d(logits))
    expected = 0.3 * bce_g_loss(logits) + sum(
        0.7 * lp_loss(y_hat, y, p=1)
        + 1.3 * gradient_difference_loss(y_hat, y, alpha=2.0)
        + 0.4 * path_loss(y_hat, y, anchor)
        for y_hat, y, anchor in zip(preds, targets, anchors)
    )
    torch.testing.assert_close(total, expected)


def test_adversarial_term_is_the_mean_over_discriminators():
    # GMAN's mean (the sharper-predictions article): multi-scale BCE (log 2 at logit 0) and two other discriminators.
    preds, targets = _hand_case()
    adv = {"blur": torch.tensor(1.0), "spatiotemporal": torch.tensor(-0.5)}
    total, terms = generator_objective(preds, targets, **WEIGHTS, adv_losses={**_multiscale_d([torch.zeros(1)]), **adv})
    mean = (LOG2 + 1.0 - 0.5) / 3
    assert terms["g_adv"].item() == pytest.approx(mean)
    assert terms["g_adv_multiscale"].item() == pytest.approx(LOG2) and terms["g_adv_blur"].item() == 1.0
    assert total.item() == pytest.approx(0.05 * mean + 0.75 + 1.0 + 2.0 * 0.375)
    # Extra (perceptual) terms join the reconstruction side with their weight.
    total2, terms2 = generator_objective(
        preds, targets, **WEIGHTS, extra_terms={"g_vgg": (0.5, torch.tensor(2.0)), "g_off": (0.0, torch.tensor(9.0))}
    )
    assert terms2["g_vgg"].item() == 2.0 and "g_off" not in terms2
    assert total2.item() == pytest.approx(0.75 + 1.0 + 2.0 * 0.375 + 0.5 * 2.0)


def test_every_finest_scale_loss_has_a_weight_in_the_config_that_defaults_to_zero():
    # A weight that is not a LossConfig field would fail only at a run's first step; a default above 0
    # would change every shipped config.
    defaults = LossConfig()
    for name, (weight_key, _) in FINEST_SCALE_LOSSES.items():
        assert name.startswith("g_"), name
        assert weight_key in {f.name for f in dataclasses.fields(LossConfig)}, f"{name}: no loss.{weight_key}"
        assert getattr(defaults, weight_key) == 0, f"{name}: loss.{weight_key} defaults to {getattr(defaults, weight_key)}"


def test_finest_scale_losses_compute_what_their_functions_do_with_the_configs_settings():
    torch.manual_seed(0)
    pred, target = torch.rand(2, 3, 2, 16, 16) * 2 - 1, torch.rand(2, 3, 2, 16, 16) * 2 - 1
    loss = LossConfig(lap_levels=3, census_window=5)
    _, lap = FINEST_SCALE_LOSSES["g_lap"]
    _, census = FINEST_SCALE_LOSSES["g_census"]
    assert torch.equal(lap(pred, target, loss), laplacian_loss(pred, target, 3))
    assert torch.equal(census(pred, target, loss), census_loss(pred, target, 5))


def test_no_scales_and_an_adaptive_weight_without_reconstruction_are_refused():
    with pytest.raises(ValueError, match="as many target scales"):
        generator_objective([], [], **WEIGHTS)
    # Only the adversarial term: the adaptive weight has no reconstruction gradient to balance it against.
    W = torch.ones(2, 2, requires_grad=True)
    pred = (W @ torch.ones(2)).view(1, 1, 1, 1, 2)
    adversarial_only = {**WEIGHTS, "l_p": 0.0, "l_gdl": 0.0, "l_path": 0.0}
    with pytest.raises(ValueError, match="needs a reconstruction term"):
        generator_objective([pred], [torch.zeros_like(pred)], **adversarial_only, adv_losses={"d": pred.sum()},
                            last_layer=W)
