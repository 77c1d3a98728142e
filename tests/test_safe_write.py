"""vidpred/safe_write.py: outputs that never destroy an input or a file vidpred did not write."""

from __future__ import annotations

import errno
import functools
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vidpred import safe_write
from vidpred.checkpoint import is_checkpoint, save_checkpoint
from vidpred.safe_write import (OutputRefused, check_figure_and_table, check_output, check_output_folder,
                                image_has_mark, replacing, replacing_all, save_marked_figure, write_text)


def test_a_new_file_in_a_new_folder_is_accepted(tmp_path):
    assert check_output(tmp_path / "a" / "b.pt") == tmp_path / "a" / "b.pt"


def test_the_input_itself_a_hard_link_and_a_symbolic_link_to_it_are_refused_even_with_force(tmp_path):
    source = tmp_path / "clip.avi"
    source.write_bytes(b"frames")
    os.link(source, tmp_path / "hard.avi")
    os.symlink(source, tmp_path / "soft.avi")
    for target in (source, tmp_path / "hard.avi", tmp_path / "soft.avi"):
        with pytest.raises(OutputRefused, match=f"is the same file as the input {source}"):
            check_output(target, inputs=[None, source], force=True)
    assert source.read_bytes() == b"frames"


def test_an_existing_file_is_replaced_only_when_recognised_or_forced(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("mine")
    with pytest.raises(OutputRefused, match="notes.txt already exists and is not a vidpred checkpoint.*--force"):
        check_output(notes, ours=is_checkpoint, what="a vidpred checkpoint")
    with pytest.raises(OutputRefused, match="already exists"):
        check_output(notes)  # nothing recognises it
    assert check_output(notes, force=True) == notes
    save_checkpoint({"step": 3}, tmp_path / "ckpt.pt")
    assert check_output(tmp_path / "ckpt.pt", ours=is_checkpoint) == tmp_path / "ckpt.pt"
    assert notes.read_text() == "mine"


def test_a_path_through_a_folder_not_made_yet_is_checked_where_it_lands(tmp_path):
    # "new/../clip.avi" is clip.avi once replacing() makes "new": every check had read the path as typed
    source = tmp_path / "clip.avi"
    source.write_bytes(b"frames")
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "report").mkdir()
    (tmp_path / "report" / "scores.json").write_text("theirs")
    with pytest.raises(OutputRefused, match="is the same file as the input"):
        check_output(tmp_path / "new" / ".." / "clip.avi", inputs=[source], force=True)
    with pytest.raises(OutputRefused, match="already exists and is not"):
        check_output(tmp_path / "new" / ".." / "notes.txt")
    with pytest.raises(OutputRefused, match="is a folder"):
        check_output(tmp_path / "new" / ".." / "report")
    with pytest.raises(OutputRefused, match="holds scores.json that no vidpred evaluation wrote"):
        check_output_folder(tmp_path / "new" / ".." / "report", ["scores.json"], ours=lambda _: False,
                            what="vidpred evaluation", output="report")
    assert not (tmp_path / "new").exists()


def test_a_read_only_file_is_replaced_only_when_forced_and_a_replaced_file_keeps_its_mode(tmp_path):
    kept = tmp_path / "prediction.gif"
    kept.write_text("mine")
    kept.chmod(0o444)  # the user's way of keeping it, which root's rename would not have respected
    with pytest.raises(OutputRefused, match="prediction.gif is read-only: choose another output path, or pass --force"):
        check_output(kept, ours=lambda _: True)
    assert check_output(kept, force=True) == kept
    with replacing(kept) as tmp:  # --force replaces it: its temporary is writable while written
        assert stat.S_IMODE(tmp.stat().st_mode) & stat.S_IWUSR
        tmp.write_text("new")
    assert kept.read_text() == "new" and stat.S_IMODE(kept.stat().st_mode) == 0o444  # and read-only again
    assert [p.name for p in tmp_path.iterdir()] == ["prediction.gif"]  # no temporary left
    private = tmp_path / "scores.csv"
    private.write_text("old")
    private.chmod(0o600)
    with replacing(private) as tmp:
        tmp.write_text("new")
    assert private.read_text() == "new" and stat.S_IMODE(private.stat().st_mode) == 0o600
    with replacing(tmp_path / "fresh.csv") as tmp:  # a new file: as the umask makes it
        tmp.write_text("new")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE((tmp_path / "fresh.csv").stat().st_mode) == 0o666 & ~umask


def test_a_figure_s_table_is_replaced_only_when_it_begins_as_the_script_s_tables_do(tmp_path):
    figure, table = tmp_path / "map.png", tmp_path / "map.md"
    check = functools.partial(check_figure_and_table, table_start="| | checkpoint |", noun="map")
    with pytest.raises(ValueError, match=r"--out .*map.jpg: the map is a \.png"):
        check(str(tmp_path / "map.jpg"), ours=lambda _: True)
    assert check(str(figure), ours=lambda _: False) == table
    figure.write_bytes(b"ours")
    table.write_text("my notes")  # beside a figure of ours, all the same
    with pytest.raises(OutputRefused, match="map.md already exists and is not the table of a map written by"):
        check(str(figure), ours=lambda path: path == figure)
    assert check(str(figure), ours=lambda _: False, force=True) == table
    table.write_text("| | checkpoint | − DIS flow, a | − DIS flow, b | report |\n")
    assert check(str(figure), ours=lambda path: path == figure) == table
    with pytest.raises(OutputRefused, match="map.png already exists and is not a map written by"):
        check(str(figure), ours=lambda _: False)
    assert check(str(tmp_path / "MAP.PNG"), ours=lambda _: False) == tmp_path / "MAP.md"


def test_a_folder_and_an_unwritable_folder_are_refused(tmp_path, read_only):
    with pytest.raises(OutputRefused, match="is a folder"):
        check_output(tmp_path, force=True)
    read_only(tmp_path / "ro")
    (tmp_path / "ro").mkdir()
    with pytest.raises(OutputRefused, match="cannot write .*ro/x.gif: Permission denied"):
        check_output(tmp_path / "ro" / "x.gif")


def test_replacing_renames_only_a_complete_file_and_leaves_no_temp_file(tmp_path):
    target = tmp_path / "report.md"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with replacing(target) as tmp:
            assert tmp.parent == tmp_path and tmp.suffix == ".md" and tmp != target
            tmp.write_text("half")
            raise RuntimeError("killed mid-write")
    assert target.read_text() == "old"
    assert write_text(target, "new") == target and target.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.md"]
    assert oct(target.stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def test_replacing_all_renames_a_set_of_files_only_once_every_one_is_complete(tmp_path):
    paths = [tmp_path / "report.md", tmp_path / "new" / "scores.json"]
    paths[0].write_text("old")
    with pytest.raises(KeyboardInterrupt):
        with replacing_all(paths) as (report, scores):
            report.write_text("new")
            raise KeyboardInterrupt  # before scores.json is written
    assert paths[0].read_text() == "old" and not paths[1].exists() and not list(paths[1].parent.iterdir())
    with replacing_all(paths) as (report, scores):
        report.write_text("new")
        scores.write_text("{}")
    assert [p.read_text() for p in paths] == ["new", "{}"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new", "report.md"]


def test_a_hard_link_elsewhere_keeps_its_content_when_the_target_is_replaced(tmp_path):
    target = tmp_path / "out.md"
    target.write_text("theirs")
    os.link(target, tmp_path / "kept.md")
    write_text(target, "ours")
    assert (tmp_path / "kept.md").read_text() == "theirs" and target.read_text() == "ours"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_text_starts_with_is_false_for_binary_or_missing_files(tmp_path):
    from vidpred.safe_write import text_starts_with

    table = tmp_path / "table.md"
    table.write_text("# Heading\nrows\n", encoding="utf-8")
    binary = tmp_path / "photo.jpg"
    binary.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)))
    assert text_starts_with(table, "# Heading")
    assert not text_starts_with(table, "# Other")
    assert not text_starts_with(binary, "# Heading")  # not UTF-8: someone else's, never an error
    assert not text_starts_with(tmp_path / "missing.md", "# Heading")


def test_a_marked_figure_carries_its_mark_and_only_that_one(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    path = save_marked_figure(fig, tmp_path / "sub" / "fig.png", "vidpred test")
    assert image_has_mark(path, "PNG", "Software", "vidpred test")
    assert not image_has_mark(path, "PNG", "Software", "vidpred other")
    assert not image_has_mark(path, "GIF", "Software", "vidpred test")
    assert [p.name for p in path.parent.iterdir()] == ["fig.png"]  # no temporary file left
    assert not plt.fignum_exists(fig.number)  # closed


def test_a_write_refused_by_the_disk_names_the_file_chosen_not_the_temporary_one(tmp_path):
    target = tmp_path / "prediction.gif"
    with pytest.raises(OSError, match=r"No space left on device: '.*prediction.gif'") as refused:
        with replacing(target):
            raise OSError(errno.ENOSPC, "No space left on device")  # as an image writer reports a full disk
    assert refused.value.errno == errno.ENOSPC and refused.value.filename == str(target)
    assert list(tmp_path.iterdir()) == []


def test_a_writer_s_own_message_names_the_file_chosen_not_the_temporary_one(tmp_path):
    # a message without an errno that names the path it was given (OpenCV's writer refusing a frame size)
    target = tmp_path / "prediction.mp4"
    with pytest.raises(OSError) as refused:
        with replacing(target) as tmp:
            raise OSError(f"cannot write {tmp}: the writer refused 2x40000 (HxW) frames")
    assert str(refused.value) == f"cannot write {target}: the writer refused 2x40000 (HxW) frames"
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(OSError, match="^no path in this one$"):  # a message without the path is kept as it is
        with replacing(target):
            raise OSError("no path in this one")


def test_an_error_without_an_errno_keeps_its_message(tmp_path):
    with pytest.raises(OSError, match="^disk full$"), replacing(tmp_path / "a.txt") as tmp:
        tmp.write_text("partial")
        raise OSError("disk full")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow  # a subprocess
@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_the_temporary_file_of_a_killed_write_is_removed_once_abandoned_and_a_live_one_kept(tmp_path):
    # a process killed inside `replacing` (SIGKILL: no cleanup runs) leaves its temporary file
    script = ("import os, signal, sys\n"
              "from vidpred.safe_write import replacing\n"
              "with replacing(sys.argv[1]) as tmp:\n"
              "    tmp.write_bytes(b'half a video')\n"
              "    os.kill(os.getpid(), signal.SIGKILL)\n")
    target = tmp_path / "video.npy"
    done = subprocess.run([sys.executable, "-c", script, str(target)], env={**os.environ, "PYTHONPATH": str(Path(safe_write.__file__).parents[1])})
    assert done.returncode == -signal.SIGKILL
    (killed,) = [p for p in tmp_path.iterdir()]
    assert killed.name.startswith(".video.npy.") and not target.exists()
    an_hour_ago = time.time() - safe_write.ABANDONED_AFTER_S - 1
    os.utime(killed, (an_hour_ago, an_hour_ago))
    with replacing(tmp_path / "other.npy") as live:  # a write under way: just touched
        live.write_bytes(b"being written")
        user = tmp_path / ".notes.npy"  # a hidden file of the user's
        user.write_bytes(b"mine")
        os.utime(user, (an_hour_ago, an_hour_ago))
        assert safe_write.remove_abandoned_temporaries(tmp_path, ".npy") == [killed]
        assert live.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".notes.npy", "other.npy"]


@pytest.mark.parametrize("check", ["file", "folder"])
def test_a_later_command_removes_what_a_killed_write_of_its_output_left(tmp_path, check):
    """Outputs are written once and again by hand (predict.py, an export, a report): the
    temporaries of a killed write, and of a temporary of it, go when the next command checks
    its output, once abandoned (once a command: a write, as of each video of a cache, globs nothing)."""
    target = tmp_path / "p.gif"
    target.write_bytes(b"the earlier animation")
    strays = [tmp_path / ".p.gif.ja74v_x0.tmp.gif", tmp_path / "..p.gif.ja74v_x0.tmp.gif.am6b6fzr.tmp.gif"]
    recent = tmp_path / ".p.gif.k3x9q2a1.tmp.gif"  # perhaps a write under way
    keep = [tmp_path / ".p.gif.notes", tmp_path / ".q.gif.ja74v_x0.tmp.gif", tmp_path / ".p.gif"]  # not its temporaries
    an_hour_ago = time.time() - safe_write.ABANDONED_AFTER_S - 1
    for path in (*strays, recent, *keep):
        path.write_bytes(b"x")
        if path is not recent:
            os.utime(path, (an_hour_ago, an_hour_ago))
    with replacing(target) as tmp:  # a write alone leaves them
        tmp.write_bytes(b"the new animation")
    assert all(p.exists() for p in strays)
    if check == "file":
        check_output(target, ours=lambda _: True)
    else:
        check_output_folder(tmp_path, ["p.gif"], ours=lambda _: True, what="predict.py")
    assert target.read_bytes() == b"the new animation"
    assert not any(p.exists() for p in strays) and recent.exists() and all(p.exists() for p in keep)


def test_a_folder_of_outputs_is_refused_when_a_file_someone_else_s_or_unwritable(tmp_path, read_only):
    names = ["report.md", "scores.json"]
    out = tmp_path / "report"

    def check(folder, ours=lambda _: False, force=False):
        return check_output_folder(folder, names, ours=ours, what="vidpred evaluation", output="report", force=force)

    assert check(out) == out  # not there yet
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert check(out) == out  # none of the names
    (out / "scores.json").write_text("theirs")
    with pytest.raises(OutputRefused, match="report holds scores.json that no vidpred evaluation wrote: .*--force"):
        check(out)
    assert check(out, ours=lambda folder: folder == out) == out
    assert check(out, force=True) == out
    (tmp_path / "report.md").write_text("a file")
    with pytest.raises(OutputRefused, match="report.md is a file: the report goes to a folder"):
        check(tmp_path / "report.md", ours=lambda _: True)
    read_only(tmp_path / "ro")
    (tmp_path / "ro").mkdir()
    with pytest.raises(OutputRefused, match="cannot write the report in .*ro: Permission denied"):
        check(tmp_path / "ro", force=True)
    assert (out / "scores.json").read_text() == "theirs"


def test_a_durable_write_reaches_the_disk_before_its_rename_and_the_rename_after_it(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append("fsync folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync file")
        real_fsync(fd)

    def replace(source, target):
        events.append("rename")
        real_replace(source, target)

    monkeypatch.setattr(safe_write.os, "fsync", fsync)
    monkeypatch.setattr(safe_write.os, "replace", replace)
    save_checkpoint({"step": 1}, tmp_path / "latest.pt")  # a checkpoint is written durably
    assert events == ["fsync file", "rename", "fsync folder"]
    events.clear()
    write_text(tmp_path / "notes.md", "text")  # other outputs do not wait for the disk
    assert events == ["rename"]


def test_only_replacing_s_temporaries_untouched_for_an_hour_are_removed(tmp_path):
    now = time.time()
    killed = tmp_path / ".video.npy.k2j4x.tmp.npy"
    slow = tmp_path / ".other.npy.9qw1z.tmp.npy"  # a slow write, last touched ten minutes ago
    users = tmp_path / "video.npy.backup.tmp.npy"  # not hidden: a name of the user's
    for path, age in ((killed, 7200), (slow, 600), (users, 7200)):
        path.write_bytes(b"x")
        os.utime(path, (now - age, now - age))
    assert safe_write.remove_abandoned_temporaries(tmp_path, ".npy") == [killed]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([slow.name, users.name])


def test_a_folder_that_cannot_be_made_is_reported_with_the_file_chosen(tmp_path):
    (tmp_path / "runs").write_text("a file where the folder would be")
    target = tmp_path / "runs" / "report.md"
    with pytest.raises(OSError) as refused:
        write_text(target, "text")
    assert refused.value.filename == str(target)
    assert (tmp_path / "runs").read_text() == "a file where the folder would be"


def test_a_name_as_long_as_the_file_system_takes_is_written_and_its_strays_found(tmp_path):
    # 250 bytes: a name the file system takes, to which a temporary's ".<random>.tmp.gif" would add 18
    target = tmp_path / ("é" * 123 + ".gif")
    assert len(target.name.encode()) == 250
    with replacing(target) as tmp:
        assert len(tmp.name.encode()) <= 255 and tmp.suffix == ".gif"
        tmp.write_bytes(b"the animation")
    assert target.read_bytes() == b"the animation"
    stray = tmp_path / f".{safe_write._temporary_stem(target)}.ja74v_x0.tmp.gif"  # a killed write's
    stray.write_bytes(b"x")
    an_hour_ago = time.time() - safe_write.ABANDONED_AFTER_S - 1
    os.utime(stray, (an_hour_ago, an_hour_ago))
    check_output(target, ours=lambda _: True)
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]
