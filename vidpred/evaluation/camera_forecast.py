"""How well the camera's next motion can be forecast from its past steps, on the corpus.

Every extrapolation rule and the refiner assume the camera's next step repeats its last.
Where the camera moves, the true next step's camera motion would be worth dBs (``camera
oracle`` in :mod:`vidpred.evaluation.extrapolation_rules`), so a better forecast of those
eight numbers a frame is the lever this module measures.

Per step of each corpus video, the camera's motion is the homography of the DIS flow from
a frame back to the one before (:func:`~vidpred.models.camera_motion.homographies`),
written as the displacement of the frame's four corners over the frame's width: eight
numbers, comparable across frame sizes. Each forecaster reads the steps before one and
predicts it; its errors over the corners, in pixels (the RMS, and a typical step's), are
reported against keeping the last step (constant velocity). Forecasters with parameters
are fitted on the training videos' steps, pooled, and scored on the videos of the subset
asked for:

* ``still``: no camera motion;
* ``last step``: constant velocity, the reference;
* ``mean of last 2`` / ``mean of last 3``: the last steps averaged;
* ``damped``: ``a * last + b * (last - step before)``, one ``a`` and ``b`` for all eight
  numbers, least squares;
* ``linear, last 3`` / ``linear, last 8``: a linear map of the last 3 or 8 steps (24 or 64
  numbers) to the next step's change from the last, ridge regression;
* ``MLP, last 8``: the same with one hidden layer of 64 units, L1 loss, 3,000 Adam steps
  (seed 0).

    python scripts/camera_forecast.py --subset val
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import torch

from vidpred.data.corpus import DEFAULT_CORPUS_ROOT, corpus_paths
from vidpred.data.video_io import read_video
from vidpred.models.camera_motion import homographies

__all__ = ["camera_steps", "step_windows", "fit_forecasters", "score_forecasts", "forecast_table"]

REFERENCE = "last step"
HISTORY = 8  # steps each forecaster may read (the longest one's window)
_RIDGE = 1e-4  # ridge penalty of the linear forecasters (the steps are corner displacements over the width)

Forecaster = Callable[[np.ndarray], np.ndarray]  # (n, HISTORY, 8) past steps -> (n, 8) next step


def camera_steps(frames: np.ndarray) -> np.ndarray:
    """The camera's motion over each step of a video, as its frame's corners move.

    Args:
        frames: uint8 ``(T, H, W, 3)`` RGB frames, ``T >= 2``.

    Returns:
        float64 ``(T - 1, 8)``: row ``t`` is where the homography of the DIS flow from frame
        ``t + 1`` back to frame ``t`` moves the four corners (top left, top right, bottom
        left, bottom right; x then y), minus the corners, over the width ``W``. NaN where
        no homography could be fitted. Resets OpenCV's random generator (RANSAC's draws).
    """
    if frames.ndim != 4 or len(frames) < 2:
        raise ValueError(f"frames must be (T >= 2, H, W, 3), got {frames.shape}")
    T, H, W = frames.shape[:3]
    estimator = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    cv2.setRNGSeed(0)  # RANSAC's draws: each video's steps the same whatever ran before
    grey = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
    corners = np.array([[0, 0, 1], [W - 1, 0, 1], [0, H - 1, 1], [W - 1, H - 1, 1]], np.float64)
    steps = np.full((T - 1, 8), np.nan)
    for t in range(T - 1):
        flow = torch.from_numpy(estimator.calc(grey[t + 1], grey[t], None)).permute(2, 0, 1)[None]
        (homography,) = homographies(flow)
        if homography is not None:
            mapped = corners @ homography.T
            steps[t] = ((mapped[:, :2] / mapped[:, 2:]) - corners[:, :2]).reshape(-1) / W
    return steps


def step_windows(steps: np.ndarray, history: int = HISTORY) -> tuple[np.ndarray, np.ndarray]:
    """Every run of ``history`` steps and the step after it, NaN-free: ``(n, history, 8)``, ``(n, 8)``."""
    past, following = [], []
    for t in range(history, len(steps)):
        window = steps[t - history:t + 1]
        if not np.isnan(window).any():
            past.append(window[:history])
            following.append(window[history])
    return np.array(past).reshape(-1, history, 8), np.array(following).reshape(-1, 8)


def _ridge(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.linalg.solve(x.T @ x + _RIDGE * np.eye(x.shape[1]), x.T @ y)


def _linear(past: np.ndarray, following: np.ndarray, k: int) -> Forecaster:
    weights = _ridge(past[:, -k:].reshape(len(past), -1), following - past[:, -1])
    return lambda x: x[:, -1] + x[:, -k:].reshape(len(x), -1) @ weights


def _damped(past: np.ndarray, following: np.ndarray) -> tuple[Forecaster, tuple[float, float]]:
    last, change = past[:, -1], past[:, -1] - past[:, -2]
    (a, b), *_ = np.linalg.lstsq(np.stack([last.ravel(), change.ravel()], 1), following.ravel(), rcond=None)
    return (lambda x: a * x[:, -1] + b * (x[:, -1] - x[:, -2])), (float(a), float(b))


def _mlp(past: np.ndarray, following: np.ndarray, seed: int = 0, iterations: int = 3000) -> Forecaster:
    generator = torch.Generator().manual_seed(seed)
    scale = float(past.std()) or 1.0
    with torch.random.fork_rng(devices=[]):  # the initial weights from the seed, the caller's generator untouched
        torch.manual_seed(seed)
        net = torch.nn.Sequential(torch.nn.Linear(past.shape[1] * 8, 64), torch.nn.GELU(), torch.nn.Linear(64, 8))
    optimizer = torch.optim.Adam(net.parameters(), 1e-3, weight_decay=1e-4)
    x = torch.as_tensor(past.reshape(len(past), -1) / scale, dtype=torch.float32)
    y = torch.as_tensor((following - past[:, -1]) / scale, dtype=torch.float32)
    for _ in range(iterations):
        batch = torch.randint(0, len(x), (256,), generator=generator)
        loss = (net(x[batch]) - y[batch]).abs().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    net.eval()

    def forecast(p: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            change = net(torch.as_tensor(p.reshape(len(p), -1) / scale, dtype=torch.float32)).double().numpy()
        return p[:, -1] + change * scale
    return forecast


def fit_forecasters(past: np.ndarray, following: np.ndarray) -> tuple[dict[str, Forecaster], dict[str, float]]:
    """The forecasters of the module's docstring, those with parameters fitted on ``(past, following)``.

    Returns ``(forecasters, fitted)``: name to forecaster, and the damped rule's ``a`` and ``b``.
    """
    if len(past) < 2 * HISTORY * 8:
        raise ValueError(f"need at least {2 * HISTORY * 8} windows to fit on, got {len(past)}")
    damped, (a, b) = _damped(past, following)
    forecasters: dict[str, Forecaster] = {
        "still": lambda x: np.zeros((len(x), 8)),
        REFERENCE: lambda x: x[:, -1],
        "mean of last 2": lambda x: x[:, -2:].mean(1),
        "mean of last 3": lambda x: x[:, -3:].mean(1),
        "damped": damped,
        "linear, last 3": _linear(past, following, 3),
        "linear, last 8": _linear(past, following, 8),
        "MLP, last 8": _mlp(past, following),
    }
    return forecasters, {"a": a, "b": b}


def _steps_of(paths: list[Path], progress: Callable[[str], None] | None) -> dict[str, tuple[np.ndarray, int]]:
    out = {}
    for path in paths:
        frames = read_video(path)
        out[path.name] = (camera_steps(frames), frames.shape[2])
        if progress:
            progress(f"{path.name}: {len(frames)} frames")
    return out


def _scored(forecasters: dict[str, Forecaster], steps: np.ndarray, width: int) -> dict | None:
    x, y = step_windows(steps)
    if not len(x):
        return None
    errors = {f: (forecast(x) - y) * width for f, forecast in forecasters.items()}
    return {"steps": len(x), "width": width,
            "rms": {f: float(np.sqrt((e ** 2).mean())) for f, e in errors.items()},
            "median": {f: float(np.median(np.abs(e).max(1))) for f, e in errors.items()}}


def _pooled(videos: list[tuple[np.ndarray, int]]) -> tuple[np.ndarray, np.ndarray]:
    windows = [step_windows(steps) for steps, _ in videos]
    return np.concatenate([p for p, _ in windows]), np.concatenate([f for _, f in windows])


def score_forecasts(subset: str = "val", root: str | Path = DEFAULT_CORPUS_ROOT,
                    progress: Callable[[str], None] | None = None) -> dict:
    """Fit on the training videos' steps; the corner errors (px) of every forecaster per video of ``subset``.

    ``subset`` ``"leave one out"`` scores each training and validation video with the
    forecasters fitted on all the others (more steps to learn from; a measurement, not a
    recipe: nothing chosen this way may be scored on validation).

    Returns ``{"fitted": {"a", "b", "windows"}, "videos": {name: {"steps", "width", "rms", "median"}}}``:
    ``rms`` the RMS error of the corners' displacements and ``median`` the median over the
    steps of the worst corner's error (a typical step's; the RMS is the large steps'), each
    ``{forecaster: px}``. For ``"leave one out"``, ``fitted`` holds the fits' ranges as
    ``(low, high)``.
    """
    if subset not in ("train", "val", "test", "leave one out"):
        raise ValueError(f"subset must be train, val, test or leave one out, got {subset!r}")
    training = _steps_of(corpus_paths(root, "train"), progress)
    if subset == "leave one out":
        pool = {**training, **_steps_of(corpus_paths(root, "val"), progress)}
        videos, fits = {}, []
        for held_out, (steps, width) in pool.items():
            past, following = _pooled([v for n, v in pool.items() if n != held_out])
            forecasters, fitted = fit_forecasters(past, following)
            fits.append({**fitted, "windows": len(past)})
            if (row := _scored(forecasters, steps, width)) is not None:
                videos[held_out] = row
        ranges = {key: (min(f[key] for f in fits), max(f[key] for f in fits)) for key in ("a", "b", "windows")}
        return {"fitted": ranges, "videos": videos}
    past, following = _pooled(list(training.values()))
    forecasters, fitted = fit_forecasters(past, following)
    scored = training if subset == "train" else _steps_of(corpus_paths(root, subset), progress)
    videos = {name: row for name, (steps, width) in scored.items()
              if (row := _scored(forecasters, steps, width)) is not None}
    return {"fitted": {**fitted, "windows": len(past)}, "videos": videos}


def forecast_table(scores: dict) -> str:
    """Markdown: per video, the last step's errors and every forecaster's as ratios of them."""
    videos = scores["videos"]
    names = [n for n in next(iter(videos.values()))["rms"] if n != REFERENCE]
    fitted = scores["fitted"]
    if isinstance(fitted["a"], tuple):  # leave one out: one fit per video held out
        fit = (f"Each video scored by forecasters fitted on the other training and validation videos' steps "
               f"({fitted['windows'][0]}-{fitted['windows'][1]} windows; `damped`: a = {fitted['a'][0]:.3f} to "
               f"{fitted['a'][1]:.3f}, b = {fitted['b'][0]:+.3f} to {fitted['b'][1]:+.3f}).")
    else:
        fit = (f"Fitted on {fitted['windows']} windows of the training videos' steps; `damped`: "
               f"a = {fitted['a']:.3f}, b = {fitted['b']:+.3f}.")
    lines = [fit + " Errors of the next step's corner displacements, px: the RMS over all steps (the large "
             "steps weigh most) / the median over the steps of the worst corner's (a typical step). Each "
             "forecaster as ratios of the last step's (below 1: better).", "",
             "| video | steps | last step, px | " + " | ".join(names) + " |",
             "|---|---|---|" + "---|" * len(names)]

    def ratio(value: float, reference: float) -> str:
        return f"{value / reference:.2f}" if reference > 0 else "-"
    for name, row in videos.items():
        rms, median = row["rms"], row["median"]
        cells = " | ".join(f"{ratio(rms[n], rms[REFERENCE])} / {ratio(median[n], median[REFERENCE])}" for n in names)
        lines.append(f"| {name} | {row['steps']} | {rms[REFERENCE]:.3f} / {median[REFERENCE]:.3f} | {cells} |")
    return "\n".join(lines) + "\n"
