"""The figures the README and docs/results.md quote for the shipped model, recomputed from
the measurements stored beside them (docs/benchmarks/): a table edited by hand, or a
benchmark run again without its table, fails here."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from vidpred.evaluation.lever_map import read_report
from vidpred.evaluation.paired import paired_difference

ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = ROOT / "docs" / "benchmarks"
MODEL = "refiner (shipped)"
BASELINES = {"last input": "copy", "Farneback flow (paper)": "Farneback", "DIS flow": "DIS"}
VIDEOS = {"mire-2": "test/mire-2", "cube": "test/cube", "Pexels": "test/WolfgangLanger_Pexels.mp4",
          "carphone": "test/carphone_pristine.mp4", "vtest": "test/vtest", "tree.avi": "test/tree.avi"}


def _table(doc: Path, header: str) -> list[list[str]]:
    """The cells of each row of the Markdown table under the line starting with ``header``."""
    lines = doc.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def _video(cell: str) -> str:
    return VIDEOS[cell.split(" (")[0]]


def _clips(report: str) -> dict[str, list[dict]]:
    by_video: dict[str, list[dict]] = {}
    for clip in read_report(BENCHMARKS / report)[1]:
        by_video.setdefault(clip["source"], []).append(clip)
    return by_video


def _mean(rows: list[dict], method: str, key: str) -> float:
    return float(np.mean([row["scores"][method][key] for row in rows]))


def _better(rows: list[dict], key: str) -> str:
    """The baseline with the higher mean, as the benchmark's overview picks it."""
    return max(BASELINES, key=lambda b: _mean(rows, b, key))


def _difference(rows: list[dict], b: str, key: str) -> str:
    """``model - b`` as the README writes it: mean ± s.e., a typographic minus, no win count."""
    return paired_difference(rows, MODEL, b, key).text(2).split(" (")[0].replace("-", "−")


KEYS = ("psnr_whole_f1", "psnr_whole_f2")


def test_the_readme_results_table_is_the_stored_test_benchmark():
    rows = _table(ROOT / "README.md", "| video (camera) | refiner | better baseline |")
    assert [_video(r[0]) for r in rows] == list(VIDEOS.values())
    clips, pans, zooms, rolls = (_clips(f"test_refined{m}") for m in ("", "_steady_pan", "_steady_zoom", "_steady_roll"))
    for video, model, better, margin, pan, zoom, roll in rows:
        these = clips[_video(video)]
        assert model == " / ".join(f"{_mean(these, MODEL, key):.2f}" for key in KEYS), video
        assert better == " / ".join(f"{BASELINES[_better(these, key)]} {_mean(these, _better(these, key), key):.2f}"
                                    for key in KEYS), video
        assert margin == " / ".join(_difference(these, _better(these, key), key) for key in KEYS), video
        assert pan == " / ".join(_difference(pans[_video(video)], "DIS flow", key) for key in KEYS), video
        for cell, steady in ((zoom, zooms), (roll, rolls)):
            moved = steady[_video(video)]
            assert cell == " / ".join(_difference(moved, _better(moved, key), key) for key in KEYS), video


def test_the_one_step_table_is_the_stored_per_frame_scores():
    rows = _table(ROOT / "docs" / "results.md", "| video | frames | refiner | copying | DIS extrapolation |")
    assert len(rows) == len(VIDEOS)
    for video, frames, model, copying, dis, wins_copying, wins_dis in rows:
        name = Path(_video(video)).name.split(".")[0]
        with open(BENCHMARKS / "one_step" / f"{name}.csv", newline="") as f:
            scores: dict[str, list[float]] = {}
            for row in csv.DictReader(f):
                scores.setdefault(row["method"], []).append(float(row["psnr"]))
        psnr = {method: np.array(values) for method, values in scores.items()}
        ours = psnr["pretrained/refiner"]
        assert int(frames) == len(ours), video
        assert [model, copying, dis] == [f"{psnr[m].mean():.2f}" for m in ("pretrained/refiner", "last input",
                                                                           "DIS flow")], video
        assert [int(wins_copying), int(wins_dis)] == [int((ours > psnr[m]).sum()) for m in ("last input", "DIS flow")]



@pytest.mark.parametrize("header, folder", [("| video (one frame in 4 twice) |", "repeated_frames"),
                                            ("| video (every frame twice) |", "repeated_frames/twice")])
def test_the_repeated_frames_tables_are_the_stored_tables_of_each_video(header, folder):
    rows = _table(ROOT / "docs" / "results.md", header)
    assert len(rows) == 11
    for video, n, shipped, plain, dis, copying, over_plain, over_dis, all_frames in rows:
        name = video.split(" (")[0]
        stored = {cells[0]: cells for cells in _table(BENCHMARKS / folder / f"{name.removesuffix('.mp4')}.md",
                                                      "| frames | n |")}
        after, every = stored["after a repeat"], stored["all"]
        # the stored columns: kind, n, the shipped model, copying, DIS, not reading; then the shipped model minus each
        assert n == after[1], video
        means = [cell.strip("*") for cell in (shipped, copying, dis, plain)]
        assert means == [cell.split(" / ")[0] for cell in after[2:6]], video
        assert [over_dis, over_plain] == [after[7].replace("-", "−"), after[8].replace("-", "−")], video
        assert all_frames == f"{every[8].replace('-', '−').rsplit(' (', 1)[0]} ({every[1]})", video


def test_every_picture_in_docs_carries_the_mark_its_command_replaces():
    """Each picture under docs/figures was written by a vidpred command, which redraws only
    pictures carrying its mark (a PNG's Software text, a GIF's comment): an unmarked one
    makes the documented command refuse to redraw it."""
    from PIL import Image

    pictures = sorted((ROOT / "docs" / "figures").glob("*.png")) + sorted((ROOT / "docs" / "figures").glob("*.gif"))
    assert len(pictures) >= 10
    for path in pictures:
        with Image.open(path) as image:
            mark = image.info.get("Software" if image.format == "PNG" else "comment", b"")
        mark = mark.decode() if isinstance(mark, bytes) else mark
        assert mark.startswith("vidpred"), f"{path.name} carries no vidpred mark ({mark!r})"


NOT_READING_FADES = "not reading fades (shipped before)"
NOT_READING_SKIPS = "not reading skipped frames (shipped before)"


@pytest.mark.parametrize("header, report, before", [
    ("| video (fading out, 5% a frame) |", "test_fade_out", NOT_READING_FADES),
    ("| video (fading in, 5% a frame) |", "test_fade_in", NOT_READING_FADES),
    ("| video (a frame skipped) |", "test_skipped_frame", NOT_READING_SKIPS)])
def test_the_tables_of_a_prediction_time_reading_are_the_stored_test_benchmarks(header, report, before):
    """The shipped model against the same weights exported without one reading, and the better baseline."""
    rows = _table(ROOT / "docs" / "results.md", header)
    assert [_video(r[0]) for r in rows] == list(VIDEOS.values())
    clips = _clips(report)
    for video, shipped, plain, better, margin, over_plain in rows:
        these = clips[_video(video)]
        assert shipped == " / ".join(f"{_mean(these, MODEL, key):.2f}" for key in KEYS), video
        assert plain == " / ".join(f"{_mean(these, before, key):.2f}" for key in KEYS), video
        assert better == " / ".join(f"{BASELINES[_better(these, key)]} {_mean(these, _better(these, key), key):.2f}"
                                    for key in KEYS), video
        assert margin == " / ".join(_difference(these, _better(these, key), key) for key in KEYS), video
        assert over_plain == " / ".join(_difference(these, before, key) for key in KEYS), video
