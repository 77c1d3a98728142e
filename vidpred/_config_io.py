"""Reading configs: strict YAML, plain data checked against dataclass annotations, overrides.

The schema (the dataclasses and the checks of values) is :mod:`vidpred.config`; this is the
plumbing that turns files and ``--set key=value`` items into plain data, and plain data into
dataclasses, collecting every unknown key and wrong type instead of stopping at the first.
"""

from __future__ import annotations

import dataclasses
import re
import reprlib
import types
import typing
from pathlib import Path
from typing import Any, Literal, Union

import yaml

__all__ = ["ConfigDumper", "ConfigError", "problems_error", "from_plain", "merge", "parse_override", "read_yaml",
           "strict_load"]


class ConfigError(ValueError):
    """A config file or override that does not match the schema."""


# A value as an error shows it: bounded, since a few YAML aliases can make a list of 10**9 items.
_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxlist, _REPR.maxdict, _REPR.maxstring, _REPR.maxother = 2, 6, 6, 200, 200


def _shown(value: Any) -> str:
    return _REPR.repr(value)


def _type_name(tp: Any) -> str:
    """A schema annotation as the YAML a user writes: ``'sgd' | 'adam'``, ``float | null``,
    ``list[float]``, ``mapping (LossConfig)``."""
    origin = typing.get_origin(tp)
    if origin is Literal:
        return " | ".join(repr(a) for a in typing.get_args(tp))
    if origin in (Union, types.UnionType):
        return " | ".join(_type_name(a) for a in typing.get_args(tp))
    if origin is list:
        (inner,) = typing.get_args(tp)
        return f"list[{_type_name(inner)}]"
    if tp is type(None):
        return "null"
    if dataclasses.is_dataclass(tp):
        return f"mapping ({tp.__name__})"
    return getattr(tp, "__name__", str(tp))


def problems_error(problems: list[str]) -> ConfigError:
    """One error listing every problem (each names its key), on one line."""
    if len(problems) == 1:
        return ConfigError(problems[0])
    return ConfigError(f"{len(problems)} problems: " + "; ".join(problems))


def _convert(value: Any, tp: Any, key: str, problems: list[str]) -> Any:
    """Check ``value`` against the annotation ``tp`` and return it in that type.

    A value of the wrong type raises; the problems inside a nested mapping are appended to
    ``problems`` instead, so that one pass finds every bad key of a file.
    """
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: expected a mapping ({tp.__name__}), got {_shown(value)}")
        return from_plain(tp, value, key, problems)
    if origin in (Union, types.UnionType):
        for option in typing.get_args(tp):
            inside: list[str] = []
            try:
                converted = _convert(value, option, key, inside)
            except ConfigError:
                continue
            if not inside:
                return converted
        raise ConfigError(f"{key}: expected {_type_name(tp)}, got {_shown(value)}")
    if origin is Literal:
        allowed = typing.get_args(tp)
        if value not in allowed:
            raise ConfigError(f"{key}: expected one of {', '.join(map(repr, allowed))}, got {_shown(value)}")
        return value
    if origin is list:
        (inner,) = typing.get_args(tp)
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key}: expected {_type_name(tp)}, got {_shown(value)}")
        return [_convert(v, inner, f"{key}[{i}]", problems) for i, v in enumerate(value)]
    if tp is type(None):
        if value is not None:
            raise ConfigError(f"{key}: expected null, got {_shown(value)}")
        return None
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected bool (true/false), got {_shown(value)}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: expected int, got {_shown(value)}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{key}: expected float, got {_shown(value)}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key}: expected str, got {_shown(value)}")
        return value
    raise ConfigError(f"{key}: unsupported type {tp!r}")  # a schema bug, not a user error


def from_plain(cls: type, data: dict, prefix: str, problems: list[str]) -> Any:
    """``cls`` from ``data``; an unknown key or a wrong type is appended to ``problems`` and
    left at its default, so the caller can report them all at once. A section given in part
    keeps its field's defaults for the rest (``optim.blur_discriminator``'s Adam at 1e-4), not
    its class's (``OptimizerConfig``'s SGD)."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    names = list(fields)
    kwargs = {}
    for key, value in data.items():
        full = f"{prefix}.{key}" if prefix else str(key)
        if key not in hints:
            problems.append(f"unknown config key '{full}'; allowed keys here: {', '.join(names)}")
            continue
        factory = fields[key].default_factory
        if dataclasses.is_dataclass(hints[key]) and isinstance(value, dict) and factory is not dataclasses.MISSING:
            # a mapping given for a plain value replaces it, for the type check to name the key the user wrote
            value = merge(dataclasses.asdict(factory()), value, strict=False)
        try:
            kwargs[key] = _convert(value, hints[key], full, problems)
        except ConfigError as exc:
            problems.append(str(exc))
    return cls(**kwargs)


def merge(base: dict, update: dict, _at: str = "", *, strict: bool = True) -> dict:
    """``update`` laid over ``base``: mappings merged key by key, any other value replaced
    (with ``strict`` False, a value by a mapping too). Neither argument is changed.

    >>> merge({"train": {"steps": 10, "seed": 0}, "run": {"name": "a"}}, {"train": {"steps": 20}})
    {'train': {'steps': 20, 'seed': 0}, 'run': {'name': 'a'}}

    Raises:
        ConfigError: with ``strict``, a mapping laid over a value that is not one (``--set
            train=[]`` then ``--set train.steps=3``): the section's other keys would be lost
            without a word.
    """
    out = dict(base)
    for key, value in update.items():
        old = out.get(key)
        if isinstance(value, dict) and isinstance(old, dict):
            out[key] = merge(old, value, f"{_at}{key}.", strict=strict)
        elif strict and isinstance(value, dict) and old is not None:
            raise ConfigError(f"{_at}{key}: expected a mapping, got {_shown(old)}")
        else:
            out[key] = value
    return out


class DuplicateKey(yaml.YAMLError):
    """A mapping that gives ``key`` twice, at 1-based ``line`` and first at ``first_line``."""

    def __init__(self, key: Any, line: int, first_line: int) -> None:
        super().__init__(f"duplicate key {key!r} at line {line} (first at line {first_line})")
        self.key, self.line, self.first_line = key, line, first_line


class _StrictLoader(yaml.SafeLoader):
    """``yaml.safe_load``'s loader, refusing a mapping that gives a key twice (plain YAML keeps
    the last silently, so a forgotten earlier line would quietly lose its effect)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                if key in seen:
                    raise DuplicateKey(key, key_node.start_mark.line + 1, seen[key])
                seen[key] = key_node.start_mark.line + 1
            except TypeError:  # an unhashable key: the base constructor says so
                continue
        return super().construct_mapping(node, deep=deep)


# YAML 1.1 (PyYAML's) reads a number with an exponent but no point, ``1e-4``, or with a point
# and an unsigned exponent, ``1.0e4``, as a string; YAML 1.2 and Python read it as a float,
# and so does a config.
_EXPONENT_FLOAT = re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$")
_FLOAT_FIRST = list("-+0123456789.")
_StrictLoader.add_implicit_resolver("tag:yaml.org,2002:float", _EXPONENT_FLOAT, _FLOAT_FIRST)


class ConfigDumper(yaml.SafeDumper):
    """``yaml.safe_dump``'s dumper, quoting a string that :func:`strict_load` would read as a
    float (``'1e3'``), so a written config reads back the same."""


ConfigDumper.add_implicit_resolver("tag:yaml.org,2002:float", _EXPONENT_FLOAT, _FLOAT_FIRST)


def strict_load(stream: Any) -> Any:
    """YAML text or a file read as ``yaml.safe_load`` reads it, but refusing a key given twice
    (:class:`DuplicateKey`) and reading ``1e-4`` as a float."""
    return yaml.load(stream, Loader=_StrictLoader)  # noqa: S506 -- a SafeLoader subclass


def parse_override(item: str) -> dict:
    """One ``--set`` item, ``key.path=value``, as the nested mapping it sets; the value is
    read as YAML (nothing after ``=``: null).

    >>> parse_override("optim.generator.lr=1e-4")
    {'optim': {'generator': {'lr': 0.0001}}}

    Raises:
        ConfigError: no ``=``, an empty key, or a value that is not valid YAML.
    """
    if "=" not in item:
        raise ConfigError(f"override '{item}' must look like key.path=value")
    path, raw = item.split("=", 1)
    keys = [k for k in path.strip().split(".") if k]
    if not keys:
        raise ConfigError(f"override '{item}' has an empty key")
    try:
        value = strict_load(raw) if raw.strip() else None
    except DuplicateKey as exc:
        raise ConfigError(f"override '{item}': {exc}") from None
    except yaml.YAMLError:
        raise ConfigError(f"override '{item}': the value is not valid YAML") from None
    nested: dict = {keys[-1]: value}
    for key in reversed(keys[:-1]):
        nested = {key: nested}
    return nested


def read_yaml(path: Path) -> dict:
    """One config file's own mapping, with one-line errors naming the file."""
    try:
        with open(path, encoding="utf-8") as f:
            data = strict_load(f)
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a UTF-8 text file") from None
    except DuplicateKey as exc:
        raise ConfigError(f"{path}: {exc}: keep one") from None
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}: unsafe YAML{where}: {exc.problem} (only plain YAML is read; tags that "
                          "build Python objects are refused)") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{path}: YAML syntax error{where}: {problem}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it: {exc.strerror}") from None
    if data is None:  # empty, or comments only
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping, got {_shown(data)}")
    return data
