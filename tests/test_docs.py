"""What README.md and docs/*.md say about the code holds: every command they show parses,
the config keys they name exist with the defaults they state, the files they name exist,
their links and anchors resolve, and the modules and functions they name are there.

docs/benchmarks/ and docs/figures/ are left out: the scripts write those reports, records of
a run rather than claims about today's code. Other tests check other parts of the docs:
tests/test_config.py (config.md's resumable keys and its table of keys no config sets) and
tests/test_layers.py (design.md's package layers and "Where things live").
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import functools
import importlib
import inspect
import itertools
import re
import shlex
from pathlib import Path
from unittest import mock

import yaml

from vidpred.config import RETIRED_KEYS, Config, ConfigError, config_from_dict, config_to_dict

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
COMMANDS = sorted(p.stem for p in (ROOT / "vidpred" / "commands").glob("*.py") if p.stem != "__init__")
PYPROJECT = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
# [project.scripts], read without tomllib: that is Python 3.11's, and vidpred runs on 3.10
CONSOLE_SCRIPTS = {script: target.removesuffix(":main").rsplit(".", 1)[1] for script, target in re.findall(
    r'^([\w-]+) = "([^"]+)"', PYPROJECT.split("\n[project.scripts]\n", 1)[1].split("\n[", 1)[0], flags=re.M)}


# -- Reading a document --------------------------------------------------------------------

@functools.cache
def _lines(doc: Path) -> tuple[tuple[int, str, str | None], ...]:
    """Each line of ``doc``: its number, its text, and None in prose, else the language of
    the fenced block it opens, closes or is in ("" for a block without one)."""
    lines, language = [], None
    for number, text in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1):
        fence = text.strip().startswith("```")
        closes = fence and language is not None
        if fence and not closes:
            language = text.strip()[3:].strip()
        lines.append((number, text, language))
        if closes:
            language = None
    return tuple(lines)


def _prose(doc: Path) -> str:
    """``doc`` with its fenced blocks blanked out, line for line."""
    return "\n".join("" if language is not None else text for _, text, language in _lines(doc))


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _spans(doc: Path) -> list[tuple[int, str]]:
    """The code spans of ``doc``'s prose (a span may run over two lines), each with its line."""
    prose = _prose(doc)
    return [(_line_of(prose, m.start()), " ".join(m[1].split())) for m in re.finditer(r"`([^`]+)`", prose)]


def _blocks(doc: Path) -> list[tuple[int, str]]:
    """The bash blocks of ``doc``: the number of each one's first line, and its text."""
    blocks, start, body = [], None, []
    for number, text, language in _lines(doc):
        if language == "bash" and start is None:
            start, body = number + 1, []
        elif language == "bash" and text.strip() == "```":
            blocks.append((start, "\n".join(body)))
            start = None
        elif language == "bash":
            body.append(text)
    return blocks


def _where(doc: Path, line: int) -> str:
    return f"{doc.relative_to(ROOT) if doc.is_relative_to(ROOT) else doc.name}:{line}"


# -- A shell, as far as the docs' commands use one -----------------------------------------
# Enough of bash to read each command as bash would run it: comments, quotes, continued
# lines, variables set in the block, `for` loops (each value in turn), ${v#p}, ${v%%p},
# ${v//a/b}, arrays and brace expansion.

_SEPARATORS = {";", "&&", "||", "|", "&", "\n"}


def _tokens(text: str) -> list[tuple[str, int]]:
    """``text``'s words (as typed, quotes kept) and separators, each with its line (0-based)."""
    tokens, i, line, n = [], 0, 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("\\\n", i):
            i, line = i + 2, line + 1
        elif c in " \t":
            i += 1
        elif c == "#":  # a comment starts a word; inside one it is a character
            end = text.find("\n", i)
            end = n if end < 0 else end
            tokens.append((text[i:end], line))
            i = end
        elif c == "\n" or c in ";&|":
            op = text[i:i + 2] if text[i:i + 2] in ("&&", "||") else c
            tokens.append((op, line))
            line += c == "\n"
            i += len(op)
        elif text.startswith("2>&1", i):
            i += 4
        elif c in "<>":  # a redirection and its file: not the command's arguments
            i += 2 if text.startswith(">>", i) else 1
            while i < n and text[i] in " \t":
                i += 1
            i = _word_end(text, i)
        else:
            end = _word_end(text, i)
            tokens.append((text[i:end], line))
            line += text.count("\n", i, end)
            i = end
    return tokens


def _word_end(text: str, i: int, stop: str = " \t\n;&|<>") -> int:
    n = len(text)
    while i < n and text[i] not in stop:
        c = text[i]
        if c == "'":
            i = text.index("'", i + 1) + 1
        elif c == '"':
            i += 1
            while text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            i += 1
        elif c == "\\":
            i += 2
        elif text.startswith("${", i):
            i = text.index("}", i) + 1
        elif c == "(":  # an array, NAME=(...): its words, to the closing parenthesis
            i = _word_end(text, i + 1, stop=")") + 1
        else:
            i += 1
    return i


def _braces(word: str) -> list[str]:
    """Bash's brace expansion of one word: ``a{1,2}b`` is ``a1b a2b`` (not inside quotes or ``${}``)."""
    quote, depth, start = None, 0, None
    for i, c in enumerate(word):
        if quote:
            quote = None if c == quote else quote
        elif c in "'\"":
            quote = c
        elif c == "{" and (i == 0 or word[i - 1] != "$"):
            depth, start = (depth + 1, i if depth == 0 else start)
        elif c == "}" and depth:
            depth -= 1
            if depth == 0 and "," in word[start:i]:
                return [w for part in word[start + 1:i].split(",") for w in _braces(word[:start] + part + word[i + 1:])]
    return [word]


_PARAMETER = re.compile(r"\$(?:\{(\w+)(\[@\])?(?:(##?|%%?|//)([^}/]*)(?:/([^}]*))?)?\}|(\w+))")


def _value(match: re.Match, env: dict[str, list[str]]) -> list[str] | None:
    """A parameter's value(s), or None for one the block does not set ($PWD, $HOME)."""
    name, _, op, pattern, replacement, plain = match.groups()
    if (name or plain) not in env:
        return None
    values = env[name or plain]
    if not op:
        return values
    text = values[0]
    if op == "//":
        return [text.replace(pattern, replacement or "")]
    cuts = range(len(text) + 1) if op in ("#", "%") else range(len(text), -1, -1)
    for k in cuts:  # shortest match first for # and %, longest for ## and %%
        part, rest = (text[:k], text[k:]) if op[0] == "#" else (text[len(text) - k:], text[:len(text) - k])
        if fnmatch.fnmatchcase(part, pattern):
            return [rest]
    return [text]


def _expand(word: str, env: dict[str, list[str]]) -> list[str]:
    """A word as bash passes it to a command: braces, parameters, splitting, quotes removed."""
    out = []
    for braced in _braces(word):
        fields, kept, i, quote = [""], [False], 0, None
        while i < len(braced):
            c = braced[i]
            match = _PARAMETER.match(braced, i) if c == "$" and quote != "'" else None
            if match:
                values = _value(match, env)
                if values is None:
                    fields[-1] += match.group(0)
                elif quote or match.group(2):  # "$v" is one word; "${a[@]}" one per element
                    fields[-1] += values[0] if values else ""
                    fields.extend(values[1:])
                    kept.extend([True] * (len(values) - 1))
                    kept[-1] = True
                else:  # $v unquoted: split on white space
                    parts = re.split(r"\s+", values[0]) if values else [""]
                    fields[-1] += parts[0]
                    fields.extend(parts[1:])
                    kept.extend([False] * (len(parts) - 1))
                kept[-1] = kept[-1] or bool(fields[-1])
                i = match.end()
            elif c in "'\"" and quote in (None, c):
                quote = None if quote else c
                kept[-1] = True
                i += 1
            elif braced.startswith("\\\n", i) and quote != "'":  # a continued line
                i += 2
            elif c == "\\" and quote != "'":
                fields[-1] += braced[i + 1] if quote is None or braced[i + 1] in '$`"\\' else braced[i:i + 2]
                kept[-1], i = True, i + 2
            else:
                fields[-1] += c
                kept[-1], i = True, i + 1
        out += [f for f, k in zip(fields, kept) if k or f]
    return out


def _commands(block: str, env: dict[str, list[str]]) -> list[tuple[int, list[str]]]:
    """Each simple command of a bash block, expanded once for each value of its loops, with
    its line in the block (0-based). ``env`` holds the variables set so far, and gains the
    block's: a document's blocks read as one session (a variable set in one is used in a later one)."""
    loops: list[tuple[str, list[str]]] = []
    commands, words = [], []
    tokens = _tokens(block) + [("\n", 0)]
    i = 0
    while i < len(tokens):
        token, line = tokens[i]
        if token.startswith("#"):  # kept for the files it names
            commands.append((line, [token]))
        elif token in _SEPARATORS:
            if words and all(re.match(r"\w+=", w) for w, _ in words):  # NAME=value ...
                for w, _ in words:
                    name, value = w.split("=", 1)
                    env[name] = ([x for w, _ in _tokens(value[1:-1]) if w not in _SEPARATORS for x in _expand(w, env)]
                                 if value.startswith("(") else [" ".join(_expand(value, env))])
            elif words:
                first = words[0][1]
                for values in itertools.product(*(v for _, v in loops)):
                    bound = {**env, **{name: [v] for (name, _), v in zip(loops, values)}}
                    commands.append((first, [x for w, _ in words for x in _expand(w, bound)]))
            words = []
        elif not words and token == "for":
            name, end = tokens[i + 1][0], i + 3  # for NAME in WORD...; do
            while tokens[end][0] not in _SEPARATORS:
                end += 1
            loops.append((name, [x for w, _ in tokens[i + 3:end] for x in _expand(w, env)]))
            i = end
        elif not words and token == "done":
            loops.pop()
        elif not words and token == "do":
            pass
        else:
            words.append((token, line))
        i += 1
    return commands


# -- Commands ------------------------------------------------------------------------------

class _Built(BaseException):
    """Carries a command's parser out of its ``main`` (a BaseException, so that the commands'
    one error path, ``vidpred.cli.script``, lets it through)."""

    def __init__(self, parser: argparse.ArgumentParser):
        super().__init__()
        self.parser = parser


def _refuse(message: str):
    raise ValueError(message)


@functools.cache
def _parser(name: str) -> argparse.ArgumentParser:
    """The parser ``vidpred.commands.<name>.main`` builds. Each main builds its parser inline
    and parses before it does anything else, so the parser is taken at that parse."""
    def built(self, args=None, namespace=None):
        raise _Built(self)

    with mock.patch.object(argparse.ArgumentParser, "parse_args", built):
        try:
            importlib.import_module(f"vidpred.commands.{name}").main([])
        except _Built as done:
            done.parser.error = _refuse  # a refused command line is a message here, not an exit
            # A doc spells each flag in full: an abbreviation parses only as long as no other
            # flag starts the same way, and a renamed flag's old name can still be the new one's start.
            done.parser.allow_abbrev = False
            return done.parser
    raise AssertionError(f"vidpred.commands.{name}.main returned without parsing its command line")


def _flags(name: str) -> set[str]:
    return {flag for action in _parser(name)._actions for flag in action.option_strings}


def _command(words: list[str]) -> tuple[str | None, list[str]]:
    """The vidpred command ``words`` run (None for another program) and its arguments. A
    ``scripts/<name>.py`` that is no command is returned as ``<name>.py``."""
    while words and (re.fullmatch(r"\w+=.*", words[0], flags=re.S) or words[0] == "nohup"):
        words = words[1:]
    for i, word in enumerate(words):
        script = re.fullmatch(r"scripts/(\w+)\.py", word)
        if script and (i == 1 and words[0] in ("python", "python3") or words[0] == "torchrun"):
            return script[1] if script[1] in COMMANDS else f"{script[1]}.py", words[i + 1:]
        if word == "-m" and i + 1 < len(words) and words[i + 1].startswith("vidpred.commands."):
            return words[i + 1].split(".")[-1], words[i + 2:]
    if words and words[0] in CONSOLE_SCRIPTS:
        return CONSOLE_SCRIPTS[words[0]], words[1:]
    if words[:2] in (["python", "-c"], ["python3", "-c"]) and len(words) > 2:
        # a command run with a setting changed from Python: main(sys.argv[1:]) parses the rest
        runs = re.search(r"from vidpred\.commands\.(\w+) import main\b", words[2])
        if runs and "main(sys.argv[1:])" in words[2]:
            return runs[1], words[3:]
    return None, words


def _block_commands(docs: list[Path]) -> list[tuple[str, str | None, list[str]]]:
    """Every command of every bash block (comments too, as one word): where, the vidpred
    command or None, its arguments."""
    found = []
    for doc in docs:
        env: dict[str, list[str]] = {}
        for start, text in _blocks(doc):
            found += [(_where(doc, start + line), *_command(words)) for line, words in _commands(text, env)]
    return found


def _unparsed_commands(docs: list[Path]) -> list[str]:
    wrong = []
    for where, name, args in _block_commands(docs):
        if name is None:
            continue
        if name not in COMMANDS:
            wrong.append(f"{where}: scripts/{name} is not a command")
            continue
        if "--help" in args or "-h" in args:  # every command takes it, and it would print and exit
            continue
        try:
            _parser(name).parse_args(args)
        except ValueError as exc:
            wrong.append(f"{where}: {name}: {exc}")
    return wrong


def _words(span: str) -> list[str]:
    try:
        return shlex.split(span)
    except ValueError:  # an apostrophe in prose
        return span.split()


_SCRIPT_IN_PROSE = re.compile(r"(?:python3? )?(scripts/)?([\w<>]+)\.py(?: |$)")


def _unknown_flags_in_prose(docs: list[Path]) -> list[str]:
    """`predict.py --one-step`: the flags after a command are that command's. A flag alone
    (`--mirror`) is one of some vidpred command, or of another program the docs' blocks run
    with it (pytest's --doctest-modules)."""
    others = {w for _, name, args in _block_commands(DOCS) if name is None for w in args if w.startswith("--")}
    anywhere = set().union(*map(_flags, COMMANDS)) | others
    wrong = []
    for doc in docs:
        for line, span in _spans(doc):
            script = _SCRIPT_IN_PROSE.match(span)
            if script and script[2] in COMMANDS:
                name, words, known = script[2], _words(span[script.end():]), _flags(script[2])
            elif script and script[1] and "<" not in script[2]:
                wrong.append(f"{_where(doc, line)}: scripts/{script[2]}.py is not a command")
                continue
            elif span.startswith("--"):
                name, words, known = "any command", _words(span), anywhere
            else:
                continue
            wrong += [f"{_where(doc, line)}: `{span}`: {name} has no {w}" for w in words
                      if w.startswith("--") and w.split("=")[0] not in known]
    return wrong


def test_the_docs_show_most_commands():
    assert len({name for _, name, _ in _block_commands(DOCS) if name}) >= 15


def test_every_command_shown_parses():
    wrong = _unparsed_commands(DOCS)
    assert not wrong, "\n".join(wrong)


def test_every_flag_in_prose_is_its_command_s():
    wrong = _unknown_flags_in_prose(DOCS)
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


def _unknown_keys(docs: list[Path]) -> list[str]:
    """Every key named in a code span is a key (or a retired one, named as such); a
    `key: {a: 1}` span's nested keys too."""
    wrong = []
    for doc in docs:
        for line, span in _spans(doc):
            named = [m[1] for m in _KEY.finditer(span) if not _FILE.search(m[1])]
            if re.fullmatch(r"[\w.]+: \{.*\}", span):  # `model.discriminator: {init: he, ...}`
                named += list(_flat(yaml.safe_load(span)))
            wrong += [f"{_where(doc, line)}: `{key}` is no config key" for pattern in named
                      for key in _alternatives(pattern) if not _keys(key) and key not in RETIRED_KEYS]
    return wrong


def _bad_settings(docs: list[Path]) -> list[str]:
    """`--set key=value` and time_to_quality's `--run CONFIG:LABEL:key=value,...` in commands:
    the key exists and the value is of its type."""
    wrong = []
    for where, name, args in _block_commands(docs):
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


def _stated_defaults(doc: Path) -> list[tuple[int, str, str]]:
    """Every default ``doc`` states for a config key: ``(line, key, value as written)``.

    In a table whose first column is `key`: its `default` column (`a.b`, `c` | `1, 2` names
    a.b and a.c), or a row's `(value)` or `(value: why)`, or a retired key's `accepted value`.
    In prose: `key` (default value), `key` (value by default), `key: value` (default).
    """
    stated, header = [], None
    for number, text, language in _lines(doc):
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


def _wrong_defaults(docs: list[Path]) -> list[str]:
    wrong = []
    for doc in docs:
        for line, key, written in _stated_defaults(doc):
            retired = key.startswith("retired ")
            actual = RETIRED_KEYS.get(key[8:], _NOT_A_VALUE) if retired else DEFAULTS.get(key, _NOT_A_VALUE)
            if actual is _NOT_A_VALUE or _stated(written) != actual:
                code = "no such key" if actual is _NOT_A_VALUE else repr(actual)
                wrong.append(f"{_where(doc, line)}: `{key}` {written}: the code has {code}")
    return wrong


def test_every_config_key_named_exists():
    wrong = _unknown_keys(DOCS)
    assert not wrong, "\n".join(wrong)


def test_every_setting_in_a_command_is_a_config_value():
    wrong = _bad_settings(DOCS)
    assert not wrong, "\n".join(wrong)


def test_every_default_stated_is_the_code_s():
    assert len([d for doc in DOCS for d in _stated_defaults(doc)]) >= 25
    wrong = _wrong_defaults(DOCS)
    assert not wrong, "\n".join(wrong)


# -- Files, links and sections -------------------------------------------------------------

_PATH = re.compile(r"(?<![\w./<$:-])((?:configs|docs|scripts|tests|vidpred)/[\w.*/<>{},-]*)")


def _missing_files(docs: list[Path]) -> list[str]:
    """Every repository path named in prose, or in a bash block's commands as bash would pass
    it (variables, loops and braces expanded), exists. Other fenced blocks show what a program
    printed (an error naming a user's config, a benchmark's JSON line), not the repository."""
    named = [(doc, number, m[1]) for doc in docs for number, text, language in _lines(doc)
             if language is None for m in _PATH.finditer(text)]
    for where, name, words in _block_commands(docs):
        if words[:2] == ["git", "show"]:
            continue  # REV:path is the file as it was in that commit: it may since have moved or gone
        named += [(where, None, m[1]) for word in words for m in _PATH.finditer(word)]
    wrong = []
    for doc, number, path in named:
        path = path.rstrip(".,")
        if "<" in path or "..." in path:  # a placeholder: scripts/<name>.py
            continue
        for one in _braces(path):
            if not (any(ROOT.glob(one)) if "*" in one else (ROOT / one).exists()):
                where = doc if number is None else _where(doc, number)
                wrong.append(f"{where}: {one} is not in the repository")
    return wrong


def _anchors(doc: Path) -> set[str]:
    """GitHub's anchors for ``doc``'s headings."""
    anchors, seen = set(), {}
    for _, text, language in _lines(doc):
        if language is None and re.match(r"#{1,6} ", text):
            slug = re.sub(r"[^\w\- ]", "", text.lstrip("#").strip().lower()).replace(" ", "-")
            anchors.add(f"{slug}-{seen[slug]}" if slug in seen else slug)
            seen[slug] = seen.get(slug, 0) + 1
    return anchors


def _broken_links(docs: list[Path]) -> list[str]:
    wrong = []
    for doc in docs:
        prose = _prose(doc)
        for m in re.finditer(r"\]\(([^)\s]+)\)", prose):
            target, _, anchor = m[1].partition("#")
            if re.match(r"[a-z]+:", target):  # https:, mailto:
                continue
            where, path = _where(doc, _line_of(prose, m.start())), (doc.parent / target).resolve()
            if target and not path.exists():
                wrong.append(f"{where}: the link to {target} leads nowhere")
            elif anchor and anchor not in _anchors(path if target else doc):
                wrong.append(f"{where}: {target or doc.name} has no heading #{anchor}")
    return wrong


def _missing_sections(docs: list[Path]) -> list[str]:
    """`[ablations.md](ablations.md), "Composed rollout"`: a heading or a bold paragraph
    title of that document holds the words."""
    wrong = []
    for doc in docs:
        prose = _prose(doc)
        for m in re.finditer(r"(?:\]\(([\w./-]+\.md)(?:#[\w-]+)?\)|([\w./-]+\.md)`?)(?:'s)?,? \"([^\"]+)\"", prose):
            target = m[1] or m[2]
            path = next((p for p in (doc.parent / target, ROOT / target) if p.is_file()), None)
            if path is None:
                continue  # _missing_files and _broken_links say so
            titles = re.findall(r"^#+ (.*)$|\*\*([^*]+)\*\*", _prose(path), flags=re.M)
            name = " ".join(m[3].split()).lower()
            if not any(name in " ".join((h or b).split()).lower() for h, b in titles):
                wrong.append(f'{_where(doc, _line_of(prose, m.start()))}: {target} has no section "{m[3]}"')
    return wrong


def test_every_file_named_exists():
    wrong = _missing_files(DOCS)
    assert not wrong, "\n".join(wrong)


def test_every_link_resolves():
    wrong = _broken_links(DOCS)
    assert not wrong, "\n".join(wrong)


def test_every_section_named_is_there():
    wrong = _missing_sections(DOCS)
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


def _missing_names(docs: list[Path]) -> list[str]:
    """`vidpred.config.validate` resolves; `safe_write.same_file` (a vidpred module's name
    first) and `Trainer.g_step` (a vidpred class's) are defined there; `reused_flows` in
    `vidpred/models/optical_flow.py` is defined in that file; `from vidpred.x import y` imports."""
    stems = {}
    for module in _sources():
        stems.setdefault(module.rsplit(".", 1)[-1], []).append(module)
    wrong = []
    for doc in docs:
        named = []
        for line, span in _spans(doc):
            dotted = re.fullmatch(r"([A-Za-z_]\w*(?:\.\w+)+)(?:\(.*\)?)?", span)
            if dotted and not _KEY.fullmatch(dotted[1]) and not _FILE.search(dotted[1]):
                named.append((line, dotted[1]))
        text = doc.read_text(encoding="utf-8")
        named += [(_line_of(text, m.start()), f"{m[1]}.{name.strip()}") for m in
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
                wrong.append(f"{_where(doc, line)}: `{name}` is not in vidpred")
        prose = _prose(doc)
        for m in _NAME_IN_FILE.finditer(prose):
            files = [module for module in _sources()  # `report.py` alone: any module of that name
                     if f"vidpred/{module.replace('.', '/')}.py".endswith("/" + m[2].removeprefix("vidpred/"))]
            if not any(m[1] in _defined(_sources()[module]) for module in files):
                wrong.append(f"{_where(doc, _line_of(prose, m.start()))}: {m[2]} defines no {m[1]}")
    return wrong


def test_every_module_and_function_named_is_there():
    wrong = _missing_names(DOCS)
    assert not wrong, "\n".join(wrong)


# -- The Python it runs on -----------------------------------------------------------------

# Standard modules a Python version added: code for an older one cannot import them.
_ADDED_STANDARD_MODULES = {(3, 11): {"tomllib", "wsgiref.types"}}


def test_the_readme_s_python_runs_the_package_and_its_tests():
    """README.md's "Python 3.10 or newer" is pyproject.toml's requires-python, and no module of
    the package or of its tests imports a standard module newer than that (one test file that
    did stopped the whole suite at collection on the oldest Python)."""
    oldest = re.search(r"Python (\d+)\.(\d+) or newer", (ROOT / "README.md").read_text(encoding="utf-8"))
    assert oldest and f'requires-python = ">={oldest[1]}.{oldest[2]}"' in PYPROJECT
    newer = {name for version, names in _ADDED_STANDARD_MODULES.items()
             if version > (int(oldest[1]), int(oldest[2])) for name in names}
    wrong = []
    for path in sorted([*(ROOT / "vidpred").rglob("*.py"), *(ROOT / "tests").rglob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import) else
                     [node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
            wrong += [f"{path.relative_to(ROOT)}:{node.lineno}: {name} is not in Python {oldest[1]}.{oldest[2]}"
                      for name in names if name in newer]
    assert not wrong, "\n".join(wrong)


# -- The checks themselves -----------------------------------------------------------------

def test_the_shell_reads_a_block_as_bash_would():
    env: dict[str, list[str]] = {}
    block = ('NAMES=("a b" c)  # two names\n'
             'for m in ":" "_pan:--steady-pan 8"; do python scripts/x.py ${m#*:} --name "${NAMES[@]}" \\\n'
             '    --out d/v${m%%:*} runs/{s0,s1}; done\n'
             'OMP_NUM_THREADS=1 nohup python scripts/y.py --a "x y" > log 2>&1 &')
    assert _commands(block, env) == [
        (0, ["# two names"]),
        (1, ["python", "scripts/x.py", "--name", "a b", "c", "--out", "d/v", "runs/s0", "runs/s1"]),
        (1, ["python", "scripts/x.py", "--steady-pan", "8", "--name", "a b", "c", "--out", "d/v_pan", "runs/s0",
             "runs/s1"]),
        (3, ["OMP_NUM_THREADS=1", "nohup", "python", "scripts/y.py", "--a", "x y"]),
    ]
    assert _command(_commands(block, env)[3][1]) == ("y.py", ["--a", "x y"])


def test_each_check_finds_what_it_is_for(tmp_path):
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
        "`Trainer.no_such` and `no_such` in `vidpred/models/optical_flow.py`.\n")
    found = {check.__name__: "\n".join(check([doc])) for check in (
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
