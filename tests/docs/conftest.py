"""How the tests of README.md and docs/*.md read a document, as one fixture.

* ``reader`` (session) -- a namespace of what the tests read the docs with:

  - ``ROOT``, ``DOCS`` (README.md and docs/*.md; docs/benchmarks/ and docs/figures/ are
    left out: the scripts write those reports, records of a run rather than claims about
    today's code), ``COMMANDS`` (the names of ``vidpred/commands/*.py``);
  - a document: ``lines(doc)`` (each line's number, text and fenced block language),
    ``prose(doc)`` (fenced blocks blanked out), ``line_of(text, offset)``, ``spans(doc)``
    (the code spans of the prose), ``blocks(doc)`` (its bash blocks), ``where(doc, line)``;
  - a shell, as far as the docs' commands use one: ``shell_commands(block, env)`` (each
    simple command of a bash block as bash would run it), ``braces(word)`` (brace expansion);
  - the commands: ``command(words)`` (which vidpred command a command line runs, and its
    arguments), ``block_commands(docs)`` (every command of every bash block),
    ``parser(name)`` (the parser a command builds), ``flags(name)``.
"""

from __future__ import annotations

import argparse
import fnmatch
import functools
import importlib
import itertools
import re
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import pytest

ROOT = Path(__file__).resolve().parents[2]
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



@pytest.fixture(scope="session")
def reader() -> SimpleNamespace:
    """What the docs' tests read the docs with (see the module docstring)."""
    return SimpleNamespace(
        ROOT=ROOT, DOCS=DOCS, COMMANDS=COMMANDS,
        lines=_lines, prose=_prose, line_of=_line_of, spans=_spans, blocks=_blocks, where=_where,
        shell_commands=_commands, braces=_braces,
        command=_command, block_commands=_block_commands, parser=_parser, flags=_flags,
    )
