from __future__ import annotations

import json
import logging
import os
import time
import pickle
from pathlib import Path

import cv2
import numpy as np
import pytest

from vidpred.data.cache import NoUsableVideosError, VideoCache, _atomic_write
from vidpred.data.cache_items import CacheItem, file_item
from vidpred.data.errors import DataError
from vidpred.data.sampler import PatchSampler
from vidpred.data.video_io import read_video
from vidpred.safe_write import ABANDONED_AFTER_S


class CountingDecoder:
    """A decode callable that counts its calls."""

    def __init__(self, frames: np.ndarray) -> None:
        self.frames = frames
        self.calls = 0

    def __call__(self) -> np.ndarray:
        self.calls += 1
        return self.frames


def _item(name: str, frames: np.ndarray, settings: str = "{}") -> tuple[CacheItem, CountingDecoder]:
    decoder = CountingDecoder(frames)
    return CacheItem(name=name, fingerprint=f"test|{name}", settings=settings, decode=decoder), decoder


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if not (p.suffix == ".npy" or p.name == "index.json"))


def test_second_load_does_not_decode(tmp_path):
    frames = np.random.default_rng(0).integers(0, 256, (6, 8, 10, 3), dtype=np.uint8)
    item, decoder = _item("a", frames)
    first = VideoCache(tmp_path / "cache").load([item], min_frames=2)
    second = VideoCache(tmp_path / "cache").load([item], min_frames=2)  # a new process, same folder
    assert decoder.calls == 1
    assert first[0].name == second[0].name == "a"
    np.testing.assert_array_equal(second[0].frames, frames)
    assert isinstance(second[0].frames, np.memmap) and not second[0].frames.flags.writeable
    assert (tmp_path / "cache" / f"{item.key}.npy").is_file()


def test_a_video_given_twice_is_decoded_once_and_loaded_twice(tmp_path):
    frames = np.random.default_rng(1).integers(0, 256, (5, 8, 10, 3), dtype=np.uint8)
    item, decoder = _item("a", frames)
    cache = VideoCache(tmp_path / "cache")
    videos = cache.load([item, item], min_frames=2)
    assert decoder.calls == cache.n_decoded == 1
    assert [v.name for v in videos] == ["a", "a"]
    np.testing.assert_array_equal(videos[1].frames, frames)


def test_cache_dir_is_created_lazily(tmp_path):
    cache = VideoCache(tmp_path / "deep" / "cache")
    assert not (tmp_path / "deep").exists()
    cache.load([_item("a", np.zeros((2, 4, 4, 3), np.uint8))[0]], min_frames=1)
    assert (tmp_path / "deep" / "cache" / "index.json").is_file()


def test_index_records_each_entry(tmp_path):
    item, _ = _item("clip", np.zeros((3, 4, 5, 3), np.uint8), settings='{"max_frames": 3}')
    VideoCache(tmp_path).load([item], min_frames=1)
    index = json.loads((tmp_path / "index.json").read_text())
    assert index[item.key] == {"name": "clip", "fingerprint": "test|clip", "settings": '{"max_frames": 3}',
                               "shape": [3, 4, 5, 3]}


def test_changed_settings_decode_again(tmp_path, make_video, moving_frames):
    path = make_video(tmp_path / "v.avi", moving_frames(10, 32, 48))
    cache = VideoCache(tmp_path / "cache")
    full = cache.load([file_item(path, max_frames=None, frame_size=None)], min_frames=2)
    short = cache.load([file_item(path, max_frames=4, frame_size=(16, 24))], min_frames=2)
    again = cache.load([file_item(path, max_frames=4, frame_size=(16, 24))], min_frames=2)
    assert cache.n_decoded == 2
    assert full[0].frames.shape == (10, 32, 48, 3)
    assert short[0].frames.shape == again[0].frames.shape == (4, 16, 24, 3)
    np.testing.assert_array_equal(full[0].frames, read_video(path))


def test_touched_file_decodes_again(tmp_path, make_video, moving_frames):
    path = make_video(tmp_path / "v.avi", moving_frames(10, 32, 48))
    cache = VideoCache(tmp_path / "cache")
    cache.load([file_item(path, max_frames=None, frame_size=None)], min_frames=2)
    cache.load([file_item(path, max_frames=None, frame_size=None)], min_frames=2)
    assert cache.n_decoded == 1
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    cache.load([file_item(path, max_frames=None, frame_size=None)], min_frames=2)
    assert cache.n_decoded == 2


def _folder_of_three_frames(tmp_path, moving_frames, suffix):
    """A folder ``frames`` of three 16x24 frames ``0<suffix>`` .. ``2<suffix>``; returns it, its
    frames (RGB) and three other frames to write over them."""
    frames = tmp_path / "frames"
    frames.mkdir()
    old, new = moving_frames(3, 16, 24, seed=1), moving_frames(3, 16, 24, seed=2)
    for i, frame in enumerate(old):
        cv2.imwrite(str(frames / f"{i}{suffix}"), frame[..., ::-1])
    return frames, old, new


def test_a_file_replaced_at_the_same_size_and_mtime_decodes_again(tmp_path, moving_frames):
    """``cp -p`` or ``rsync -a`` keep the mtime, and an uncompressed format keeps the size."""
    frames, old, new = _folder_of_three_frames(tmp_path, moving_frames, ".ppm")
    path = frames / "1.ppm"
    stat = path.stat()
    cache = VideoCache(tmp_path / "cache")
    (first,) = cache.load([file_item(frames, max_frames=None, frame_size=None)], min_frames=1)
    np.testing.assert_array_equal(first.frames[1], old[1])
    time.sleep(0.05)  # past the clock tick of the file system's status-change times
    cv2.imwrite(str(path), new[1][..., ::-1])
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    os.utime(frames, ns=(frames.stat().st_atime_ns, frames.stat().st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (stat.st_size, stat.st_mtime_ns)
    (second,) = cache.load([file_item(frames, max_frames=None, frame_size=None)], min_frames=1)
    assert cache.n_decoded == 2
    np.testing.assert_array_equal(second.frames[1], new[1])


def test_a_frame_rewritten_in_its_folder_decodes_again(tmp_path, moving_frames):
    # Writing over a frame leaves the folder's own times as they were: its frames' times tell.
    frames, old, new = _folder_of_three_frames(tmp_path, moving_frames, ".png")
    cache = VideoCache(tmp_path / "cache")
    (first,) = cache.load([file_item(frames, max_frames=None, frame_size=None)], min_frames=1)
    np.testing.assert_array_equal(first.frames[1], old[1])
    folder = frames.stat()
    time.sleep(0.05)  # past the clock tick of the file system's times
    with open(frames / "1.png", "wb") as f:  # in place: the same file, no new name in the folder
        f.write(cv2.imencode(".png", new[1][..., ::-1])[1].tobytes())
    assert (frames.stat().st_mtime_ns, frames.stat().st_ctime_ns) == (folder.st_mtime_ns, folder.st_ctime_ns)
    (second,) = cache.load([file_item(frames, max_frames=None, frame_size=None)], min_frames=1)
    assert cache.n_decoded == 2
    np.testing.assert_array_equal(second.frames[1], new[1])


def _write_y4m(path, seed: int) -> None:
    """Three random 16x24 frames in the uncompressed YUV4MPEG2 format (4:4:4): its size depends on nothing else."""
    planes = np.random.default_rng(seed).integers(16, 236, (3, 3, 16, 24), dtype=np.uint8)
    path.write_bytes(b"YUV4MPEG2 W24 H16 F25:1 Ip A1:1 C444\n" + b"".join(b"FRAME\n" + f.tobytes() for f in planes))


def test_a_video_file_replaced_at_the_same_size_and_mtime_decodes_again(tmp_path):
    path = tmp_path / "v.y4m"
    _write_y4m(path, seed=1)
    stat = path.stat()
    cache = VideoCache(tmp_path / "cache")
    (first,) = cache.load([file_item(path, max_frames=None, frame_size=None)], min_frames=1)
    time.sleep(0.05)  # past the clock tick of the file system's status-change times
    _write_y4m(path, seed=2)  # as cp -p would leave it
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (stat.st_size, stat.st_mtime_ns)
    (second,) = cache.load([file_item(path, max_frames=None, frame_size=None)], min_frames=1)
    assert cache.n_decoded == 2
    np.testing.assert_array_equal(second.frames, read_video(path))
    assert not np.array_equal(second.frames, first.frames)


def test_an_entry_keyed_by_size_and_mtime_alone_is_not_read(tmp_path, make_video, moving_frames):
    """A cache written before keys held the status change: its entry keeps its old key and is decoded anew."""
    path = make_video(tmp_path / "v.avi", moving_frames(4, 16, 24, seed=1))
    item = file_item(path, max_frames=None, frame_size=None)
    stat = path.absolute().stat()
    old_key = CacheItem(item.name, f"{path.absolute()}|{stat.st_size}|{stat.st_mtime_ns}", item.settings,
                        decode=item.decode).key
    (tmp_path / "cache").mkdir()
    np.save(tmp_path / "cache" / f"{old_key}.npy", np.zeros((4, 16, 24, 3), np.uint8))
    cache = VideoCache(tmp_path / "cache")
    (video,) = cache.load([item], min_frames=1)
    assert cache.n_decoded == 1 and item.key != old_key
    np.testing.assert_array_equal(video.frames, read_video(path))


def test_bad_videos_skipped_with_one_warning(tmp_path, corrupt_video, make_video, moving_frames, caplog):
    good = make_video(tmp_path / "good.avi", moving_frames(8, 32, 48))
    items = [file_item(p, max_frames=None, frame_size=None, name=p.name)
             for p in (good, corrupt_video.garbage, corrupt_video.short)]
    with caplog.at_level(logging.WARNING, logger="vidpred.data.cache"):
        videos = VideoCache(tmp_path / "cache").load(items, min_frames=4)
    assert [v.name for v in videos] == ["good.avi"]
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    message = warnings[0].getMessage()
    assert "bad.avi" in message and "cannot open" in message
    assert "short.avi" in message and "2 frames < min_frames=4" in message


def test_nothing_usable_raises(tmp_path, corrupt_video):
    items = [file_item(p, max_frames=None, frame_size=None) for p in (corrupt_video.garbage, corrupt_video.short)]
    with pytest.raises(NoUsableVideosError, match=r"1 unreadable, 1 shorter than min_frames=4"):
        VideoCache(tmp_path / "cache").load(items, min_frames=4)
    with pytest.raises(NoUsableVideosError, match="none of the 0 videos is usable"):
        VideoCache(tmp_path / "cache").load([], min_frames=1)


def test_short_videos_stay_cached_for_a_smaller_min_frames(tmp_path):
    item, decoder = _item("short", np.zeros((3, 4, 4, 3), np.uint8))
    cache = VideoCache(tmp_path)
    with pytest.raises(NoUsableVideosError, match="0 unreadable, 1 shorter than min_frames=5"):
        cache.load([item], min_frames=5)
    assert len(cache.load([item], min_frames=3)) == 1
    assert decoder.calls == 1


def test_no_temporary_files_left(tmp_path):
    cache = VideoCache(tmp_path)
    items = [_item(f"v{i}", np.full((2, 4, 4, 3), i, np.uint8))[0] for i in range(3)]
    cache.load(items, min_frames=1)
    assert _leftovers(tmp_path) == []
    bad = CacheItem(name="bad", fingerprint="bad", settings="", decode=lambda: np.zeros((2, 4, 4), np.float32))
    with pytest.raises(TypeError, match="uint8"):
        cache.load([bad], min_frames=1)
    assert _leftovers(tmp_path) == []


def test_atomic_write_cleans_up_after_a_failure(tmp_path):
    target = tmp_path / "x.npy"

    def explode(f):
        f.write(b"partial")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        _atomic_write(target, explode)
    assert list(tmp_path.iterdir()) == []


def test_truncated_cache_file_is_decoded_again(tmp_path, caplog):
    item, decoder = _item("a", np.ones((4, 4, 4, 3), np.uint8))
    VideoCache(tmp_path).load([item], min_frames=1)
    (tmp_path / f"{item.key}.npy").write_bytes(b"\x93NUMPY garbage")
    with caplog.at_level(logging.WARNING):
        videos = VideoCache(tmp_path).load([item], min_frames=1)
    assert decoder.calls == 2 and videos[0].frames.sum() == 4 * 4 * 4 * 3
    assert "unreadable" in caplog.text


def test_raises_a_low_open_file_limit(tmp_path, monkeypatch):
    # Every memory map holds a file descriptor: a 1024 soft limit cannot map UCF101.
    import vidpred.data.cache as cache_module

    class FakeResource:
        RLIMIT_NOFILE, RLIM_INFINITY = 7, -1
        limits = (64, 100_000)

        def getrlimit(self, which):
            return self.limits

        def setrlimit(self, which, limits):
            self.limits = limits

    fake = FakeResource()
    monkeypatch.setattr(cache_module, "resource", fake)
    items = [_item(f"v{i}", np.zeros((2, 4, 4, 3), np.uint8))[0] for i in range(3)]
    VideoCache(tmp_path).load(items, min_frames=1)
    soft, hard = fake.limits
    assert hard == 100_000 and 3 + 256 < soft <= hard


def test_a_cut_video_is_marked_truncated_from_the_cache_too(tmp_path, make_video, moving_frames):
    path = make_video(tmp_path / "v.avi", moving_frames(6, 16, 24))
    cache = VideoCache(tmp_path / "cache")
    for _ in range(2):
        cut, whole, exact = (cache.load([file_item(path, max_frames=n, frame_size=None)], min_frames=1)[0]
                             for n in (5, None, 6))
        assert (len(cut.frames), cut.truncated) == (5, True)
        assert (len(whole.frames), whole.truncated) == (6, False)
        assert (len(exact.frames), exact.truncated) == (6, False)
        np.testing.assert_array_equal(cut.frames, whole.frames[:5])
        assert isinstance(cut.frames, np.memmap) and not cut.frames.flags.writeable
        assert len(pickle.dumps(PatchSampler([cut.frames], 5, 8, motion_threshold=0.0))) < cut.frames.nbytes / 4  # a reference, not pixels
    assert cache.n_decoded == 3


@pytest.mark.parametrize("damage", [lambda data: b"", lambda data: data[:11] + b" " * 116 + b"\n" + data[128:]],
                         ids=["empty", "header blanked"])
def test_an_empty_or_garbled_cache_file_is_decoded_again(tmp_path, caplog, damage):
    """An empty file is what a crash can leave of a renamed file whose data never reached the disk."""
    frames = np.arange(4 * 4 * 4 * 3, dtype=np.uint8).reshape(4, 4, 4, 3)
    item, decoder = _item("a", frames)
    VideoCache(tmp_path).load([item], min_frames=1)
    path = tmp_path / f"{item.key}.npy"
    path.write_bytes(damage(path.read_bytes()))
    with caplog.at_level(logging.WARNING):
        (video,) = VideoCache(tmp_path).load([item], min_frames=1)
    assert decoder.calls == 2
    np.testing.assert_array_equal(video.frames, frames)
    assert "unreadable" in caplog.text


def test_a_decode_removes_the_temporary_file_of_a_write_killed_long_ago(tmp_path, caplog):
    killed = tmp_path / ".0123.npy.abcd.tmp.npy"  # as `replacing` names it
    killed.write_bytes(b"half a video")
    an_hour_ago = time.time() - ABANDONED_AFTER_S - 1
    os.utime(killed, (an_hour_ago, an_hour_ago))
    recent = tmp_path / ".4567.npy.efgh.tmp.npy"  # another process's write under way
    recent.write_bytes(b"being written")
    item, _ = _item("a", np.ones((2, 4, 4, 3), np.uint8))
    with caplog.at_level(logging.INFO, logger="vidpred.data.cache"):
        VideoCache(tmp_path).load([item], min_frames=1)
    assert not killed.exists() and recent.exists()
    assert "a cache write that never finished" in caplog.text


def test_a_frame_folder_with_a_dangling_link_still_decodes_again_when_its_frames_change(tmp_path, moving_frames):
    # the link is no frame (the folder's reader skips it), and must not blind the fingerprint to the frames
    frames, old, new = _folder_of_three_frames(tmp_path, moving_frames, ".png")
    (frames / "latest.png").symlink_to(tmp_path / "nowhere.png")
    cache = VideoCache(tmp_path / "cache")
    (first,) = cache.load([file_item(frames, max_frames=None, frame_size=None)], min_frames=1)
    np.testing.assert_array_equal(first.frames[1], old[1])
    time.sleep(0.05)
    assert cv2.imwrite(str(frames / "1.png"), new[1][..., ::-1])
    (second,) = cache.load([file_item(frames, max_frames=None, frame_size=None)], min_frames=1)
    assert cache.n_decoded == 2
    np.testing.assert_array_equal(second.frames[1], new[1])


def test_a_cache_folder_with_someone_else_s_index_an_empty_path_and_a_home_path(tmp_path, monkeypatch):
    item = _item("a", np.zeros((2, 4, 4, 3), np.uint8))[0]
    for theirs in ('["v1.avi", "v2.avi"]', '{"notes": "mine"}', "not json"):
        (tmp_path / "index.json").write_text(theirs)
        with pytest.raises(ValueError, match=f"the cache folder {tmp_path} holds an index.json that no vidpred cache "
                                             "wrote; choose another folder"):
            VideoCache(tmp_path).load([item], min_frames=1)
        assert (tmp_path / "index.json").read_text() == theirs and not list(tmp_path.glob("*.npy"))
    with pytest.raises(ValueError, match="the cache folder's path is empty"):
        VideoCache(" ")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert VideoCache("~/cache").cache_dir == tmp_path / "home" / "cache"


def test_a_video_reached_by_another_spelling_of_its_path_is_decoded_once(tmp_path, make_video, moving_frames,
                                                                         monkeypatch):
    path = make_video(tmp_path / "data" / "v.avi", moving_frames(6, 16, 24))
    (tmp_path / "link").symlink_to(tmp_path / "data")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    cache = VideoCache(tmp_path / "cache")
    spellings = (path, tmp_path / "elsewhere" / ".." / "data" / "v.avi", "../data/v.avi", tmp_path / "link" / "v.avi")
    for spelling in spellings:
        cache.load([file_item(Path(spelling), max_frames=None, frame_size=None)], min_frames=2)
    assert cache.n_decoded == 1


def test_a_decode_that_may_not_fit_on_the_disk_is_said_before_it_starts(tmp_path, make_video, moving_frames,
                                                                         monkeypatch, caplog):
    # a minute of 1080p phone video decodes to some 11 GB of cache
    import shutil
    from collections import namedtuple

    videos = [make_video(tmp_path / f"{name}.avi", moving_frames(n, 24, 40)) for name, n in (("long", 9), ("short", 3))]
    items = [file_item(v, max_frames=None, frame_size=None, name=v.name) for v in videos]
    Usage = namedtuple("Usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda folder: Usage(10**9, 0, 30_000))  # (9 + 3) * 24 * 40 * 3 = 34,560
    with caplog.at_level(logging.WARNING, logger="vidpred.data.cache"):
        VideoCache(tmp_path / "cache").load(items, min_frames=1, desc="decoding", progress=False)
    assert (f"decoding: 2 videos decode to about 0.0 GB of frames, and {tmp_path / 'cache'} has 0.0 GB free; "
            "data.frame_height (or data.frame_size) decodes smaller frames, data.max_frames_per_video fewer: "
            "--set either") in caplog.text
    caplog.clear()
    monkeypatch.setattr(shutil, "disk_usage", lambda folder: Usage(10**9, 0, 40_000))
    with caplog.at_level(logging.WARNING, logger="vidpred.data.cache"):
        VideoCache(tmp_path / "other").load(items, min_frames=1, desc="decoding", progress=False)
    assert "decode to about" not in caplog.text


def test_a_video_is_cached_a_frame_at_a_time_as_read_video_reads_it(tmp_path, make_video, moving_frames, monkeypatch):
    # a minute of 1080p decoded whole before it was written took some 11 GB of memory; now a frame's
    from vidpred.data import cache_items

    video = make_video(tmp_path / "clip.avi", moving_frames(9, 24, 40))
    folder = tmp_path / "frames"
    folder.mkdir()
    for i, frame in enumerate(moving_frames(5, 20, 30)):
        cv2.imwrite(str(folder / f"{i}.png"), frame)
    cases = [(video, {}), (video, {"max_frames": 4}), (video, {"frame_height": 12}), (video, {"frame_size": (10, 16)}),
             (folder, {})]
    expected = [read_video(path, max_frames=options.get("max_frames"), frame_size=options.get("frame_size"),
                           frame_height=options.get("frame_height")) for path, options in cases]

    def whole(*args, **kwargs):
        raise AssertionError("decoded whole")

    monkeypatch.setattr(cache_items, "read_video", whole)
    items = [file_item(path, **{"max_frames": None, "frame_size": None, **options}) for path, options in cases]
    cache = VideoCache(tmp_path / "cache")
    for video_frames, want in zip(cache.load(items, min_frames=1, progress=False), expected):
        np.testing.assert_array_equal(video_frames.frames, want)
    index = json.loads((tmp_path / "cache" / "index.json").read_text())
    files = [np.load(cache.path_for(item), mmap_mode="r") for item in items]
    assert [index[item.key]["shape"] for item in items] == [list(f.shape) for f in files]
    assert files[1].shape[0] == 5  # 4 frames kept and one more, which tells a longer video


def test_a_video_that_fails_part_way_is_unreadable_and_leaves_no_cache_file(tmp_path, moving_frames, caplog):
    folder = tmp_path / "frames"
    folder.mkdir()
    for i, frame in enumerate(moving_frames(6, 20, 30)):
        cv2.imwrite(str(folder / f"{i}.png"), frame)
    (folder / "3.png").write_bytes(b"not a picture")  # the 4th frame cannot be decoded
    cache = VideoCache(tmp_path / "cache")
    with pytest.raises(NoUsableVideosError, match="1 unreadable"):
        cache.load([file_item(folder, max_frames=None, frame_size=None)], min_frames=1, progress=False)
    assert not [p.name for p in (tmp_path / "cache").iterdir() if p.name != "index.json"]  # no entry, no temporary


def test_a_complete_cache_removes_the_temporary_file_of_a_write_killed_long_ago(tmp_path):
    # numpy reserves a whole entry's space for a write: a killed one's stayed while nothing more needed decoding
    item, decoder = _item("a", np.ones((2, 4, 4, 3), np.uint8))
    VideoCache(tmp_path).load([item], min_frames=1)
    killed = tmp_path / ".0123.npy.abcd.tmp.npy"
    killed.write_bytes(b"half a video")
    an_hour_ago = time.time() - ABANDONED_AFTER_S - 1
    os.utime(killed, (an_hour_ago, an_hour_ago))
    VideoCache(tmp_path).load([item], min_frames=1)
    assert decoder.calls == 1 and not killed.exists()


def test_an_index_cut_short_beside_cache_entries_is_the_caches_own_and_rewritten(tmp_path, caplog):
    # a crash or an interrupted copy had left every later decode refused, "choose another folder"
    first, _ = _item("a", np.ones((2, 4, 4, 3), np.uint8))
    second, _ = _item("b", np.zeros((3, 4, 4, 3), np.uint8))
    VideoCache(tmp_path).load([first], min_frames=1)
    (tmp_path / "index.json").write_text('{\n "3f')
    with caplog.at_level(logging.WARNING, logger="vidpred.data.cache"):
        videos = VideoCache(tmp_path).load([first, second], min_frames=1)
    assert [len(v.frames) for v in videos] == [2, 3]
    assert "ignoring unreadable cache index" in caplog.text
    assert set(json.loads((tmp_path / "index.json").read_text())) == {second.key}  # what this run decoded


def test_a_disk_that_fills_while_numpy_writes_is_named_as_full(tmp_path, monkeypatch):
    # numpy's tofile says only "N requested and M written": the message says what the disk lacks
    import shutil
    from collections import namedtuple

    item, _ = _item("a", np.ones((2, 100, 100, 3), np.uint8))

    def short_write(f, array, allow_pickle=False):
        raise OSError("60000 requested and 16384 written")

    monkeypatch.setattr(np, "save", short_write)
    monkeypatch.setattr(shutil, "disk_usage", lambda folder: namedtuple("Usage", "total used free")(10**9, 0, 16384))
    with pytest.raises(DataError, match=r"cannot write the cache file .*\.npy: No space left on device \(0\.1 MB "
                                        r"needed, 0\.0 MB free\)"):
        VideoCache(tmp_path).load([item], min_frames=1)
