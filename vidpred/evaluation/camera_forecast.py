"""How well the camera's next motion can be forecast from its past steps, on the corpus and on recorded paths.

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

:func:`score_paths` scores the same forecasters on recorded camera paths (motion capture and
odometry ground truth, :mod:`vidpred.data.camera_paths`, written as the same eight numbers):
each path fitted on the other paths, and each path's later half fitted on its earlier half;
``score_forecasts(fit_on=...)`` fits on those paths and scores corpus videos.

Given a ``stop`` (:class:`~vidpred.cli.StopRequest`), both stop at its first signal once the
video (or path) in hand is done and return the ones scored, the first in order, marked
partial under ``"partial"`` (:mod:`vidpred.evaluation.partial`); a stop while the videos
fitted on are still being measured leaves nothing to score (``KeyboardInterrupt``).

    python scripts/camera_forecast.py --subset val
    python scripts/camera_forecast.py --subset paths --fetch-paths
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import torch

from vidpred.cli import StopRequest
from vidpred.data.camera_paths import FRAME
from vidpred.data.corpus import DEFAULT_CORPUS_ROOT, corpus_paths
from vidpred.data.video_io import read_video
from vidpred.evaluation.partial import partial_mark
from vidpred.models.camera_motion import homographies
from vidpred.models.optical_flow import dis_flow_grey
from vidpred.safe_write import image_has_mark, save_marked_figure

__all__ = ["camera_steps", "step_windows", "fit_forecasters", "score_forecasts", "score_paths", "forecast_table",
           "plot_path_forecasts", "is_our_figure"]

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
    cv2.setRNGSeed(0)  # RANSAC's draws: each video's steps the same whatever ran before
    grey = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
    corners = np.array([[0, 0, 1], [W - 1, 0, 1], [0, H - 1, 1], [W - 1, H - 1, 1]], np.float64)
    steps = np.full((T - 1, 8), np.nan)
    for t in range(T - 1):
        flow = torch.from_numpy(dis_flow_grey(grey[t + 1], grey[t])).permute(2, 0, 1)[None]
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
    """Weights ``(d, 8)`` of the ridge regression (penalty :data:`_RIDGE`) of ``y`` ``(n, 8)`` on ``x`` ``(n, d)``."""
    return np.linalg.solve(x.T @ x + _RIDGE * np.eye(x.shape[1]), x.T @ y)


def _linear(past: np.ndarray, following: np.ndarray, k: int) -> Forecaster:
    """``linear, last <k>``: the last step plus a ridge-fitted linear map of the last ``k`` steps."""
    weights = _ridge(past[:, -k:].reshape(len(past), -1), following - past[:, -1])
    return lambda x: x[:, -1] + x[:, -k:].reshape(len(x), -1) @ weights


def _damped(past: np.ndarray, following: np.ndarray) -> tuple[Forecaster, tuple[float, float]]:
    """``damped``: ``a * last + b * (last - step before)``, ``a`` and ``b`` by least squares over all eight numbers."""
    last, change = past[:, -1], past[:, -1] - past[:, -2]
    (a, b), *_ = np.linalg.lstsq(np.stack([last.ravel(), change.ravel()], 1), following.ravel(), rcond=None)
    return (lambda x: a * x[:, -1] + b * (x[:, -1] - x[:, -2])), (float(a), float(b))


def _mlp(past: np.ndarray, following: np.ndarray, seed: int = 0, iterations: int = 3000) -> Forecaster:
    """``MLP, last 8``: the last step plus one hidden layer's (64 units) forecast of the change,
    trained with an L1 loss by Adam on batches of 256 windows, inputs scaled by the steps' spread."""
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


def _steps_of(paths: list[Path], progress: Callable[[str], None] | None,
              stopped: Callable[[], bool] = lambda: False) -> dict[str, tuple[np.ndarray, int]]:
    """Each video's camera steps and width, in order, until ``stopped()``."""
    out = {}
    for path in paths:
        if stopped():
            break
        frames = read_video(path)
        out[path.name] = (camera_steps(frames), frames.shape[2])
        if progress:
            progress(f"{path.name}: {len(frames)} frames")
    return out


def _scored(forecasters: dict[str, Forecaster], past: np.ndarray, following: np.ndarray, width: int) -> dict | None:
    """One row of :func:`score_forecasts`' ``videos``: each forecaster's corner errors in px at
    ``width`` (None without a window to score)."""
    if not len(past):
        return None
    errors = {f: (forecast(past) - following) * width for f, forecast in forecasters.items()}
    return {"steps": len(past), "width": width,
            "rms": {f: float(np.sqrt((e ** 2).mean())) for f, e in errors.items()},
            "median": {f: float(np.median(np.abs(e).max(1))) for f, e in errors.items()}}


def _all_steps_of(paths: list[Path], progress: Callable[[str], None] | None,
                  stopped: Callable[[], bool]) -> dict[str, tuple[np.ndarray, int]]:
    """:func:`_steps_of` every video, for a fit: a stop before the last leaves nothing to fit on."""
    steps = _steps_of(paths, progress, stopped)
    if len(steps) < len(paths):
        raise KeyboardInterrupt
    return steps


def _stopped(stop: StopRequest | None) -> Callable[[], bool]:
    return lambda: stop is not None and stop.signal is not None


def _partial(n_scored: int, n_planned: int, stop: StopRequest | None, unit: str) -> dict:
    """``{"partial": mark}`` (:func:`~vidpred.evaluation.partial.partial_mark`) when a stop left
    some unscored, else ``{}``; ``KeyboardInterrupt`` when it left none scored."""
    mark = partial_mark(n_scored, n_planned, None if stop is None else stop.signal, unit)
    return {"partial": mark} if mark else {}


def _pooled(pieces: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The windows of every piece of steps, pooled: ``(n, HISTORY, 8)``, ``(n, 8)``."""
    windows = [step_windows(steps) for steps in pieces]
    return np.concatenate([p for p, _ in windows]), np.concatenate([f for _, f in windows])


def _fit_text(fits: list[dict], what: str) -> str:
    """One sentence: what the forecasters were fitted on, and the damped rule's fit (ranges over ``fits``)."""
    def span(key: str, form: str) -> str:
        low, high = min(f[key] for f in fits), max(f[key] for f in fits)
        return format(low, form) if low == high else f"{low:{form}} to {high:{form}}"
    return (f"{what} ({span('windows', 'd')} windows; `damped`: a = {span('a', '.3f')}, "
            f"b = {span('b', '+.3f')}).")


def score_forecasts(subset: str = "val", root: str | Path = DEFAULT_CORPUS_ROOT,
                    progress: Callable[[str], None] | None = None,
                    fit_on: dict[str, list[np.ndarray]] | None = None, stop: StopRequest | None = None) -> dict:
    """Fit on the training videos' steps; the corner errors (px) of every forecaster per video of ``subset``.

    ``subset`` ``"leave one out"`` scores each training and validation video with the
    forecasters fitted on all the others (more steps to learn from; a measurement, not a
    recipe: nothing chosen this way may be scored on validation). ``fit_on``: fit on these
    steps instead of the training videos' (name to pieces of steps, as
    :func:`vidpred.data.camera_paths.path_steps` gives the motion-capture paths'); not with
    ``"leave one out"``.

    Returns ``{"fit": sentence, "videos": {name: {"steps", "width", "rms", "median"}}}``:
    ``rms`` the RMS error of the corners' displacements and ``median`` the median over the
    steps of the worst corner's error (a typical step's; the RMS is the large steps'), each
    ``{forecaster: px}``; ``fit`` says what the forecasters were fitted on. ``stop``: installed
    while the videos are measured and scored (see the module docstring).
    """
    if subset not in ("train", "val", "test", "leave one out"):
        raise ValueError(f"subset must be train, val, test or leave one out, got {subset!r}")
    if subset == "leave one out" and fit_on is not None:
        raise ValueError("leave one out fits on the corpus's other videos, not on fit_on")
    with stop or contextlib.nullcontext():
        return _score_forecasts(subset, root, progress, fit_on, stop)


def _score_forecasts(subset: str, root: str | Path, progress: Callable[[str], None] | None,
                     fit_on: dict[str, list[np.ndarray]] | None, stop: StopRequest | None) -> dict:
    stopped = _stopped(stop)
    if subset == "leave one out":
        pool = _all_steps_of(corpus_paths(root, "train") + corpus_paths(root, "val"), progress, stopped)
        videos, fits, n_scored = {}, [], 0
        for held_out, (steps, width) in pool.items():
            if stopped():
                break
            past, following = _pooled([v for n, (v, _) in pool.items() if n != held_out])
            forecasters, fitted = fit_forecasters(past, following)
            fits.append({**fitted, "windows": len(past)})
            if (row := _scored(forecasters, *step_windows(steps), width)) is not None:
                videos[held_out] = row
            n_scored += 1
        partial = _partial(n_scored, len(pool), stop, "videos")
        return {"fit": _fit_text(fits, "Each video scored by forecasters fitted on the other training and "
                                       "validation videos' steps"), "videos": videos, **partial}
    training = _all_steps_of(corpus_paths(root, "train"), progress, stopped) if fit_on is None or subset == "train" else {}
    pieces = [steps for steps, _ in training.values()] if fit_on is None else [p for v in fit_on.values() for p in v]
    past, following = _pooled(pieces)
    forecasters, fitted = fit_forecasters(past, following)
    planned = list(training) if subset == "train" else corpus_paths(root, subset)
    scored = training if subset == "train" else _steps_of(planned, progress, stopped)
    videos = {name: row for name, (steps, width) in scored.items()
              if (row := _scored(forecasters, *step_windows(steps), width)) is not None}
    what = "Fitted on the training videos' steps" if fit_on is None else f"Fitted on the steps of {', '.join(fit_on)}"
    return {"fit": _fit_text([{**fitted, "windows": len(past)}], what), "videos": videos,
            **_partial(len(scored), len(planned), stop, "videos")}


def score_paths(paths: dict[str, list[np.ndarray]], width: int = FRAME[0],
                stop: StopRequest | None = None) -> dict[str, dict]:
    """Forecasters on recorded camera paths, two ways (each as :func:`score_forecasts` returns it).

    Args:
        paths: name to pieces of steps (:func:`vidpred.data.camera_paths.path_steps`).
        width: the frame width the steps are over (errors in px at that width).

    Returns:
        ``{"other paths": ..., "own past": ...}``: each path scored by the forecasters
        fitted on all the other paths; and each path's later half scored by those fitted
        on its earlier half (a forecaster learned along the video); and ``"partial"`` when
        ``stop`` (installed while the paths are scored) left some unscored.
    """
    if len(paths) < 2:
        raise ValueError(f"need at least two paths, got {len(paths)}")
    windows = {name: _pooled(pieces) for name, pieces in paths.items()}
    others, fits_others, own, fits_own = {}, [], {}, []
    with stop or contextlib.nullcontext():
        for name, (past, following) in windows.items():
            if _stopped(stop)():
                break
            rest = [w for n, w in windows.items() if n != name]
            forecasters, fitted = fit_forecasters(np.concatenate([p for p, _ in rest]),
                                                  np.concatenate([f for _, f in rest]))
            fits_others.append({**fitted, "windows": sum(len(p) for p, _ in rest)})
            others[name] = _scored(forecasters, past, following, width)
            half = len(past) // 2
            forecasters, fitted = fit_forecasters(past[:half], following[:half])
            fits_own.append({**fitted, "windows": half})
            own[name] = _scored(forecasters, past[half:], following[half:], width)
    partial = _partial(len(others), len(paths), stop, "paths")
    return {"other paths": {"fit": _fit_text(fits_others, "Each path scored by forecasters fitted on the other "
                                                          "paths' steps"), "videos": others},
            "own past": {"fit": _fit_text(fits_own, "Each path's later half scored by forecasters fitted on its "
                                                    "earlier half"), "videos": own}, **partial}


def forecast_table(scores: dict, rows: str = "video") -> str:
    """Markdown: per video (or what ``rows`` names), the last step's errors and every forecaster's as ratios of them."""
    videos = scores["videos"]
    names = [n for n in next(iter(videos.values()))["rms"] if n != REFERENCE]
    lines = [scores["fit"] + " Errors of the next step's corner displacements, px: the RMS over all steps (the large "
             "steps weigh most) / the median over the steps of the worst corner's (a typical step). Each "
             "forecaster as ratios of the last step's (below 1: better).", "",
             f"| {rows} | steps | last step, px | " + " | ".join(names) + " |",
             "|---|---|---|" + "---|" * len(names)]

    def ratio(value: float, reference: float) -> str:
        return f"{value / reference:.2f}" if reference > 0 else "-"
    for name, row in videos.items():
        rms, median = row["rms"], row["median"]
        cells = " | ".join(f"{ratio(rms[n], rms[REFERENCE])} / {ratio(median[n], median[REFERENCE])}" for n in names)
        lines.append(f"| {name} | {row['steps']} | {rms[REFERENCE]:.3f} / {median[REFERENCE]:.3f} | {cells} |")
    return "\n".join(lines) + "\n"


_SOFTWARE = "vidpred camera_forecast"


def plot_path_forecasts(paths: dict[str, list[np.ndarray]], out: str | Path, width: int = FRAME[0],
                        n_steps: int = 90) -> Path:
    """PNG, one panel a path: ``n_steps`` true steps of its later half (the frame's horizontal
    motion, the four corners' mean, px) beside two forecasts of each: the last step, and
    ``linear, last 8`` fitted on the path's earlier half (as :func:`score_paths` fits it)."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(paths), 1, figsize=(10, 2.3 * len(paths)), squeeze=False)
    for ax, (name, pieces) in zip(axes[:, 0], paths.items()):
        past, following = _pooled(pieces)
        half = len(past) // 2
        linear = _linear(past[:half], following[:half], 8)  # the one fit drawn; the others are not refitted
        shown = slice(half, half + n_steps)

        def pan(steps: np.ndarray) -> np.ndarray:  # (n, 8) -> (n,): the corners' mean x, px
            return steps[:, 0::2].mean(1) * width
        ax.plot(pan(following[shown]), color="black", linewidth=1.6, label="true step")
        for label, forecast, style in ((REFERENCE, lambda x: x[:, -1], "--"), ("linear, last 8", linear, ":")):
            ax.plot(pan(forecast(past[shown])), style, linewidth=1.2, label=label)
        ax.axhline(0, color="grey", linewidth=0.6)
        ax.set_title(name, fontsize=9, loc="left")
        ax.set_ylabel("x motion, px")
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=8, loc="upper right", ncol=3)
    axes[-1, 0].set_xlabel("step of the path's later half")
    fig.tight_layout()
    return save_marked_figure(fig, out, _SOFTWARE)


def is_our_figure(path: str | Path) -> bool:
    """Whether ``path`` is a PNG written by :func:`plot_path_forecasts`."""
    return image_has_mark(path, "PNG", "Software", _SOFTWARE)
