import torch

from vidpred.evaluation.prediction_scores import score_lines, summary_lines


def test_scores_are_floored_as_the_evaluation_s():
    target = torch.zeros(1, 3, 2, 4, 4)
    off = target.clone()
    off[:, :, 1] += 0.02  # every value 0.02 off on [-1, 1]: 10 log10(4 / 0.0004) = 40 dB
    lines = score_lines({"exact": target.clone(), "off": off}, target)
    assert lines[1].split()[1:] == ["58.92", "58.92"]  # an exact frame: the evaluation's ceiling, not inf
    assert lines[2].split()[1:] == ["58.92", "40.00"]
    assert lines[0] == "PSNR, predicted frame       1       2"  # columns under the header's, 8 wide
    assert lines[2] == "off                     58.92   40.00"


def test_an_edge_ratio_without_edges_in_the_truth_says_so_rather_than_nan():
    flat = {"psnr": [58.92, 58.92], "ssim": [1.0, 1.0], "edges": [float("nan"), float("nan")]}  # black frames
    lines = summary_lines({"model": flat, "last input": flat})
    assert lines[-1].endswith("model 1.000 / n/a (every true frame flat), last input 1.000 / n/a (every true frame "
                              "flat)")
    some = {"psnr": [30.0, 31.0], "edges": [0.5, float("nan")]}  # one flat frame: the mean of the others
    assert summary_lines({"model": some})[-1].endswith("model 0.500")


def test_a_frame_the_model_and_a_baseline_predict_equally_well_is_no_win_for_the_model():
    model = {"psnr": [58.92, 30.0, 25.0], "edges": [1.0, 0.9, 0.8]}  # the 1st frame still: both exact
    copy = {"psnr": [58.92, 28.0, 26.0], "edges": [1.0, 1.0, 1.0]}
    lines = summary_lines({"model": model, "last input": copy})
    assert lines[2] == "last input   37.64 (26.00 - 58.92); model better on 1 of 3 frames"
