"""Command-line flags generated from the config dataclasses, and the one error convention of every command.

nanoGPT-style: a dataclass field becomes a flag named after it (`max_new_tokens` → `--max-new-tokens`); its
help is the field's trailing `# comment` in the source plus the real default, and its type comes from the
annotation (`bool` → `--x/--no-x`, `list[str]` → repeatable, `tuple[str, ...]` → comma-separated). Every
generated flag defaults to None, so a flag left out never overrides a setting.

`run_command` is the wrapper every entry point (cli/, app.py, benchmarks/) runs its command in: a
MovieRagError, or an OSError/ValueError from a bad path or value, becomes `error: <one line>` on stderr and
exit code 2, the code argparse already uses for usage errors.
"""
from __future__ import annotations

import argparse
import ast
import functools
import inspect
import io
import sys
import textwrap
import tokenize
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import MISSING, Field
from dataclasses import fields as dataclass_fields
from typing import Any

from core.config import Settings, field_owners
from core.errors import ConfigError, MovieRagError

EXIT_ERROR = 2  # every error, like argparse's usage errors
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)
USER_ERRORS = (MovieRagError, OSError, ValueError, MemoryError)  # printed as one line; anything else is a bug

ALIASES: dict[str, tuple[str, ...]] = {  # README flag names that differ from the field name
    "index_dir": ("--index",),
    "num_threads": ("--num-threads", "--threads"),
}
CHOICES: dict[str, tuple] = {"hops": (1, 2), "generator_dtype": ("float32", "bfloat16")}
SETTINGS_DEST = "settings_fields"  # namespace attribute: the Settings fields a (sub)parser exposes

Aliases = Mapping[str, "str | tuple[str, ...]"]


# ---------------------------------------------------------------- reading the dataclasses

@functools.cache
def field_comments(cls: type) -> dict[str, str]:
    """Field name → its trailing `# comment` in the class source ("" for a field without one)."""
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):  # no source (e.g. a frozen build): flags without help text
        return {}
    comments = {tok.start[0]: tok.string.lstrip("#").strip()
                for tok in tokenize.generate_tokens(io.StringIO(source).readline) if tok.type == tokenize.COMMENT}
    out = {}
    for node in ast.parse(source).body[0].body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            lines = range(node.lineno, (node.end_lineno or node.lineno) + 1)
            out[node.target.id] = next((comments[n] for n in lines if n in comments), "")
    return out


def field_default(f: Field) -> Any:
    if f.default is not MISSING:
        return f.default
    return f.default_factory() if f.default_factory is not MISSING else None


def _kind(hint: Any) -> tuple[str, type]:
    """("bool" | "value" | "list" | "csv", element type) of an annotation, Optional unwrapped."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(inner) == 1:
            return _kind(inner[0])
    elif hint is bool:
        return "bool", bool
    elif hint in (int, float, str):
        return "value", hint
    elif origin in (list, tuple) and typing.get_args(hint):
        return ("list" if origin is list else "csv"), typing.get_args(hint)[0]
    raise ConfigError(f"no command-line flag for a field of type {hint}")


def _comma_list(elem: type) -> Callable[[str], tuple]:
    def parse(text: str) -> tuple:
        return tuple(elem(part.strip()) for part in text.split(",") if part.strip())

    parse.__name__ = "comma-separated"  # argparse names the type in its error message
    return parse


def _help(comment: str, default: Any, kind: str) -> str:
    if default is None or default in ([], ()):
        shown = ""  # the comment says what None means
    elif kind == "bool":
        shown = "on" if default else "off"
    else:
        shown = str(default)
    text = comment + (f" (default: {shown})" if shown else "")
    return text.strip().replace("%", "%%")  # argparse %-formats help strings


# ---------------------------------------------------------------- adding flags

def add_config_flags(parser: argparse.ArgumentParser | argparse._ArgumentGroup, cls: type,
                     names: Iterable[str] | None = None, aliases: Aliases | None = None,
                     choices: Mapping[str, tuple] | None = None) -> list[str]:
    """One flag per field of the dataclass `cls` (or the fields in `names`), dest = field name, default None.

    Args:
        parser: the parser or argument group to add to.
        cls: a config dataclass whose fields carry `# comment`s.
        names: the fields to expose, in this order (default: all).
        aliases: field → option string(s), on top of ALIASES (e.g. {"learning_rate": "--lr"}).
        choices: field → allowed values, on top of CHOICES.
    Returns:
        The field names added.
    """
    by_name = {f.name: f for f in dataclass_fields(cls)}
    wanted = list(by_name) if names is None else list(names)
    unknown = [n for n in wanted if n not in by_name]
    if unknown:
        raise ConfigError(f"{cls.__name__} has no field {', '.join(unknown)}")
    hints = typing.get_type_hints(cls)
    comments = field_comments(cls)
    alias, allowed = {**ALIASES, **(aliases or {})}, {**CHOICES, **(choices or {})}
    for name in wanted:
        options = alias.get(name) or ("--" + name.replace("_", "-"),)
        options = (options,) if isinstance(options, str) else tuple(options)
        kind, elem = _kind(hints[name])
        kwargs: dict[str, Any] = {"dest": name, "default": None,
                                  "help": _help(comments.get(name, ""), field_default(by_name[name]), kind)}
        if kind == "bool":
            kwargs["action"] = argparse.BooleanOptionalAction
        else:
            kwargs["type"] = _comma_list(elem) if kind == "csv" else elem
            kwargs["metavar"] = name.upper()
        if kind == "list":
            kwargs["action"] = "append"
        if name in allowed:
            kwargs["choices"] = allowed[name]
            kwargs.pop("metavar")
        parser.add_argument(*options, **kwargs)
    return wanted


def add_settings_flags(parser: argparse.ArgumentParser, sections: Iterable[str] = (), fields: Iterable[str] = (),
                       aliases: Aliases | None = None, choices: Mapping[str, tuple] | None = None) -> list[str]:
    """Flags for whole Settings sections and/or single Settings fields, one help group per section.

    The parser remembers which fields it exposes, so `settings_from_args` reads only those.
    Args:
        parser: the (sub)parser of one command.
        sections: section names, e.g. ("retrieval", "decoding"); every field of each.
        fields: single field names from any section, e.g. ("index_dir", "generator").
        aliases, choices: as in `add_config_flags`.
    Returns:
        The field names added.
    """
    section_types, owner = Settings.sections(), field_owners()
    sections, fields = tuple(sections), tuple(fields)
    bad = [s for s in sections if s not in section_types] + [f for f in fields if f not in owner]
    if bad:
        raise ConfigError(f"unknown settings section or field: {', '.join(bad)}")
    chosen: dict[str, list[str]] = {}
    for section in sections:
        chosen.setdefault(section, []).extend(f.name for f in dataclass_fields(section_types[section]))
    for name in fields:
        if name not in chosen.get(owner[name], []):
            chosen.setdefault(owner[name], []).append(name)
    added: list[str] = []
    for section in section_types:  # config order, whatever order the caller named them in
        if section in chosen:
            cls = section_types[section]
            group = parser.add_argument_group(f"{section} settings", (cls.__doc__ or "").strip() or None)
            added += add_config_flags(group, cls, chosen[section], aliases, choices)
    parser.set_defaults(**{SETTINGS_DEST: tuple(parser.get_default(SETTINGS_DEST) or ()) + tuple(added)})
    return added



# ---------------------------------------------------------------- reading them back

def settings_from_args(args: argparse.Namespace, base: Settings | None = None) -> Settings:
    """The settings a command runs with: `base` with every settings flag that was given.

    Args:
        args: parsed flags of a parser set up by `add_settings_flags` (only the fields it exposed are read; a
            namespace from elsewhere is read for every settings field).
        base: the settings the flags override; None = the defaults, Settings() (commands start from them).

    Returns:
        A new Settings; flags left out change nothing.
    """
    names = getattr(args, SETTINGS_DEST, None) or tuple(field_owners())
    overrides = {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}
    return (Settings() if base is None else base).with_overrides(**overrides)


def config_from_args(args: argparse.Namespace, cls: type, **extra: Any) -> Any:
    """An instance of the dataclass `cls` from the flags that were given (the rest keep their defaults)."""
    values = {f.name: getattr(args, f.name) for f in dataclass_fields(cls)
              if getattr(args, f.name, None) is not None}
    return cls(**(values | extra))


# ---------------------------------------------------------------- the one error convention

def error_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def run_command(command: Callable[[], int | None], interrupted: str = "interrupted") -> int:
    """Run a command; a user-fixable error prints `error: <one line>` and returns 2, Ctrl-C returns 130."""
    try:
        return int(command() or 0)
    except USER_ERRORS as exc:
        print(f"error: {error_line(exc)}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(f"\nerror: {interrupted}", file=sys.stderr)
        return EXIT_INTERRUPTED
