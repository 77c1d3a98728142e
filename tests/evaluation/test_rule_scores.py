"""The tables of the extrapolation rules' scores, against hand-worked values."""

import math

import numpy as np
import pytest
import torch

from vidpred.evaluation import rule_scores
from vidpred.evaluation.clips import EvalClip
from vidpred.evaluation.extrapolation_rules import SPEED_RULES
from vidpred.evaluation.rule_scores import rules_table, speed_hindsight_table
from vidpred.evaluation.scoring import MAX_PSNR_DB
from vidpred.metrics.sharpness import edge_ratio


def test_the_table_puts_each_rules_edge_ratio_beside_its_psnr():
    def row(dis, blurred):  # (PSNR, edge ratio) of the 1st and 2nd frame alike
        return {"scores": {rule: {f"{m}_f{k}": v for k in (1, 2) for m, v in zip(("psnr", "edges"), values)}
                           for rule, values in (("DIS", dis), ("blurred", blurred))}}

    table = rules_table({"v": [row((30.0, 0.95), (30.5, 0.80)), row((28.0, 0.91), (28.1, float("nan")))]})
    assert "| rule | PSNR 1st / 2nd | edge ratio 1st / 2nd | − DIS, 1st | − DIS, 2nd |" in table
    assert "| DIS | 29.00 / 29.00 | 0.930 / 0.930 |  |  |" in table
    # +0.5 and +0.1 dB: +0.30 ± 0.20, both clips better; a flat truth's edge ratio (nan) is left out
    assert "| blurred | 29.30 / 29.30 | 0.800 / 0.800 | +0.30 ± 0.20 (2/2) | +0.30 ± 0.20 (2/2) |" in table


def test_speed_hindsight_against_hand_worked_gains():
    def row(at_own_speed, others=None):  # 1st and 2nd frame alike; unlisted speeds 1 dB below the own speed
        scores = {rule: at_own_speed - 1.0 for rule in SPEED_RULES}
        scores.update({"DIS refined": at_own_speed, **{f"DIS refined x{a}": v for a, v in (others or {}).items()}})
        return {"scores": {rule: {"psnr_f1": v, "psnr_f2": v} for rule, v in scores.items()}}

    rows = [row(30.0, {0.9: 31.0}), row(30.0, {0.9: 29.5, 1.1: 30.5})]
    table = speed_hindsight_table({"v": rows})
    # x0.9 gains +1.0 and -0.5: +0.25 over the video, s.e. 0.75; each clip's best gains 1.0 and 0.5.
    assert "| v | 1 | x0.9 | +0.25 ± 0.75 | +0.75 ± 0.25 |" in table
    assert "| v | 2 | x0.9 | +0.25 ± 0.75 | +0.75 ± 0.25 |" in table
    # no speed beats the own one: it is the best for the video, and gains nothing
    assert "| w | 1 | x1.0 | +0.00 ± 0.00 | +0.00 ± 0.00 |" in speed_hindsight_table({"w": [row(30.0), row(28.0)]})


def test_a_video_of_one_clip_has_no_standard_error():
    scores = {rule: 30.0 for rule in SPEED_RULES}
    scores["DIS refined x0.9"] = 30.5  # the only faster-or-slower speed that gains: +0.5 dB
    table = speed_hindsight_table({"v": [{"scores": {rule: {"psnr_f1": v, "psnr_f2": v}
                                                     for rule, v in scores.items()}}]})
    assert "| v | 1 | x0.9 | +0.50 | +0.50 |" in table and "±" not in table


def test_each_rule_is_scored_against_the_frames_after_the_context_and_the_fit_against_the_last(monkeypatch):
    # Frame t is flat grey 40 + 20 t: copying the last context frame (3) misses frame 4 by 20
    # grey levels and frame 5 by 40; a rule doubling it overshoots and is clipped.
    frames = np.stack([np.full((16, 16, 3), 40 + 20 * t, np.uint8) for t in range(6)])
    rng = np.random.default_rng(0)
    frames[:, :, :8] = rng.integers(0, 256, (16, 8, 3), dtype=np.uint8)  # texture, the same in every frame
    copy = lambda f, g, k: f[:, :, 3]  # noqa: E731
    monkeypatch.setattr(rule_scores, "RULES", {"copy": copy, "fit": copy, "double": lambda f, g, k: 2 * f[:, :, 3]})
    scores = rule_scores._clip_scores(EvalClip("v@0", 0, frames), ["copy", "fit", "double"])

    def psnr(grey_levels):  # half the frame off by that many grey levels, PSNR with a peak-to-peak of 2
        return 10 * math.log10(4 / (0.5 * (2 * grey_levels / 255) ** 2))

    assert scores["copy"]["psnr_f1"] == pytest.approx(psnr(20), abs=1e-3)
    assert scores["copy"]["psnr_f2"] == pytest.approx(psnr(40), abs=1e-3)
    assert set(scores["fit"]) == {"psnr_f1", "edges_f1"}
    assert scores["fit"]["psnr_f1"] == pytest.approx(MAX_PSNR_DB, abs=1e-3)  # exact: the fit is of frame 3
    target = torch.from_numpy(frames[4]).permute(2, 0, 1)[None].float() / 127.5 - 1
    doubled = (2 * (torch.from_numpy(frames[3]).permute(2, 0, 1)[None].float() / 127.5 - 1)).clamp(-1, 1)
    assert scores["double"]["edges_f1"] == pytest.approx(float(edge_ratio(doubled, target)[0]), rel=1e-5)


def test_the_rules_table_averages_every_clip():
    rows = [{"scores": {"DIS": {"psnr_f1": v, "psnr_f2": v, "edges_f1": 1.0, "edges_f2": 1.0}}} for v in (30, 31, 35)]
    assert "| DIS | 32.00 / 32.00 | 1.000 / 1.000 |  |  |" in rules_table({"v": rows})  # the mean, not the median
