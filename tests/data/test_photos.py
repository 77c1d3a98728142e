"""vidpred/data/photos.py: scikit-image's photos and folders of photos as RGB arrays."""

import logging

import cv2
import numpy as np
import pytest

from vidpred.data.errors import DataError
from vidpred.data.photos import PHOTOS, PhotoFolder, photo_library, skimage_photo


def _noise_photo(height, width, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def test_skimage_photos_load_as_rgb():
    for name in PHOTOS:
        photo = skimage_photo(name)
        assert photo.dtype == np.uint8 and photo.ndim == 3 and photo.shape[2] == 3 and min(photo.shape[:2]) >= 250
    camera = skimage_photo("camera")  # greyscale: three equal channels
    assert (camera[..., 0] == camera[..., 2]).all()


def test_photo_folder(tmp_path):
    with pytest.raises(DataError, match="no photos"):
        PhotoFolder(tmp_path)
    photo = _noise_photo(60, 80)
    cv2.imwrite(str(tmp_path / "b.png"), photo[:, :, ::-1])
    cv2.imwrite(str(tmp_path / "a.png"), photo[:, :, 0])  # greyscale
    (tmp_path / "notes.txt").write_text("not a photo")
    cv2.imwrite(str(tmp_path / ".c.png"), photo)  # hidden: not a photo of the folder, as the cache's key lists them
    (tmp_path / "IMG_0001.heic").write_bytes(b"a phone's photo in a format not read")
    (tmp_path / "more").mkdir()
    library = photo_library(str(tmp_path))
    assert len(library) == 2 and [p.name for p in library.paths] == ["a.png", "b.png"]
    assert library.skipped == ["IMG_0001.heic", "more/", "notes.txt"]
    np.testing.assert_array_equal(library[1], photo)
    np.testing.assert_array_equal(library[0], np.repeat(photo[:, :, :1], 3, axis=2))


def test_a_folders_photos_are_in_name_order_whatever_order_they_were_written_in(tmp_path):
    # A synthetic video picks its photos by index: in the folder's listing order (creation order, or
    # a hash of the name on ext4) the same seed would move other photos on another machine.
    names = ["m.png", "c.png", "x.png", "a.png", "q.png", "f.png", "B.png", "k.png", "t.png", "d.png", "w.png", "h.png"]
    for i, name in enumerate(names):
        cv2.imwrite(str(tmp_path / name), np.full((4, 6, 3), 10 * i, np.uint8))
    folder = PhotoFolder(tmp_path)
    assert [p.name for p in folder.paths] == sorted(names)  # case-sensitive: "B.png" first
    assert int(folder[0][0, 0, 0]) == 10 * names.index("B.png")


def test_training_on_a_photo_folder_names_what_it_does_not_read(tmp_path, caplog):
    from vidpred.config import DataConfig, SyntheticConfig
    from vidpred.data.datasets import load_synthetic

    folder = tmp_path / "photos"
    folder.mkdir()
    cv2.imwrite(str(folder / "a.png"), _noise_photo(60, 80))
    (folder / "IMG_0001.heic").write_bytes(b"heic")
    cfg = DataConfig(cache_dir=str(tmp_path / "cache"),
                     synthetic=SyntheticConfig(n_videos=1, n_frames=5, height=32, width=32, photo_dir=str(folder)))
    with caplog.at_level(logging.WARNING):
        assert len(load_synthetic(cfg, min_frames=5, progress=False)) == 1
    assert (f"data.synthetic.photo_dir: 1 photos in {folder}; 1 other entries are not read (IMG_0001.heic), only "
            ".png") in caplog.text


def test_photos_smaller_than_the_synthetic_frames_are_named(tmp_path, caplog):
    from vidpred.config import DataConfig, SyntheticConfig
    from vidpred.data.datasets import load_synthetic

    folder = tmp_path / "photos"
    folder.mkdir()
    cv2.imwrite(str(folder / "large.png"), _noise_photo(60, 80))
    cv2.imwrite(str(folder / "portrait.jpg"), _noise_photo(80, 60))  # the frame's sides, the other way round
    cv2.imwrite(str(folder / "narrow.png"), _noise_photo(100, 30))  # one side short
    cv2.imwrite(str(folder / "tiny.png"), _noise_photo(10, 12))
    assert sorted(PhotoFolder(folder).smaller_than(50, 70)) == [("narrow.png", 100, 30), ("tiny.png", 10, 12)]
    assert PhotoFolder(folder).smaller_than(10, 12) == []  # every photo covers a 10x12 frame
    cfg = DataConfig(cache_dir=str(tmp_path / "cache"),
                     synthetic=SyntheticConfig(n_videos=1, n_frames=5, height=50, width=70, photo_dir=str(folder)))
    with caplog.at_level(logging.WARNING):
        load_synthetic(cfg, min_frames=5, progress=False)
    assert ("data.synthetic.photo_dir: 2 of 4 photos are smaller than the 50x70 synthetic frames (the smallest: "
            "tiny.png, 10x12): each is magnified to fill them") in caplog.text
    caplog.clear()
    cfg.synthetic.height, cfg.synthetic.width = 8, 10  # frames every photo covers: nothing said
    with caplog.at_level(logging.WARNING):
        load_synthetic(cfg, min_frames=5, progress=False)
    assert "smaller than" not in caplog.text


def test_arrays_become_rgb():
    grey = np.arange(12, dtype=np.uint8).reshape(3, 4)
    rgba = np.zeros((3, 4, 4), np.uint8)
    library = photo_library([grey, rgba])
    assert [p.shape for p in library] == [(3, 4, 3), (3, 4, 3)]
    np.testing.assert_array_equal(library[0][..., 1], grey)
    with pytest.raises(ValueError, match="uint8"):
        photo_library([grey.astype(np.float32)])


def test_an_rgba_photo_keeps_its_colour_and_drops_its_alpha():
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[..., 0], rgba[..., 1], rgba[..., 2], rgba[..., 3] = 10, 20, 30, 255
    (photo,) = photo_library([rgba])
    assert photo.shape == (2, 2, 3) and photo[0, 0].tolist() == [10, 20, 30]


def test_the_stereo_photos_are_the_left_and_the_right_view():
    from skimage import data

    left, right, _ = data.stereo_motorcycle()
    assert (np.array_equal(skimage_photo("motorcycle_left"), left)
            and np.array_equal(skimage_photo("motorcycle_right"), right))
    assert not skimage_photo("coffee").flags.writeable  # shared by every video: read-only


def test_a_folder_named_like_a_photo_is_not_a_photo_and_no_photos_is_refused(tmp_path):
    cv2.imwrite(str(tmp_path / "a.png"), np.full((4, 4, 3), 9, np.uint8))
    (tmp_path / "album.png").mkdir()  # a subfolder, whatever its name
    folder = PhotoFolder(tmp_path)
    assert [p.name for p in folder.paths] == ["a.png"] and folder.skipped == ["album.png/"]
    with pytest.raises(ValueError, match="photos is empty"):
        photo_library([])


def test_every_unreadable_photo_is_named_before_any_video_is_made(tmp_path):
    from vidpred.config import DataConfig, SyntheticConfig
    from vidpred.data.datasets import load_synthetic
    from vidpred.data.errors import DataError

    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(3):
        cv2.imwrite(str(folder / f"good{i}.png"), _noise_photo(60, 80))
    whole = (folder / "good0.png").read_bytes()
    (folder / "cut_short.png").write_bytes(whole[: len(whole) // 2])  # its header reads; its pixels do not
    (folder / "not_a_photo.jpg").write_bytes(b"text saved as .jpg")
    cv2.imwrite(str(folder / "grey.pgm"), _noise_photo(60, 80)[:, :, 0])
    cfg = DataConfig(cache_dir=str(tmp_path / "cache"),
                     synthetic=SyntheticConfig(n_videos=4, n_frames=5, height=32, width=32, photo_dir=str(folder)))
    with pytest.raises(DataError, match=r"2 of 6 photos in .* cannot be read: cut_short.png, not_a_photo.jpg; "):
        load_synthetic(cfg, min_frames=5, progress=False)
    assert not (tmp_path / "cache").exists()  # nothing made before it
    (folder / "cut_short.png").unlink()
    (folder / "not_a_photo.jpg").unlink()
    assert len(load_synthetic(cfg, min_frames=5, progress=False)) == 4


def test_a_photo_too_large_for_pillow_s_guard_is_read_by_opencv(tmp_path, monkeypatch):
    from PIL import Image

    folder = tmp_path / "photos"
    folder.mkdir()
    cv2.imwrite(str(folder / "panorama.png"), _noise_photo(60, 80))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # 4,800 pixels: over twice the guard, Pillow refuses it
    assert PhotoFolder(folder).smaller_than(50, 70) == [] and PhotoFolder(folder).smaller_than(70, 90) == [
        ("panorama.png", 60, 80)]
