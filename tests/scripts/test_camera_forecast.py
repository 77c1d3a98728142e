"""scripts/camera_forecast.py on recorded camera paths: what it reads, the two tables it writes."""

import numpy as np

from vidpred.commands import camera_forecast as command
from vidpred.evaluation import camera_forecast


def test_paths_get_a_table_fitted_on_the_others_and_one_on_their_own_past(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    asked = {}

    def fake_steps(root, rate, plane_depth):
        asked.update(root=root, rate=rate, plane_depth=plane_depth)
        return {name: [rng.normal(0, 1e-3, (300, 8))] for name in ("fr1_xyz", "fr2_desk", "V102", "KITTI_00")}
    monkeypatch.setattr(command, "path_steps", fake_steps)
    fit_mlp = camera_forecast._mlp
    monkeypatch.setattr(camera_forecast, "_mlp", lambda past, following: fit_mlp(past, following, iterations=50))
    out = tmp_path / "paths.md"
    assert command.main(["--subset", "paths", "--paths-root", str(tmp_path / "p"), "--rate", "25",
                         "--plane-depth", "3", "--out", str(out)]) == 0
    assert asked == {"root": str(tmp_path / "p"), "rate": 25.0, "plane_depth": 3.0}
    text = out.read_text()
    assert text.startswith("# Forecasts of the camera's next step (recorded camera paths)\n\nCamera paths at 25 "
                           "frames a second (rotation and translation, a plane 3 m ahead;")
    others, own = text.split("## Fitted on the other paths")[1].split("## Fitted on the path's own earlier half")
    for table, windows in ((others, "876 windows"), (own, "146 windows")):  # 3 x 292 and half of 292
        assert windows in table
        assert [line.split(" | ")[0] for line in table.splitlines() if line.startswith("| ") and "---" not in line] \
            == ["| path", "| fr1_xyz", "| fr2_desk", "| V102", "| KITTI_00"]


def test_the_figure_is_drawn_for_paths_only_and_never_over_someone_elses_file(tmp_path, monkeypatch):
    from PIL import Image

    rng = np.random.default_rng(1)
    monkeypatch.setattr(command, "path_steps", lambda root, rate, plane_depth: {
        name: [rng.normal(0, 1e-3, (300, 8))] for name in ("hand", "drone")})
    fit_mlp = camera_forecast._mlp
    monkeypatch.setattr(camera_forecast, "_mlp", lambda past, following: fit_mlp(past, following, iterations=20))
    figure = tmp_path / "paths.png"
    assert command.main(["--subset", "paths", "--figure", str(figure)]) == 0
    with Image.open(figure) as image:
        assert image.format == "PNG" and image.size == (1100, 506)  # two panels of 2.3 in, one above the other, 110 dpi
    assert camera_forecast.is_our_figure(figure)
    assert command.main(["--subset", "paths", "--figure", str(figure)]) == 0  # its own figure: replaced
    mine = tmp_path / "mine.png"
    Image.new("RGB", (4, 4)).save(mine)
    before = mine.read_bytes()
    assert command.main(["--subset", "paths", "--figure", str(mine)]) == 2
    assert mine.read_bytes() == before
    assert command.main(["--subset", "val", "--figure", str(tmp_path / "x.png")]) == 2
    assert not (tmp_path / "x.png").exists()
