"""Shared fixtures: tiny videos on disk in the layouts vidpred reads.

Videos are written with OpenCV directly (not ``vidpred.data.video_writer.write_video``), so the
reader tests do not depend on the writer under test. Fixtures:

* ``make_video`` -- ``make_video(path, frames, fps=25.0) -> Path``: write uint8
  ``(T, H, W, 3)`` RGB frames to an MJPG ``.avi`` (or ``mp4v`` ``.mp4``).
* ``moving_frames`` -- ``moving_frames(n_frames, height, width, seed=0, speed=2) ->
  uint8 (T, H, W, 3)``: a smooth static background with a bright square moving right by
  ``speed`` px per frame; JPEG-friendly content.
* ``tiny_ucf101`` (session) -- root of a 3-class UCF101 tree in the official layout;
  read-only, copy it before modifying anything.
* ``video_folder`` -- a folder of .avi/.mp4 files and one folder of PNG frames.
* ``corrupt_video`` -- a garbage ``.avi`` and a too-short (2-frame) ``.avi``.
* ``tiny_config_data`` -- a tiny procedural training config as plain YAML-like data.
* ``logged_losses`` -- ``logged_losses(run_dir) -> {step: {name: value}}``: what a run's
  ``metrics.jsonl`` logged at each step, but the wall-clock ``samples_per_sec``.
* ``logged_steps`` -- ``logged_steps(path) -> [step, ...]``: the step of each line of a
  JSONL log (``metrics.jsonl``, ``validation.jsonl``), in order.
* ``read_only`` -- ``read_only(folder)``: from then on ``os.access`` reports no write
  access in ``folder`` and below, as on a read-only mount (chmod cannot stand in: tests
  may run as root, who writes anyway).
* ``disk_full_at`` -- ``disk_full_at(name)``: from then on ``Path.write_text`` to a file
  whose name holds ``name`` fails with ENOSPC naming that file, as on a full disk.
* ``unscoring_adversary`` -- ``unscoring_adversary(name, log_prefix) -> Adversary`` subclass:
  a discriminator's bookkeeping (checkpoint keys derived from ``name``) whose ``d_loss`` and
  ``g_loss`` are never called, for tests of where adversaries are registered and shown.
* ``lpips_standin`` -- ``lpips_standin(path) -> dict``: write, at ``path``, a file laid out
  like torchvision's AlexNet weights (``features.<i>.weight/bias``) with random values, in
  place of the ImageNet file that cannot be downloaded here, accepted explicitly
  (``VIDPRED_UNVERIFIED_WEIGHTS=1``); returns the tensors written.
* ``ctrl_c_in_the_2nd_clip`` -- ``ctrl_c_in_the_2nd_clip(workers=1, times=1)``: from then on
  the evaluation's 2nd clip sends the process SIGINT ``times`` times as it starts to be
  scored; with ``workers=2`` the 1st and 2nd clips are both under way when it comes.

Every test starts from the same random state (torch, NumPy and ``random`` seeded with 0),
so a test that draws unseeded random data draws the same data on every run. No test decodes
into the default cache folder (``data.cache_dir``, ``.cache/vidpred`` under the folder the
tests run from), which holds the user's decoded videos: a test gives its own (``tmp_path``).
"""

from __future__ import annotations

import copy
import json
import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
import pytest
import torch

@pytest.fixture(autouse=True)
def _same_random_state():
    """Seed torch, NumPy and ``random`` before every test (see the module docstring)."""
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)


@pytest.fixture(autouse=True)
def _not_the_users_cache(monkeypatch):
    """A cache opened at the default folder in the tests' process fails the test (see the module docstring)."""
    from vidpred.config import DataConfig
    from vidpred.data.cache import VideoCache

    users = Path(DataConfig.cache_dir).resolve()
    opened = VideoCache.__init__

    def guarded(self, cache_dir, *args, **kwargs):
        if Path(cache_dir).resolve() == users:
            raise AssertionError(f"a test opened the user's cache folder {users}; give it a cache_dir of its own")
        opened(self, cache_dir, *args, **kwargs)

    monkeypatch.setattr(VideoCache, "__init__", guarded)


# ---------------------------------------------------------------------------------------
# Helpers (exposed through fixtures: with --import-mode=importlib tests cannot import this)
# ---------------------------------------------------------------------------------------


def _write_video(path: str | Path, frames: np.ndarray, fps: float = 25.0) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = np.asarray(frames)
    assert frames.dtype == np.uint8 and frames.ndim == 4 and frames.shape[-1] == 3, frames.shape
    height, width = frames.shape[1:3]
    if path.suffix.lower() == ".mp4":
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    else:
        # OpenCV's own MJPEG writer honours the quality setting (FFmpeg's ignores it).
        writer = cv2.VideoWriter(str(path), cv2.CAP_OPENCV_MJPEG, cv2.VideoWriter_fourcc(*"MJPG"), fps,
                                 (width, height))
        writer.set(cv2.VIDEOWRITER_PROP_QUALITY, 95)
    assert writer.isOpened(), f"OpenCV cannot write {path}"
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def _moving_frames(n_frames: int, height: int, width: int, seed: int = 0, speed: int = 2) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    base = rng.uniform(40, 120, size=3)
    slope = rng.uniform(-1.0, 1.0, size=(2, 3))
    background = base + yy[..., None] * slope[0] + xx[..., None] * slope[1]
    frames = np.repeat(np.clip(background, 0, 255)[None], n_frames, axis=0)
    side = max(4, min(height, width) // 4)
    top = int(rng.integers(0, height - side + 1))
    colour = rng.uniform(180, 255, size=3)
    # Start where the square can travel the whole clip; it stops at the right border.
    start = int(rng.integers(0, max(width - side - speed * (n_frames - 1), 0) + 1))
    for t in range(n_frames):
        left = min(start + t * speed, width - side)
        frames[t, top:top + side, left:left + side] = colour
    return frames.round().astype(np.uint8)


@pytest.fixture
def make_video() -> Callable[..., Path]:
    """``make_video(path, frames, fps=25.0) -> Path``: write RGB uint8 ``(T, H, W, 3)`` with OpenCV."""
    return _write_video


@pytest.fixture
def moving_frames() -> Callable[..., np.ndarray]:
    """``moving_frames(n_frames, height, width, seed=0, speed=2) -> uint8 (T, H, W, 3)``."""
    return _moving_frames


# ---------------------------------------------------------------------------------------
# Trees on disk
# ---------------------------------------------------------------------------------------

# (folder name, name as spelled in the official lists)
TINY_UCF101_CLASSES = (("ApplyEyeMakeup", "ApplyEyeMakeup"), ("Basketball", "Basketball"),
                       ("HandstandPushups", "HandStandPushups"))
TINY_UCF101_TRAIN_GROUPS = (8, 9, 10)
TINY_UCF101_TEST_GROUPS = (1, 2, 3, 4)
TINY_UCF101_CLIPS = 2


@pytest.fixture(scope="session")
def tiny_ucf101(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Root of a tiny UCF101 tree in the official layout (read-only; copy before changing).

    ``UCF-101/<Class>/v_<Class>_gXX_cYY.avi`` for 3 classes (ApplyEyeMakeup, Basketball,
    HandstandPushups), training groups g08-g10 and test groups g01-g04, 2 clips each:
    18 training and 24 test videos of 12 frames at 32x40 with a moving square. The lists
    (``ucfTrainTestlist/classInd.txt``, ``trainlist01.txt`` with ``path label`` lines,
    ``testlist01.txt`` with ``path`` lines) use CRLF endings and, as the official files do,
    spell the folder ``HandstandPushups`` as ``HandStandPushups``. Only split 1 exists.
    """
    root = tmp_path_factory.mktemp("ucf101")
    lists = root / "ucfTrainTestlist"
    lists.mkdir()
    train_lines, test_lines, class_lines = [], [], []
    seed = 0
    for label, (folder, listed) in enumerate(TINY_UCF101_CLASSES, start=1):
        class_lines.append(f"{label} {folder}")
        for groups, lines in ((TINY_UCF101_TRAIN_GROUPS, train_lines), (TINY_UCF101_TEST_GROUPS, test_lines)):
            for g in groups:
                for c in range(1, TINY_UCF101_CLIPS + 1):
                    stem = f"g{g:02d}_c{c:02d}"
                    _write_video(root / "UCF-101" / folder / f"v_{folder}_{stem}.avi", _moving_frames(12, 32, 40, seed))
                    seed += 1
                    entry = f"{listed}/v_{listed}_{stem}.avi"
                    lines.append(f"{entry} {label}" if lines is train_lines else entry)
    for name, lines in (("classInd.txt", class_lines), ("trainlist01.txt", train_lines),
                        ("testlist01.txt", test_lines)):
        (lists / name).write_bytes(("\r\n".join(lines) + "\r\n").encode())
    return root


@pytest.fixture
def video_folder(tmp_path: Path) -> Path:
    """A folder tree of 4 videos: ``a.avi`` (10 frames, 32x48), ``b.mp4`` (8 frames, 32x48),
    ``sub/c.avi`` (9 frames, 24x32) and ``frames_d/`` (7 PNGs ``0.png`` .. ``6.png``, 32x48),
    plus a ``notes.txt`` and a hidden ``.hidden.avi`` that are not videos to find."""
    root = tmp_path / "videos"
    _write_video(root / "a.avi", _moving_frames(10, 32, 48, seed=1))
    _write_video(root / "b.mp4", _moving_frames(8, 32, 48, seed=2))
    _write_video(root / "sub" / "c.avi", _moving_frames(9, 24, 32, seed=3))
    frames_dir = root / "frames_d"
    frames_dir.mkdir()
    for i, frame in enumerate(_moving_frames(7, 32, 48, seed=4)):
        cv2.imwrite(str(frames_dir / f"{i}.png"), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    (root / "notes.txt").write_text("not a video")
    (root / ".hidden.avi").write_bytes(b"")
    return root


@dataclass(frozen=True)
class CorruptVideos:
    """Paths made by the ``corrupt_video`` fixture."""

    garbage: Path  # a .avi of random bytes: OpenCV cannot open it
    short: Path  # a valid .avi of ``short_frames`` frames
    short_frames: int


@pytest.fixture
def corrupt_video(tmp_path: Path) -> CorruptVideos:
    """A garbage ``bad.avi`` and a valid 2-frame ``short.avi`` (32x48) in their own folder."""
    root = tmp_path / "corrupt"
    root.mkdir()
    garbage = root / "bad.avi"
    garbage.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    short = _write_video(root / "short.avi", _moving_frames(2, 32, 48, seed=5))
    return CorruptVideos(garbage=garbage, short=short, short_frames=2)


# ---------------------------------------------------------------------------------------
# Configs
# ---------------------------------------------------------------------------------------

# A model and data small enough that a training step takes milliseconds on a CPU.
TINY_CONFIG = {
    "run": {"name": "tiny"},
    "data": {
        "source": "procedural",
        "procedural": {"n_train_videos": 6, "n_val_videos": 2, "n_test_videos": 2, "n_frames": 10, "height": 32, "width": 32},
        "n_val_clips": 4,
        "patch_size": 16,
        "motion_threshold": 0.0005,
        "max_tries": 4,
    },
    "model": {"generator": {"n_scales": 3, "width": 0.0625}, "discriminator": {"n_scales": 3, "width": 0.03125}},
    "optim": {"generator": {"name": "adam", "lr": 0.001}, "discriminator": {"name": "sgd", "lr": 0.02}},
    "train": {"steps": 4, "batch_size": 4, "device": "cpu", "log_every": 1, "val_every": 2, "ckpt_every": 2, "sample_every": 2},
}


@pytest.fixture
def tiny_config_data(tmp_path: Path) -> dict:
    """A fresh copy of the tiny procedural config as plain data, caching under ``tmp_path``."""
    data = copy.deepcopy(TINY_CONFIG)
    data["data"]["cache_dir"] = str(tmp_path / "cache")
    return data


# ---------------------------------------------------------------------------------------
# What a run logged
# ---------------------------------------------------------------------------------------


def _logged_losses(run_dir: Path) -> dict[int, dict]:
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return {r["step"]: {k: v for k, v in r.items() if k != "samples_per_sec"} for r in rows}


def _logged_steps(path: Path) -> list[int]:
    return [json.loads(line)["step"] for line in path.read_text().splitlines()]


@pytest.fixture
def logged_losses() -> Callable[[Path], dict[int, dict]]:
    """``logged_losses(run_dir)``: every value logged in ``metrics.jsonl`` but the wall-clock one, by step."""
    return _logged_losses


@pytest.fixture
def logged_steps() -> Callable[[Path], list[int]]:
    """``logged_steps(path)``: the step of each line of a JSONL log, in order."""
    return _logged_steps


@pytest.fixture
def unscoring_adversary() -> Callable[[str, str], type]:
    from vidpred.adversaries import Adversary

    def make(name: str, log_prefix: str) -> type:
        class Unscoring(Adversary):
            state_key, opt_key = f"{name}_discriminator", f"opt_{name}"

            def d_loss(self, context, real_scales, fake_scales, label_rng):
                raise AssertionError("not scored in this test")

            def g_loss(self, context, pred_scales):
                raise AssertionError("not scored in this test")

        Unscoring.name, Unscoring.log_prefix = name, log_prefix
        return Unscoring

    return make


@pytest.fixture
def read_only(monkeypatch) -> Callable[[Path], None]:
    denied: list[str] = []
    real_access = os.access

    def access(path, mode, *args, **kwargs):
        path = os.path.abspath(path)
        if mode & os.W_OK and any(path == root or path.startswith(root + os.sep) for root in denied):
            return False
        return real_access(path, mode, *args, **kwargs)

    monkeypatch.setattr(os, "access", access)
    return lambda folder: denied.append(os.path.abspath(folder))


@pytest.fixture
def disk_full_at(monkeypatch) -> Callable[[str], None]:
    import errno

    write_text = Path.write_text

    def install(name: str) -> None:
        def disk_full(self, *args, **kwargs):
            if name in self.name:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
            return write_text(self, *args, **kwargs)

        monkeypatch.setattr(Path, "write_text", disk_full)

    return install


@pytest.fixture
def ctrl_c_in_the_2nd_clip(monkeypatch) -> Callable[..., None]:
    import signal
    import threading

    import vidpred.evaluation.runner as runner

    def install(workers: int = 1, times: int = 1) -> None:
        score, calls, lock = runner.evaluate_clip, [], threading.Lock()
        both_running = threading.Barrier(workers)  # neither of the first two ends before the other starts

        def interrupted_in_the_2nd(*args, **kwargs):
            with lock:
                calls.append(1)
                nth = len(calls)
            if nth == 2:
                for _ in range(times):
                    os.kill(os.getpid(), signal.SIGINT)
            if nth <= 2:
                both_running.wait(timeout=60)
            return score(*args, **kwargs)

        monkeypatch.setattr(runner, "evaluate_clip", interrupted_in_the_2nd)

    return install


@pytest.fixture
def lpips_standin(monkeypatch) -> Callable[[Path], dict]:
    from vidpred.metrics import load_lpips
    from vidpred.models.perceptual_networks import UNVERIFIED_WEIGHTS_ENV

    def write(path: Path) -> dict:
        monkeypatch.setenv(UNVERIFIED_WEIGHTS_ENV, "1")
        generator = torch.Generator().manual_seed(0)
        source = {f"features.{key.split('.', 1)[1]}": torch.randn(value.shape, generator=generator)
                  for key, value in load_lpips(random_backbone=True).network.net.state_dict().items()}
        torch.save(source, path)
        return source

    return write
