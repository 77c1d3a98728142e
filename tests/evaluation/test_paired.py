"""Paired per-clip differences, against numbers worked out by hand."""

from __future__ import annotations

import math

import pytest

from vidpred.evaluation.paired import (paired_difference, paired_lines, paired_table, read_per_video,
                                      seed_paired_difference)

ROWS = [
    {"video": "a", "scores": {"m": {"psnr_whole_f1": 30.0}, "b": {"psnr_whole_f1": 29.0}}},
    {"video": "b", "scores": {"m": {"psnr_whole_f1": 25.0}, "b": {"psnr_whole_f1": 25.5}}},
    {"video": "c", "scores": {"m": {"psnr_whole_f1": 20.0}, "b": {"psnr_whole_f1": 18.0}}},
    {"video": "d", "scores": {"m": {"psnr_whole_f1": None}, "b": {"psnr_whole_f1": 10.0}}},
]


def test_mean_stderr_and_wins_by_hand():
    # Differences 1.0, -0.5, 2.0 (the clip with a missing score is left out): mean 2.5 / 3,
    # sample variance ((1/6)^2 + (4/3)^2 + (7/6)^2) / 2 = 1.5833, s.e. sqrt(1.5833 / 3) = 0.7265.
    d = paired_difference(ROWS, "m", "b", "psnr_whole_f1")
    assert d.n == 3 and d.wins == 2
    assert d.mean == pytest.approx(2.5 / 3)
    assert d.stderr == pytest.approx(math.sqrt(((1 / 6) ** 2 + (4 / 3) ** 2 + (7 / 6) ** 2) / 2 / 3))
    assert d.text(2) == "+0.83 ± 0.73 (2/3)"


def test_paired_lines_are_the_table_under_another_heading_and_check_nothing():
    assert paired_table(ROWS, [("m", "b")], ["psnr_whole_f1"]).splitlines() == [
        "| a − b | psnr_whole_f1 |", "|---|---|", "| m − b | +0.83 ± 0.73 (2/3) |"]
    assert paired_lines(ROWS, [("m", "b")], ["psnr_whole_f1"], "paired") == [
        "| paired | psnr_whole_f1 |", "|---|---|", "| m − b | +0.83 ± 0.73 (2/3) |"]
    # a key no clip has is a cell of no clips, not a refusal (paired_table refuses it)
    assert paired_lines(ROWS, [("m", "b")], ["ssim_whole_f1"], "paired")[2] == "| m − b | +nan (0/0) |"


def test_a_tie_is_not_a_win_and_undefined_scores_are_left_out():
    nan, inf = float("nan"), float("inf")
    rows = [{"video": "a", "scores": {"m": {"k": 30.0}, "b": {"k": 30.0}}},  # a tie
            {"video": "b", "scores": {"m": {"k": 26.0}, "b": {"k": 25.0}}},
            {"video": "c", "scores": {"m": {"k": nan}, "b": {"k": 20.0}}},  # e.g. no moving pixel
            {"video": "d", "scores": {"m": {"k": 20.0}, "b": {"k": nan}}},
            {"video": "e", "scores": {"m": {"k": inf}, "b": {"k": 20.0}}},
            {"video": "f", "scores": {"m": {"k": 20.0}, "b": {"k": -inf}}}]
    # Differences 0 and 1 only: mean 0.5, s.e. sqrt(((-0.5)^2 + 0.5^2) / 1 / 2) = 0.5, one win of two.
    d = paired_difference(rows, "m", "b", "k")
    assert (d.n, d.wins) == (2, 1)
    assert d.mean == pytest.approx(0.5) and d.stderr == pytest.approx(0.5)


def test_unknown_method_and_table():
    with pytest.raises(KeyError, match="'x'"):
        paired_difference(ROWS, "x", "b", "psnr_whole_f1")
    table = paired_table(ROWS, [("m", "b")], ["psnr_whole_f1"])
    assert table.splitlines()[2] == "| m − b | +0.83 ± 0.73 (2/3) |"


def test_edge_ratio_difference_is_how_much_closer_to_the_truths():
    rows = [{"video": "a", "scores": {"m": {"edges_whole_f1": 0.95}, "b": {"edges_whole_f1": 0.80}}},
            {"video": "b", "scores": {"m": {"edges_whole_f1": 1.10}, "b": {"edges_whole_f1": 0.98}}}]
    d = paired_difference(rows, "m", "b", "edges_whole_f1")
    # Clip a: m is 0.15 closer to 1; clip b: m is 0.08 farther (0.10 off against 0.02).
    assert d.mean == pytest.approx((0.15 - 0.08) / 2) and d.wins == 1 and d.n == 2


def test_a_lower_lpips_is_the_win():
    rows = [{"video": v, "scores": {"m": {"lpips_whole_f1": 0.10}, "b": {"lpips_whole_f1": b}}}
            for v, b in (("a", 0.30), ("b", 0.20), ("c", 0.05))]
    d = paired_difference(rows, "m", "b", "lpips_whole_f1")
    # Differences -0.20, -0.10, +0.05: still a - b, m lower (better) on two clips.
    assert d.mean == pytest.approx(-0.25 / 3) and (d.wins, d.n) == (2, 3)
    # in the table with LPIPS's four digits (std 0.1258 / sqrt 3), not the two of a PSNR
    table = paired_table(rows, [("m", "b")], ["lpips_whole_f1"])
    assert table.splitlines()[2] == "| m − b | -0.0833 ± 0.0726 (2/3) |"


def test_a_flicker_share_difference_is_how_much_closer_to_the_targets():
    rows = [{"video": "a", "target_flicker": 0.20, "scores": {"m": {"flicker": 0.18}, "b": {"flicker": 0.10}}},
            {"video": "b", "target_flicker": 0.20, "scores": {"m": {"flicker": 0.30}, "b": {"flicker": 0.25}}},
            {"video": "c", "target_flicker": None, "scores": {"m": {"flicker": 0.30}, "b": {"flicker": 0.25}}}]
    d = paired_difference(rows, "m", "b", "flicker")
    # Clip a: m 0.02 off against 0.10 (0.08 closer); clip b: 0.10 off against 0.05 (0.05 farther);
    # clip c has no target share (a clip too short for it) and is left out.
    assert d.mean == pytest.approx((0.08 - 0.05) / 2) and (d.wins, d.n) == (1, 2)


def test_unknown_methods_and_keys_are_named_instead_of_an_empty_cell():
    with pytest.raises(ValueError, match=r"not in this evaluation: 'x' \(methods: b, m\)"):
        paired_table(ROWS, [("x", "b")], ["psnr_whole_f1"])
    with pytest.raises(ValueError, match="score key.s. not in this evaluation: nosuchkey"):
        paired_table(ROWS, [("m", "b")], ["nosuchkey"])
    with pytest.raises(ValueError, match="nothing to compare"):
        paired_table(ROWS, [], ["psnr_whole_f1"])


@pytest.mark.parametrize("text", ["{not json", '{"scores": {}}', '[{"video": "a"}]', '[{"scores": {"m": 3}}]'])
def test_a_malformed_per_video_file_is_a_value_error_naming_it(tmp_path, text):
    (tmp_path / "per_video.json").write_text(text)
    with pytest.raises(ValueError, match="per_video.json is not an evaluation's per-video scores"):
        read_per_video(tmp_path)


def _seed_rows(differences_by_seed):
    """Clips scored by runs ``a{s}`` and ``b{s}``: ``b`` at 30 dB, ``a`` that plus the difference."""
    n_clips = len(differences_by_seed[0])
    return [{"video": f"clip{c}", "source": "v",
             "scores": {name: {"psnr_whole_f1": value} for s, diffs in enumerate(differences_by_seed)
                        for name, value in ((f"a{s}", 30.0 + diffs[c]), (f"b{s}", 30.0))}}
            for c in range(n_clips)]


def test_recipes_over_seeds_by_hand():
    # Seed means 0.5, -0.1 and 0.4: mean 0.8 / 3; deviations 7/30, -11/30, 4/30, whose squares
    # sum to 186/900; sample variance 93/900, s.e. sqrt(93/900/3) = 0.1856; a better in 2 seeds.
    rows = _seed_rows([[1.0, 0.0], [-0.2, 0.0], [0.4, 0.4]])
    d = seed_paired_difference(rows, [(f"a{s}", f"b{s}") for s in range(3)], "psnr_whole_f1")
    assert d.n == 3 and d.wins == 2
    assert d.mean == pytest.approx(0.8 / 3)
    assert d.stderr == pytest.approx(math.sqrt(93 / 900 / 3))
    assert d.text(2) == "+0.27 ± 0.19 (2/3)"


def test_a_seed_is_one_observation_however_many_clips_agree():
    # Ten clips that all move with the seed: a clip-level s.e. would be 0, over seeds it is not.
    rows = _seed_rows([[0.5] * 10, [-0.3] * 10])
    assert paired_difference(rows, "a0", "b0", "psnr_whole_f1").stderr == 0
    d = seed_paired_difference(rows, [("a0", "b0"), ("a1", "b1")], "psnr_whole_f1")
    assert (d.n, d.wins) == (2, 1) and d.mean == pytest.approx(0.1) and d.stderr == pytest.approx(0.4)
    with pytest.raises(KeyError, match="'a7'"):
        seed_paired_difference(rows, [("a7", "b0")], "psnr_whole_f1")


def test_a_seed_whose_runs_share_no_scored_clip_is_left_out():
    rows = _seed_rows([[0.5, 0.3], [9.0, 9.0]])
    for row in rows:
        row["scores"]["a1"]["psnr_whole_f1"] = None  # seed 1's run of a scored nothing
    d = seed_paired_difference(rows, [("a0", "b0"), ("a1", "b1")], "psnr_whole_f1")
    assert (d.n, d.wins) == (1, 1) and d.mean == pytest.approx(0.4) and math.isnan(d.stderr)


def test_the_command_pairs_recipes_by_seed_per_source_of_a_dev_benchmark(tmp_path, capsys, caplog):
    import json

    from vidpred.commands.paired_table import main

    rows = _seed_rows([[1.0, 0.0], [-0.2, 0.0], [0.4, 0.4]])
    other = [dict(row, source="w", video=row["video"] + "w") for row in _seed_rows([[0.1, 0.1]] * 3)]
    (tmp_path / "per_clip.json").write_text(json.dumps({"methods": [], "clips": rows + other}))
    assert main(["--eval", str(tmp_path), "--seeds", "0", "1", "2", "--a", "a{seed}", "--b", "b{seed}",
                 "--keys", "psnr_whole_f1"]) == 0
    out = capsys.readouterr().out
    assert "### `v` (2 clips)" in out and "| as − bs | +0.27 ± 0.19 (2/3) |" in out
    assert "### `w` (2 clips)" in out and "| as − bs | +0.10 ± 0.00 (3/3) |" in out
    with pytest.raises(SystemExit):
        main(["--eval", str(tmp_path), "--seeds", "0", "--a", "a0", "--b", "b{seed}"])
    assert "must hold '{seed}'" in capsys.readouterr().err
    # a seed with no run of the recipe is named in one line, not skipped
    assert main(["--eval", str(tmp_path), "--seeds", "0", "7", "--a", "a{seed}", "--b", "b{seed}"]) == 2
    assert "not in this evaluation: 'a7', 'b7'" in caplog.text
    assert capsys.readouterr().out == ""  # no table of a source before the error
    assert main(["--eval", str(tmp_path / "per_clip.json"), "--a", "a0", "--b", "b0"]) == 2
    assert "per_clip.json is a file: give the folder an evaluation wrote" in caplog.text


def test_a_seed_table_without_recipes_or_seeds_says_so():
    from vidpred.evaluation.paired import seed_paired_table

    rows = _seed_rows([[0.1], [0.2]])
    assert seed_paired_table(rows, [("a{seed}", "b{seed}")], [0, 1], ["psnr_whole_f1"]).splitlines()[2] == \
        "| as − bs | +0.15 ± 0.05 (2/2) |"
    for recipes, seeds in (([], [0]), ([("a{seed}", "b{seed}")], [])):
        with pytest.raises(ValueError, match="nothing to compare"):
            seed_paired_table(rows, recipes, seeds, ["psnr_whole_f1"])


def test_a_seed_given_twice_is_refused_not_counted_as_two_observations():
    from vidpred.evaluation.paired import seed_paired_table

    rows = _seed_rows([[0.5, 0.3], [0.1, 0.1]])
    with pytest.raises(ValueError, match="seed 0 given twice"):  # it read +0.37 ± 0.13 (3/3), three seeds of two
        seed_paired_table(rows, [("a{seed}", "b{seed}")], [0, 0, 1], ["psnr_whole_f1"])


def test_only_the_seed_placeholder_is_filled_in_a_run_name():
    from vidpred.evaluation.paired import seed_paired_table

    rows = [{"video": row["video"], "source": "v",
             "scores": {name.replace("a", "lr {1e-3} a"): s for name, s in row["scores"].items()}}
            for row in _seed_rows([[0.1], [0.2]])]
    table = seed_paired_table(rows, [("lr {1e-3} a{seed}", "b{seed}")], [0, 1], ["psnr_whole_f1"])
    assert table.splitlines()[2] == "| lr {1e-3} as − bs | +0.15 ± 0.05 (2/2) |"
