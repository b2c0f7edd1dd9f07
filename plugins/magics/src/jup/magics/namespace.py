"""Magics about the user's variables: %who, %who_ls, %whos and %reset."""

from __future__ import annotations

import types
from typing import Any

from jup.core import UsageError
from jup.magics.args import magic_spec, split_options


def _user_vars(shell: Any, type_names: list[str]) -> list[str]:
    """Names the user defined: not private, not put there by the shell (unless rebound)."""
    ns = shell.user_ns
    hidden = getattr(shell, "user_ns_hidden", {}) or {}
    names = []
    for name, value in list(ns.items()):
        if name.startswith("_"):
            continue
        if name in hidden and (not isinstance(hidden, dict) or hidden[name] is value):
            continue
        if type_names and type(value).__name__ not in type_names:
            continue
        names.append(name)
    return sorted(names)


def who_ls(line: str, *, shell: Any) -> list[str]:
    """The sorted list of your variable names; `%who_ls function` (or any type names) filters."""
    return _user_vars(shell, line.split())


def who(line: str, *, shell: Any) -> None:
    """Print your variable names; `%who int str` shows only those types."""
    names = _user_vars(shell, line.split())
    if not names:
        print("Interactive namespace is empty." if not line.split() else
              "No variables match your requested type.")
        return
    print("\t".join(names))


def _info(value: Any) -> str:
    if isinstance(value, types.ModuleType):
        return getattr(value, "__name__", "?")
    shape = getattr(value, "shape", None)
    if isinstance(shape, tuple) and hasattr(value, "dtype"):
        nbytes = getattr(value, "nbytes", None)
        extra = f", {nbytes} bytes" if isinstance(nbytes, int) else ""
        return f"{'x'.join(map(str, shape))}: {getattr(value, 'size', '?')} elems, type `{value.dtype}`{extra}"
    if isinstance(value, (list, tuple, dict, set, frozenset, str, bytes)) and len(value) > 0 \
            and not isinstance(value, (str, bytes)):
        text = f"n={len(value)}"
        return text
    try:
        text = repr(value)
    except Exception as exc:
        text = f"<repr failed: {type(exc).__name__}>"
    text = " ".join(text.split())
    return text if len(text) <= 50 else text[:25] + "<...>" + text[-20:]


def whos(line: str, *, shell: Any) -> None:
    """A table of your variables with their type and a short description of the value;
    `%whos int str` shows only those types."""
    names = _user_vars(shell, line.split())
    if not names:
        print("Interactive namespace is empty." if not line.split() else
              "No variables match your requested type.")
        return
    ns = shell.user_ns
    rows = [(n, type(ns[n]).__name__, _info(ns[n])) for n in names]
    w1 = max(len("Variable"), *(len(r[0]) for r in rows)) + 3
    w2 = max(len("Type"), *(len(r[1]) for r in rows)) + 3
    print(f"{'Variable':<{w1}}{'Type':<{w2}}Data/Info")
    print("-" * (w1 + w2 + 30))
    for name, tname, info in rows:
        print(f"{name:<{w1}}{tname:<{w2}}{info}")


def reset(line: str, *, shell: Any) -> None:
    """Delete all your variables (and the output history): `%reset` asks first, `%reset -f` does
    not ask. `%reset -s` (soft) keeps the history of outputs."""
    opts, rest = split_options(line, "fs", "reset")
    if rest.strip():
        raise UsageError(f"%reset: unexpected {rest.strip()!r}; use %reset or %reset -f")
    if not opts.get("f"):
        try:
            answer = input("Once deleted, variables cannot be recovered. Proceed (y/[n])? ")
        except EOFError:
            answer = ""
        if answer.strip().lower() not in ("y", "yes"):
            print("Nothing done.")
            return
    if opts.get("s"):
        for name in _user_vars(shell, []):
            del shell.user_ns[name]
        return
    count = getattr(shell, "execution_count", None)
    shell.reset(new_session=False)
    if count is not None:  # prompts keep counting, as after IPython's %reset
        shell.execution_count = count


MAGICS = [magic_spec(who), magic_spec(who_ls), magic_spec(whos), magic_spec(reset)]
