import json

import cv2
import numpy as np
import pytest

from vidpred.data.cache import VideoCache
from vidpred.data.cache_items import CacheItem, file_item, procedural_item, synthetic_item
from vidpred.data.errors import DataError
from vidpred.data.synthetic import generate_synthetic_video


def test_a_file_item_s_settings_name_only_what_its_decode_does(tmp_path):
    # A whole-video decode keeps the settings (so the key) its cached files were written
    # under; a cut one reads one frame more, to tell a longer video, and says so.
    path = tmp_path / "v.avi"
    assert json.loads(file_item(path, max_frames=None, frame_size=None).settings) == {
        "reader": f"opencv {cv2.__version__}", "max_frames": None, "frame_size": None}
    assert json.loads(file_item(path, max_frames=8, frame_size=(16, 24), frame_height=None).settings) == {
        "reader": f"opencv {cv2.__version__}", "max_frames": 8, "frame_size": [16, 24], "one_frame_more": True}
    assert json.loads(file_item(path, max_frames=None, frame_size=None, frame_height=20).settings) == {
        "reader": f"opencv {cv2.__version__}", "max_frames": None, "frame_size": None, "frame_height": 20}


def test_another_opencv_decodes_and_generates_again(tmp_path, monkeypatch):
    # its decoders, warps and JPEG encoder make the frames: a cached decode by another version is not served
    path = tmp_path / "v.avi"
    keys = (file_item(path, max_frames=None, frame_size=None).key,
            synthetic_item(3, n_frames=4, height=32, width=32).key,
            procedural_item(3, n_frames=4, height=16, width=16).key)
    monkeypatch.setattr(cv2, "__version__", "9.9.9")
    assert file_item(path, max_frames=None, frame_size=None).key != keys[0]
    assert synthetic_item(3, n_frames=4, height=32, width=32).key != keys[1]
    assert procedural_item(3, n_frames=4, height=16, width=16).key == keys[2]  # numpy's alone


def test_procedural_item_settings_cover_every_generator_parameter():
    item = procedural_item(3, n_frames=4, height=16, width=16)
    settings = json.loads(item.settings)
    assert settings == {"n_frames": 4, "height": 16, "width": 16, "n_objects": 3, "beta": 2.0,
                        "max_speed": 2.0, "pan_speed": 1.0}
    assert item.key == procedural_item(3, n_frames=4, height=16, width=16, n_objects=3).key
    assert item.key != procedural_item(3, n_frames=4, height=16, width=16, beta=1.0).key
    assert item.key != procedural_item(4, n_frames=4, height=16, width=16).key
    assert item.decode().shape == (4, 16, 16, 3)
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        procedural_item(3, n_frames=4, height=16, width=16, colour="red")


def test_synthetic_item_keys_cover_the_parameters_and_the_photos(tmp_path):
    item = synthetic_item(3, n_frames=4, height=32, width=32)
    assert '"max_speed": 12.0' in item.settings and "scikit-image" in item.fingerprint
    assert item.key == synthetic_item(3, n_frames=4, height=32, width=32, max_layers=3).key
    assert item.key != synthetic_item(3, n_frames=4, height=32, width=32, max_speed=2.0).key
    assert item.key != synthetic_item(4, n_frames=4, height=32, width=32).key
    folder = tmp_path / "photos"
    folder.mkdir()
    cv2.imwrite(str(folder / "a.png"), np.random.default_rng(0).integers(0, 256, (60, 80, 3), dtype=np.uint8))
    from_folder = synthetic_item(3, photo_dir=str(folder), n_frames=4, height=32, width=32)
    assert from_folder.key != item.key
    cv2.imwrite(str(folder / "b.png"), np.random.default_rng(1).integers(0, 256, (60, 80, 3), dtype=np.uint8))  # a new photo: a new video
    assert synthetic_item(3, photo_dir=str(folder), n_frames=4, height=32, width=32).key != from_folder.key
    cache = VideoCache(tmp_path / "cache")
    (video,) = cache.load([item], min_frames=4, progress=False)
    np.testing.assert_array_equal(video.frames, generate_synthetic_video(3, 4, 32, 32))
    cache.load([item], min_frames=4, progress=False)
    assert cache.n_decoded == 1


def test_a_synthetic_video_the_generator_fails_on_is_an_error_not_an_unreadable_video(tmp_path, monkeypatch):
    from vidpred.data import cache_items

    def refuse(*args, **kwargs):
        raise cv2.error("OpenCV(5.1.0) imgwarp.cpp:2874: error: (-215:Assertion failed) in function 'warpAffine'\n")

    item = synthetic_item(3, n_frames=4, height=32, width=32)
    monkeypatch.setattr(cache_items, "generate_synthetic_video", refuse)
    with pytest.raises(DataError, match=r"^synthetic video 3 could not be generated with \{'n_frames': 4, .*\} "
                                        r"\(OpenCV\(5.1.0\) .*warpAffine'\)$"):
        VideoCache(tmp_path / "cache").load([item], min_frames=4, progress=False)


def test_a_photo_folder_is_read_once_for_all_its_synthetic_videos(tmp_path, monkeypatch):
    from vidpred.config import DataConfig, SyntheticConfig
    from vidpred.data import cache_items
    from vidpred.data.datasets import synthetic_items

    folder = tmp_path / "photos"
    folder.mkdir()
    cv2.imwrite(str(folder / "a.png"), np.zeros((40, 40, 3), np.uint8))
    reads = []
    fingerprint = cache_items._source_fingerprint
    monkeypatch.setattr(cache_items, "_source_fingerprint", lambda path: reads.append(path) or fingerprint(path))
    items = synthetic_items(DataConfig(synthetic=SyntheticConfig(n_videos=50, photo_dir=str(folder))))
    assert len(items) == 50 and len({item.key for item in items}) == 50 and len(reads) == 1
    assert items[7].key == synthetic_item(7, photo_dir=str(folder), **json.loads(items[7].settings)).key


def test_cache_item_equality_ignores_the_decoder():
    a = CacheItem("n", "f", "s", decode=lambda: None)
    b = CacheItem("n", "f", "s", decode=lambda: 1)
    assert a == b and hash(a) == hash(b) and a.key == b.key


def test_a_videos_decoded_size_is_read_from_its_header_before_decoding(tmp_path, make_video, moving_frames):
    video = make_video(tmp_path / "clip.avi", moving_frames(9, 24, 40))
    folder = tmp_path / "frames"
    folder.mkdir()
    for i, frame in enumerate(moving_frames(5, 20, 30)):
        cv2.imwrite(str(folder / f"{i}.png"), frame)
    for path, options in [(video, {}), (video, {"max_frames": 4}), (video, {"frame_height": 12}),
                          (video, {"frame_size": (10, 16)}), (folder, {})]:
        item = file_item(path, **{"max_frames": None, "frame_size": None, **options})
        assert item.size() == np.asarray(item.decode()).nbytes  # a cut video decodes one frame more, as announced
