"""Real camera paths from motion capture and odometry ground truth, as the image motion they cause.

The corpus's moving cameras give a few hundred steps of camera motion, measured through
optical flow. Far more real camera motion exists as recorded 6-DoF poses: the test data of
the trajectory-evaluation package evo (its PyPI source archive, ``pip download --no-deps
--no-binary :all: evo==1.38.1``; never installed) holds the ground truth of four public
datasets' sequences (:data:`CAMERA_PATHS`): two hand-held Kinect recordings from TUM RGB-D
(motion capture at 100 Hz), a drone flight from EuRoC MAV (motion capture at 200 Hz) and a
car drive from KITTI odometry (10 Hz).

Each path is resampled to a video's frame rate and every step between frames is written
as the corpus's camera steps are (:func:`vidpred.evaluation.camera_forecast.camera_steps`):
where the homography the step induces moves a frame's four corners, over the width, so
forecasters fitted on either kind can be scored on the other. The homography is the
camera's rotation seen by a 640x480 pinhole camera with a 525-px focal length (the TUM
Kinect's), plus, with ``plane_depth``, its translation seen on a plane facing the camera at
that depth (rotation alone is the part of the motion every scene shares).

Layout: ``<root>/<file>`` for each path's files, as evo's ``test/data/`` holds them.
"""

from __future__ import annotations

import logging
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from scipy.spatial.transform import Rotation, Slerp

from vidpred.data._packages import newest_match, run_client
from vidpred.data.errors import DataError
from vidpred.safe_write import replacing

__all__ = ["CAMERA_PATHS", "CameraPath", "DEFAULT_PATHS_ROOT", "EVO", "FRAME", "corner_steps", "fetch_camera_paths",
           "POSE_FORMATS", "path_steps", "read_poses", "resample_poses"]

logger = logging.getLogger(__name__)

EVO = "evo==1.38.1"
DEFAULT_PATHS_ROOT = ".cache/vidpred/camera_paths"
# The pinhole camera the steps are seen by: width, height, focal length in px (TUM's Kinect).
FRAME = (640, 480, 525.0)
# A pause in the poses longer than this (s) splits a path: no step is interpolated across it.
MAX_GAP = 0.05
POSE_FORMATS = ("tum", "euroc", "kitti")


@dataclass(frozen=True)
class CameraPath:
    """One recorded camera path of evo's test data: its files, their format, what moved and where it was recorded."""

    name: str
    file: str  # in evo's test/data/
    format: str  # "tum" (t x y z qx qy qz qw), "euroc" (ns,x,y,z,qw,qx,qy,qz,...), "kitti" (3x4 matrices)
    motion: str
    source: str  # the dataset, its licence
    times_file: str | None = None  # KITTI: the poses' times, one a line


CAMERA_PATHS = (
    CameraPath("fr1_xyz", "freiburg1_xyz-groundtruth.txt", "tum", "hand-held, moved along its axes",
               "TUM RGB-D freiburg1_xyz, CC BY 4.0"),
    CameraPath("fr2_desk", "fr2_desk_groundtruth.txt", "tum", "hand-held, around a desk",
               "TUM RGB-D freiburg2_desk, CC BY 4.0"),
    CameraPath("V102", "V102_groundtruth.csv", "euroc", "a drone flying in a room",
               "EuRoC MAV Vicon Room 1 02 (ETH Zurich ASL)"),
    CameraPath("KITTI_00", "KITTI_00_gt.txt", "kitti", "a car driving through streets (10 Hz)",
               "KITTI odometry 00, CC BY-NC-SA 3.0", times_file="KITTI_00_gt_times.txt"),
)


def read_poses(path: str | Path, format: str, times_path: str | Path | None = None
               ) -> tuple[np.ndarray, np.ndarray, Rotation]:
    """A pose file's ``(times, positions, rotations)``: seconds ``(N,)``, metres ``(N, 3)``, ``N`` rotations.

    Each pose maps the camera's (or, for EuRoC, the drone body's) coordinates to the
    world's: a point ``x`` of the camera is at ``rotations[i].apply(x) + positions[i]``.
    """
    if format not in POSE_FORMATS:
        raise ValueError(f"pose format must be one of {', '.join(POSE_FORMATS)}, got {format!r}")
    if format == "kitti" and times_path is None:
        raise ValueError("KITTI poses need their times file (times_path)")
    path = Path(path)
    try:
        if format == "tum":
            rows = np.loadtxt(path, comments="#", ndmin=2)
            times, positions, rotations = rows[:, 0], rows[:, 1:4], Rotation.from_quat(rows[:, 4:8])
        elif format == "euroc":
            rows = np.loadtxt(path, delimiter=",", comments="#", ndmin=2)
            times, positions = rows[:, 0] * 1e-9, rows[:, 1:4]
            rotations = Rotation.from_quat(rows[:, [5, 6, 7, 4]])  # w, x, y, z in the file
        else:
            matrices = np.loadtxt(path, ndmin=2).reshape(-1, 3, 4)
            times = np.loadtxt(times_path, ndmin=1)
            positions, rotations = matrices[:, :, 3], Rotation.from_matrix(matrices[:, :, :3])
    except (OSError, ValueError, IndexError) as exc:
        raise DataError(f"cannot read {format} poses from {path}: {exc}") from exc
    if len(times) != len(positions):
        raise DataError(f"{path} holds {len(positions)} poses but {times_path} {len(times)} times")
    return times, positions, rotations


def resample_poses(times: np.ndarray, positions: np.ndarray, rotations: Rotation, rate: float,
                   max_gap: float = MAX_GAP) -> list[tuple[np.ndarray, Rotation]]:
    """The poses at ``rate`` Hz: positions interpolated linearly, rotations spherically.

    Repeated or decreasing times are dropped; a pause longer than ``max_gap`` seconds
    splits the path, so every step lies between two recorded poses ``max_gap`` apart or
    less. Returns the pieces, each ``(positions (n, 3), n rotations)`` with ``n >= 2``.
    """
    if rate <= 0:
        raise ValueError(f"rate must be > 0, got {rate}")
    keep = np.concatenate([[True], np.diff(times) > 0])
    times, positions, rotations = times[keep], positions[keep], rotations[keep]
    cuts = np.flatnonzero(np.diff(times) > max_gap) + 1
    pieces = []
    for start, stop in zip(np.concatenate([[0], cuts]), np.concatenate([cuts, [len(times)]])):
        t = times[start:stop]
        if len(t) < 2:
            continue
        samples = t[0] + np.arange(int(np.floor((t[-1] - t[0]) * rate + 1e-9)) + 1) / rate
        if len(samples) < 2:
            continue
        at = np.stack([np.interp(samples, t, positions[start:stop, i]) for i in range(3)], axis=1)
        pieces.append((at, Slerp(t, rotations[start:stop])(samples)))
    return pieces


def corner_steps(positions: np.ndarray, rotations: Rotation, frame: tuple[int, int, float] = FRAME,
                 plane_depth: float | None = None) -> np.ndarray:
    """Each step's image motion, as :func:`~vidpred.evaluation.camera_forecast.camera_steps` writes it.

    Step ``t`` maps a pixel of frame ``t + 1`` to where it was in frame ``t``: the
    homography ``K (R + d n^T / depth) K^-1``, with ``R`` and ``d`` the later camera's
    rotation and position in the earlier camera's coordinates, ``n = (0, 0, 1)`` (a plane
    facing the later camera; the translation is left out when ``plane_depth`` is None) and
    ``K`` the pinhole camera of ``frame`` ``(W, H, focal)``.

    Returns:
        float64 ``(n - 1, 8)``: the four corners' displacements (top left, top right, bottom
        left, bottom right; x then y) over ``W``.
    """
    W, H, focal = frame
    K = np.array([[focal, 0, (W - 1) / 2], [0, focal, (H - 1) / 2], [0, 0, 1]])
    earlier, later = rotations[:-1], rotations[1:]
    relative = (earlier.inv() * later).as_matrix()  # (n-1, 3, 3)
    if plane_depth is not None:
        moved = earlier.inv().apply(positions[1:] - positions[:-1])  # (n-1, 3), in the earlier camera's axes
        relative[:, :, 2] += moved / plane_depth  # + d n^T / depth, n = (0, 0, 1)
    homographies = K @ relative @ np.linalg.inv(K)
    corners = np.array([[0, 0, 1], [W - 1, 0, 1], [0, H - 1, 1], [W - 1, H - 1, 1]], np.float64)
    mapped = np.einsum("nij,cj->nci", homographies, corners)  # (n-1, 4, 3)
    return ((mapped[..., :2] / mapped[..., 2:]) - corners[:, :2]).reshape(len(mapped), 8) / W


def path_steps(root: str | Path = DEFAULT_PATHS_ROOT, rate: float = 30.0, plane_depth: float | None = None,
               paths: Sequence[CameraPath] = CAMERA_PATHS) -> dict[str, list[np.ndarray]]:
    """Every path's steps at ``rate`` Hz (KITTI's 10 Hz poses at their own rate), one array a piece.

    Returns:
        Per path name, one float64 ``(n - 1, 8)`` array of :func:`corner_steps` per piece
        of the path (:func:`resample_poses`).

    Raises:
        DataError: a path's file is missing (naming the command that fetches it) or unreadable.
    """
    root = Path(root)
    out = {}
    for path in paths:
        files = [root / path.file] + ([root / path.times_file] if path.times_file else [])
        if missing := [str(f) for f in files if not f.is_file()]:
            raise DataError(f"no {', '.join(missing)}: run python scripts/camera_forecast.py --fetch-paths "
                            f"--paths-root {root} (the camera paths of {EVO}'s test data)")
        times, positions, rotations = read_poses(files[0], path.format, files[1] if path.times_file else None)
        if path.format == "kitti":  # sampled at the camera's 10 Hz already
            pieces = [(positions, rotations)]
        else:
            pieces = resample_poses(times, positions, rotations, rate)
        out[path.name] = [corner_steps(p, r, plane_depth=plane_depth) for p, r in pieces]
    return out


def fetch_camera_paths(root: str | Path = DEFAULT_PATHS_ROOT, pip: Sequence[str] | None = None) -> list[Path]:
    """Put the files of :data:`CAMERA_PATHS` in ``root`` from evo's source archive; present ones are kept.

    Args:
        root: the folder (created if needed).
        pip: the pip command (default ``[sys.executable, "-m", "pip"]``), run as ``<pip>
            download --no-deps --no-binary :all: --dest <tmp> evo==1.38.1``.

    Returns:
        The files, in :data:`CAMERA_PATHS` order.

    Raises:
        DataError: ``root`` is a file, the download fails, or the archive lacks a file.
    """
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise DataError(f"cannot fetch the camera paths into {root}: it is a file; choose another --paths-root")
    names = [n for p in CAMERA_PATHS for n in (p.file, p.times_file) if n]
    wanted = [n for n in names if not (root / n).is_file()]
    if wanted:
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="vidpred-paths-") as workdir:
            logger.info("downloading %s's source archive (no dependencies, not installed)", EVO)
            run_client([*(pip or [sys.executable, "-m", "pip"]), "download", "--no-deps", "--no-binary", ":all:",
                        "--dest", workdir, EVO], f"pip download {EVO}")
            archive = newest_match(Path(workdir), "evo-*.tar.gz", f"pip download {EVO}")
            try:
                with tarfile.open(archive) as tar:
                    members = {Path(m.name).name: m for m in tar.getmembers()
                               if m.isfile() and Path(m.name).parent.as_posix().endswith("test/data")}
                    for name in wanted:
                        if name not in members:
                            raise DataError(f"{archive.name} lacks test/data/{name}")
                        with replacing(root / name) as tmp:  # whole or absent: never a truncated file
                            tmp.write_bytes(tar.extractfile(members[name]).read())
            except tarfile.TarError as exc:
                raise DataError(f"{archive.name} is not a readable .tar.gz: {exc}") from exc
        logger.info("the camera paths are in %s", root)
    return [root / n for n in names]
