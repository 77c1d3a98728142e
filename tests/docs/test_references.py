"""What README.md and docs/*.md say about the code holds: every command they show parses,
the flags they give are their commands', the config keys they name exist with the defaults
they state, the files they name exist, their links and anchors resolve, the sections they
name are there, and so are the modules and functions they name.

The documents are read through the ``reader`` fixture (``tests/docs/conftest.py``). Other
tests check other parts of the docs: tests/test_config.py (config.md's resumable keys and
its table of keys no config sets) and tests/test_layers.py (design.md's package layers and
"Where things live").
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import re
import shlex
from pathlib import Path
from types import SimpleNamespace

import yaml

from vidpred.config import RETIRED_KEYS, Config, ConfigError, config_from_dict, config_to_dict

ROOT = Path(__file__).resolve().parents[2]


# -- Commands ------------------------------------------------------------------------------

def _unparsed_commands(reader: SimpleNamespace, docs: list[Path]) -> list[str]:
    wrong = []
    for where, name, args in reader.block_commands(docs):
        if name is None:
            continue
        if name not in reader.COMMANDS:
            wrong.append(f"{where}: scripts/{name} is not a command")
            continue
        if "--help" in args or "-h" in args:  # every command takes it, and it would print and exit
            continue
        try:
            reader.parser(name).parse_args(args)
        except ValueError as exc:
            wrong.append(f"{where}: {name}: {exc}")
    return wrong


def _words(span: str) -> list[str]:
    try:
        return shlex.split(span)
    except ValueError:  # an apostrophe in prose
        return span.split()


_SCRIPT_IN_PROSE = re.compile(r"(?:python3? )?(scripts/)?([\w<>]+)\.py(?: |$)")


def _unknown_flags_in_prose(reader: SimpleNamespace, docs: list[Path]) -> list[str]:
    """`predict.py --one-step`: the flags after a command are that command's. A flag alone
    (`--mirror`) is one of some vidpred command, or of another program the docs' blocks run
    with it (pytest's --doctest-modules)."""
    others = {w for _, name, args in reader.block_commands(reader.DOCS) if name is None
              for w in args if w.startswith("--")}
    anywhere = set().union(*map(reader.flags, reader.COMMANDS)) | others
    wrong = []
    for doc in docs:
        for line, span in reader.spans(doc):
            script = _SCRIPT_IN_PROSE.match(span)
            if script and script[2] in reader.COMMANDS:
                name, words, known = script[2], _words(span[script.end():]), reader.flags(script[2])
            elif script and script[1] and "<" not in script[2]:
                wrong.append(f"{reader.where(doc, line)}: scripts/{script[2]}.py is not a command")
                continue
            elif span.startswith("--"):
                name, words, known = "any command", _words(span), anywhere
            else:
                continue
            wrong += [f"{reader.where(doc, line)}: `{span}`: {name} has no {w}" for w in words
                      if w.startswith("--") and w.split("=")[0] not in known]
    return wrong


def test_the_docs_show_most_commands(reader):
    assert len({name for _, name, _ in reader.block_commands(reader.DOCS) if name}) >= 15


def test_every_command_shown_parses(reader):
    wrong = _unparsed_commands(reader, reader.DOCS)
    assert not wrong, "\n".join(wrong)


def test_every_flag_in_prose_is_its_command_s(reader):
    wrong = _unknown_flags_in_prose(reader, reader.DOCS)
    assert not wrong, "\n".join(wrong)


# -- Config keys ---------------------------------------------------------------------------

def _flat(data: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in data.items():
        flat.update(_flat(value, f"{prefix}{key}.") if isinstance(value, dict) else {prefix + key: value})
    return flat


DEFAULTS = _flat(config_to_dict(Config()))
SECTIONS = {key.rsplit(".", i)[0] for key in DEFAULTS for i in range(1, key.count(".") + 1)}
# A key as the docs write one: `model.generator.head`, `data.synthetic.{seed, max_speed}`,
# `optim.*.lr`, `model.*discriminator.init`; not a file (`train.log`) or a call (`model.bfloat16()`).
_KEY_TEXT = r"(?:run|data|model|loss|optim|train)(?:\.(?:[\w*]+|\{[\w, ]+\}))+"
_KEY = re.compile(rf"(?<![\w./<$-])({_KEY_TEXT})(?![\w(])")
_FILE = re.compile(r"\.(py|log|md|ya?ml|jsonl?|csv|pt|png|gif)$")


def _alternatives(pattern: str) -> list[str]:
    """``a.{b, c}`` is ``a.b`` and ``a.c``."""
    head, brace, rest = pattern.partition("{")
    if not brace:
        return [pattern]
    names, _, tail = rest.partition("}")
    return [key for name in names.split(",") for key in _alternatives(head + name.strip() + tail)]


def _keys(pattern: str) -> list[str]:
    """The config keys and sections a pattern without braces names (`optim.*.lr`: one per optimizer)."""
    regex = re.compile(re.escape(pattern).replace(r"\*", r"\w*"))
    return [key for key in [*DEFAULTS, *SECTIONS] if regex.fullmatch(key)]


def _unknown_keys(reader: SimpleNamespace, docs: list[Path]) -> list[str]:
    """Every key named in a code span is a key (or a retired one, named as such); a
    `key: {a: 1}` span's nested keys too."""
    wrong = []
    for doc in docs:
        for line, span in reader.spans(doc):
            named = [m[1] for m in _KEY.finditer(span) if not _FILE.search(m[1])]
            if re.fullmatch(r"[\w.]+: \{.*\}", span):  # `model.discriminator: {init: he, ...}`
                named += list(_flat(yaml.safe_load(span)))
            wrong += [f"{reader.where(doc, line)}: `{key}` is no config key" for pattern in named
                      for key in _alternatives(pattern) if not _keys(key) and key not in RETIRED_KEYS]
    return wrong


def _bad_settings(reader: SimpleNamespace, docs: list[Path]) -> list[str]:
    """`--set key=value` and time_to_quality's `--run CONFIG:LABEL:key=value,...` in commands:
    the key exists and the value is of its type."""
    wrong = []
    for where, name, args in reader.block_commands(docs):
        settings = [arg for i, arg in enumerate(args) if i and args[i - 1] == "--set"]
        settings += [s for i, arg in enumerate(args) if i and args[i - 1] == "--run"
                     for s in arg.split(":", 2)[2:] for s in s.split(",")]
        for setting in settings:
            try:
                config_from_dict({}, [setting])
            except ConfigError as exc:
                wrong.append(f"{where}: {name} --set {setting}: {exc}")
    return wrong


def _cells(row: str) -> list[str]:
    """A table row's cells (a `|` inside a code span is not a border)."""
    cells, cell, code = [], "", False
    for c in row.strip().strip("|"):
        code = code != (c == "`")
        if c == "|" and not code:
            cells, cell = cells + [cell.strip()], ""
        else:
            cell += c
    return cells + [cell.strip()]


_NOT_A_VALUE = object()


def _stated(text: str):
    """The value a doc writes (`` `auto` ``, ``0.0``, ``off``, ``null``), or _NOT_A_VALUE."""
    text = text.strip()
    if re.fullmatch(r"`[^`]+`", text):
        return yaml.safe_load(text[1:-1])
    if re.fullmatch(r"-?\d+(\.\d+)?(e-?\d+)?", text):
        return float(text)
    return {"on": True, "off": False, "null": None, "true": True, "false": False}.get(text, _NOT_A_VALUE)


_DEFAULT_IN_PROSE = [re.compile(p.format(key=_KEY_TEXT, value=r"`[^`]+`|[\w.-]+")) for p in (
    r"`(?P<key>{key})` \(default (?P<value>{value})\)", r"`(?P<key>{key})` \((?P<value>{value}) by default\)",
    r"`(?P<key>{key}): (?P<value>[^`]+)` \(default\)")]


def _stated_defaults(reader: SimpleNamespace, doc: Path) -> list[tuple[int, str, str]]:
    """Every default ``doc`` states for a config key: ``(line, key, value as written)``.

    In a table whose first column is `key`: its `default` column (`a.b`, `c` | `1, 2` names
    a.b and a.c), or a row's `(value)` or `(value: why)`, or a retired key's `accepted value`.
    In prose: `key` (default value), `key` (value by default), `key: value` (default).
    """
    stated, header = [], None
    for number, text, language in reader.lines(doc):
        if language is not None or not text.lstrip().startswith("|"):
            header = None
            stated += [(number, m["key"], m["value"]) for p in _DEFAULT_IN_PROSE for m in p.finditer(text)]
            continue
        cells = _cells(text)
        if header is None:
            header = [c.lower() for c in cells]
            continue
        if header[0] not in ("key", "keys") or set(cells[0]) <= set("-: "):
            continue
        names = re.findall(r"`([^`]+)`", cells[0])
        keys = [names[0], *(names[0].rsplit(".", 1)[0] + "." + n for n in names[1:] if "." not in n)]
        if "default" in header:
            column = cells[header.index("default")]
            values = [column] if len(keys) == 1 else [v.strip() for v in column.split(",")]
            stated += [(number, key, v) for key, v in zip(keys, values)]
        elif "accepted value" in header:
            stated.append((number, f"retired {keys[0]}", cells[header.index("accepted value")]))
        elif len(names) == 1 and len(_keys(names[0])) == 1:
            values = [inside.split(":")[0] for inside in re.findall(r"\(([^()]*)\)", cells[1])]
            stated += [(number, names[0], v) for v in values if _stated(v) is not _NOT_A_VALUE][:1]
    return stated


def _wrong_defaults(reader: SimpleNamespace, docs: list[Path]) -> list[str]:
    wrong = []
    for doc in docs:
        for line, key, written in _stated_defaults(reader, doc):
            retired = key.startswith("retired ")
            actual = RETIRED_KEYS.get(key[8:], _NOT_A_VALUE) if retired else DEFAULTS.get(key, _NOT_A_VALUE)
            if actual is _NOT_A_VALUE or _stated(written) != actual:
                code = "no such key" if actual is _NOT_A_VALUE else repr(actual)
                wrong.append(f"{reader.where(doc, line)}: `{key}` {written}: the code has {code}")
    return wrong


def test_every_config_key_named_exists(reader):
    wrong = _unknown_keys(reader, reader.DOCS)
    assert not wrong, "\n".join(wrong)


def test_every_setting_in_a_command_is_a_config_value(reader):
    wrong = _bad_settings(reader, reader.DOCS)
    assert not wrong, "\n".join(wrong)


def test_every_default_stated_is_the_code_s(reader):
    assert len([d for doc in reader.DOCS for d in _stated_defaults(reader, doc)]) >= 25
    wrong = _wrong_defaults(reader, reader.DOCS)
    assert not wrong, "\n".join(wrong)


# -- Files, links and sections -------------------------------------------------------------

_PATH = re.compile(r"(?<![\w./<$:-])((?:configs|docs|scripts|tests|vidpred)/[\w.*/<>{},-]*)")


def _missing_files(reader: SimpleNamespace, docs: list[Path]) -> list[str]:
    """Every repository path named in prose, or in a bash block's commands as bash would pass
    it (variables, loops and braces expanded), exists. Other fenced blocks show what a program
    printed (an error naming a user's config, a benchmark's JSON line), not the repository."""
    named = [(doc, number, m[1]) for doc in docs for number, text, language in reader.lines(doc)
             if language is None for m in _PATH.finditer(text)]
    for where, name, words in reader.block_commands(docs):
        if words[:2] == ["git", "show"]:
            continue  # REV:path is the file as it was in that commit: it may since have moved or gone
        named += [(where, None, m[1]) for word in words for m in _PATH.finditer(word)]
    wrong = []
    for doc, number, path in named:
        path = path.rstrip(".,")
        if "<" in path or "..." in path:  # a placeholder: scripts/<name>.py
            continue
        for one in reader.braces(path):
            if not (any(ROOT.glob(one)) if "*" in one else (ROOT / one).exists()):
                where = doc if number is None else reader.where(doc, number)
                wrong.append(f"{where}: {one} is not in the repository")
    return wrong


def _anchors(reader: SimpleNamespace, doc: Path) -> set[str]:
    """GitHub's anchors for ``doc``'s headings."""
    anchors, seen = set(), {}
    for _, text, language in reader.lines(doc):
        if language is None and re.match(r"#{1,6} ", text):
            slug = re.sub(r"[^\w\- ]", "", text.lstrip("#").strip().lower()).replace(" ", "-")
            anchors.add(f"{slug}-{seen[slug]}" if slug in seen else slug)
            seen[slug] = seen.get(slug, 0) + 1
    return anchors


def _broken_links(reader: SimpleNamespace, docs: list[Path]) -> list[str]:
    wrong = []
    for doc in docs:
        prose = reader.prose(doc)
        for m in re.finditer(r"\]\(([^)\s]+)\)", prose):
            target, _, anchor = m[1].partition("#")
            if re.match(r"[a-z]+:", target):  # https:, mailto:
                continue
            where, path = reader.where(doc, reader.line_of(prose, m.start())), (doc.parent / target).resolve()
            if target and not path.exists():
                wrong.append(f"{where}: the link to {target} leads nowhere")
            elif anchor and anchor not in _anchors(reader, path if target else doc):
                wrong.append(f"{where}: {target or doc.name} has no heading #{anchor}")
    return wrong


def _missing_sections(reader: SimpleNamespace, docs: list[Path]) -> list[str]:
    """`[ablations.md](ablations.md), "Composed rollout"`: a heading or a bold paragraph
    title of that document holds the words."""
    wrong = []
    for doc in docs:
        prose = reader.prose(doc)
        for m in re.finditer(r"(?:\]\(([\w./-]+\.md)(?:#[\w-]+)?\)|([\w./-]+\.md)`?)(?:'s)?,? \"([^\"]+)\"", prose):
            target = m[1] or m[2]
            path = next((p for p in (doc.parent / target, ROOT / target) if p.is_file()), None)
            if path is None:
                continue  # _missing_files and _broken_links say so
            titles = re.findall(r"^#+ (.*)$|\*\*([^*]+)\*\*", reader.prose(path), flags=re.M)
            name = " ".join(m[3].split()).lower()
            if not any(name in " ".join((h or b).split()).lower() for h, b in titles):
                wrong.append(f'{reader.where(doc, reader.line_of(prose, m.start()))}: {target} has no section "{m[3]}"')
    return wrong


def test_every_file_named_exists(reader):
    wrong = _missing_files(reader, reader.DOCS)
    assert not wrong, "\n".join(wrong)


def test_every_link_resolves(reader):
    wrong = _broken_links(reader, reader.DOCS)
    assert not wrong, "\n".join(wrong)


def test_every_section_named_is_there(reader):
    wrong = _missing_sections(reader, reader.DOCS)
    assert not wrong, "\n".join(wrong)


# -- Modules, functions and classes --------------------------------------------------------

@functools.cache
def _sources() -> dict[str, ast.Module]:
    """Each vidpred module's name and syntax tree."""
    return {".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"):
            ast.parse(p.read_text(encoding="utf-8")) for p in (ROOT / "vidpred").rglob("*.py")}


def _defined(tree: ast.AST) -> set[str]:
    """Every name ``tree`` defines at any depth: functions, classes, assigned names, what a
    method assigns on ``self``, imported names."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) and \
                isinstance(node.value, ast.Name) and node.value.id == "self":
            names.add(node.attr)
        elif isinstance(node, ast.alias):
            names.add(node.asname or node.name.split(".")[0])
    return names


@functools.cache
def _classes() -> dict[str, tuple[str, set[str]]]:
    """Each vidpred class: its module, and the names its body defines."""
    return {node.name: (module, _defined(node)) for module, tree in _sources().items()
            for node in ast.walk(tree) if isinstance(node, ast.ClassDef)}


def _resolves(dotted: str) -> bool:
    """``vidpred.a.b.c`` imports and has each attribute (an instance's, assigned in its class, counts)."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            found = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            if not hasattr(found, attr):
                return inspect.isclass(found) and attr in _classes().get(found.__name__, ("", set()))[1]
            found = getattr(found, attr)
        return True
    return False


# `name` in `vidpred/x.py`, `name` (`x.py`), `name` subclass in `x.py`
_NAME_IN_FILE = re.compile(r"`(\w+)(?:\(\))?`(?: \w+)? (?:in |\()`((?:vidpred/)?[\w/]+\.py)`")


def _missing_names(reader: SimpleNamespace, docs: list[Path]) -> list[str]:
    """`vidpred.config.validate` resolves; `safe_write.same_file` (a vidpred module's name
    first) and `Trainer.g_step` (a vidpred class's) are defined there; `reused_flows` in
    `vidpred/models/optical_flow.py` is defined in that file; `from vidpred.x import y` imports."""
    stems = {}
    for module in _sources():
        stems.setdefault(module.rsplit(".", 1)[-1], []).append(module)
    wrong = []
    for doc in docs:
        named = []
        for line, span in reader.spans(doc):
            dotted = re.fullmatch(r"([A-Za-z_]\w*(?:\.\w+)+)(?:\(.*\)?)?", span)
            if dotted and not _KEY.fullmatch(dotted[1]) and not _FILE.search(dotted[1]):
                named.append((line, dotted[1]))
        text = doc.read_text(encoding="utf-8")
        named += [(reader.line_of(text, m.start()), f"{m[1]}.{name.strip()}") for m in
                  re.finditer(r"from (vidpred[\w.]*) import ([\w, ]+)", text) for name in m[2].split(",")
                  for name in name.split()[:1]]  # `import a as b`: a
        for line, name in named:
            head, attr = name.split(".")[:2]
            if head == "vidpred":
                found = _resolves(name)
            elif head in stems:
                found = any(attr in _defined(_sources()[module]) for module in stems[head])
            elif head in _classes():
                found = attr in _classes()[head][1] or hasattr(getattr(importlib.import_module(
                    _classes()[head][0]), head), attr)
            else:
                continue  # not vidpred's: torch.compile, cv2.warpAffine
            if not found:
                wrong.append(f"{reader.where(doc, line)}: `{name}` is not in vidpred")
        prose = reader.prose(doc)
        for m in _NAME_IN_FILE.finditer(prose):
            if not m[2].startswith("vidpred/") and (ROOT / m[2]).is_file():  # a test's or a script's
                trees = [ast.parse((ROOT / m[2]).read_text(encoding="utf-8"))]
            else:  # `report.py` alone: any vidpred module of that name
                trees = [tree for module, tree in _sources().items()
                         if f"vidpred/{module.replace('.', '/')}.py".endswith("/" + m[2].removeprefix("vidpred/"))]
            if not any(m[1] in _defined(tree) for tree in trees):
                wrong.append(f"{reader.where(doc, reader.line_of(prose, m.start()))}: {m[2]} defines no {m[1]}")
    return wrong


def test_every_module_and_function_named_is_there(reader):
    wrong = _missing_names(reader, reader.DOCS)
    assert not wrong, "\n".join(wrong)


# -- The checks themselves -----------------------------------------------------------------

def test_each_check_finds_what_it_is_for(reader, tmp_path):
    (tmp_path / "other.md").write_text("# Other\n\n**A bold title.** Text.\n")
    doc = tmp_path / "doc.md"
    doc.write_text(
        "# Doc\n\n"
        "```bash\n"
        "python scripts/train.py --config configs/quickstart.yaml --set train.stepz=1 --run-d runs/x\n"
        "python scripts/nothing.py\n"
        "```\n\n"
        "With `predict.py --frame 3`, `--no-such-flag`, `train.stepz`, `data.synthetic.{seed, speed}`.\n"
        "`train.steps` (default 7); see `configs/none.yaml` and [x](missing.md), [y](other.md#nope),\n"
        '[other.md](other.md), "A missing title"; `vidpred.config.no_such`, `safe_write.no_such`,\n'
        "`Trainer.no_such` and `no_such` in `vidpred/models/optical_flow.py`.\n"
        "`NETWORKS` in `tests/models/test_gradients.py`, but `no_such` in `tests/models/test_gradients.py`.\n")
    found = {check.__name__: "\n".join(check(reader, [doc])) for check in (
        _unparsed_commands, _unknown_flags_in_prose, _unknown_keys, _bad_settings, _wrong_defaults, _missing_files,
        _broken_links, _missing_sections, _missing_names)}
    assert "doc.md:4: train: unrecognized arguments: --run-d runs/x" in found["_unparsed_commands"]  # not --run-dir
    assert "doc.md:5: scripts/nothing.py is not a command" in found["_unparsed_commands"]
    assert "doc.md:8: `predict.py --frame 3`: predict has no --frame" in found["_unknown_flags_in_prose"]
    assert "doc.md:8: `--no-such-flag`: any command has no --no-such-flag" in found["_unknown_flags_in_prose"]
    assert "doc.md:8: `train.stepz` is no config key" in found["_unknown_keys"]
    assert "doc.md:8: `data.synthetic.speed` is no config key" in found["_unknown_keys"]
    assert "doc.md:8: `data.synthetic.seed`" not in found["_unknown_keys"]
    assert "doc.md:4: train --set train.stepz=1: unknown config key 'train.stepz'" in found["_bad_settings"]
    assert "doc.md:9: `train.steps` 7: the code has 1000" in found["_wrong_defaults"]
    assert "doc.md:9: configs/none.yaml is not in the repository" in found["_missing_files"]
    assert "doc.md:9: the link to missing.md leads nowhere" in found["_broken_links"]
    assert "doc.md:9: other.md has no heading #nope" in found["_broken_links"]
    assert 'doc.md:10: other.md has no section "A missing title"' in found["_missing_sections"]
    for name in ("vidpred.config.no_such", "safe_write.no_such", "Trainer.no_such"):
        assert f"`{name}` is not in vidpred" in found["_missing_names"]
    assert "doc.md:11: vidpred/models/optical_flow.py defines no no_such" in found["_missing_names"]
    assert "doc.md:12: tests/models/test_gradients.py defines no no_such" in found["_missing_names"]
    assert "defines no NETWORKS" not in found["_missing_names"]
