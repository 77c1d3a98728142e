"""Forecasts of the camera's next step: the steps measured, the windows, the fits and the table."""

import cv2
import numpy as np
import pytest

from vidpred.evaluation.camera_forecast import (REFERENCE, camera_steps, fit_forecasters, forecast_table,
                                                step_windows)


def _texture(H, W, seed=0):
    noise = np.random.default_rng(seed).random((H, W)).astype(np.float32)
    smooth = cv2.GaussianBlur(noise, (0, 0), 2.0)
    smooth = (smooth - smooth.min()) / (smooth.max() - smooth.min())
    return np.repeat((smooth * 255).astype(np.uint8)[..., None], 3, axis=-1)


def test_a_pan_by_whole_pixels_moves_every_corner_by_the_pan():
    H, W, shifts = 96, 128, [(3, 0), (3, -2), (1, 2)]  # the camera's content moves (dx, dy) a step
    big = _texture(H + 40, W + 40)
    x, y, frames = 20, 20, []
    for dx, dy in [(0, 0)] + shifts:
        x, y = x - dx, y - dy  # the window moves against the content
        frames.append(big[y:y + H, x:x + W])
    steps = camera_steps(np.stack(frames))
    assert steps.shape == (3, 8)
    # frame t+1 at p shows frame t at p - (dx, dy): the step's backward flow is -(dx, dy) at every corner
    expected = np.array([[-dx, -dy] * 4 for dx, dy in shifts]) / W
    np.testing.assert_allclose(steps * W, expected * W, atol=0.1)


def test_windows_skip_every_run_that_holds_a_step_without_a_homography():
    steps = np.arange(12 * 8, dtype=float).reshape(12, 8)
    steps[5] = np.nan
    past, following = step_windows(steps, history=3)
    # runs of 4 steps (3 read, 1 forecast) from t = 3..11; those touching step 5 (t = 5..8) are gone
    assert past.shape == (5, 3, 8) and following.shape == (5, 8)
    np.testing.assert_array_equal(following[:, 0], steps[[3, 4, 9, 10, 11], 0])
    np.testing.assert_array_equal(past[2], steps[6:9])


def test_the_fits_recover_a_known_damped_camera_and_beat_the_last_step_on_it():
    rng = np.random.default_rng(0)
    a, b = 0.8, 0.8  # next = 1.6 last - 0.8 before: a camera swaying back and forth
    steps = np.zeros((1500, 8))
    steps[:2] = rng.normal(0, 1e-2, (2, 8))
    for t in range(2, len(steps)):
        steps[t] = a * steps[t - 1] + b * (steps[t - 1] - steps[t - 2]) + rng.normal(0, 1e-3, 8)
    past, following = step_windows(steps[:1000])
    forecasters, fitted = fit_forecasters(past, following)
    assert fitted["a"] == pytest.approx(a, abs=0.02) and fitted["b"] == pytest.approx(b, abs=0.02)
    x, y = step_windows(steps[1000:])
    rms = {name: np.sqrt(((f(x) - y) ** 2).mean()) for name, f in forecasters.items()}
    np.testing.assert_array_equal(forecasters[REFERENCE](x), x[:, -1])
    np.testing.assert_array_equal(forecasters["still"](x), np.zeros_like(y))
    np.testing.assert_allclose(forecasters["mean of last 3"](x), x[:, -3:].mean(1))
    noise = 1e-3  # the process's own, the best any forecaster can do
    for name in ("damped", "linear, last 3", "linear, last 8"):
        assert rms[name] < 1.1 * noise < rms[REFERENCE], (name, rms)
    assert rms["MLP, last 8"] < rms[REFERENCE]


def test_too_few_windows_to_fit_on_is_refused():
    with pytest.raises(ValueError, match="need at least"):
        fit_forecasters(np.zeros((10, 8, 8)), np.zeros((10, 8)))


def test_the_table_gives_each_forecaster_as_a_ratio_of_the_last_steps_error():
    scores = {"fit": "Fitted on the training videos' steps (300 windows; `damped`: a = 0.800, b = -0.100).",
              "videos": {"pan": {"steps": 40, "width": 640, "rms": {"still": 4.0, REFERENCE: 2.0, "damped": 1.0},
                                 "median": {"still": 0.5, REFERENCE: 0.25, "damped": 0.3}}}}
    table = forecast_table(scores)
    assert "| video | steps | last step, px | still | damped |" in table
    assert "| pan | 40 | 2.000 / 0.250 | 2.00 / 2.00 | 0.50 / 1.20 |" in table
    assert table.startswith("Fitted on the training videos' steps (300 windows; `damped`: a = 0.800, b = -0.100). Errors")


def test_leaving_one_out_fits_each_video_on_all_the_others(monkeypatch):
    from vidpred.evaluation import camera_forecast

    rng = np.random.default_rng(1)
    lengths = {"train": {"a": 200, "b": 300}, "val": {"c": 150}}
    steps = {name: rng.normal(0, 1e-3, (n, 8)) for split in lengths.values() for name, n in split.items()}
    monkeypatch.setattr(camera_forecast, "corpus_paths", lambda root, subset: list(lengths[subset]))
    monkeypatch.setattr(camera_forecast, "_steps_of",
                        lambda names, progress, stopped: {n: (steps[n], 100) for n in names})
    scores = camera_forecast.score_forecasts("leave one out", root="unused")
    assert list(scores["videos"]) == ["a", "b", "c"]
    windows = {n: len(s) - camera_forecast.HISTORY for n, s in steps.items()}  # each video's own windows
    total = sum(windows.values())
    assert all(scores["videos"][n]["steps"] == windows[n] for n in steps)
    # the fits' sizes: the most windows when the smallest video is left out
    assert f"({total - windows['b']} to {total - windows['c']} windows; `damped`: a = " in scores["fit"]


def test_forecasters_fitted_on_other_steps_score_the_corpus_videos(monkeypatch):
    from vidpred.evaluation import camera_forecast

    rng = np.random.default_rng(3)
    videos = {"val": {"c": rng.normal(0, 1e-3, (150, 8))}}
    monkeypatch.setattr(camera_forecast, "corpus_paths", lambda root, subset: list(videos.get(subset, {"t": 0})))
    seen = []
    monkeypatch.setattr(camera_forecast, "_steps_of",
                        lambda names, progress, stopped: seen.extend(names) or {n: (videos["val"][n], 100) for n in names})
    fit_on = {"path 1": [rng.normal(0, 1e-3, (100, 8)), rng.normal(0, 1e-3, (60, 8))], "path 2": [rng.normal(0, 1e-3, (90, 8))]}
    scores = camera_forecast.score_forecasts("val", root="unused", fit_on=fit_on)
    assert seen == ["c"]  # the training videos' steps are not measured when nothing is fitted on them
    assert scores["videos"]["c"]["steps"] == 150 - camera_forecast.HISTORY
    n_windows = (100 - 8) + (60 - 8) + (90 - 8)  # windows never span two pieces
    assert scores["fit"].startswith(f"Fitted on the steps of path 1, path 2 ({n_windows} windows;")
    with pytest.raises(ValueError, match="not on fit_on"):
        camera_forecast.score_forecasts("leave one out", root="unused", fit_on=fit_on)


def test_paths_are_scored_fitted_on_the_others_and_on_their_own_earlier_half(monkeypatch):
    from vidpred.evaluation import camera_forecast
    from vidpred.evaluation.camera_forecast import score_paths

    fit_mlp = camera_forecast._mlp
    monkeypatch.setattr(camera_forecast, "_mlp", lambda past, following: fit_mlp(past, following, iterations=100))
    rng = np.random.default_rng(4)

    def swaying(n, a, b):  # next = a last + b (last - before) + noise
        steps = np.zeros((n, 8))
        for t in range(2, n):
            steps[t] = a * steps[t - 1] + b * (steps[t - 1] - steps[t - 2]) + rng.normal(0, 1e-3, 8)
        return steps
    # two paths sway one way, the third another: fitted on its own past, that one is forecast well
    paths = {"p": [swaying(600, 0.9, -0.3)], "q": [swaying(600, 0.9, -0.3)], "odd": [swaying(600, 0.5, 0.8)]}
    scores = score_paths(paths, width=100)
    others, own = scores["other paths"], scores["own past"]
    assert set(others["videos"]) == set(own["videos"]) == set(paths)
    assert others["videos"]["odd"]["steps"] == 592 and own["videos"]["odd"]["steps"] == 592 - 296
    assert "(1184 windows; `damped`: a = " in others["fit"] and "(296 windows;" in own["fit"]
    rms = lambda s, name: s["videos"][name]["rms"]["damped"] / s["videos"][name]["rms"][REFERENCE]
    assert rms(own, "odd") < 0.8 * rms(others, "odd")
    with pytest.raises(ValueError, match="two paths"):
        score_paths({"p": paths["p"]})


def test_fitting_leaves_the_callers_random_generator_alone():
    import torch

    rng = np.random.default_rng(2)
    past, following = rng.normal(0, 1e-3, (200, 8, 8)), rng.normal(0, 1e-3, (200, 8))
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    first, _ = fit_forecasters(past, following)
    assert torch.equal(torch.rand(3), expected)
    second, _ = fit_forecasters(past, following)  # and the MLP is the same fit each time
    np.testing.assert_array_equal(first["MLP, last 8"](past[:5]), second["MLP, last 8"](past[:5]))


def test_the_mlp_learns_the_change_in_the_steps_own_units():
    from vidpred.evaluation.camera_forecast import _mlp

    rng = np.random.default_rng(0)
    past, check = rng.normal(0, 1e-2, (400, 8, 8)), rng.normal(0, 1e-2, (200, 8, 8))
    forecast = _mlp(past, 1.5 * past[:, -1], iterations=300)  # the next step: half again the last
    error, change = forecast(check) - 1.5 * check[:, -1], 0.5 * check[:, -1]
    assert np.sqrt((error ** 2).mean()) < 0.4 * np.sqrt((change ** 2).mean())


def test_the_figure_draws_each_paths_true_steps_beside_the_last_step_and_the_linear_forecast(tmp_path, monkeypatch):
    from vidpred.evaluation import camera_forecast

    figures = []
    monkeypatch.setattr(camera_forecast, "save_marked_figure", lambda fig, path, software: figures.append(fig) or path)
    rng = np.random.default_rng(5)
    paths = {"hand": [rng.normal(0, 1e-2, (300, 8))], "drone": [rng.normal(0, 1e-2, (260, 8))]}
    camera_forecast.plot_path_forecasts(paths, tmp_path / "paths.png", width=100, n_steps=40)
    axes = figures[0].axes
    assert [ax.get_title(loc="left") for ax in axes] == ["hand", "drone"]
    assert [t.get_text() for t in axes[0].get_legend().get_texts()] == ["true step", "last step", "linear, last 8"]
    for ax, (steps,) in zip(axes, paths.values()):
        past, following = step_windows(steps)
        half = len(past) // 2
        x = past[:half, -8:].reshape(half, -1)  # ridge regression of the change on the last 8 steps
        weights = np.linalg.solve(x.T @ x + 1e-4 * np.eye(64), x.T @ (following[:half] - past[:half, -1]))
        shown = past[half:half + 40]
        linear = shown[:, -1] + shown.reshape(40, -1) @ weights
        pan = lambda s: s[:, 0::2].mean(1) * 100  # the corners' mean x, px
        true, last, fitted = (line.get_ydata() for line in ax.lines[:3])
        np.testing.assert_allclose(true, pan(following[half:half + 40]))
        np.testing.assert_allclose(last, pan(shown[:, -1]))
        np.testing.assert_allclose(fitted, pan(linear), rtol=1e-6)


def test_each_step_is_where_its_homography_moves_the_four_corners_over_the_width(monkeypatch):
    from vidpred.evaluation import camera_forecast

    zoom = np.diag([2.0, 2.0, 1.0])  # every point twice as far from the top left corner
    tilt = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.01, 0.0, 1.0]])  # the right side 1.09 times nearer
    fitted = iter([zoom, None, tilt])
    monkeypatch.setattr(camera_forecast, "homographies", lambda flow: (next(fitted),))
    steps = camera_steps(np.zeros((4, 6, 10, 3), np.uint8))  # corners (0, 0), (9, 0), (0, 5), (9, 5)
    np.testing.assert_allclose(steps[0], np.array([0, 0, 9, 0, 0, 5, 9, 5]) / 10)
    assert np.isnan(steps[1]).all()  # no homography fitted
    np.testing.assert_allclose(steps[2] * 10, [0, 0, 9 / 1.09 - 9, 0, 0, 0, 9 / 1.09 - 9, 5 / 1.09 - 5])


def test_fewer_windows_than_two_per_linear_weight_are_refused():
    with pytest.raises(ValueError, match="need at least 128 windows to fit on, got 100"):
        fit_forecasters(np.zeros((100, 8, 8)), np.zeros((100, 8)))


def test_corpus_scores_are_each_forecasters_errors_in_px_and_a_short_video_is_not_a_stop(monkeypatch):
    from vidpred.evaluation import camera_forecast

    rng = np.random.default_rng(5)
    videos = {"train": {"t": rng.normal(0, 1e-3, (200, 8))},
              "val": {"c": rng.normal(0, 1e-3, (150, 8)), "short": rng.normal(0, 1e-3, (5, 8))}}  # no window
    steps = {n: s for split in videos.values() for n, s in split.items()}
    monkeypatch.setattr(camera_forecast, "corpus_paths", lambda root, subset: list(videos[subset]))
    monkeypatch.setattr(camera_forecast, "_steps_of",
                        lambda names, progress, stopped: {n: (steps[n], 640) for n in names})
    scores = camera_forecast.score_forecasts("val", root="unused")
    assert "partial" not in scores and list(scores["videos"]) == ["c"]  # every video scored; the short one has no row
    past, following = camera_forecast.step_windows(steps["c"])
    row = scores["videos"]["c"]
    last = (past[:, -1] - following) * 640
    assert row["rms"][REFERENCE] == pytest.approx(np.sqrt((last ** 2).mean()))
    assert row["median"][REFERENCE] == pytest.approx(np.median(np.abs(last).max(1)))  # the worst corner's
    mean2 = (past[:, -2:].mean(1) - following) * 640
    assert row["rms"]["mean of last 2"] == pytest.approx(np.sqrt((mean2 ** 2).mean()))


def test_the_training_videos_are_scored_by_forecasters_fitted_on_other_steps(monkeypatch):
    from vidpred.evaluation import camera_forecast

    rng = np.random.default_rng(6)
    train = {"t1": rng.normal(0, 1e-3, (120, 8)), "t2": rng.normal(0, 1e-3, (100, 8))}
    monkeypatch.setattr(camera_forecast, "corpus_paths", lambda root, subset: list(train) if subset == "train" else [])
    monkeypatch.setattr(camera_forecast, "_steps_of",
                        lambda names, progress, stopped: {n: (train[n], 100) for n in names})
    fit_on = {"path": [rng.normal(0, 1e-3, (300, 8))]}
    scores = camera_forecast.score_forecasts("train", root="unused", fit_on=fit_on)
    assert list(scores["videos"]) == ["t1", "t2"] and "partial" not in scores
    assert scores["fit"].startswith("Fitted on the steps of path (292 windows;")


def test_a_still_camera_has_no_ratio_to_the_last_steps_error():
    scores = {"fit": "Fitted.", "videos": {"tripod": {"steps": 10, "width": 640,
                                                      "rms": {"still": 0.0, REFERENCE: 0.0},
                                                      "median": {"still": 0.0, REFERENCE: 0.0}}}}
    assert "| tripod | 10 | 0.000 / 0.000 | - / - |" in forecast_table(scores)
