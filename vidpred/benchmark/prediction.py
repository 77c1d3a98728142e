"""Prediction speed: frames per second of each predictor on one frame size, in one process.

The same random context (uniform noise: 4 frames, or as many as the model reading the most
needs, each method reading the newest it needs) is predicted ``repeats`` times by each method
after one untimed call; the machine is shared and noisy, so compare the methods of one run
(ratios), not runs. Every method predicts one frame; a model's time includes its own optical
flow.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import torch

from vidpred.build import synchronize
from vidpred.evaluation.baselines import flow_extrapolation, last_input
from vidpred.evaluation.predictors import DIS_FLOW, FARNEBACK_FLOW, LAST_INPUT, load_checkpoint_predictor

__all__ = ["benchmark_prediction"]


@torch.no_grad()
def benchmark_prediction(checkpoints: Sequence[str | Path], *, height: int = 360, width: int = 640, repeats: int = 5,
                         device: torch.device = torch.device("cpu"), seed: int = 0) -> dict:
    """Seconds per predicted frame and frames per second of the baselines and each checkpoint.

    Args:
        checkpoints: vidpred checkpoints or exported models, timed with their rollout.
        height, width: the frame size.
        repeats: timed predictions per method (after one untimed call).
        device: where the context lies and the models run.
        seed: the random context's seed.

    Returns:
        ``{"height", "width", "repeats", "device", "threads", "methods": {name: {"seconds_per_frame", "fps", ...}}}``;
        a checkpoint's entry also holds its ``head``, ``parameters`` and ``path``.

    Raises:
        ValueError: ``repeats < 1``, frames under 16x16, or a checkpoint that cannot be read.
    """
    if repeats < 1 or height < 16 or width < 16:
        raise ValueError(f"need repeats >= 1 and frames of at least 16x16, got {repeats}, {height}x{width}")
    methods = {LAST_INPUT: lambda c: last_input(c, 1),
               FARNEBACK_FLOW: lambda c: flow_extrapolation(c, 1, None, "farneback"),
               DIS_FLOW: lambda c: flow_extrapolation(c, 1, None, "dis")}
    info = {name: {} for name in methods}
    n_context = 4
    for path in checkpoints:
        method = load_checkpoint_predictor(path, device)
        name, n = method.name, 1
        while name in methods:  # a row per model, as the evaluation names them: "run/best (2)"
            n += 1
            name = f"{method.name} ({n})"
        methods[name] = lambda c, predict=method.predict: predict(c, 1, None)
        info[name] = {"head": method.info["head"], "parameters": method.info["parameters"], "path": str(path)}
        n_context = max(n_context, method.info["n_context"])
    generator = torch.Generator().manual_seed(seed)
    # Four frames, or as many as the hungriest model reads; each method reads the newest it needs.
    context = (torch.rand(1, 3, n_context, height, width, generator=generator) * 2 - 1).to(device)
    out = {}
    for name, predict in methods.items():
        predict(context)
        synchronize(device)
        started = time.perf_counter()
        for _ in range(repeats):
            predict(context)
        synchronize(device)
        seconds = (time.perf_counter() - started) / repeats
        out[name] = {**info[name], "seconds_per_frame": seconds, "fps": 1.0 / seconds}
    return {"height": height, "width": width, "repeats": repeats, "device": str(device),
            "threads": torch.get_num_threads(), "methods": out}
