"""Fixtures for the evaluation tests: synthetic clips with known motion, a tiny checkpoint."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
import pytest
import torch

from vidpred.build import build_generator
from vidpred.checkpoint import save_checkpoint
from vidpred.config import config_from_dict, config_to_dict
from vidpred.evaluation.runner import ClipResult
from vidpred.evaluation.scoring import MAX_PSNR_DB


def _texture(rng: np.random.Generator, height: int, width: int, sigma: float, contrast: float) -> np.ndarray:
    """Smooth random RGB texture, float32 (H, W, 3) around grey 128."""
    noise = cv2.GaussianBlur(rng.uniform(0, 255, (height, width, 3)).astype(np.float32), (0, 0), sigma)
    return (noise - noise.mean()) * contrast + 128


def _square_clip(n_frames: int = 6, size: int = 128, side: int = 24, speed: int = 3, seed: int = 0):
    """uint8 (T, H, W, 3): a static textured background and one textured square moving right.

    Returns the frames and a function giving the square's boolean (H, W) footprint at time t.
    """
    rng = np.random.default_rng(seed)
    background = _texture(rng, size, size, 1.5, 1.0)
    square = _texture(rng, side, side, 1.0, 2.0) + 60
    top, left0 = size // 2 - side // 2, size // 4

    def footprint(t: int) -> np.ndarray:
        region = np.zeros((size, size), dtype=bool)
        region[top:top + side, left0 + speed * t:left0 + speed * t + side] = True
        return region

    frames = []
    for t in range(n_frames):
        frame = background.copy()
        frame[footprint(t)] = square.reshape(-1, 3)
        frames.append(np.clip(frame, 0, 255).round().astype(np.uint8))
    return np.stack(frames), footprint


def _translating_clip(n_frames: int = 6, height: int = 64, width: int = 80, speed: int = 2, seed: int = 0) -> np.ndarray:
    """uint8 (T, H, W, 3): a textured scene panning left by ``speed`` px per frame (pure translation)."""
    rng = np.random.default_rng(seed)
    scene = np.clip(_texture(rng, height + 16, width + 16 + speed * n_frames, 2.0, 3.0), 0, 255).round().astype(np.uint8)
    return np.stack([scene[8:8 + height, 8 + speed * t:8 + speed * t + width] for t in range(n_frames)])


def _report_results() -> list[ClipResult]:
    """Two clips' scores of "model" and "last input", the last input exact on clip b."""
    def scores(p1, s1, whole=None):
        return {"psnr_compat_f1": p1, "ssim_compat_f1": s1, "sharpness_compat_f1": 20.0,
                "psnr_moving_f1": p1 - 1, "ssim_moving_f1": s1, "sharpness_moving_f1": 19.0,
                "psnr_whole_f1": p1 + 1 if whole is None else whole, "ssim_whole_f1": s1, "sharpness_whole_f1": 21.0,
                "edges_whole_f1": 0.9, "flicker": 0.1}
    return [
        ClipResult("a", 0, 8, 32, 40, 0.5, 0.2, {"model": scores(30.0, 0.9), "last input": scores(20.0, 0.5)}),
        # The last input is exact on clip b (scored at the floor), and its SSIM is undefined.
        ClipResult("b", 0, 8, 32, 40, 0.25, 0.4, {"model": scores(32.0, 0.7),
                                                  "last input": scores(40.0, math.nan, whole=MAX_PSNR_DB)}),
    ]


def _report_meta() -> dict:
    """A report's ``meta`` for :func:`_report_results`' methods."""
    return {
        "methods": [{"name": "model", "kind": "checkpoint"}, {"name": "last input", "kind": "baseline"}],
        "protocol": {"n_context": 4, "n_scored": 1, "flicker_frames": 4, "flow_threshold": 0.5},
        "selection": {"description": "test", "selected": ["a", "b"], "n_listed": 2, "skipped": [],
                      "min_frames": 5, "clip_frames": 8, "start_frame": 0},
        "n_clips": 2, "n_moving_clips": 2, "mean_moving_fraction": 0.375,
        "lpips": {"available": False, "reason": "LPIPS skipped: no file"},
        "flow": {"params": "winsize=9"},
    }


@pytest.fixture
def square_clip():
    """``square_clip(**kwargs) -> (frames uint8 (T, H, W, 3), footprint(t) -> bool (H, W))``."""
    return _square_clip


@pytest.fixture
def translating_clip() -> Callable[..., np.ndarray]:
    """``translating_clip(n_frames=6, height=64, width=80, speed=2) -> uint8 (T, H, W, 3)``."""
    return _translating_clip


@pytest.fixture
def tiny_checkpoint(tmp_path: Path) -> Path:
    """A checkpoint in the trainer's format holding a tiny, randomly initialised generator."""
    cfg = config_from_dict({"model": {"generator": {"n_scales": 3, "width": 0.0625}}})
    torch.manual_seed(0)
    generator = build_generator(cfg)
    path = tmp_path / "run" / "checkpoints" / "latest.pt"
    save_checkpoint({"step": 7, "best_psnr": 0.0, "config": config_to_dict(cfg), "generator": generator.state_dict()},
                    path)
    return path


@pytest.fixture
def report_results() -> Callable[[], list[ClipResult]]:
    """``report_results() -> [ClipResult]``: a fresh copy of two clips' scores, "model" and "last input"."""
    return _report_results


@pytest.fixture
def report_meta() -> Callable[[], dict]:
    """``report_meta() -> dict``: a fresh report ``meta`` for :func:`report_results`' methods."""
    return _report_meta
