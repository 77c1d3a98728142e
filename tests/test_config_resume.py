import re
from pathlib import Path

import pytest

from vidpred.config import ConfigError, config_from_dict, config_to_dict
from vidpred.config_resume import RESUMABLE_CHANGES, check_resumable, resume_differences

CONFIG_DOC = Path(__file__).resolve().parents[1] / "docs" / "config.md"


def test_resume_allows_only_the_keys_that_do_not_change_what_is_computed():
    saved = config_to_dict(config_from_dict({}, ["train.steps=10"]))
    check_resumable(saved, config_from_dict({}, ["train.steps=20", "data.num_workers=3", "train.device=cpu"]), "run")
    with pytest.raises(ConfigError) as info:
        check_resumable(saved, config_from_dict({}, ["train.steps=20", "loss.l_adv=0.1", "train.seed=3"]), "runs/x")
    message = str(info.value)
    assert message.startswith("cannot resume runs/x: the config differs from the checkpoint's in loss.l_adv: 0.05 -> 0.1, "
                              "train.seed: 0 -> 3.")
    assert "train.steps:" not in message and "train.steps" in message.split("Only ")[1]
    # the keys a user may change, not the unread data keys an old run may only drop (refused in a config)
    assert message.split("Only ")[1] == f"{', '.join(sorted(RESUMABLE_CHANGES))} may change on resume."
    # A key added to the schema since the checkpoint was written takes its default: no difference.
    del saved["train"]["ema_decay"]
    check_resumable(saved, config_from_dict({}), "run")


def test_a_run_started_with_a_data_key_its_source_never_read_resumes_without_it():
    # Refused in a new config since, a run started before with data.root on procedural data trained as without it.
    saved = config_to_dict(config_from_dict({}, ["data.root=/videos", "data.split=2", "data.val_videos=[a.avi]"]))
    check_resumable(saved, config_from_dict({}), "run")
    ucf = config_to_dict(config_from_dict({}, ["data.source=ucf101", "data.root=/u", "data.val_videos=[a.avi]"]))
    check_resumable(ucf, config_from_dict({}, ["data.source=ucf101", "data.root=/u"]), "run")
    with pytest.raises(ConfigError, match="data.root: '/u' -> '/v'"):  # one it reads may not change
        check_resumable(ucf, config_from_dict({}, ["data.source=ucf101", "data.root=/v"]), "run")


def test_resume_differences_name_each_changed_key_in_order_and_nothing_resumable():
    saved = config_to_dict(config_from_dict({}, ["train.steps=10"]))
    assert resume_differences(saved, config_from_dict({}, ["train.steps=20", "data.num_workers=3"])) == ""
    assert resume_differences(saved, config_from_dict({}, ["train.seed=3", "loss.l_gdl=0.5"])) == \
        "loss.l_gdl: 1.0 -> 0.5, train.seed: 0 -> 3"


def test_a_run_trained_with_the_path_loss_over_one_frame_may_drop_it_on_resume():
    # refused in a new config since (over one frame it is the frame's MSE again): such a run continues without it
    saved = config_to_dict(config_from_dict({}, ["train.steps=10", "loss.l_path=1.0"]))
    assert resume_differences(saved, config_from_dict({}, ["train.steps=20"])) == ""
    two = config_to_dict(config_from_dict({}, ["train.steps=10", "loss.l_path=1.0", "train.n_future=2"]))
    assert resume_differences(two, config_from_dict({}, ["train.steps=20", "train.n_future=2"])) == \
        "loss.l_path: 1.0 -> 0.0"  # over two frames it is a term of its own


def test_the_documented_resumable_keys_are_the_codes():
    block = CONFIG_DOC.read_text().split("<!-- resumable keys: begin -->")[1].split("<!-- resumable keys: end -->")[0]
    assert re.findall(r"^- `([^`]+)`$", block, flags=re.M) == sorted(RESUMABLE_CHANGES)
