"""Writing outputs without losing anything of the user's.

Every file a script writes at a path the user chose goes through two steps:

* :func:`check_output` refuses, before any work is done, a target that is the same file
  as an input (``os.path.samefile``, so hard and symbolic links count), a folder, an
  existing file that vidpred did not write (unless ``force``), or a folder that cannot
  receive files;
* :func:`replacing` hands out a temporary file beside the target and renames it over the
  target only once it is complete, so an error or a kill mid-write leaves the old file
  (:func:`replacing_all`: the files of a set, renamed once all are complete, and the rest
  of a set whose process was killed among its renames landed by the next check or set
  written in its folder).

A refusal is an :class:`OutputRefused`, which scripts report in one line (exit code 2).
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from vidpred._landing import (finish_interrupted_sets, landing_path, landing_together, replace_file, sync_file,
                              sync_folder)
from vidpred._writable import unwritable_reason

__all__ = ["OutputRefused", "same_file", "landing_path", "check_output", "check_figure_and_table",
           "check_output_folder", "replacing", "replacing_all", "finish_interrupted_sets",
           "remove_abandoned_temporaries", "replace_file", "TEXT_ERRORS", "shown", "write_text",
           "save_marked_figure", "image_has_mark", "text_starts_with"]

class OutputRefused(ValueError):
    """An output path whose writing would destroy an input or a file vidpred did not write."""


def same_file(a: str | Path | None, b: str | Path | None) -> bool:
    """Whether ``a`` and ``b`` are the same file or folder on disk (links and other
    spellings included); False when either is None or does not exist."""
    if a is None or b is None:
        return False
    try:
        return os.path.samefile(a, b)
    except OSError:  # either does not exist (yet), or is not on this machine
        return False


def check_output(path: str | Path, *, inputs: Iterable[str | Path | None] = (),
                 ours: Callable[[Path], bool] | None = None, what: str = "an output of vidpred",
                 force: bool = False) -> Path:
    """Refuse ``path`` as an output now, before the work whose result it is to hold; an
    accepted one's temporaries that a killed earlier write left are removed once abandoned.

    Args:
        path: the file to write.
        inputs: files (or folders) read to make it; ``None`` entries are skipped.
        ours: whether an existing file at ``path`` is one vidpred wrote (and may replace);
            ``None``: vidpred cannot tell, so an existing file needs ``force``.
        what: what ``ours`` recognises, for the message ("a vidpred checkpoint").
        force: replace an existing file that ``ours`` does not recognise.

    Returns:
        ``path`` as a :class:`Path`.

    Raises:
        OutputRefused: naming the path and what to do instead.
    """
    path = Path(path)
    landing = landing_path(path)
    _finish_sets_before_check(landing.parent)
    for source in inputs:
        if same_file(landing, source):
            raise OutputRefused(f"{path} is the same file as the input {source}: choose another output path")
    if landing.is_dir():
        raise OutputRefused(f"{path} is a folder: give a file name")
    if landing.is_file() and not force and not os.stat(landing).st_mode & 0o222:
        raise OutputRefused(f"{path} is read-only: choose another output path, or pass --force to replace it")
    if landing.exists() and not force and not (ours is not None and ours(landing)):
        raise OutputRefused(f"{path} already exists and is not {what}: choose another output path, or pass "
                            f"--force to replace it")
    reason = unwritable_reason(path.parent)
    if reason is not None:
        raise OutputRefused(f"cannot write {path}: {reason}")
    _remove_abandoned_for(path)
    return path


def _finish_sets_before_check(folder: Path) -> None:
    """:func:`finish_interrupted_sets` in ``folder``, a failure reported as a refusal."""
    try:
        finish_interrupted_sets(folder)
    except OSError as exc:
        raise OutputRefused(f"cannot finish writing the files an earlier command left part-renamed in {folder}: "
                            f"{exc}") from None


def check_figure_and_table(out: str, *, ours: Callable[[Path], bool], table_start: str, noun: str,
                           force: bool = False) -> Path:
    """Refuse ``out`` (``--out``, a .png) and the Markdown table beside it now, as
    :func:`check_output` does; the table may be replaced when it begins as this script's do.

    Args:
        out: the figure's path.
        ours: whether an existing figure is one this script wrote.
        table_start: how every table this script writes begins (its heading row's first cells).
        noun: what the figure is, for the messages ("map", "figure").
        force: replace files that are not recognised as this script's.

    Returns:
        The table's path: ``out`` with the suffix ``.md``.

    Raises:
        ValueError: ``out`` is not a .png.
        OutputRefused: as :func:`check_output`, for either file.
    """
    if Path(out).suffix.lower() != ".png":
        raise ValueError(f"--out {out}: the {noun} is a .png")
    check_output(out, ours=ours, what=f"a {noun} written by this script", force=force)
    table = Path(out).with_suffix(".md")
    check_output(table, ours=lambda path: text_starts_with(path, table_start),
                 what=f"the table of a {noun} written by this script", force=force)
    return table


def check_output_folder(out_dir: str | Path, names: Sequence[str], *, ours: Callable[[Path], bool],
                        what: str, output: str = "output", force: bool = False) -> Path:
    """Refuse ``out_dir`` as the folder for files ``names`` now, before the work that fills it.

    Accepted when it does not exist, holds none of ``names``, or ``ours(out_dir)`` says an
    earlier run of the same tool wrote them; with ``force`` also when it holds files of
    those names that vidpred did not write.

    Args:
        out_dir: the folder.
        names: the files the work writes there.
        ours: whether the files in ``out_dir`` are an earlier run's of the same tool.
        what: who writes the folder, for the message ("vidpred evaluation").
        output: what the folder holds, for the message ("report").
        force: replace files of those names that ``ours`` does not recognise.

    Returns:
        ``out_dir`` as a :class:`Path`.

    Raises:
        OutputRefused: ``out_dir`` is a file, holds someone else's files of those names,
            or cannot be written.
    """
    out_dir = Path(out_dir)
    landing = Path(os.path.realpath(out_dir))  # the folder written once its parents are made ("new/../x" is "x")
    if landing.exists() and not landing.is_dir():
        raise OutputRefused(f"{out_dir} is a file: the {output} goes to a folder, choose another --out")
    _finish_sets_before_check(landing)
    present = [name for name in names if (landing / name).exists()]
    if present and not force and not ours(landing):
        raise OutputRefused(f"{out_dir} holds {', '.join(present)} that no {what} wrote: choose another --out, "
                            "or pass --force to replace them")
    reason = unwritable_reason(out_dir)
    if reason is not None:
        raise OutputRefused(f"cannot write the {output} in {out_dir}: {reason}")
    for name in names:
        _remove_abandoned_for(out_dir / name)
    return out_dir


# The longest name, in bytes, a temporary file's starts with: the random part and ".tmp" add
# 14 and the suffix, and file systems take 255 bytes a name.
_STEM_BYTES = 200


def _temporary_stem(path: Path) -> str:
    """What a temporary file of ``path`` is named after: ``path``'s name, or for a name too
    long to take the temporary's additions its first bytes and its suffix."""
    if len(path.name.encode("utf-8", TEXT_ERRORS)) <= _STEM_BYTES:
        return path.name
    keep = _STEM_BYTES - len(path.suffix.encode("utf-8", TEXT_ERRORS)) - 1
    head = path.name.encode("utf-8", TEXT_ERRORS)[:keep].decode("utf-8", "ignore")  # never half a character
    return f"{head}~{path.suffix}"


@contextlib.contextmanager
def replacing(path: str | Path, *, durable: bool = False) -> Iterator[Path]:
    """A temporary path beside ``path`` (``.<name>.<random>.tmp<suffix>``: the same suffix,
    so writers that go by it still do), renamed over ``path`` when the block ends without
    an error and removed otherwise.

    Parent folders are created. The file gets the usual mode for new files (not the
    private mode of :func:`tempfile.mkstemp`). With ``durable``, the file is flushed to
    disk before the rename and the rename itself after it (for checkpoints).

    Raises:
        OSError: the folder or the temporary file cannot be made, or the block's write
            failed; the error names ``path``, not the temporary file.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{_temporary_stem(path)}.", suffix=f".tmp{path.suffix}", dir=path.parent)
    except OSError as exc:  # name the file the user chose, not the temporary one
        raise type(exc)(exc.errno, exc.strerror, str(path)) from None
    os.close(fd)
    tmp = Path(name)
    try:
        umask = os.umask(0)
        os.umask(umask)
        try:  # a file replaced keeps its mode (a private one stays private)
            mode = stat.S_IMODE(os.stat(path).st_mode)
        except OSError:
            mode = 0o666 & ~umask
        os.chmod(tmp, mode | stat.S_IWUSR)  # writable while it is written, even when the target is read-only
        try:
            yield tmp
        except OSError as exc:  # a full disk, say: name the file the user chose, not the temporary one
            if exc.errno is not None and (exc.filename is None or exc.filename == str(tmp)):
                raise type(exc)(exc.errno, exc.strerror, str(path)) from None
            if exc.errno is None and str(tmp) in str(exc):  # a message of its own that names it
                raise type(exc)(str(exc).replace(str(tmp), str(path))) from exc.__cause__
            raise
        if durable:
            sync_file(tmp)
        if not mode & stat.S_IWUSR:
            if os.name == "nt" and path.exists():  # Windows refuses to replace a read-only file
                os.chmod(path, mode | stat.S_IWUSR)
            os.chmod(tmp, mode)
        replace_file(tmp, path)
    finally:
        if tmp.exists() and not os.stat(tmp).st_mode & stat.S_IWUSR:  # Windows deletes no read-only file
            os.chmod(tmp, stat.S_IMODE(os.stat(tmp).st_mode) | stat.S_IWUSR)
        tmp.unlink(missing_ok=True)
    if durable:
        sync_folder(path.parent)


@contextlib.contextmanager
def replacing_all(paths: Sequence[str | Path]) -> Iterator[list[Path]]:
    """:func:`replacing` for files that belong together (a report's): one temporary path for
    each of ``paths``, in order, all renamed over theirs only when the block ends without an
    error. A failure part way (a full disk, Ctrl-C, any error) leaves every old file.

    The renames come one after another (no file system renames several at once), so an
    interrupt (Ctrl-C, SIGTERM, a closed terminal's SIGHUP) that arrives among them is held
    until the last one is done, then delivered. A process killed outright among them (SIGKILL,
    a power cut) leaves a journal of the set in each of its folders, with the files on disk:
    the next command that writes there lands the rest of the set first
    (:func:`finish_interrupted_sets`), so a set is never left mixed with another. Two
    commands that land sets in the same folders take turns, so the set that lands last is
    whole, not interleaved with the other (:func:`vidpred._landing.landing_together`)."""
    with contextlib.ExitStack() as stack:
        temporaries = [stack.enter_context(replacing(path)) for path in paths]
        yield temporaries
        with landing_together(list(zip(temporaries, map(Path, paths)))):
            stack.close()  # each file's rename


# A temporary file of :func:`replacing` that no write has touched for this long was left by
# a process killed mid-write: a write runs from the file's creation to its rename without
# pausing, so a live one touches it every few seconds even on a slow network disk.
ABANDONED_AFTER_S = 3600.0


def remove_abandoned_temporaries(folder: str | Path, suffix: str, *,
                                 older_than_s: float = ABANDONED_AFTER_S) -> list[Path]:
    """Delete the temporary files :func:`replacing` left in ``folder`` for targets ending in
    ``suffix`` (".npy") when their process was killed mid-write, known by not having been
    written to for ``older_than_s`` seconds; a write under way is left alone.

    Returns:
        The files removed.
    """
    now = time.time()
    removed = []
    for stray in Path(folder).glob(f".*{suffix}.*.tmp{suffix}"):
        try:
            if now - stray.stat().st_mtime < older_than_s:
                continue
            stray.unlink()
        except OSError:  # renamed or removed by its writer meanwhile, or not ours to remove
            continue
        removed.append(stray)
    return removed


def _remove_abandoned_for(path: Path) -> None:
    """Delete the temporary files an earlier write of ``path`` left when its process was
    killed (those of a temporary of it too, ``..<name>.*``), once abandoned
    (:data:`ABANDONED_AFTER_S`): a user's output's strays go when a later command checks it
    (:func:`check_output`, :func:`check_output_folder`), once a command, not once a write."""
    now = time.time()
    for stray in path.parent.glob(f".*{path.suffix}"):
        if not (stray.name.lstrip(".").startswith(f"{_temporary_stem(path)}.") and ".tmp" in stray.name):
            continue
        try:
            if now - stray.stat().st_mtime >= ABANDONED_AFTER_S:
                stray.unlink()
        except OSError:  # renamed or removed by its writer meanwhile, or not ours to remove
            continue


# How text files are written: UTF-8, a file name's bytes that are not UTF-8 (which Python
# holds as lone surrogates) written as their escapes, "\udce9", rather than failing the write.
TEXT_ERRORS = "backslashreplace"


def shown(text: str) -> str:
    """``text`` as :data:`TEXT_ERRORS` writes it: for what takes no lone surrogate (a figure's title)."""
    return text.encode("utf-8", TEXT_ERRORS).decode("utf-8")


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8, :data:`TEXT_ERRORS`) to ``path`` through a temporary file; returns ``path``."""
    path = Path(path)
    with replacing(path) as tmp:
        tmp.write_text(text, encoding="utf-8", errors=TEXT_ERRORS)
    return path


def save_marked_figure(fig, path: str | Path, software: str) -> Path:
    """Write a matplotlib figure as a PNG through a temporary file, with ``software`` in its
    "Software" metadata (the mark :func:`image_has_mark` reads back), and close it."""
    import matplotlib.pyplot as plt

    path = Path(path)
    with replacing(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png", metadata={"Software": software})
    plt.close(fig)
    return path


def image_has_mark(path: str | Path, image_format: str, key: str, value: object) -> bool:
    """Whether ``path`` is an image of ``image_format`` ("PNG", "GIF") whose metadata ``key``
    holds ``value``: the mark vidpred leaves in the pictures it may later replace."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return image.format == image_format and image.info.get(key) == value
    except (OSError, UnidentifiedImageError):
        return False


def text_starts_with(path: str | Path, prefix: str) -> bool:
    """Whether ``path`` is a UTF-8 text file that begins with ``prefix`` (False when unreadable)."""
    try:
        with open(path, encoding="utf-8") as f:
            return f.read(len(prefix)) == prefix
    except (OSError, UnicodeDecodeError):
        return False
