"""Recorded camera paths: reading the three pose formats, resampling, the image motion of a step, fetching."""

import io
import sys
import tarfile

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from vidpred.data.camera_paths import (CAMERA_PATHS, EVO, FRAME, corner_steps, fetch_camera_paths, path_steps,
                                       read_poses, resample_poses)
from vidpred.data.errors import DataError
from vidpred.evaluation.camera_forecast import camera_steps

W, H, F = FRAME
CORNERS = np.array([[0, 0], [W - 1, 0], [0, H - 1], [W - 1, H - 1]], float)


def test_the_three_formats_read_to_the_same_poses(tmp_path):
    rotations = Rotation.from_rotvec([[0, 0, 0], [0.1, -0.2, 0.3], [0.0, 0.5, 0.0]])
    positions = np.array([[0, 0, 0], [1.5, -2.0, 0.25], [3.0, 1.0, -1.0]])
    times = np.array([10.0, 10.01, 10.02])
    q = rotations.as_quat()  # x, y, z, w
    (tmp_path / "tum.txt").write_text("# timestamp tx ty tz qx qy qz qw\n" + "".join(
        f"{t} {' '.join(map(str, p))} {' '.join(map(str, r))}\n" for t, p, r in zip(times, positions, q)))
    (tmp_path / "euroc.csv").write_text("#timestamp, p_x, p_y, p_z, q_w, q_x, q_y, q_z, v_x\n" + "".join(
        f"{int(round(t * 1e9))},{','.join(map(str, p))},{r[3]},{r[0]},{r[1]},{r[2]},0.5\n"
        for t, p, r in zip(times, positions, q)))
    matrices = np.concatenate([rotations.as_matrix(), positions[:, :, None]], axis=2).reshape(3, 12)
    np.savetxt(tmp_path / "kitti.txt", matrices)
    np.savetxt(tmp_path / "kitti_times.txt", times)
    for fmt, name, times_file in (("tum", "tum.txt", None), ("euroc", "euroc.csv", None),
                                  ("kitti", "kitti.txt", tmp_path / "kitti_times.txt")):
        t, p, r = read_poses(tmp_path / name, fmt, times_file)
        np.testing.assert_allclose(t, times, atol=1e-6, err_msg=fmt)
        np.testing.assert_allclose(p, positions, atol=1e-12, err_msg=fmt)
        assert np.all((r.inv() * rotations).magnitude() < 1e-9), fmt


def test_unreadable_or_mismatched_pose_files_are_one_line_errors(tmp_path):
    (tmp_path / "bad.txt").write_text("1 2 three\n")
    with pytest.raises(DataError, match="cannot read tum poses from .*bad.txt"):
        read_poses(tmp_path / "bad.txt", "tum")
    with pytest.raises(DataError, match="cannot read tum poses from .*absent.txt"):
        read_poses(tmp_path / "absent.txt", "tum")
    np.savetxt(tmp_path / "k.txt", np.tile(np.eye(3, 4).reshape(1, 12), (3, 1)))
    np.savetxt(tmp_path / "k_times.txt", [0.0, 0.1])
    with pytest.raises(DataError, match="holds 3 poses but .*k_times.txt 2 times"):
        read_poses(tmp_path / "k.txt", "kitti", tmp_path / "k_times.txt")
    with pytest.raises(ValueError, match="pose format must be one of tum, euroc, kitti"):
        read_poses(tmp_path / "k.txt", "bag")
    with pytest.raises(ValueError, match="times file"):
        read_poses(tmp_path / "k.txt", "kitti")


def test_resampling_interpolates_drops_repeats_and_splits_at_pauses():
    # 100 Hz poses over 0.1 s, turning about z at 2 rad/s and moving along x at 1 m/s; a repeated
    # time; then, after a 0.5 s pause, 0.1 s more
    times = np.concatenate([np.arange(11) * 0.01, [0.10], 0.6 + np.arange(11) * 0.01])
    positions = np.stack([times, np.zeros_like(times), np.zeros_like(times)], axis=1)
    rotations = Rotation.from_rotvec(np.stack([np.zeros_like(times)] * 2 + [2 * times], axis=1))
    pieces = resample_poses(times, positions, rotations, rate=40)
    assert len(pieces) == 2  # no step across the pause
    for (p, r), start in zip(pieces, (0.0, 0.6)):
        samples = start + np.arange(5) / 40  # 0, 0.025, ..., 0.1 s into the piece
        np.testing.assert_allclose(p[:, 0], samples, atol=1e-12)
        np.testing.assert_allclose(r.as_rotvec()[:, 2], 2 * samples, atol=1e-9)  # slerp: the turn is uniform
    with pytest.raises(ValueError, match="rate must be > 0"):
        resample_poses(times, positions, rotations, rate=0)


def _expected_pan(theta: float) -> np.ndarray:
    """Where each corner of the later frame was in the earlier one, the camera turned by theta about its y axis."""
    x, y = (CORNERS[:, 0] - (W - 1) / 2) / F, (CORNERS[:, 1] - (H - 1) / 2) / F
    # the later camera's ray (x, y, 1) in the earlier camera's axes: R_y(theta) (x, y, 1)
    rx, ry, rz = x * np.cos(theta) + np.sin(theta), y, -x * np.sin(theta) + np.cos(theta)
    earlier = np.stack([(W - 1) / 2 + F * rx / rz, (H - 1) / 2 + F * ry / rz], axis=1)
    return ((earlier - CORNERS) / W).reshape(-1)


def test_a_turning_camera_moves_the_corners_as_a_pinhole_sees_it():
    theta = 0.01
    rotations = Rotation.from_rotvec([[0, k * theta, 0] for k in range(4)])
    steps = corner_steps(np.zeros((4, 3)), rotations)
    assert steps.shape == (3, 8)
    for step in steps:  # a constant turn: every step the same
        np.testing.assert_allclose(step, _expected_pan(theta), atol=1e-12)
    # to first order a pixel at x = (u - cx) / F moves by F (1 + x^2) theta: at the corners' x = 0.61, 7.20 px
    x = (W - 1) / 2 / F
    np.testing.assert_allclose((steps[0] * W)[0::2], F * (1 + x ** 2) * theta, rtol=0.01)


def test_translation_counts_only_with_a_plane_and_matches_what_the_flow_measures():
    # the camera moves 0.02 m to the right a step in front of a plane 2 m away: the content shifts
    # F * 0.02 / 2 = 5.25 px to the left, so each pixel of the later frame was 5.25 px further right
    positions = np.array([[0.02 * k, 0, 0] for k in range(3)])
    rotations = Rotation.identity(3)
    np.testing.assert_allclose(corner_steps(positions, rotations), 0, atol=1e-15)
    steps = corner_steps(positions, rotations, plane_depth=2.0)
    np.testing.assert_allclose(steps * W, np.tile([5.25, 0.0], (2, 4)), atol=1e-9)
    # the same convention as the corpus's steps (measured by DIS): a picture moved 3 px left a frame
    rng = np.random.default_rng(0)
    import cv2
    texture = cv2.GaussianBlur(rng.random((H + 20, W + 20)).astype(np.float32), (0, 0), 2.0)
    texture = ((texture - texture.min()) / (texture.max() - texture.min()) * 255).astype(np.uint8)
    frames = np.stack([np.repeat(texture[10:10 + H, 3 * k:3 * k + W, None], 3, axis=2) for k in range(3)])
    measured = camera_steps(frames)
    moved = corner_steps(np.array([[0.0, 0, 0], [3 * 2.0 / F, 0, 0], [6 * 2.0 / F, 0, 0]]), rotations, plane_depth=2.0)
    np.testing.assert_allclose(measured * W, moved * W, atol=0.1)


def _poses_files(folder, rng):
    """Small stand-ins for evo's test data: every path of CAMERA_PATHS, a few seconds each."""
    folder.mkdir(parents=True, exist_ok=True)
    n = 400
    times = 100.0 + np.arange(n) / 100
    rotations = Rotation.from_rotvec(np.cumsum(rng.normal(0, 0.003, (n, 3)), axis=0))
    positions = np.cumsum(rng.normal(0, 0.001, (n, 3)), axis=0)
    q = rotations.as_quat()
    files = {}
    for path in CAMERA_PATHS:
        if path.format == "tum":
            text = "".join(f"{t:.4f} {p[0]} {p[1]} {p[2]} {r[0]} {r[1]} {r[2]} {r[3]}\n"
                           for t, p, r in zip(times, positions, q))
        elif path.format == "euroc":
            text = "#timestamp\n" + "".join(f"{int(t * 1e9)},{p[0]},{p[1]},{p[2]},{r[3]},{r[0]},{r[1]},{r[2]}\n"
                                            for t, p, r in zip(times, positions, q))
        else:
            m = np.concatenate([rotations.as_matrix(), positions[:, :, None]], axis=2).reshape(n, 12)
            text = "".join(" ".join(f"{v:e}" for v in row) + "\n" for row in m[:50])
            files[path.times_file] = "".join(f"{k / 10:e}\n" for k in range(50))
        files[path.file] = text
    return files


def test_every_path_becomes_steps_at_the_rate_asked(tmp_path):
    for name, text in _poses_files(tmp_path / "root", np.random.default_rng(1)).items():
        (tmp_path / "root" / name).write_text(text)
    steps = path_steps(tmp_path / "root", rate=25)
    assert list(steps) == [p.name for p in CAMERA_PATHS]
    for path in CAMERA_PATHS:
        (piece,) = steps[path.name]
        # 3.99 s of 100 Hz poses at 25 Hz: 100 poses, 99 steps; KITTI's 50 poses at their own rate: 49
        assert piece.shape == ((49, 8) if path.format == "kitti" else (99, 8)), path.name
        assert np.isfinite(piece).all()
    (tmp_path / "root" / CAMERA_PATHS[2].file).unlink()
    with pytest.raises(DataError, match=f"no .*{CAMERA_PATHS[2].file}: run python scripts/camera_forecast.py "
                                        "--fetch-paths"):
        path_steps(tmp_path / "root")


def _fake_pip(tmp_path, archive_files: dict[str, str]):
    """A pip that logs its arguments and leaves an evo source archive holding ``archive_files`` in --dest."""
    archive = tmp_path / "evo-1.38.1.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name, text in {**archive_files, "README.md": "evo\n"}.items():
            data = text.encode()
            info = tarfile.TarInfo(("evo-1.38.1/test/data/" if name != "README.md" else "evo-1.38.1/") + name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    calls = tmp_path / "calls.txt"
    script = tmp_path / "fake_pip.py"
    script.write_text("import shutil, sys\n"
                      f"open({str(calls)!r}, 'a').write(' '.join(sys.argv[1:]) + '\\n')\n"
                      f"shutil.copy({str(archive)!r}, sys.argv[sys.argv.index('--dest') + 1])\n")
    return [sys.executable, str(script)], calls


def test_fetch_takes_the_paths_from_evos_source_archive_once(tmp_path):
    files = _poses_files(tmp_path / "unused", np.random.default_rng(2))
    pip, calls = _fake_pip(tmp_path, files)
    root = tmp_path / "paths"
    fetched = fetch_camera_paths(root, pip=pip)
    assert [p.name for p in fetched] == [n for p in CAMERA_PATHS for n in (p.file, p.times_file) if n]
    assert all(p.read_text() == files[p.name] for p in fetched)
    assert not list(root.glob(".*"))  # no partial file left
    assert calls.read_text().split() == ["download", "--no-deps", "--no-binary", ":all:", "--dest",
                                         calls.read_text().split()[5], EVO]
    fetch_camera_paths(root, pip=pip)  # all present: pip is not run again
    assert len(calls.read_text().splitlines()) == 1
    assert set(path_steps(root)) == {p.name for p in CAMERA_PATHS}


def test_fetch_refuses_an_archive_without_a_path_and_a_root_that_is_a_file(tmp_path):
    files = _poses_files(tmp_path / "unused", np.random.default_rng(3))
    del files[CAMERA_PATHS[1].file]
    pip, _ = _fake_pip(tmp_path, files)
    with pytest.raises(DataError, match=f"evo-1.38.1.tar.gz lacks test/data/{CAMERA_PATHS[1].file}"):
        fetch_camera_paths(tmp_path / "paths", pip=pip)
    assert not (tmp_path / "paths" / CAMERA_PATHS[1].file).exists()
    (tmp_path / "a_file").write_text("mine\n")
    with pytest.raises(DataError, match="it is a file"):
        fetch_camera_paths(tmp_path / "a_file", pip=pip)
    assert (tmp_path / "a_file").read_text() == "mine\n"
    failing = [sys.executable, "-c", "import sys; print('no index reachable'); sys.exit(1)"]
    with pytest.raises(DataError, match=r"pip download evo==1.38.1 failed \(exit 1\): no index reachable"):
        fetch_camera_paths(tmp_path / "other", pip=failing)


def test_kitti_times_must_match_the_poses_one_for_one(tmp_path):
    np.savetxt(tmp_path / "k.txt", np.tile(np.eye(3, 4).reshape(1, 12), (3, 1)))
    np.savetxt(tmp_path / "k_times.txt", [0.0, 0.1, 0.2, 0.3])  # one time too many
    with pytest.raises(DataError, match="holds 3 poses but .*k_times.txt 4 times"):
        read_poses(tmp_path / "k.txt", "kitti", tmp_path / "k_times.txt")


def test_a_step_that_turns_and_moves_sees_the_move_in_the_earlier_cameras_axes():
    W, H, focal = FRAME
    # a camera turned 90 degrees about y, then turning 20 more while it moves 0.1 m along world x
    rotations = Rotation.from_euler("y", [[90], [110]], degrees=True)
    positions = np.array([[0.0, 0.0, 0.0], [0.1, 0.0, 0.0]])
    K = np.array([[focal, 0, (W - 1) / 2], [0, focal, (H - 1) / 2], [0, 0, 1]])
    R0, R1 = rotations.as_matrix()
    moved = R0.T @ (positions[1] - positions[0])  # (0, 0, 0.1): straight ahead of the earlier camera
    homography = K @ (R0.T @ R1 + np.outer(moved, [0, 0, 1]) / 2.0) @ np.linalg.inv(K)
    corners = np.array([[0, 0, 1], [W - 1, 0, 1], [0, H - 1, 1], [W - 1, H - 1, 1]], float)
    mapped = corners @ homography.T
    expected = ((mapped[:, :2] / mapped[:, 2:]) - corners[:, :2]).reshape(1, 8) / W
    np.testing.assert_allclose(corner_steps(positions, rotations, plane_depth=2.0), expected, rtol=1e-9, atol=1e-12)
