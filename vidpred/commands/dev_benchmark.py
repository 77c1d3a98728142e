r"""The development benchmark: every video of the real-video corpus scored as its own source.

Fetch the corpus once (python scripts/fetch_videos.py), then:

    # choose recipes on the validation videos
    python scripts/dev_benchmark.py --subset val --checkpoint runs/a/checkpoints/latest.pt runs/b/checkpoints/latest.pt
    # report on the test videos (no --checkpoint: the baselines alone)
    python scripts/dev_benchmark.py --subset test --checkpoint vidpred/pretrained/refiner.pt --name shipped

For each video: whole-frame PSNR, SSIM, sharpness and edge ratio of the 1st and 2nd
predicted frames for each checkpoint beside the last input, the Farneback (paper) and DIS
flow extrapolations and the blend (its weight fitted on the validation videos), a verdict,
and each checkpoint's paired per-clip differences against each baseline. docs/evaluation.md
explains the baselines and the pairing. Ctrl-C finishes the clips under way and writes the
report of the clips scored, marked partial.

    # each checkpoint also fine-tuned on the first half of each video, scored on the second
    python scripts/dev_benchmark.py --subset val --checkpoint vidpred/pretrained/refiner.pt --adapt-steps 300
    # harder footage: every scored clip with sensor grain (10 grey levels) or brightness flicker (±10%)
    python scripts/dev_benchmark.py --subset test --checkpoint vidpred/pretrained/refiner.pt --grain 10
    python scripts/dev_benchmark.py --subset test --checkpoint vidpred/pretrained/refiner.pt --flicker 0.1
    # smaller frames: every scored frame resized to 144 rows (the same motion, a larger share of the frame)
    python scripts/dev_benchmark.py --subset val --checkpoint vidpred/pretrained/refiner.pt --height 144
    # every frame compressed alone, as a motion-JPEG webcam stores it (JPEG quality 30)
    python scripts/dev_benchmark.py --subset test --checkpoint vidpred/pretrained/refiner.pt --jpeg 30
    # a fade to black of 5% a frame in every clip (--fade -0.05: a fade in; --fade-frames 4: one that ends)
    python scripts/dev_benchmark.py --subset test --checkpoint vidpred/pretrained/refiner.pt --fade 0.05
    # the same towards white (a dip to white); a cross-dissolve into a second scene, 5% a frame
    python scripts/dev_benchmark.py --subset test --checkpoint vidpred/pretrained/refiner.pt --fade 0.05 --fade-white
    python scripts/dev_benchmark.py --subset test --checkpoint vidpred/pretrained/refiner.pt --dissolve 0.05
    # faster motion: every 2nd frame of each video (the footage at half its frame rate)
    python scripts/dev_benchmark.py --subset test --checkpoint vidpred/pretrained/refiner.pt --frame-step 2
    # a frame dropped just before each clip's newest context frame
    python scripts/dev_benchmark.py --subset test --checkpoint vidpred/pretrained/refiner.pt --skip-frame
    # steady camera motion: a still of each clip panned at a constant 1-8 px per frame
    python scripts/dev_benchmark.py --subset val --checkpoint vidpred/pretrained/refiner.pt --steady-pan 8
    # ... or zoomed steadily in or out by 0.5-4% per frame
    python scripts/dev_benchmark.py --subset val --checkpoint vidpred/pretrained/refiner.pt --steady-zoom 4
    # test-time averaging of refiners' motion: several seeds as one ensemble row, each model mirrored
    python scripts/dev_benchmark.py --subset val --checkpoint runs/s0/checkpoints/best.pt runs/s1/checkpoints/best.pt \
        --ensemble "seeds 0-1" --mirror
"""

from __future__ import annotations

import argparse
import sys

from vidpred.build import select_device
from vidpred.cli import (StopRequest, add_device_arg, add_report_args, add_steady_args, add_threads_arg,
                         add_workers_arg, checkpoint_path, positive, script, set_threads, setup_logging, user_path)
from vidpred.commands import stopped_exit_code
from vidpred.config import DataConfig
from vidpred.evaluation.adapt import AdaptSettings
from vidpred.evaluation.degrade import Degradation
from vidpred.evaluation.dev_benchmark import DEFAULT_CLIPS_PER_VIDEO, run_dev_benchmark
from vidpred.evaluation.partial import STOP_AT_ONCE, STOP_THEN
from vidpred.evaluation.steady_camera import steady_camera


@script
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", nargs="*", default=[], metavar="CKPT",
                        help="vidpred checkpoints or exported models; none = baselines only")
    parser.add_argument("--name", nargs="*", default=None, metavar="NAME", help="row names for the checkpoints")
    parser.add_argument("--subset", choices=("val", "test"), default="test",
                        help="val: choose recipes here; test: report (default)")
    parser.add_argument("--root", default=None, type=user_path,
                        help="the corpus folder (default .cache/vidpred/corpus)")
    parser.add_argument("--cache-dir", default=DataConfig.cache_dir, type=user_path,
                        help="decoded-video cache (default %(default)s)")
    parser.add_argument("--clips-per-video", type=int, default=DEFAULT_CLIPS_PER_VIDEO,
                        help="clips spread over each video (default %(default)s)")
    parser.add_argument("--n-context", type=int, default=4,
                        help="context frames given (default 4); a model that needs fewer reads the newest ones")
    parser.add_argument("--frame-step", type=int, default=1, metavar="K",
                        help="each clip's frames K apart in its video: the footage at 1/K of its frame rate, K times "
                             "the motion a frame (default 1)")
    parser.add_argument("--skip-frame", action="store_true",
                        help="leave out each clip's frame before its newest context frame, so the context's newest "
                             "step spans two, as a dropped frame or a conversion to a lower frame rate makes it")
    parser.add_argument("--blend-weight", type=float, default=None,
                        help="the blend row's weight on the last input (default: fitted on the validation videos)")
    parser.add_argument("--adapt-steps", type=int, default=0,
                        help="also fine-tune each checkpoint this many steps on the first half of each video and "
                             "score the second half only (default 0: no adaptation, clips over the whole video)")
    parser.add_argument("--adapt-lr", type=float, default=None,
                        help=f"learning rate of the adaptation (default {AdaptSettings.lr:g})")
    parser.add_argument("--adapt-seed", type=int, default=None, help="the adaptation crops' seed (default 0)")
    parser.add_argument("--adapt-check", type=float, default=None, metavar="FRACTION",
                        help="hold this newest fraction of the adaptation frames out and keep the adapted model "
                             "only if it predicts them better (default 0: always keep it)")
    parser.add_argument("--grain", type=float, default=0.0, metavar="SIGMA",
                        help="add Gaussian sensor noise of this standard deviation (grey levels, 0-255) to every "
                             "scored clip (default 0)")
    parser.add_argument("--flicker", type=float, default=0.0, metavar="A",
                        help="multiply every scored frame's brightness by a factor from [1-A, 1+A] (default 0)")
    parser.add_argument("--fade", type=float, default=0.0, metavar="STEP",
                        help="make every scored clip a fade: each frame's brightness STEP of the first's darker "
                             "than the last (negative: brighter, a fade in; default 0)")
    parser.add_argument("--fade-frames", type=int, default=0, metavar="N",
                        help="with --fade or --dissolve, only each clip's first N frames fade (or dissolve) and the "
                             "rest hold (a fade or dissolve that ends within the clip; default 0: every frame "
                             "changes)")
    parser.add_argument("--fade-white", action="store_true",
                        help="with --fade, fade to white (or in from it) instead of black: each frame's distance "
                             "from white STEP of the first's shorter than the last's")
    parser.add_argument("--dissolve", type=float, default=0.0, metavar="STEP",
                        help="make every scored clip a cross-dissolve into a second scene (the clip turned a half "
                             "turn), its share growing by STEP a frame from none (default 0)")
    parser.add_argument("--caption", action="store_true",
                        help="burn a still caption (a timestamp, a recording mark) into every scored frame")
    parser.add_argument("--letterbox", type=float, default=0.0, metavar="F",
                        help="add black bars above and below every scored frame, each F times its height (default 0)")
    parser.add_argument("--portrait", action="store_true",
                        help="turn every scored frame a quarter turn, as a phone held upright films (a tall frame, "
                             "horizontal motion running down it)")
    parser.add_argument("--height", type=int, default=0, metavar="H",
                        help="resize every scored frame to H rows first, its width in proportion (smaller frames: "
                             "the same motion a larger share of the frame; default 0: as it is)")
    parser.add_argument("--jpeg", type=int, default=0, metavar="Q",
                        help="compress every scored frame as a JPEG of quality Q (1-100), as a webcam's "
                             "motion-JPEG stream stores it (default 0: as it is)")
    add_steady_args(parser)
    parser.add_argument("--ensemble", default=None, metavar="NAME",
                        help="also score a row of this name whose motion is the mean of all the checkpoints' "
                             "(refiners only)")
    parser.add_argument("--mirror", action="store_true",
                        help="also score each checkpoint with its motion averaged with its answer for the "
                             "left-right mirrored clip (refiners only; twice the cost)")
    add_device_arg(parser)
    add_threads_arg(parser)
    add_workers_arg(parser)
    add_report_args(parser, out_help="write report.md and per_clip.json here",
                    force_help="replace a report.md / per_clip.json in --out that no benchmark wrote")
    args = parser.parse_args(argv)
    setup_logging()
    args.checkpoint = [checkpoint_path(c) for c in args.checkpoint]
    set_threads(args.threads)
    positive("--workers", args.workers)
    if args.ensemble is not None and not args.ensemble.strip():
        raise ValueError("--ensemble needs a name for its row")
    if args.blend_weight is not None and not 0 <= args.blend_weight <= 1:
        raise ValueError(f"--blend-weight must lie in [0, 1], got {args.blend_weight}")
    positive("--clips-per-video", args.clips_per_video)
    adapt = _adapt_settings(args)
    degrade = Degradation(grain=args.grain, flicker=args.flicker, fade=args.fade, fade_frames=args.fade_frames,
                          fade_white=args.fade_white, dissolve=args.dissolve, caption=args.caption,
                          letterbox=args.letterbox, portrait=args.portrait, jpeg=args.jpeg, height=args.height)
    if adapt.steps and degrade:
        raise ValueError("--adapt-steps cannot be combined with --grain, --flicker, --fade, --dissolve, --caption, "
                         "--letterbox, --portrait, --jpeg or --height")
    steady = steady_camera(args.steady_pan, args.steady_zoom, args.steady_roll)
    if adapt.steps and (args.ensemble is not None or args.mirror or steady):
        raise ValueError("--adapt-steps cannot be combined with --ensemble, --mirror or a steady camera motion")
    if adapt.steps and not args.checkpoint:
        raise ValueError("--adapt-steps needs a --checkpoint to adapt")
    positive("--frame-step", args.frame_step)
    if args.frame_step > 1 and (adapt.steps or steady):
        raise ValueError("--frame-step cannot be combined with --adapt-steps or a steady camera motion")
    if args.skip_frame and (adapt.steps or steady):
        raise ValueError("--skip-frame cannot be combined with --adapt-steps or a steady camera motion")
    stop = StopRequest(STOP_THEN, STOP_AT_ONCE)
    markdown, _ = run_dev_benchmark(args.checkpoint, names=args.name, subset=args.subset, root=args.root,
                                    cache_dir=args.cache_dir, clips_per_video=args.clips_per_video,
                                    blend_weight=args.blend_weight, device=select_device(args.device, "--device"),
                                    workers=args.workers, progress=not args.quiet, out_dir=args.out,
                                    force=args.force, adapt=adapt, degrade=degrade, ensemble=args.ensemble,
                                    mirror=args.mirror, steady=steady, n_context=args.n_context,
                                    frame_step=args.frame_step, skip_frame=args.skip_frame, stop=stop)
    print(markdown)
    return stopped_exit_code(stop)


def _adapt_settings(args: argparse.Namespace) -> AdaptSettings:
    """The adaptation of ``--adapt-steps`` and its ``--adapt-*`` flags (0 steps: none).

    Raises:
        ValueError: an ``--adapt-*`` flag without ``--adapt-steps``, ``--adapt-check`` outside ``[0, 1)``,
            an ``--adapt-lr`` that is not a finite number > 0 or a negative ``--adapt-seed``.
    """
    for flag, value in (("--adapt-lr", args.adapt_lr), ("--adapt-seed", args.adapt_seed),
                        ("--adapt-check", args.adapt_check)):
        if value is not None and not args.adapt_steps:  # said, not ignored: it would change nothing
            raise ValueError(f"{flag} applies to --adapt-steps N (fine-tuning each checkpoint), not given")
    check = args.adapt_check or 0.0
    if not 0 <= check < 1:
        raise ValueError(f"--adapt-check must lie in [0, 1), got {check}")
    positive("--adapt-lr", args.adapt_lr)
    if args.adapt_seed is not None and args.adapt_seed < 0:
        raise ValueError(f"--adapt-seed must be >= 0, got {args.adapt_seed}")
    return AdaptSettings(steps=args.adapt_steps, lr=AdaptSettings.lr if args.adapt_lr is None else args.adapt_lr,
                         seed=args.adapt_seed or 0, check_fraction=check)


if __name__ == "__main__":
    sys.exit(main())
