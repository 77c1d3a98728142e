"""vidpred/commands/export_model.py: a training checkpoint in, a small prediction-only checkpoint out."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
import torch

from vidpred.build import build_generator
from vidpred.checkpoint import load_checkpoint, save_checkpoint
from vidpred.config import config_from_dict
from vidpred.commands.export_model import main


def _main(argv):
    return main([*map(str, argv)])


@pytest.fixture
def checkpoint(tmp_path) -> Path:
    path = tmp_path / "latest.pt"
    config = {"model": {"generator": {"n_scales": 1, "width": 0.0625}}}
    weights = build_generator(config_from_dict(config)).state_dict()  # a real generator: export rebuilds it
    save_checkpoint({"step": 7, "config": config, "generator": {k: torch.ones_like(v) for k, v in weights.items()},
                     "generator_ema": {k: torch.full_like(v, 0.5) for k, v in weights.items()}, "opt_g": {"state": {}},
                     "held_out": ["b.avi"], "data_root": "/data/videos", "precision": "bf16"}, path)
    return path


def _errors(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def test_exports_the_average_weights_and_replaces_an_earlier_export(checkpoint, tmp_path, caplog):
    out = tmp_path / "model.pt"
    assert _main(["--checkpoint", checkpoint, "--out", out, "--note", "first"]) == 0
    assert "replaced" not in caplog.text
    assert _main(["--checkpoint", checkpoint, "--out", out, "--note", "second"]) == 0
    assert f"replaced {out}, the model exported from {checkpoint} at step 7" in caplog.text  # said, not silent
    through = tmp_path / "new" / ".." / "model.pt"  # the same file, through a folder not made yet
    assert _main(["--checkpoint", checkpoint, "--out", through, "--note", "second"]) == 0
    assert f"replaced {through}, the model exported from {checkpoint} at step 7" in caplog.text
    state = load_checkpoint(out)
    assert state["exported_from"]["note"] == "second" and "opt_g" not in state
    assert (state["held_out"], state["data_root"]) == (["b.avi"], "/data/videos")  # what evaluation's "auto" reads
    assert state["precision"] == "bf16"  # what it trained in: a reproduction in another may differ
    assert all(torch.equal(w, torch.full_like(w, 0.5)) for w in state["generator"].values())


def test_a_shipped_model_is_replaced_only_when_forced(checkpoint, tmp_path, caplog, monkeypatch):
    # an export over vidpred/pretrained/refiner.pt had silently changed what predict.py predicts with
    shipped = tmp_path / "pretrained"
    monkeypatch.setattr("vidpred.commands.export_model.SHIPPED_DIR", shipped)
    assert _main(["--checkpoint", checkpoint, "--out", shipped / "refiner.pt"]) == 0  # a new file: nothing replaced
    before = (shipped / "refiner.pt").read_bytes()
    for out in (shipped / "refiner.pt", tmp_path / "new" / ".." / "pretrained" / "refiner.pt"):
        caplog.clear()
        assert _main(["--checkpoint", checkpoint, "--out", out, "--note", "again"]) == 2
        assert _errors(caplog) == [f"{out} is a model shipped with vidpred (refiner.pt is what predict.py and "
                                   "load_model() use without a checkpoint): pass --force to replace it"]
    assert (shipped / "refiner.pt").read_bytes() == before
    assert _main(["--checkpoint", checkpoint, "--out", shipped / "refiner.pt", "--note", "again", "--force"]) == 0
    assert load_checkpoint(shipped / "refiner.pt")["exported_from"]["note"] == "again"


def test_a_file_that_is_not_a_checkpoint_is_kept_unless_forced(checkpoint, tmp_path, caplog):
    notes = tmp_path / "notes.txt"
    notes.write_text("notes")
    assert _main(["--checkpoint", checkpoint, "--out", notes]) == 2
    assert len(_errors(caplog)) == 1 and "is not a model exported by export_model.py" in _errors(caplog)[0]
    assert notes.read_text() == "notes"
    assert _main(["--checkpoint", checkpoint, "--out", notes, "--force"]) == 0
    assert load_checkpoint(notes)["step"] == 7
    assert f"replaced {notes}, a file that is not a vidpred checkpoint" in caplog.text


def test_other_checkpoints_are_kept_unless_forced(checkpoint, tmp_path, caplog):
    """A run's training checkpoint (its run resumes from it) and a checkpoint of another
    kind (a pretrained blur discriminator) are replaced only with --force."""
    other_run = tmp_path / "run" / "checkpoints" / "latest.pt"
    other_run.parent.mkdir(parents=True)
    other_run.write_bytes(checkpoint.read_bytes())
    blur = tmp_path / "blur.pt"
    save_checkpoint({"format_version": 1, "kind": "blur_discriminator", "arch": {}, "state_dict": {}}, blur)
    for out, what in ((other_run, "a run's training checkpoint at step 7"),
                      (blur, "a blur discriminator")):
        before = out.read_bytes()
        assert _main(["--checkpoint", checkpoint, "--out", out]) == 2
        assert "is not a model exported by export_model.py" in _errors(caplog)[-1] and out.read_bytes() == before
        assert _main(["--checkpoint", checkpoint, "--out", out, "--force"]) == 0
        assert "opt_g" not in load_checkpoint(out) and load_checkpoint(out)["step"] == 7
        assert f"replaced {out}, {what}" in caplog.text  # what it was, not "an unreadable checkpoint"


def test_the_input_or_a_link_to_it_is_refused(checkpoint, tmp_path, caplog):
    os.link(checkpoint, tmp_path / "link.pt")
    before = checkpoint.read_bytes()
    for out in (checkpoint, tmp_path / "link.pt"):
        assert _main(["--checkpoint", checkpoint, "--out", out, "--force"]) == 2
    assert all("is the same file as the input" in e for e in _errors(caplog)) and checkpoint.read_bytes() == before


def test_a_refiner_can_be_exported_with_a_composed_rollout_and_predicts_with_it(tmp_path, caplog):
    from vidpred.build import build_generator
    from vidpred.config import config_from_dict, config_to_dict
    from vidpred.evaluation import load_checkpoint_predictor

    cfg = config_from_dict({"model": {"generator": {"head": "refiner", "n_scales": 1, "width": 0.25},
                                      "discriminator": {"enabled": False}}})
    torch.manual_seed(0)
    trained = tmp_path / "latest.pt"
    weights = build_generator(cfg).state_dict()
    save_checkpoint({"step": 3, "config": config_to_dict(cfg), "generator": weights}, trained)
    out = tmp_path / "refiner.pt"
    assert _main(["--checkpoint", trained, "--out", out, "--rollout", "composed", "--camera-still"]) == 0
    state = load_checkpoint(out)
    assert state["config"]["model"]["generator"]["rollout"] == "composed"
    assert state["config"]["model"]["generator"]["camera_still"] is True
    assert state["exported_from"]["rollout"] == "composed" and state["exported_from"]["camera_still"] is True
    assert all(torch.equal(state["generator"][k], v) for k, v in weights.items())  # the same weights
    assert load_checkpoint(trained)["config"]["model"]["generator"]["rollout"] == "linear"  # input untouched
    method = load_checkpoint_predictor(out, torch.device("cpu"))
    assert method.info["rollout"] == "composed" and method.info["camera_still"] is True
    rebuilt = build_generator(config_from_dict(state["config"]))
    assert rebuilt.rollout_mode == "composed" and rebuilt.camera_still
    # a pyramid generator has no such choice
    pyramid = tmp_path / "pyramid.pt"
    save_checkpoint({"step": 1, "config": {"model": {"generator": {"head": "pixels"}}}, "generator": {}}, pyramid)
    assert _main(["--checkpoint", pyramid, "--out", tmp_path / "p.pt", "--rollout", "composed"]) == 2
    assert "--rollout for refiners only" in _errors(caplog)[-1]
    assert _main(["--checkpoint", pyramid, "--out", tmp_path / "p.pt", "--camera-still"]) == 2
    assert "--camera-still for refiners only" in _errors(caplog)[-1]
    # each prediction-time switch alone: set, the rest as trained (linear, every switch off)
    switches = ("refine_flows", "scene_cuts", "repeated_frames", "fades", "skipped_frames", "followed_inside", "white_fades",
                "dissolves", "pans_not_cuts", "pan_flows", "pan_restarts", "still_with_camera")
    needs = {"white_fades": ("fades",), "dissolves": ("fades",), "pans_not_cuts": ("scene_cuts",),
             "pan_flows": ("pans_not_cuts",)}  # a switch that refines another, set with it

    def with_needs(switch: str) -> set[str]:  # the switch and every switch it needs, and they need
        return {switch}.union(*(with_needs(needed) for needed in needs.get(switch, ())))

    for switch in switches:
        flag = "--" + switch.replace("_", "-")
        assert _main(["--checkpoint", pyramid, "--out", tmp_path / "p.pt", flag]) == 2
        assert f"{flag} for refiners only" in _errors(caplog)[-1]
        exported = tmp_path / f"{switch}.pt"
        for needed in needs.get(switch, ()):  # alone, refused in one line, nothing written
            assert _main(["--checkpoint", trained, "--out", exported, flag]) == 2 and not exported.exists()
            assert f"model.generator.{switch}" in _errors(caplog)[-1] and f"needs model.generator.{needed}" in \
                _errors(caplog)[-1]
        also = ["--" + needed.replace("_", "-") for needed in sorted(with_needs(switch) - {switch})]
        assert _main(["--checkpoint", trained, "--out", exported, flag, *also]) == 0
        state = load_checkpoint(exported)
        generator = state["config"]["model"]["generator"]
        assert {other: generator[other] for other in switches} == \
            {other: other in with_needs(switch) for other in switches}
        assert generator["rollout"] == "linear" and state["exported_from"][switch]
        assert load_checkpoint_predictor(exported, torch.device("cpu")).info[switch] is True
        assert getattr(build_generator(config_from_dict(state["config"])), switch) is True


def test_a_checkpoint_without_a_config_or_generator_is_refused_in_one_line(tmp_path, caplog):
    blur = tmp_path / "blur.pt"  # a pretrained blur discriminator: a vidpred checkpoint, but no generator
    save_checkpoint({"format_version": 1, "kind": "blur_discriminator", "arch": {}, "state_dict": {}}, blur)
    no_generator = tmp_path / "config_only.pt"
    save_checkpoint({"step": 1, "config": {"model": {}}}, no_generator)
    for checkpoint, key in ((blur, "config"), (no_generator, "generator")):
        caplog.clear()
        assert _main(["--checkpoint", checkpoint, "--out", tmp_path / "model.pt"]) == 2
        assert _errors(caplog) == [f"{checkpoint} has no '{key}' entry; is it a vidpred training checkpoint?"]
        assert not (tmp_path / "model.pt").exists()


def test_a_checkpoint_this_version_cannot_load_is_refused_before_the_model_is_written(checkpoint, tmp_path, caplog):
    state = load_checkpoint(checkpoint)
    state["config"]["model"]["generator"]["width"] = 0.125  # the weights no longer fit the config
    save_checkpoint(state, tmp_path / "mismatch.pt")
    state = load_checkpoint(checkpoint)
    state["config"]["newkey"] = 1  # a config of another vidpred version
    save_checkpoint(state, tmp_path / "newer.pt")
    for source, error in (("mismatch.pt", "the generator weights do not fit"),
                          ("newer.pt", "unknown config key 'newkey'")):
        caplog.clear()
        assert _main(["--checkpoint", tmp_path / source, "--out", tmp_path / "model.pt"]) == 2
        assert len(_errors(caplog)) == 1 and error in _errors(caplog)[0]
        assert not (tmp_path / "model.pt").exists()


def test_an_export_of_an_export_keeps_where_its_weights_came_from(checkpoint, tmp_path):
    first, second = tmp_path / "first.pt", tmp_path / "second.pt"
    assert _main(["--checkpoint", checkpoint, "--out", first, "--note", "the run's average"]) == 0
    assert _main(["--checkpoint", first, "--out", second, "--note", "again"]) == 0
    source = load_checkpoint(second)["exported_from"]
    assert (source["checkpoint"], source["note"]) == (str(first), "again")
    assert source["earlier"] == {"checkpoint": str(checkpoint), "weights": "generator_ema", "note": "the run's average"}


def test_a_changed_config_is_checked_before_the_model_is_written(tmp_path, caplog):
    trained = tmp_path / "latest.pt"  # a refiner whose saved config has a key this vidpred does not know
    save_checkpoint({"step": 1, "config": {"model": {"generator": {"head": "refiner", "n_scales": 1, "widht": 0.5}}},
                     "generator": {"w": torch.ones(2)}}, trained)
    out = tmp_path / "refiner.pt"
    assert _main(["--checkpoint", trained, "--out", out, "--rollout", "composed"]) == 2
    assert len(_errors(caplog)) == 1 and "unknown config key 'model.generator.widht'" in _errors(caplog)[0]
    assert not out.exists()


@pytest.mark.parametrize("at_step_7, warned", [(17.0, True), (19.5, False)])
def test_a_checkpoint_far_below_its_run_s_best_is_said_before_it_is_shipped(checkpoint, tmp_path, caplog, at_step_7,
                                                                            warned):
    import json
    import shutil

    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    latest = run / "checkpoints" / "latest.pt"
    shutil.copy(checkpoint, latest)  # step 7
    rows = [{"step": 5, "model": {"psnr_whole_f1": 20.2}}, {"step": 7, "model": {"psnr_whole_f1": at_step_7}}]
    (run / "validation.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    with caplog.at_level(logging.WARNING):
        assert _main(["--checkpoint", latest, "--out", tmp_path / "model.pt"]) == 0
    said = (f"{latest}: at step 7 it scored {at_step_7:.2f} dB on the run's validation clips, {20.2 - at_step_7:.2f} "
            "below the run's best (step 5, best.pt's): did the run fall apart after it? Export best.pt instead")
    assert (said in caplog.text) is warned
