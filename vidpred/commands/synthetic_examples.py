"""Show and time the synthetic training videos (vidpred/data/synthetic.py).

    python scripts/synthetic_examples.py --out docs/figures/synthetic_examples.png
    python scripts/synthetic_examples.py --seeds 0 1 2 --n-frames 24 --size 256 --timing 50

Writes a contact sheet -- one row per seed, every ``--step``-th frame, each shrunk to
``--thumb`` pixels -- and logs how long one video takes to generate (median over
``--timing`` seeds, after one warm-up video that loads the photos).
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, PngImagePlugin, UnidentifiedImageError

from vidpred.cli import script, setup_logging, user_path
from vidpred.data.synthetic import generate_synthetic_video
from vidpred.safe_write import check_output, replacing

log = logging.getLogger("synthetic_examples")


def contact_sheet(videos: list[np.ndarray], step: int, thumb: int, gap: int = 4) -> np.ndarray:
    """uint8 RGB grid: row ``i`` holds frames ``0, step, 2 step, ...`` of ``videos[i]`` (uint8
    ``(T, H, W, 3)``), each ``thumb`` px wide, ``gap`` px of white between them."""
    rows = []
    for video in videos:
        height = round(video.shape[1] * thumb / video.shape[2])
        frames = [cv2.resize(frame, (thumb, height), interpolation=cv2.INTER_AREA) for frame in video[::step]]
        spaced = [np.pad(f, ((0, gap), (0, gap), (0, 0)), constant_values=255) for f in frames]
        rows.append(np.concatenate(spaced, axis=1))
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows]
    return np.concatenate(rows, axis=0)[:-gap, :-gap]


def time_generation(seeds: range, n_frames: int, size: int) -> list[float]:
    """Seconds per video for each seed (one warm-up video first)."""
    generate_synthetic_video(seeds.start, n_frames, size, size)
    seconds = []
    for seed in seeds:
        start = time.perf_counter()
        generate_synthetic_video(seed, n_frames, size, size)
        seconds.append(time.perf_counter() - start)
    return seconds


_SOFTWARE = "vidpred synthetic_examples.py"  # marks the sheets this script may replace
_MAX_THUMB = 2048  # a shown frame's width: a row of them must fit in memory and on a screen


def _is_our_sheet(path: Path) -> bool:
    try:
        with Image.open(path) as image:
            return image.format == "PNG" and image.info.get("Software") == _SOFTWARE
    except (OSError, UnidentifiedImageError):
        return False


def write_sheet(path: Path, sheet: np.ndarray) -> None:
    """Write the uint8 RGB ``sheet`` as a PNG that carries this script's mark."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Software", _SOFTWARE)
    with replacing(path) as tmp:
        Image.fromarray(sheet).save(tmp, format="PNG", optimize=True, pnginfo=info)


@script
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=lambda text: Path(user_path(text)), default=None,
                        help="contact sheet PNG (default: none)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="one row per seed (default 0 1 2)")
    parser.add_argument("--n-frames", type=int, default=24, help="frames per video (default 24)")
    parser.add_argument("--size", type=int, default=256, help="frame height and width (default 256)")
    parser.add_argument("--step", type=int, default=4, help="show every step-th frame (default 4)")
    parser.add_argument("--thumb", type=int, default=96, help="width of a shown frame, pixels (default 96)")
    parser.add_argument("--timing", type=int, default=0, help="time this many videos (0: no timing)")
    parser.add_argument("--force", action="store_true", help="replace an --out this script did not write")
    args = parser.parse_args(argv)
    setup_logging()
    if min(args.n_frames, args.size, args.step, args.thumb) < 1 or not args.seeds:
        raise ValueError("need --n-frames, --size, --step and --thumb >= 1 and at least one seed")
    if args.thumb > _MAX_THUMB:
        raise ValueError(f"--thumb must be at most {_MAX_THUMB} px, got {args.thumb}")
    if args.timing < 0:
        raise ValueError(f"--timing must be >= 0 (0: no timing), got {args.timing}")
    if args.out is None and args.timing == 0:
        raise ValueError("nothing to do: give --out for a contact sheet and/or --timing N to time N videos")
    if args.out is not None and args.out.suffix.lower() != ".png":
        raise ValueError(f"--out {args.out}: the contact sheet is a .png")
    if args.out is not None:
        check_output(args.out, ours=_is_our_sheet, what="a contact sheet written by this script", force=args.force)
        videos = [generate_synthetic_video(seed, args.n_frames, args.size, args.size) for seed in args.seeds]
        sheet = contact_sheet(videos, args.step, args.thumb)
        write_sheet(args.out, sheet)
        log.info("wrote %s (%d seeds, %.0f KB)", args.out, len(args.seeds), args.out.stat().st_size / 1e3)
    if args.timing > 0:
        seconds = time_generation(range(1000, 1000 + args.timing), args.n_frames, args.size)
        log.info("%d-frame %dx%d video: median %.3f s, 90th percentile %.3f s, max %.3f s over %d seeds",
                 args.n_frames, args.size, args.size, statistics.median(seconds),
                 float(np.percentile(seconds, 90)), max(seconds), len(seconds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
