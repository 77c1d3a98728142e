"""Checkpoints rebuilt into predictors."""

from __future__ import annotations

import pytest
import torch

from vidpred.build import build_generator
from vidpred.checkpoint import load_checkpoint, save_checkpoint
from vidpred.config import config_from_dict, config_to_dict
from vidpred.evaluation import checkpoint_label, load_checkpoint_predictor

CPU = torch.device("cpu")


def test_rebuilds_the_generator_and_rolls_out_whole_frames(tiny_checkpoint):
    method = load_checkpoint_predictor(tiny_checkpoint, CPU)
    assert method.name == "run/latest" and method.kind == "checkpoint"
    assert method.info["step"] == 7 and method.info["n_scales"] == 3
    generator = method.predict.generator
    assert not generator.training
    context = torch.rand(1, 3, 4, 30, 42) * 2 - 1  # not a multiple of 4: predict pads internally
    out = method.predict(context, 3, None)
    assert out.shape == (1, 3, 3, 30, 42) and not out.requires_grad
    with torch.no_grad():
        torch.testing.assert_close(out, generator.rollout(context, 3))
    # A longer context than the model's: it sees the newest frames.
    longer = torch.cat([torch.zeros(1, 3, 2, 30, 42), context], dim=2)
    torch.testing.assert_close(method.predict(longer, 1, None), out[:, :, :1])


def test_labels():
    assert checkpoint_label("runs/quickstart/checkpoints/best.pt") == "quickstart/best"
    assert checkpoint_label("/tmp/saved/model.pt") == "saved/model"


def test_errors_name_the_file(tiny_checkpoint, tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.pt"):
        load_checkpoint_predictor(tmp_path / "nothing.pt", CPU)
    state = load_checkpoint(tiny_checkpoint)
    del state["generator"]
    save_checkpoint(state, tmp_path / "nogen.pt")
    with pytest.raises(ValueError, match="nogen.pt has no 'generator'"):
        load_checkpoint_predictor(tmp_path / "nogen.pt", CPU)
    state = load_checkpoint(tiny_checkpoint)
    state["config"]["model"]["generator"]["width"] = 0.125  # weights no longer fit
    save_checkpoint(state, tmp_path / "mismatch.pt")
    with pytest.raises(ValueError, match="mismatch.pt: the generator weights do not fit"):
        load_checkpoint_predictor(tmp_path / "mismatch.pt", CPU)
    state = load_checkpoint(tiny_checkpoint)
    name = next(iter(state["generator"]))
    state["generator"][name][0] = float("nan")  # one weight: every prediction would be NaN, shown black
    save_checkpoint(state, tmp_path / "nan.pt")
    with pytest.raises(ValueError, match=f"nan.pt: 1 of its generator weights hold NaN or infinity \\(e.g. {name}\\)"):
        load_checkpoint_predictor(tmp_path / "nan.pt", CPU)
    state = load_checkpoint(tiny_checkpoint)
    state["config"]["model"]["n_context"] = 0
    save_checkpoint(state, tmp_path / "sized.pt")
    with pytest.raises(ValueError, match="sized.pt: bad generator size: n_context=0"):
        load_checkpoint_predictor(tmp_path / "sized.pt", CPU)
    for entry in ("config", "generator"):
        state = load_checkpoint(tiny_checkpoint)
        state[entry] = "hello"  # a hand-edited file: not a mapping
        save_checkpoint(state, tmp_path / "edited.pt")
        with pytest.raises(ValueError, match=f"edited.pt has no '{entry}' entry"):
            load_checkpoint_predictor(tmp_path / "edited.pt", CPU)


def test_baseline_names_list_the_rows_in_their_order():
    # Validation, the development benchmark and the report read BASELINE_NAMES; the rows come from
    # baseline_methods, the blend last: a new baseline's name goes before BLEND.
    from vidpred.evaluation.baselines import Blend
    from vidpred.evaluation.predictors import BASELINE_NAMES, baseline_methods

    assert tuple(m.name for m in baseline_methods(Blend(0.5, "dis"))) == BASELINE_NAMES


@pytest.mark.parametrize("generator", [
    {"n_scales": 3, "width": 0.0625, "head": head} for head in ("pixels", "residual", "flow")] + [
    {"n_scales": 1, "width": 0.125, "head": "refiner", "global_context": True, "farneback": True, "step_scale": True},
    {"n_scales": 1, "width": 0.125, "head": "refiner"}], ids=["pixels", "residual", "flow", "refiner, every option",
                                                                 "refiner"])
def test_a_loaded_generator_holds_exactly_the_checkpoint_s_weights_and_predicts_as_the_saved_one(tmp_path, generator):
    # Loading builds the network without storage and hands it the checkpoint's tensors: every
    # one must come from the checkpoint, none left unset or drawn afresh.
    cfg = config_from_dict({"model": {"generator": generator}})
    torch.manual_seed(3)
    saved = build_generator(cfg).eval()
    path = tmp_path / "run" / "checkpoints" / "best.pt"
    save_checkpoint({"step": 1, "best_psnr": 0.0, "config": config_to_dict(cfg), "generator": saved.state_dict()}, path)
    torch.manual_seed(11)
    before = torch.get_rng_state()
    loaded = load_checkpoint_predictor(path, CPU).predict.generator
    assert torch.equal(torch.get_rng_state(), before)  # no initial weights drawn
    expected, got = saved.state_dict(), loaded.state_dict()
    assert expected.keys() == got.keys() and all(torch.equal(expected[k], got[k]) for k in expected)
    context = torch.rand(1, 3, 4, 32, 48) * 2 - 1
    with torch.no_grad():
        torch.testing.assert_close(loaded.rollout(context, 2), saved.rollout(context, 2), rtol=0, atol=0)


def test_a_model_given_fewer_context_frames_than_it_reads_is_refused(tiny_checkpoint):
    method = load_checkpoint_predictor(tiny_checkpoint, CPU)
    assert method.info["n_context"] == 4
    with pytest.raises(ValueError, match="the model needs 4 context frames, the protocol gives 3"):
        method.predict(torch.zeros(1, 3, 3, 16, 16), 1, None)


def test_a_blur_discriminator_and_a_config_of_another_version_are_refused_by_name(tiny_checkpoint, tmp_path):
    from vidpred.models.blur_discriminator import CHECKPOINT_KIND

    state = load_checkpoint(tiny_checkpoint)
    save_checkpoint({**state, "kind": CHECKPOINT_KIND}, tmp_path / "judge.pt")
    with pytest.raises(ValueError, match="judge.pt is a blur discriminator checkpoint, not a model's"):
        load_checkpoint_predictor(tmp_path / "judge.pt", CPU)
    state["config"]["model"]["no_such_setting"] = 1
    save_checkpoint(state, tmp_path / "newer.pt")
    with pytest.raises(ValueError, match="newer.pt: its saved config does not match this version of vidpred"):
        load_checkpoint_predictor(tmp_path / "newer.pt", CPU)


def test_each_baseline_row_reads_the_flow_it_extrapolates_and_says_how_many_frames_it_uses():
    from vidpred.evaluation.baselines import Blend
    from vidpred.evaluation.predictors import baseline_methods

    rows = {m.name: m for m in baseline_methods(Blend(0.25, "farneback"))}
    assert {name: (m.flow, m.info["context_frames_used"]) for name, m in rows.items()} == {
        "last input": (None, 1), "Farneback flow (paper)": ("farneback", 2), "DIS flow": ("dis", 2),
        "blend": ("farneback", 2)}
    assert rows["blend"].info["description"] == "0.25 x last input + 0.75 x Farneback flow (paper) extrapolation"


def _refiner_checkpoints(tmp_path, n):
    cfg = config_from_dict({"model": {"generator": {"n_scales": 1, "width": 0.125, "head": "refiner"}}})
    paths = []
    for i in range(n):
        torch.manual_seed(i)
        path = tmp_path / f"r{i}" / "checkpoints" / "best.pt"
        save_checkpoint({"step": 1, "best_psnr": 0.0, "config": config_to_dict(cfg),
                         "generator": build_generator(cfg).state_dict()}, path)
        paths.append(path)
    return [load_checkpoint_predictor(path, CPU) for path in paths]


def test_averaged_rows_name_their_members_paths_and_parameters(tmp_path):
    from vidpred.evaluation.predictors import averaged_methods

    a, b = _refiner_checkpoints(tmp_path, 2)
    rows = {m.name: m for m in averaged_methods([a, b], ensemble="both", mirror=True)}
    assert list(rows) == ["r0/best, mirrored", "r1/best, mirrored", "both", "both, mirrored"]
    assert rows["r1/best, mirrored"].info["path"] == b.info["path"]  # one member: its path, not a list of one
    assert rows["r1/best, mirrored"].info["parameters"] == b.info["parameters"]
    assert rows["both"].info["path"] == [a.info["path"], b.info["path"]]
    assert rows["both"].info["parameters"] == a.info["parameters"] + b.info["parameters"]
    assert rows["both, mirrored"].info["averaged"] == {"members": ["r0/best", "r1/best"], "mirror": True}
    assert rows["r0/best, mirrored"].info["averaged"] == {"members": ["r0/best"], "mirror": True}
    assert rows["r0/best, mirrored"].predict.generator.mirror and not rows["both"].predict.generator.mirror
    assert averaged_methods([a, b]) == []  # neither asked for
    with pytest.raises(ValueError, match="mirroring needs a checkpoint to mirror"):
        averaged_methods([], mirror=True)
    with pytest.raises(ValueError, match="an ensemble needs at least two checkpoints, got 1"):
        averaged_methods([a], ensemble="alone")


def test_a_model_of_other_than_rgb_frames_is_refused(tmp_path):
    cfg = config_from_dict({"model": {"channels": 1, "generator": {"n_scales": 3, "width": 0.0625}}})
    path = tmp_path / "grey.pt"
    save_checkpoint({"step": 1, "best_psnr": 0.0, "config": config_to_dict(cfg),
                     "generator": build_generator(cfg).state_dict()}, path)
    with pytest.raises(ValueError, match="grey.pt: the model predicts 1-channel frames; evaluation needs RGB"):
        load_checkpoint_predictor(path, CPU)
