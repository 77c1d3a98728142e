import dataclasses
import re
from pathlib import Path

import pytest
import yaml

from vidpred._config_io import read_yaml
from vidpred.config import (
    Config,
    ConfigError,
    ModelConfig,
    OptimConfig,
    config_from_dict,
    config_to_dict,
    default_run_dir,
    dump_config,
    load_config,
    validate,
)
from vidpred.config_resume import check_resumable
from vidpred.losses.laplacian import smallest_frame
from vidpred.metrics.ssim import SSIM_WINDOW

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted((ROOT / "configs").rglob("*.yaml"))
CONFIG_DOC = ROOT / "docs" / "config.md"


def test_defaults_are_the_papers():
    cfg = Config()
    assert (cfg.loss.l_adv, cfg.loss.l_p, cfg.loss.l_gdl) == (0.05, 1.0, 1.0)
    assert (cfg.optim.generator.name, cfg.optim.generator.lr) == ("sgd", 0.04)
    assert (cfg.optim.discriminator.name, cfg.optim.discriminator.lr) == ("sgd", 0.02)
    assert cfg.train.batch_size == 8 and cfg.data.patch_size == 32 and cfg.model.n_context == 4


def test_overrides_are_typed_and_nested():
    cfg = config_from_dict(
        {"train": {"steps": 5}},
        ["loss.l_adv=0.1", "data.frame_size=[32, 48]", "optim.generator.name=adam", "train.device=cpu"],
    )
    assert cfg.train.steps == 5
    assert cfg.loss.l_adv == 0.1
    assert cfg.data.frame_size == [32, 48]
    assert cfg.optim.generator.name == "adam"
    # An int where a float is expected is promoted; the reverse is an error.
    assert config_from_dict({}, ["loss.l_adv=1"]).loss.l_adv == 1.0
    assert isinstance(config_from_dict({}, ["loss.l_adv=1"]).loss.l_adv, float)
    assert config_from_dict({}, ["run.name=lr=0.1"]).run.name == "lr=0.1"  # the first "=" ends the key


@pytest.mark.parametrize(
    "data, overrides, message",
    [
        ({"trian": {}}, [], "unknown config key 'trian'; allowed keys here: run, data"),
        ({"train": {"stepz": 3}}, [], "unknown config key 'train.stepz'; allowed keys here: steps"),
        ({}, ["train.steps=many"], "train.steps: expected int, got 'many'"),
        ({}, ["train.steps=2.5"], "train.steps: expected int"),
        ({}, ["train.batch_size=true"], "train.batch_size: expected int, got True"),
        ({}, ["loss.l_adv=true"], "loss.l_adv: expected float, got True"),
        ({}, ["data.source=youtube"], "data.source: expected one of 'procedural', 'folder', 'ucf101'"),
        ({}, ["model.generator.width=wide"], "model.generator.width: expected float"),
        ({}, ["model.discriminator.enabled=3"], "expected bool"),
        ({}, ["train.steps"], "must look like key.path=value"),
        ({"model": 3}, [], "model: expected a mapping"),
        ({}, ["train.max_minutes=soon"], "train.max_minutes: expected float | null, got 'soon'"),
    ],
)
def test_bad_keys_and_types_are_named(data, overrides, message):
    with pytest.raises(ConfigError, match=None) as info:
        config_from_dict(data, overrides)
    assert message in str(info.value)


def test_a_number_with_an_exponent_and_no_point_is_a_float(tmp_path):
    """``1e-4`` is a float as Python and YAML 1.2 read it (PyYAML alone reads a string)."""
    path = tmp_path / "lr.yaml"
    path.write_text("optim:\n  generator:\n    lr: 1e-4\n  discriminator:\n    lr: 2E-5\n")
    cfg = load_config(path, ["loss.l_adv=5e-2"])
    assert (cfg.optim.generator.lr, cfg.optim.discriminator.lr, cfg.loss.l_adv) == (1e-4, 2e-5, 5e-2)


def test_a_number_with_a_point_and_an_unsigned_exponent_is_a_float(tmp_path):
    """``1.0e4`` too (PyYAML alone reads a string unless the exponent has a sign)."""
    path = tmp_path / "max.yaml"
    path.write_text("loss:\n  adaptive_max: 2.5e4\n  l_adv: .5E-1\n")
    cfg = load_config(path, ["optim.generator.lr=1.e-3", "train.max_minutes=1.0e1"])
    assert (cfg.loss.adaptive_max, cfg.loss.l_adv, cfg.optim.generator.lr, cfg.train.max_minutes) == (
        2.5e4, 0.05, 1e-3, 10.0)


@pytest.mark.parametrize("text", ["1e3", "2.5E4", ".5e1", "yes", "~", "010", "1:30", ".inf", "a: b", "#x"])
def test_a_run_s_config_yaml_reads_back_every_text_value_as_text(tmp_path, text):
    cfg = config_from_dict({}, ["run.name=x", "data.cache_dir=x"])
    cfg.data.cache_dir = text  # a folder named so: written quoted where it would read as a number, null or flag
    path = tmp_path / "config.yaml"
    path.write_text(dump_config(cfg))
    assert load_config(path).data.cache_dir == text


def test_load_config_names_the_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("train:\n  steps: 10\n  learning_rate: 0.1\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: unknown config key 'train\.learning_rate'"):
        load_config(path)
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "missing.yaml")
    path.write_text("train:\n  steps: 10\n")  # a typo in --set is not the file's
    with pytest.raises(ConfigError) as info:
        load_config(path, ["train.stpes=20"])
    assert str(info.value).startswith(f"{path} with --set: unknown config key 'train.stpes'; allowed keys here: steps,")


def test_a_config_file_that_cannot_be_read_is_one_line_naming_it(tmp_path):
    # load_config asks first whether the file is there; a folder is what fails to open on every system.
    with pytest.raises(ConfigError, match=f"^{re.escape(str(tmp_path))}: cannot read it: [^\n]+$"):
        read_yaml(tmp_path)


def test_yaml_is_loaded_safely(tmp_path):
    path = tmp_path / "evil.yaml"
    path.write_text("run:\n  name: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(ConfigError, match="unsafe YAML at line 2.*refused"):
        load_config(path)


def test_round_trip(tmp_path):
    cfg = config_from_dict({}, ["train.steps=7", "data.frame_size=[8, 8]"])
    path = tmp_path / "cfg.yaml"
    path.write_text(dump_config(cfg))
    assert load_config(path) == cfg


@pytest.mark.parametrize("path", CONFIGS, ids=[p.name for p in CONFIGS])
def test_shipped_configs_load_and_validate(path):
    cfg = load_config(path)
    validate(cfg)  # raises ConfigError naming the key on any bad value
    # the run folder (runs/<run.name>) tells which config wrote it
    assert cfg.run.name.endswith(path.stem), (path, cfg.run.name)


def test_shipped_configs_write_to_separate_run_folders():
    names = [load_config(path).run.name for path in CONFIGS]
    assert len(set(names)) == len(names) == len(CONFIGS), sorted(names)


def test_cross_field_checks():
    with pytest.raises(ConfigError, match="patch_size"):
        validate(config_from_dict({}, ["data.patch_size=20"]))
    with pytest.raises(ConfigError, match=r"data.d_unfiltered_fraction must be in \[0, 1\] or null, got 1.5"):
        validate(config_from_dict({}, ["data.d_unfiltered_fraction=1.5"]))
    with pytest.raises(ConfigError, match="model.discriminator.inputs: expected one of 'frames', 'differences'"):
        config_from_dict({}, ["model.discriminator.inputs=flow"])
    for source in ("folder", "ucf101"):
        with pytest.raises(ConfigError, match=f"data.root is required when data.source is '{source}'"):
            validate(config_from_dict({}, [f"data.source={source}"]))
    with pytest.raises(ConfigError, match="data.val_videos does not apply to data.source 'corpus'"):
        validate(config_from_dict({}, ["data.source=corpus", "data.val_videos=[a.mp4]"]))
    with pytest.raises(ConfigError, match=r"data.frame_size: expected \[H, W\] with positive sizes, got \[0, 8\]"):
        validate(config_from_dict({}, ["data.frame_size=[0, 8]"]))
    with pytest.raises(ConfigError, match="real_label"):
        validate(config_from_dict({}, ["loss.real_label=[1.2, 0.7]"]))
    # Label smoothing needs a BCE discriminator that trains; a hinge objective has no labels.
    smoothed = ["loss.real_label=[0.7, 1.2]", "model.discriminator.objective=hinge"]
    with pytest.raises(ConfigError, match="hinge objective has no labels"):
        validate(config_from_dict({}, smoothed))
    validate(config_from_dict({}, smoothed[:1]))


@pytest.mark.parametrize("overrides, message", [
    # the discriminator would learn real and fake swapped, and the generator would help it
    (["loss.real_label=[0, 0]", "loss.fake_label=[1, 1]"],
     "loss.fake_label ([1.0, 1.0]) must lie below loss.real_label"),
    (["loss.real_label=[0.7, 1.0]", "loss.fake_label=[0.5, 0.8]"], "loss.fake_label ([0.5, 0.8]) must lie below"),
    (["loss.real_label=[0.5, 0.5]", "loss.fake_label=[0.5, 0.5]"], "must lie below loss.real_label ([0.5, 0.5])"),
    # BCE against a mean label of 1.35 falls without end as the logits grow
    (["loss.real_label=[1.2, 1.5]"], "loss.real_label: expected a range centred in [0, 1]"),
    (["loss.fake_label=[-0.5, -0.1]"], "loss.fake_label: expected a range centred in [0, 1]"),
])
def test_labels_a_discriminator_cannot_learn_from_are_refused(overrides, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        validate(config_from_dict({}, overrides))


def test_label_noise_reaching_past_one_is_taken_when_its_mean_is_a_label():
    # the sharper-predictions article's noise: each draw may pass 1, the expected loss still has its minimum
    validate(config_from_dict({}, ["loss.real_label=[0.7, 1.2]", "loss.fake_label=[0.0, 0.3]"]))


def test_every_bad_value_is_reported_at_once_naming_its_key(tmp_path):
    path = tmp_path / "two.yaml"
    path.write_text("data:\n  patch_size: 0\ntrain:\n  steps: 0\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == (f"{path}: 2 problems: data.patch_size must be >= 1, got 0; "
                               "train.steps must be >= 1, got 0")


def test_every_bad_key_and_type_is_reported_at_once():
    with pytest.raises(ConfigError) as info:
        config_from_dict({"train": {"steps": "many", "stepz": 3}}, ["loss.p=two"])
    message = str(info.value)
    assert message.startswith("3 problems: ") and "\n" not in message
    for problem in ("train.steps: expected int, got 'many'", "unknown config key 'train.stepz'",
                    "loss.p: expected int, got 'two'"):
        assert problem in message


@pytest.mark.parametrize("overrides, message", [
    (["data.synthetic_weight=1.5"], r"data.synthetic_weight must be in [0, 1], got 1.5"),
    (["data.synthetic_weight=-0.1"], r"data.synthetic_weight must be in [0, 1], got -0.1"),
    (["data.synthetic.height=-4"], "data.synthetic.height must be >= 8, got -4"),
    (["data.synthetic.n_videos=-1"], "data.synthetic.n_videos must be >= 0, got -1"),
    (["data.synthetic.max_speed=-2"], "data.synthetic.max_speed must be >= 0, got -2.0"),
    (["data.synthetic.max_wander=-1"], "data.synthetic.max_wander must be >= 0, got -1.0"),
    (["loss.l_lap=-1"], "loss.l_lap must be a finite number >= 0, got -1.0"),
    # every term's weight, the paper's too
    (["loss.l_adv=-0.05"], "loss.l_adv must be a finite number >= 0, got -0.05"),
    (["loss.l_p=-1"], "loss.l_p must be a finite number >= 0, got -1.0"),
    (["loss.l_gdl=.inf"], "loss.l_gdl must be a finite number >= 0, got inf"),
    (["loss.l_path=-1"], "loss.l_path must be a finite number >= 0, got -1.0"),
    # over one predicted frame the path loss is that frame's MSE again (SPEC: train with n_future >= 2)
    (["loss.l_path=1.0"], "loss.l_path compares the steps between predicted frames (over one it is the frame's MSE): "
                          "it needs train.n_future >= 2, got 1"),
    (["loss.l_lap=1.0", "loss.lap_levels=0"], "loss.lap_levels must be >= 1, got 0"),
    (["loss.l_lap=1.0", "loss.lap_levels=7"], "loss.lap_levels 7 needs data.patch_size >= 96, got 32"),
    # 32 px halve to 2 px before the sixth level, too few for the pyrdown's reflected 2-pixel border
    (["loss.l_lap=1.0", "loss.lap_levels=6"], "loss.lap_levels 6 needs data.patch_size >= 48, got 32"),
    (["loss.l_census=-1"], "loss.l_census must be a finite number >= 0, got -1.0"),
    (["loss.l_census=1.0", "loss.census_window=4"], "loss.census_window must be odd and >= 3, got 4"),
    (["loss.l_census=1.0", "loss.census_window=1"], "loss.census_window must be odd and >= 3, got 1"),
    (["loss.l_census=1.0", "loss.census_window=33"], "loss.census_window 33 is larger than data.patch_size (32)"),
    (["loss.l_ssim=1.0", "data.patch_size=8", "model.discriminator.enabled=false"], "loss.l_ssim needs data.patch_size >= 11 (its 11x11 window), got 8"),
    (["loss.adaptive_weight=true", "loss.l_p=0", "loss.l_gdl=0"],  # the list goes on with every l_* of LossConfig
     "loss.adaptive_weight needs a reconstruction term (l_p, l_gdl, l_path, "),
    (["loss.adaptive_weight=true", "model.discriminator.enabled=false"],
     "loss.adaptive_weight scales the adversarial term: it needs loss.l_adv > 0 and an enabled model.discriminator"),
    (["loss.adaptive_weight=true", "loss.l_adv=0"], "loss.adaptive_weight scales the adversarial term"),
    (["data.synthetic.still_fraction=2"], r"data.synthetic.still_fraction must be in [0, 1], got 2.0"),
    (["data.synthetic_weight=0.5"], "data.synthetic_weight is 0.5 but data.synthetic.n_videos is 0"),
    (["data.synthetic_weight=0.5", "data.synthetic.n_videos=4", "data.synthetic.width=16"],
     "data.synthetic.height and width (256x16) must be >= data.patch_size (32)"),
    (["data.synthetic_weight=0.5", "data.synthetic.n_videos=4", "data.synthetic.n_frames=4"],
     "data.synthetic.n_frames (4) must be >= model.n_context + train.n_future (5)"),
    (["model.channels=1"], "model.channels must be 3, got 1: every data source reads frames as RGB"),
    # no range check of a comparison lets a NaN through, nor one too large for a float (1e400 is inf)
    (["data.synthetic.max_wander=.nan"], "data.synthetic.max_wander must be a finite number, got nan"),
    (["data.synthetic.max_speed=1e400"], "data.synthetic.max_speed must be <= 256 (the larger side: faster leaves "
                                         "the frame every frame), got inf"),
    (["optim.generator.betas=[0.9, .nan]"], "optim.generator.betas must hold finite numbers, got [0.9, nan]"),
    (["data.synthetic.max_zoom=1e300"], "data.synthetic.max_zoom must be <= 1.0 (e-fold a frame), got 1e+300"),
    (["data.synthetic.max_rotation=181"], "data.synthetic.max_rotation must be <= 180.0"),
    (["data.synthetic.max_noise=256"], "data.synthetic.max_noise must be <= 255.0 (the 8 bits' range)"),
    (["data.synthetic.width=64", "data.synthetic.max_shake=257"],
     "data.synthetic.max_shake must be <= 256 (the larger"),
    (["data.synthetic.n_videos=1000001"], "data.synthetic.n_videos must be <= 1000000 (a seed's block of videos)"),
    (["data.procedural.n_train_videos=1000001"],
     "data.procedural.n_train_videos must be <= 1000000 (a seed's block of videos), got 1000001"),
    (["data.procedural.seed=-1"], "data.procedural.seed must be >= 0, got -1"),
    (["data.procedural.max_speed=-5"], "data.procedural.max_speed must be >= 0, got -5.0"),
    (["data.procedural.pan_speed=-1"], "data.procedural.pan_speed must be >= 0, got -1.0"),
    (["data.procedural.beta=-0.5"], "data.procedural.beta must be >= 0, got -0.5"),
    (["loss.gdl_alpha=0"], "loss.gdl_alpha must be > 0, got 0.0"),
    (["train.seed=-1"], "train.seed must be in [0, 2**63), got -1"),
    (["optim.generator.name=adam", "optim.generator.betas=[1.0,0.999]"],
     "optim.generator.betas must be in [0, 1), got [1.0, 0.999]"),
    (["model.discriminator.leaky_slope=-0.5"], "model.discriminator.leaky_slope must be in [0, 1), got -0.5"),
    # Said rather than ignored: the named video would be trained on, the folder or split never read.
    (["data.val_videos=[a.avi]"], "data.val_videos does not apply to data.source 'procedural': its validation "
                                  "videos are drawn by data.procedural.n_val_videos"),
    (["data.source=ucf101", "data.root=/u", "data.val_videos=[a.avi]"],
     "data.val_videos does not apply to data.source 'ucf101': its validation videos are drawn by data.n_val_videos"),
    (["data.source=samples", "data.root=/v"],
     "data.root does not apply to data.source 'samples', which reads no folder"),
    (["data.split=2"], "data.split does not apply to data.source 'procedural': it names a UCF101 split"),
    (["data.source=ucf101", "data.root=/u", "data.split=4"], "data.split must be 1, 2 or 3, got 4"),
    (["data.n_val_videos=3"], "data.n_val_videos does not apply to data.source 'procedural': its validation videos "
                              "are drawn by data.procedural.n_val_videos"),
    (["data.source=samples", "data.n_val_videos=3"],
     "data.n_val_videos does not apply to data.source 'samples': its validation video is carphone, or those "
     "data.val_videos names"),
    (["data.source=corpus", "data.n_val_videos=3"],
     "data.n_val_videos does not apply to data.source 'corpus': its split is fixed (docs/data.md)"),
    (["run.out_dir=' '"], "run.out_dir is empty: give the folder runs go in (it would be the current folder)"),
])
def test_synthetic_errors_name_the_key(overrides, message):
    with pytest.raises(ConfigError) as info:
        validate(config_from_dict({}, overrides))
    assert str(info.value).startswith(message) and "\n" not in str(info.value)


@pytest.mark.parametrize("levels", range(1, 8))
def test_the_laplacian_patch_check_is_the_pyramids_own_bound(levels):
    # 32 px patches are refused exactly where the pyramid refuses them (1, 3, 6, 12, 24, 48 and 96 px for 1 to 7 levels).
    overrides = ["loss.l_lap=1.0", f"loss.lap_levels={levels}"]
    if smallest_frame(levels) <= 32:
        validate(config_from_dict({}, overrides))
    else:
        with pytest.raises(ConfigError, match=f"needs data.patch_size >= {smallest_frame(levels)}, got 32"):
            validate(config_from_dict({}, overrides))


def test_the_ssim_patch_check_is_the_metric_s_own_window():
    # The config layer keeps its own copy of the window; the loss refuses frames under the metric's.
    overrides = ["loss.l_ssim=1.0", "model.discriminator.enabled=false", "model.generator.n_scales=1"]
    validate(config_from_dict({}, overrides + [f"data.patch_size={SSIM_WINDOW}"]))
    with pytest.raises(ConfigError, match=f"needs data.patch_size >= {SSIM_WINDOW} "):
        validate(config_from_dict({}, overrides + [f"data.patch_size={SSIM_WINDOW - 1}"]))


def test_a_census_term_alone_is_a_reconstruction_term_and_its_window_is_checked_only_when_on():
    validate(config_from_dict({}, ["loss.adaptive_weight=true", "loss.l_p=0", "loss.l_gdl=0", "loss.l_census=1.0"]))
    with pytest.raises(ConfigError, match="loss.adaptive_weight needs a reconstruction term"):  # the same without it
        validate(config_from_dict({}, ["loss.adaptive_weight=true", "loss.l_p=0", "loss.l_gdl=0"]))
    validate(config_from_dict({}, ["loss.census_window=4"]))
    with pytest.raises(ConfigError, match="loss.census_window must be odd and >= 3, got 4"):  # the same, switched on
        validate(config_from_dict({}, ["loss.census_window=4", "loss.l_census=1.0"]))


def test_synthetic_defaults_are_off_and_validate():
    cfg = config_from_dict({}, ["data.synthetic_weight=0.3", "data.synthetic.n_videos=100"])
    validate(cfg)
    assert config_from_dict({}).data.synthetic.n_videos == 0 and config_from_dict({}).data.synthetic_weight == 0.0


def test_the_generators_and_the_refiner_called_without_a_config_behave_as_the_default_config():
    """Functions keep their own defaults (models and data read no config; synthetic_examples.py
    and the tests call them so): those must be the config's, or they would show and time other
    videos and models than a default run trains on."""
    import inspect

    from vidpred.config import GeneratorConfig, SyntheticConfig
    from vidpred.data.synthetic import generate_synthetic_video, sample_scene
    from vidpred.models.refiner import FlowRefiner

    synthetic = dataclasses.asdict(SyntheticConfig())
    for function in (generate_synthetic_video, sample_scene):
        defaults = {name: p.default for name, p in inspect.signature(function).parameters.items()
                    if p.default is not inspect.Parameter.empty and name in synthetic}
        assert len(defaults) == 9, function.__name__
        assert defaults == {name: synthetic[name] for name in defaults}, function.__name__
    refiner = inspect.signature(FlowRefiner).parameters
    generator = dataclasses.asdict(GeneratorConfig())
    shared = [name for name in refiner if name in generator and name != "width"]  # width: a multiplier in the config
    assert len(shared) == 20
    for name in shared:
        assert refiner[name].default == generator[name], name
    assert refiner["scale"].default == generator["working_scale"]


def test_the_unread_data_keys_name_real_sources_and_keys():
    from typing import get_args

    from vidpred.config import UNREAD_DATA_KEYS, DataConfig, DataSource

    assert set(UNREAD_DATA_KEYS) == set(get_args(DataSource))
    fields = {f"data.{f.name}" for f in dataclasses.fields(DataConfig)}
    assert all(set(keys) <= fields for keys in UNREAD_DATA_KEYS.values())


def test_a_retired_key_at_its_old_value_still_loads_and_otherwise_is_named(tmp_path):
    # data.static_fraction left the schema; every checkpoint saved before holds it at 0.0.
    saved = config_to_dict(config_from_dict({}, ["train.steps=10"]))
    saved["data"]["static_fraction"] = 0.0
    assert config_from_dict(saved) == config_from_dict({}, ["train.steps=10"])
    check_resumable(saved, config_from_dict({}, ["train.steps=20"]), "run")
    path = tmp_path / "old.yaml"
    path.write_text("data: {static_fraction: 0.3, patch_size: 0}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == f"{path}: data.static_fraction was removed from vidpred; it is accepted only at 0.0 " \
                              "(what every run now does), got 0.3"


def test_default_run_dir_stays_inside_out_dir():
    assert default_run_dir(config_from_dict({}, ["run.out_dir=/r", "run.name=a"])) == Path("/r/a")
    assert default_run_dir(config_from_dict({}, ["run.out_dir=~/r", "run.name=a"])) == Path.home() / "r" / "a"
    for name in ("../a", "/tmp/a", "a/b", "..", "a\\b"):
        with pytest.raises(ConfigError, match="run.name must be a plain folder name"):
            default_run_dir(config_from_dict({}, [f"run.name={name}"]))
    with pytest.raises(ConfigError, match=r"run.name 'lr\?:1e-3' holds : \?, which Windows refuses in a folder name"):
        default_run_dir(config_from_dict({}, ["run.name='lr?:1e-3'"]))


def test_a_key_given_twice_is_refused_naming_the_key_and_both_lines(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("train:\n  steps: 100\n  batch_size: 4\n  steps: 200\n")
    with pytest.raises(ConfigError, match=r"c.yaml: duplicate key 'steps' at line 4 \(first at line 2\): keep one"):
        load_config(path)
    path.write_text("train: {steps: 1}\ntrain: {steps: 2}\n")
    with pytest.raises(ConfigError, match="duplicate key 'train' at line 2 .first at line 1."):
        load_config(path)
    with pytest.raises(ConfigError, match="duplicate key 'a'"):
        load_config(None, ["optim.generator={a: 1, a: 2}"])
    # The same key in two different mappings, and YAML merge keys, are fine.
    path.write_text("optim:\n  generator: &g {name: adam, lr: 0.01}\n  discriminator:\n    <<: *g\n    lr: 0.02\n")
    cfg = load_config(path)
    assert (cfg.optim.generator.lr, cfg.optim.discriminator.lr, cfg.optim.discriminator.name) == (0.01, 0.02, "adam")


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_a_section_set_to_another_value_and_then_extended_is_refused_not_reset():
    # --set train=[] then train.steps=3 would have dropped every other key the config gives train
    with pytest.raises(ConfigError, match=r"^train: expected a mapping, got \[\]$"):
        config_from_dict({"train": {"steps": 5, "batch_size": 16}}, ["train=[]", "train.log_every=2"])
    with pytest.raises(ConfigError, match="^model.generator: expected a mapping, got 5$"):
        config_from_dict({}, ["model.generator=5", "model.generator.width=0.5"])
    assert config_from_dict({}, ["train=null", "train.steps=3"]).train.steps == 3  # null: nothing to lose


def test_a_mapping_given_for_a_value_names_its_key_beside_every_other_problem(tmp_path):
    path = _write(tmp_path / "multi.yaml", "train:\n  steps: {a: 1}\n  batch_size: x\nrun: {nam: y}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "train.steps: expected int, got {'a': 1}" in str(info.value)
    assert "train.batch_size: expected int, got 'x'" in str(info.value) and "'run.nam'" in str(info.value)


def test_a_value_built_by_aliases_is_shown_cut_short(tmp_path):
    # seven levels of ten aliases: a list of 10**7 strings (two levels more, a few bytes more
    # of file, and a full repr would fill the memory)
    levels = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 7)]
    path = _write(tmp_path / "aliases.yaml", "x:\n" + "".join(f"  {line}\n" for line in levels) + "data:\n"
                  "  val_videos: *a6\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "data.val_videos: expected list[str] | null, got [[" in str(info.value) and len(str(info.value)) < 1000


def test_a_non_finite_value_is_one_problem_not_two():
    with pytest.raises(ConfigError, match=r"^data.cut_ratio: expected a ratio > 1 or null, got -inf$"):
        validate(config_from_dict({}, ["data.cut_ratio=-.inf"]))


@pytest.mark.parametrize("text", ["[]\n", "false\n", "0\n", "''\n"])
def test_a_top_level_that_is_not_a_mapping_is_refused_even_when_empty(tmp_path, text):
    with pytest.raises(ConfigError, match="the top level must be a mapping, got "):
        load_config(_write(tmp_path / "c.yaml", text))
    assert load_config(_write(tmp_path / "c.yaml", "# nothing set\n")) == Config()


def test_a_base_under_the_home_folder_is_found_by_tilde(tmp_path, monkeypatch):
    _write(tmp_path / "home" / "mine.yaml", "train: {steps: 12}\n")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert load_config(_write(tmp_path / "c.yaml", "base: ~/mine.yaml\n")).train.steps == 12


def test_a_base_chain_merges_base_then_file_then_overrides(tmp_path, monkeypatch):
    _write(tmp_path / "root.yaml", "train: {steps: 100, batch_size: 4, seed: 7}\nloss: {l_adv: 0.2}\n")
    _write(tmp_path / "mid" / "mid.yaml", "base: ../root.yaml\ntrain: {steps: 50, batch_size: 2}\n")
    leaf = _write(tmp_path / "mid" / "leaf" / "leaf.yaml", "base: ../mid.yaml\ntrain: {steps: 10}\n")
    # Bases are found from each file's folder: from elsewhere/, "../mid.yaml" would be this decoy.
    _write(tmp_path / "mid.yaml", "train: {batch_size: 99}\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    cfg = load_config(leaf, ["train.batch_size=3"])
    # leaf < --set; mid < --set; root < mid; root alone; the schema default under all.
    assert (cfg.train.steps, cfg.train.batch_size, cfg.train.seed, cfg.loss.l_adv) == (10, 3, 7, 0.2)
    assert cfg.loss.l_p == Config().loss.l_p
    assert load_config(Path("..") / "mid" / "leaf" / "leaf.yaml").train.batch_size == 2


@pytest.mark.parametrize("files, message", [
    ({"a.yaml": "base: b.yaml\n", "b.yaml": "base: a.yaml\n"},
     r"b.yaml: the bases form a cycle: .*a.yaml -> .*b.yaml -> .*a.yaml$"),
    ({"a.yaml": "base: ./a.yaml\n"}, r"a.yaml: the bases form a cycle: .*a.yaml -> .*a.yaml$"),
    ({"a.yaml": "base: nowhere.yaml\n"}, r"a.yaml: base file not found: .*nowhere.yaml$"),
    ({"a.yaml": "base: 3\n"}, r"a.yaml: base must be the path of a config file, got 3$"),
    ({"a.yaml": "base: [b.yaml]\n"}, r"a.yaml: base must be the path of a config file, got \['b.yaml'\]$"),
    # Errors inside a base name the base, not the file that names it.
    ({"a.yaml": "base: b.yaml\n", "b.yaml": "train: {stepz: 3}\n"}, r"b.yaml: unknown config key 'train.stepz'"),
    ({"a.yaml": "base: b.yaml\n", "b.yaml": "train: {steps: 1}\ntrain: {steps: 2}\n"},
     r"b.yaml: duplicate key 'train' at line 2 \(first at line 1\): keep one$"),
    ({"a.yaml": "base: b.yaml\n", "b.yaml": "run: {name: !!python/object/apply:os.system ['echo pwned']}\n"},
     r"b.yaml: unsafe YAML at line 1: .*refused"),
])
def test_a_bad_base_is_one_line_naming_the_files(tmp_path, files, message):
    for name, text in files.items():
        _write(tmp_path / name, text)
    with pytest.raises(ConfigError, match=message) as info:
        load_config(tmp_path / "a.yaml")
    assert "\n" not in str(info.value)


def test_base_is_read_only_from_files(tmp_path):
    with pytest.raises(ConfigError, match="unknown config key 'base'"):
        config_from_dict({"base": "quickstart.yaml"})
    with pytest.raises(ConfigError, match="unknown config key 'base'"):
        load_config(None, ["base=quickstart.yaml"])


def _flat_keys(data: dict, prefix: str = "") -> set[str]:
    keys = set()
    for key, value in data.items():
        full = f"{prefix}.{key}" if prefix else key
        keys |= _flat_keys(value, full) if isinstance(value, dict) else {full}
    return keys


def _documented(pattern: str) -> list[re.Pattern]:
    """The keys a pattern of docs/config.md's table names (``a.{b, c}``, ``optim.*.lr``), as regexes."""
    head, brace, rest = pattern.partition("{")
    names, _, tail = rest.partition("}")
    expanded = [head + name.strip() + tail for name in names.split(",")] if brace else [pattern]
    return [re.compile(re.escape(key).replace(r"\*", "[a-z_]+")) for key in expanded]


def test_every_key_no_shipped_config_sets_is_documented():
    shipped = set().union(*(_flat_keys(yaml.safe_load(p.read_text())) for p in CONFIGS))
    unset = sorted(set(_flat_keys(config_to_dict(Config()))) - shipped)
    table = CONFIG_DOC.read_text().split("## Keys no shipped config sets")[1].split("\n## ")[0]
    patterns = [regex for row in table.splitlines() if row.startswith("| `")
                for span in re.findall(r"`([a-z_.*{}, ]+)`", row.split(" | ")[0]) for regex in _documented(span)]
    assert patterns and unset
    missing = [key for key in unset if not any(p.fullmatch(key) for p in patterns)]
    assert not missing, f"set these in a config, or say in docs/config.md why they are keys: {missing}"


@pytest.mark.parametrize("key, value", [("n_flows", 2), ("working_scale", 8), ("max_correction", 0.0),
                                        ("global_context", True), ("farneback", True), ("step_scale", True),
                                        ("rollout", "composed"), ("camera_still", True), ("refine_flows", True),
                                        ("projected", True)])
def test_every_refiner_setting_is_refused_with_another_head(key, value):
    with pytest.raises(ConfigError, match=rf"model.generator.{key} is for the refiner head .* with the flow head"):
        validate(config_from_dict({"model": {"generator": {"head": "flow", key: value}}}))


def test_a_learned_persistence_needs_a_second_predicted_frame():
    refiner = {"head": "refiner", "n_scales": 1, "step_scale": True}
    with pytest.raises(ConfigError, match=r"model.generator.step_scale .* needs train.n_future >= 2, got 1"):
        validate(config_from_dict({"model": {"generator": refiner, "discriminator": {"enabled": False}}}))
    validate(config_from_dict({"model": {"generator": refiner, "discriminator": {"enabled": False}},
                               "train": {"n_future": 2}}))


def test_the_refiner_s_scale_error_names_the_discriminator_s_too():
    with pytest.raises(ConfigError, match="n_scales must be 1 with the refiner head .*; so must "
                                          "model.discriminator.n_scales, or set model.discriminator.enabled: false"):
        validate(config_from_dict({"model": {"generator": {"head": "refiner"}}}))


@pytest.mark.parametrize("name", [f.name for f in dataclasses.fields(OptimConfig)])
def test_every_optimizer_section_is_checked_a_new_one_too(name):
    # The check reads OptimConfig's fields, so a discriminator's new optim.<key> needs no line in it.
    with pytest.raises(ConfigError, match=re.escape(f"optim.{name}.lr must be a finite number >= 0, got -1.0")):
        validate(config_from_dict({}, [f"optim.{name}.lr=-1"]))


def test_the_adaptive_weight_counts_every_discriminator_section_a_new_one_too():
    sections = [f.name for f in dataclasses.fields(ModelConfig) if hasattr(getattr(ModelConfig(), f.name), "enabled")]
    assert {"discriminator", "blur_discriminator", "spatiotemporal_discriminator"} <= set(sections)
    with pytest.raises(ConfigError) as info:
        validate(config_from_dict({}, ["loss.adaptive_weight=true", "model.discriminator.enabled=false"]))
    assert all(f"model.{name}" in str(info.value) for name in sections)


_REFINER = ["model.generator.head=refiner", "model.generator.n_scales=1", "model.discriminator.enabled=false"]


@pytest.mark.parametrize("overrides, message, inside", [
    ([*_REFINER, "model.generator.n_flows=4"], "model.generator.n_flows must be in [1, model.n_context - 1], got 4",
     "model.generator.n_flows=3"),  # model.n_context 4
    ([*_REFINER, "model.generator.n_flows=2", "model.generator.skipped_frames=true"],
     "model.generator.skipped_frames needs model.generator.n_flows >= 3 (a skipped frame is read from three steps), "
     "got 2", "model.generator.n_flows=3"),
    (["loss.l_nce=0.1", "train.batch_size=1"], "loss.l_nce needs loss.nce_temperature > 0 and train.batch_size >= 2 "
     "(the other clips are the negatives), got 0.1 and 1", "train.batch_size=2"),
    (["train.ema_decay=0"], "train.ema_decay: expected a decay in (0, 1) or null, got 0.0", "train.ema_decay=0.5"),
    (["data.unfiltered_fraction=1.5"], "data.unfiltered_fraction must be in [0, 1], got 1.5",
     "data.unfiltered_fraction=1"),
    (["data.procedural.n_train_videos=0"], "data.procedural.n_train_videos must be >= 1, got 0 (training needs videos)",
     "data.procedural.n_train_videos=1"),
    # A one-scale discriminator still pools once: an odd patch leaves it nothing to pool evenly.
    (["model.generator.n_scales=1", "model.discriminator.n_scales=1", "data.patch_size=33"],
     "data.patch_size (33) must be divisible by 2**n_scales = 2 of the discriminator (it pools once after its "
     "finest-scale convolutions)", "data.patch_size=34"),
    # Unpadded, the finest of 4 scales loses 6 + 6 + 4 + 4 px to its 7, 7, 5, 5 kernels and the next 12 px of
    # its half-size input to three 5s; the 2nd coarsest 6 px of a quarter: 32 px leave each a 2x2 map to pool.
    (["model.discriminator.padding=valid", "data.patch_size=24"],
     "data.patch_size (24) is too small for the unpadded convolutions of model.discriminator (padding: valid, 4 "
     "scales): the smallest that works is 32", "data.patch_size=32"),
    # 2 strided 3D and 2 strided 2D stages divide the side by 16: a 16 px patch leaves a single position.
    (["model.spatiotemporal_discriminator.enabled=true", "data.patch_size=16"],
     "data.patch_size (16) must be divisible by 2**(n_3d + n_2d) = 16 of model.spatiotemporal_discriminator and "
     "leave at least 2x2 positions", "data.patch_size=32"),
    (["loss.l_lpips=0.1", "data.patch_size=16"],
     "loss.lpips_net 'alex' needs frames of at least 31 pixels, data.patch_size is 16; use vgg", "loss.lpips_net=vgg"),
    (["optim.discriminator.name=sgd", "optim.discriminator.momentum=1.0"],
     "optim.discriminator.momentum must be in [0, 1), got 1.0", "optim.discriminator.momentum=0.99"),
])
def test_a_value_at_the_edge_of_its_range_is_refused_and_the_nearest_inside_accepted(overrides, message, inside):
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}$"):
        validate(config_from_dict({}, overrides))
    validate(config_from_dict({}, [*overrides, inside]))


@pytest.mark.parametrize("setting", ["lr", "weight_decay"])
def test_a_rate_or_decay_float32_cannot_hold_is_refused(setting):
    # torch's optimizers scale float32 tensors by them: 1e39 ended in "value cannot be converted to type float".
    with pytest.raises(ConfigError, match=re.escape(f"optim.generator.{setting} must be at most 3.403e+38 "
                                                    "(float32's largest), got 1e+39")):
        validate(config_from_dict({}, [f"optim.generator.{setting}=1e39"]))
    validate(config_from_dict({}, [f"optim.generator.{setting}=3e38"]))


@pytest.mark.parametrize("name, message", [
    ("aux", "is a device name on Windows"), ("CON", "is a device name on Windows"),
    ("com1.run", "is a device name on Windows"), ("nul ", "is a device name on Windows"),
    ("run.", "ends in a dot or a space"), ("run ", "ends in a dot or a space")])
def test_a_run_name_windows_cannot_make_a_folder_of_is_refused(name, message):
    with pytest.raises(ConfigError, match=re.escape(f"run.name {name!r} {message}")):
        default_run_dir(config_from_dict({"run": {"name": name}}))
    assert default_run_dir(config_from_dict({"run": {"name": "auxiliary.run"}})).name == "auxiliary.run"


def test_a_folder_key_with_a_tilde_is_under_the_home_folder(tmp_path, monkeypatch):
    # the shell leaves "~" in --set data.root=~/x and YAML keeps it: it is the home folder, as in run.out_dir
    monkeypatch.setenv("HOME", str(tmp_path))
    cfg = config_from_dict({"data": {"source": "folder", "root": "~/videos", "synthetic": {"photo_dir": "~/photos"}},
                            "model": {"blur_discriminator": {"checkpoint": "~/blur.pt"}}})
    assert (cfg.data.root, cfg.data.synthetic.photo_dir) == (str(tmp_path / "videos"), str(tmp_path / "photos"))
    assert cfg.model.blur_discriminator.checkpoint == str(tmp_path / "blur.pt")


def test_an_empty_blur_detector_checkpoint_is_refused_by_key():
    # "" was read as the current folder, and named as a checkpoint not found
    with pytest.raises(ConfigError, match="model.blur_discriminator.checkpoint is empty"):
        validate(config_from_dict({}, ["model.blur_discriminator.enabled=true",
                                       "model.blur_discriminator.checkpoint=''"]))
    validate(config_from_dict({}, ["model.blur_discriminator.checkpoint=''"]))  # disabled: never read


def test_an_optimizer_section_given_in_part_keeps_its_own_defaults_for_the_rest():
    # one key of optim.blur_discriminator (Adam at 1e-4 by default) had reset the rest to OptimizerConfig's SGD
    cfg = config_from_dict({}, ["optim.spatiotemporal_discriminator.lr=1e-4", "optim.blur_discriminator.grad_clip=1.0",
                                "optim.discriminator.weight_decay=1e-5"])
    defaults = OptimConfig()
    assert cfg.optim.spatiotemporal_discriminator == dataclasses.replace(defaults.spatiotemporal_discriminator, lr=1e-4)
    assert cfg.optim.blur_discriminator == dataclasses.replace(defaults.blur_discriminator, grad_clip=1.0)
    assert cfg.optim.discriminator == dataclasses.replace(defaults.discriminator, weight_decay=1e-5)
    assert (cfg.optim.blur_discriminator.name, cfg.optim.discriminator.lr) == ("adam", 0.02)


@pytest.mark.parametrize("override, message", [
    ("model.generator.n_scales=100000000000000000000", "model.generator.n_scales must be at most 16"),
    ("model.discriminator.n_scales=100000000000000000000", "model.discriminator.n_scales must be at most 16"),
    ("model.spatiotemporal_discriminator.n_3d=100000000000000000000",
     "model.spatiotemporal_discriminator.n_3d + n_2d must be at most 16"),
    ("loss.lap_levels=100000000000000000000", "loss.lap_levels must be at most 17")])
def test_a_number_of_halvings_no_frame_allows_is_refused_at_once(override, message):
    # 2 ** 10**20 had left the check computing for ever
    extra = {"loss.lap_levels": ["loss.l_lap=1.0"],
             "model.spatiotemporal_discriminator": ["model.spatiotemporal_discriminator.enabled=true"]}
    overrides = [override, *next((v for k, v in extra.items() if override.startswith(k)), [])]
    with pytest.raises(ConfigError, match=re.escape(message)):
        validate(config_from_dict({}, overrides))


_REFINER_CORPUS = ["model.generator.head=refiner", "model.generator.n_scales=1", "model.discriminator.enabled=false",
                   "data.patch_size=128"]


@pytest.mark.parametrize("overrides, message", [
    # float32 overflows: a traceback, a crash in the warp's backward, or a divergence blaming the learning rate
    (["loss.l_p=1e39"], "loss.l_p must be at most 3.403e+38 (float32's largest), got 1e+39"),
    (["loss.gp_center=1e39"], "loss.gp_center must be at most 3.403e+38 (float32's largest), got 1e+39"),
    (["loss.adaptive_max=1e39"], "loss.adaptive_max must be at most 3.403e+38 (float32's largest), got 1e+39"),
    (["loss.real_label=[1e39,1e39]"], "loss.real_label must hold numbers of at most 3.403e+38 (float32's largest)"),
    ([*_REFINER_CORPUS, "model.generator.max_correction=1e39"],
     "model.generator.max_correction must be at most 3.403e+38 (float32's largest), got 1e+39"),
    (["loss.l_nce=1", "loss.nce_temperature=1e-25"], "loss.nce_temperature must be at least 1e-06"),
    # sizes that end deep in torch or numpy, or take the machine's memory
    (["model.generator.width=1e39"], "model.generator.width must be at most 64 (times the paper's feature maps)"),
    (["data.num_workers=100000000000000000000"], "data.num_workers must be at most 64"),
    (["data.synthetic.n_frames=100000000000000000000"], "data.synthetic.n_frames must be <= 10000"),
    (["data.synthetic.height=100000000000000000000"], "data.synthetic.height must be <= 16384"),
    (["data.synthetic.max_layers=100000000000000000000"], "data.synthetic.max_layers must be <= 1000"),
    # values that would be clamped or read as the current folder without a word
    ([*_REFINER_CORPUS, "model.generator.working_scale=64"],
     "model.generator.working_scale (64) must be at most data.patch_size / 4 (32)"),
    (["data.synthetic.photo_dir=' '"], "data.synthetic.photo_dir is empty"),
    # torch.compile has no double backward, which the gradient penalties need
    (["train.compile=true"], "train.compile cannot train with a gradient penalty (loss.r1_weight > 0 needs"),
])
def test_values_that_overflow_outgrow_or_go_unread_are_refused_by_key(overrides, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        validate(config_from_dict({}, ["loss.r1_weight=1.0", *overrides]))


def test_torch_compile_is_taken_without_a_gradient_penalty():
    validate(config_from_dict({}, ["train.compile=true", "loss.r1_weight=0"]))
    validate(config_from_dict({}, ["train.compile=true", "loss.r1_weight=1.0", "model.discriminator.enabled=false",
                                   "loss.l_adv=0"]))
