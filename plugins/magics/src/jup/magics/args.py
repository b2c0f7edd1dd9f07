"""Argument parsing for magics: mistakes become a `UsageError` (printed as `UsageError: ...` with the
usage line, never a traceback), and magics that take code keep that code exactly as typed."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn

from jup.core import MagicSpec, UsageError

if TYPE_CHECKING:
    import argparse

__all__ = ["MagicArgumentParser", "parse_argstring", "split_options", "magic_spec"]  # noqa: F822 (module __getattr__)

_parser_class: type | None = None


def _make_parser_class() -> type:
    # Built on first use: argparse (and gettext under it) costs ~0.4 MiB in every idle kernel
    # otherwise, and only a few magics parse their line with it.
    import argparse

    class MagicArgumentParser(argparse.ArgumentParser):
        """argparse for a magic: `-h` and errors raise UsageError instead of exiting the kernel."""

        def __init__(self, prog: str, **kwargs: Any):
            kwargs.setdefault("add_help", False)
            super().__init__(prog=prog, **kwargs)

        def error(self, message: str) -> NoReturn:
            raise UsageError(f"{message}\n{self.format_usage().rstrip()}")

        def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
            raise UsageError((message or "").strip() or self.format_usage().rstrip())

    MagicArgumentParser.__module__ = __name__
    return MagicArgumentParser


def __getattr__(name: str) -> Any:
    """`MagicArgumentParser` is made (and argparse imported) when first asked for."""
    global _parser_class
    if name == "MagicArgumentParser":
        if _parser_class is None:
            _parser_class = _make_parser_class()
        return _parser_class
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def parse_argstring(parser: argparse.ArgumentParser, line: str) -> argparse.Namespace:
    """Split `line` like a shell does and parse it; unbalanced quotes are a UsageError too."""
    import shlex

    try:
        argv = shlex.split(line)
    except ValueError as exc:
        raise UsageError(f"{exc} in {line!r}; close the quote") from None
    return parser.parse_args(argv)


def split_options(line: str, spec: str, prog: str,
                  repeatable: str = "") -> tuple[dict[str, Any], str]:
    """Leading getopt-style options, then the rest of the line untouched (it is code or a path).

    `spec` lists option letters, a `:` after a letter meaning it takes a value ("n:r:qo"). Returns
    ({letter: value or True}, rest); letters in `repeatable` collect a list of values. An unknown
    option or a missing value is a UsageError.
    """
    takes = {}
    i = 0
    while i < len(spec):
        takes[spec[i]] = i + 1 < len(spec) and spec[i + 1] == ":"
        i += 2 if takes[spec[i]] else 1
    opts: dict[str, Any] = {}
    rest = line.lstrip()
    while rest.startswith("-") and not rest.startswith("--") and len(rest) > 1 and not rest[1].isdigit():
        token, _, after = rest.partition(" ")
        letters = token[1:]
        j = 0
        while j < len(letters):
            letter = letters[j]
            if letter not in takes:
                raise UsageError(f"%{prog}: unknown option -{letter}; options are "
                                 f"{', '.join('-' + k for k in takes)}")
            if takes[letter]:
                value = letters[j + 1:]
                if not value:
                    after = after.lstrip()
                    value, _, after = after.partition(" ")
                if not value:
                    raise UsageError(f"%{prog}: option -{letter} needs a value")
                if letter in repeatable:
                    opts.setdefault(letter, []).append(value)
                else:
                    opts[letter] = value
                break
            opts[letter] = True
            j += 1
        rest = after.lstrip()
    if rest.startswith("-- "):
        rest = rest[3:]
    return opts, rest


def int_option(opts: dict[str, Any], letter: str, prog: str, default: int | None = None) -> int | None:
    """An integer option's value, with a UsageError that names the option when it is not one."""
    if letter not in opts:
        return default
    try:
        value = int(opts[letter])
    except ValueError:
        raise UsageError(f"%{prog}: -{letter} wants a whole number, not {opts[letter]!r}") from None
    if value < 0:
        raise UsageError(f"%{prog}: -{letter} must not be negative")
    return value


def magic_spec(func: Callable[..., Any], name: str | None = None, kind: str = "line") -> MagicSpec:
    """A MagicSpec for `func`, its help taken from the docstring (what `%name?` shows)."""
    return MagicSpec(name=name or func.__name__.strip("_"), func=func, kind=kind, needs_shell=True,
                     help=inspect.getdoc(func) or "")
