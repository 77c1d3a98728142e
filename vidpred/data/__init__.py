"""Data pipeline: sources (procedural, folder, samples, corpus, UCF101; synthetic beside them)
-> uint8 cache -> motion-filtered patches.

Frames on disk and in the cache are ``uint8 (T, H, W, C)`` RGB, grey levels 0-255;
``to_model_input`` turns a sampled batch into the model's float ``(B, C, T, H, W)`` in
``[-1, 1]``. A training run gets all of it from :mod:`vidpred.data.stream`
(``load_training_data``, ``BatchStream``); by hand::

    videos = [v.frames for v in load_split(cfg.data, "train", min_frames=n_context + n_future)]
    sampler = PatchSampler(videos, n_context + n_future, cfg.data.patch_size,
                           motion_threshold=cfg.data.motion_threshold, seed=seed, rank=rank)
    loader = DataLoader(PatchBatches(sampler, batch_size, start_index=k), batch_size=None,
                        num_workers=cfg.data.num_workers)
"""

from __future__ import annotations

from vidpred.data.cache import CachedVideo, NoUsableVideosError, VideoCache
from vidpred.data.cache_items import CacheItem, file_item, procedural_item, synthetic_item
from vidpred.data.errors import DataError
from vidpred.data.datasets import folder_holdout, load_split, load_synthetic, ucf101_holdout
from vidpred.data.folder import FOLDER_VIDEO_EXTENSIONS, SameVideoTwiceError, list_folder_videos
from vidpred.data.procedural import generate_video, procedural_seeds
from vidpred.data.sampler import (
    PatchBatches,
    PatchSampler,
    SampleStats,
    fixed_clips,
    motion_score,
    to_model_input,
    to_uint8_frames,
)
from vidpred.data.synthetic import generate_synthetic_video, synthetic_seeds
from vidpred.data.ucf101 import every_nth, ucf101_split
from vidpred.data.video_io import (
    IMAGE_EXTENSIONS,
    VIDEO_EXTENSIONS,
    VideoReadError,
    read_video,
)
from vidpred.data.video_writer import write_video

__all__ = [
    "CacheItem",
    "CachedVideo",
    "DataError",
    "FOLDER_VIDEO_EXTENSIONS",
    "IMAGE_EXTENSIONS",
    "NoUsableVideosError",
    "PatchBatches",
    "PatchSampler",
    "SameVideoTwiceError",
    "SampleStats",
    "VIDEO_EXTENSIONS",
    "VideoCache",
    "VideoReadError",
    "every_nth",
    "file_item",
    "fixed_clips",
    "folder_holdout",
    "generate_synthetic_video",
    "generate_video",
    "list_folder_videos",
    "load_split",
    "load_synthetic",
    "motion_score",
    "procedural_item",
    "procedural_seeds",
    "read_video",
    "synthetic_item",
    "synthetic_seeds",
    "to_model_input",
    "to_uint8_frames",
    "ucf101_holdout",
    "ucf101_split",
    "write_video",
]
