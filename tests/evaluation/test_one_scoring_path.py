"""Training's validation and the evaluation score one checkpoint on the same clips with the
same function: the same numbers under the same names, for the model and every baseline."""

from __future__ import annotations

import torch

from vidpred.evaluation import EvalClip, Protocol, baseline_methods, evaluate, load_checkpoint_predictor, summarize
from vidpred.evaluation.pipeline import fit_blend_on_clips
from vidpred.evaluation.predictors import BASELINE_NAMES, blend_method
from vidpred.training.validation import MODEL, Validator

CPU = torch.device("cpu")


def test_validation_and_evaluation_of_a_checkpoint_give_identical_numbers_under_identical_keys(
        tiny_checkpoint, square_clip, translating_clip):
    # Three clips, two frame sizes: the means must follow the clips' order in both.
    frames = [square_clip(n_frames=6, size=64, side=16, speed=2)[0], translating_clip(n_frames=6, height=48, width=64),
              square_clip(n_frames=6, size=64, side=12, speed=1, seed=1)[0]]
    method = load_checkpoint_predictor(tiny_checkpoint, CPU, MODEL)
    # One clip per batch, as the evaluation rolls out: a network's float32 output on a batch of
    # two may differ from its output on each alone in the last bits (the convolutions' order).
    record = Validator(frames, n_context=4, n_future=2, device=CPU, batch_size=1)(method.predict.generator)

    clips = [EvalClip(f"clip{i}", 0, f) for i, f in enumerate(frames)]
    fit = fit_blend_on_clips(clips, 4, CPU)  # the evaluation's fit on the same clips: the validation's blend
    assert fit.blend.weight == record["blend_weight"]
    methods = [method, *baseline_methods(), blend_method(fit.blend)]
    results = evaluate(clips, methods, Protocol(n_context=4, n_scored=2, flicker_frames=0), CPU, show_progress=False)
    summary = summarize(results, [m.name for m in methods])

    assert [name for name in record if name != "blend_weight"] == [MODEL, *BASELINE_NAMES]
    for name in (MODEL, *BASELINE_NAMES):
        assert set(record[name]) == {f"{metric}_whole_f{k}" for metric in ("psnr", "ssim", "sharpness", "edges")
                                     for k in (1, 2)}
        for key, value in record[name].items():
            assert summary[name][key]["n"] == 3
            assert summary[name][key]["mean"] == value, (name, key)
