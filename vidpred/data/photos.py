"""Photographs for the synthetic videos: scikit-image's bundled photos or a folder of the user's.

Both are indexable sequences of uint8 ``(H, W, 3)`` RGB arrays that read a photo only when
it is indexed, so a video reads the few it uses and a large folder costs no memory.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

from vidpred.data.errors import DataError
from vidpred.data.video_io import IMAGE_EXTENSIONS, is_frame_image, path_order, read_image

__all__ = ["PHOTOS", "PhotoFolder", "photo_library", "skimage_photo"]

# scikit-image's bundled photographs that load without a download (greyscale ones become
# three equal channels). Drawings, documents and masks are left out.
PHOTOS = (
    "astronaut", "chelsea", "coffee", "rocket", "camera", "hubble_deep_field", "immunohistochemistry",
    "motorcycle_left", "motorcycle_right", "retina", "brick", "grass", "gravel", "coins", "moon", "clock", "cell",
)


def _as_rgb(image: np.ndarray) -> np.ndarray:
    """uint8 ``(H, W, 3)``: greyscale repeated over three channels, alpha dropped."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ValueError(f"photos must be uint8, got {image.dtype}")
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3 or image.shape[2] not in (1, 3, 4):
        raise ValueError(f"photos must be (H, W), (H, W, 3) or (H, W, 4), got {image.shape}")
    if image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    return np.ascontiguousarray(image[:, :, :3])


@functools.lru_cache(maxsize=None)
def skimage_photo(name: str) -> np.ndarray:
    """One of :data:`PHOTOS` as uint8 ``(H, W, 3)`` RGB (read once per process, read-only)."""
    from skimage import data  # here, not at import: scikit-image is only needed for these photos

    if name in ("motorcycle_left", "motorcycle_right"):
        left, right, _ = data.stereo_motorcycle()
        image = left if name == "motorcycle_left" else right
    elif name in PHOTOS:
        image = getattr(data, name)()
    else:
        raise ValueError(f"unknown photo {name!r}; choose from {', '.join(PHOTOS)}")
    image = _as_rgb(image)
    image.flags.writeable = False
    return image


class _SkimagePhotos(Sequence):
    """:data:`PHOTOS`, each loaded when first indexed."""

    def __len__(self) -> int:
        return len(PHOTOS)

    def __getitem__(self, i: int) -> np.ndarray:
        return skimage_photo(PHOTOS[i])


class PhotoFolder(Sequence):
    """The photos of a folder (``IMAGE_EXTENSIONS``, hidden names skipped, sorted by name),
    each read when indexed as uint8 ``(H, W, 3)`` RGB. ``skipped`` names what else the folder
    holds (other formats, such as a phone's .heic, and subfolders, which are not searched).

    Only the few photos a video uses are read, so a folder of thousands costs no memory.

    Raises:
        DataError: the folder holds no photo, or a photo cannot be read.
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise DataError(f"data.synthetic.photo_dir: {self.folder} is not a folder")
        # The files the cache's key lists (a hidden ".b.png" is none, as it is no frame of a video).
        entries = sorted(self.folder.iterdir(), key=path_order)
        self.paths = [p for p in entries if p.is_file() and is_frame_image(p)]
        self.skipped = [p.name + ("/" if p.is_dir() else "") for p in entries
                        if not p.name.startswith(".") and not (p.is_file() and is_frame_image(p))]
        if not self.paths:
            raise DataError(f"data.synthetic.photo_dir: no photos ({', '.join(IMAGE_EXTENSIONS)}) in {self.folder}")

    def __len__(self) -> int:
        return len(self.paths)

    def smaller_than(self, height: int, width: int) -> list[tuple[str, int, int]]:
        """``(name, H, W)`` of the photos whose sides, either way round (a camera's orientation
        tag may turn them), fall short of a ``height`` x ``width`` frame's: read from each file's
        header, so the pixels are not decoded.

        Every file is checked whole on the way (a PNG's chunks to its end, what OpenCV decodes
        where Pillow cannot), so that the unreadable ones are said at once, before any video is
        made, not one at a time by the video that first draws each.

        Raises:
            DataError: naming every photo that cannot be read (a truncated download?).
        """
        from PIL import Image, UnidentifiedImageError  # only needed here

        short, unreadable = [], []
        for path in self.paths:
            try:
                with Image.open(path) as image:
                    w, h = image.size
                    image.verify()  # a PNG's chunks and checksums to its end
            except (OSError, SyntaxError, ValueError, UnidentifiedImageError, Image.DecompressionBombError):
                decoded = read_image(path)  # Pillow may not know the format: OpenCV may
                if decoded is None:
                    unreadable.append(path.name)
                    continue
                h, w = decoded.shape[:2]
            if any(a < b for a, b in zip(sorted((h, w)), sorted((height, width)))):
                short.append((path.name, h, w))
        if unreadable:
            shown = ", ".join(unreadable[:8]) + (f" and {len(unreadable) - 8} more" if len(unreadable) > 8 else "")
            raise DataError(f"data.synthetic.photo_dir: {len(unreadable)} of {len(self.paths)} photos in {self.folder} "
                            f"cannot be read: {shown}; remove or replace them")
        return short

    def __getitem__(self, i: int) -> np.ndarray:
        image = read_image(self.paths[i])  # 8-bit BGR whatever the file holds
        if image is None:
            raise DataError(f"cannot read the photo {self.paths[i]}")
        return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def photo_library(photos: Sequence[np.ndarray] | str | Path | None) -> Sequence[np.ndarray]:
    """Photos as an indexable sequence of uint8 ``(H, W, 3)`` RGB arrays.

    ``None``: scikit-image's :data:`PHOTOS`; a path: the photos of that folder
    (:class:`PhotoFolder`); a sequence of uint8 ``(H, W[, C])`` arrays: those.
    """
    if photos is None:
        return _SkimagePhotos()
    if isinstance(photos, (str, Path)):
        return PhotoFolder(photos)
    library = [_as_rgb(p) for p in photos]
    if not library:
        raise ValueError("photos is empty")
    return library
