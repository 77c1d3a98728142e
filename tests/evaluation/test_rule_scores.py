"""The tables of the extrapolation rules' scores, against hand-worked values."""

from vidpred.evaluation.extrapolation_rules import SPEED_RULES
from vidpred.evaluation.rule_scores import rules_table, speed_hindsight_table


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
