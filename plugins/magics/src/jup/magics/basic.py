"""Magics about the shell itself: %lsmagic %precision %xmode %autoawait %config %matplotlib %gui."""

from __future__ import annotations

import ast
import importlib
from typing import Any

from jup.core import UsageError
from jup.magics.args import magic_spec


def _columns(names: list[str], width: int = 79) -> str:
    """Names in rows that fit `width` columns (what %lsmagic prints)."""
    lines, current = [], ""
    for name in names:
        if current and len(current) + 2 + len(name) > width:
            lines.append(current)
            current = name
        else:
            current = f"{current}  {name}" if current else name
    if current:
        lines.append(current)
    return "\n".join(lines)


def lsmagic(line: str, *, shell: Any) -> None:
    """List every magic: line magics (`%name`) and cell magics (`%%name`). `%name?` shows one's help."""
    registry = shell.magics
    print("Available line magics:")
    print(_columns(["%" + n for n in registry.names("line")]))
    print()
    print("Available cell magics:")
    print(_columns(["%%" + n for n in registry.names("cell")]))
    print()
    print("Add `?` to a magic for its help, e.g. %timeit?")


def precision(line: str, *, shell: Any) -> str:
    """How floats are shown: `%precision 3` (3 decimals), `%precision %.2e` (a %-format),
    `%precision` alone restores the default. An integer also sets numpy's print precision when
    numpy is loaded (bare `%precision` puts numpy back to 8). Returns the format in use."""
    arg = line.strip()
    try:
        shell.formatter.float_precision = arg
    except ValueError as exc:
        raise UsageError(f"%precision: {exc}") from None
    fmt = getattr(shell.formatter, "_float_format", None)
    return fmt if fmt else "%r"  # IPython's answer for "the default"


_XMODES = ("Plain", "Context", "Verbose", "Minimal")


def xmode(line: str, *, shell: Any) -> None:
    """How tracebacks look: `%xmode Plain|Context|Verbose|Minimal`; `%xmode` alone cycles."""
    arg = line.strip()
    if not arg:
        current = str(getattr(shell, "xmode", "Context")).capitalize()
        idx = _XMODES.index(current) if current in _XMODES else 0
        arg = _XMODES[(idx + 1) % len(_XMODES)]
    match = [m for m in _XMODES if m.lower() == arg.lower()]
    if not match:
        raise UsageError(f"%xmode: unknown mode {arg!r}; use one of {', '.join(_XMODES)}")
    shell.xmode = match[0]
    print(f"Exception reporting mode: {match[0]}")


def autoawait(line: str, *, shell: Any) -> None:
    """Top-level `await` in cells: `%autoawait on|off` (it is on by default; asyncio runs it)."""
    arg = line.strip().lower()
    if not arg:
        state = getattr(shell, "autoawait", True)
        print(f"IPython-style autoawait is {'on' if state else 'off'}, using asyncio")
        return
    if arg in ("on", "true", "1", "asyncio"):
        shell.autoawait = True
    elif arg in ("off", "false", "0"):
        shell.autoawait = False
    else:
        raise UsageError(f"%autoawait: use on or off (or asyncio), not {line.strip()!r}")


def _configurables(shell: Any) -> dict[str, Any]:
    objs: dict[str, Any] = {}
    for attr in ("", "kernel", "formatter", "history", "completer", "inspector"):
        try:
            obj = getattr(shell, attr) if attr else shell
        except Exception:
            obj = None
        if obj is not None:
            objs.setdefault(type(obj).__name__, obj)
    return objs


def config(line: str, *, shell: Any) -> None:
    """Look at or change settings while running: `%config` lists the objects, `%config NAME`
    shows one's settings, `%config NAME.option = value` changes one (value is a Python literal)."""
    objs = _configurables(shell)
    arg = line.strip()
    if not arg:
        print("Available objects for config:")
        for name in sorted(objs):
            print(f"    {name}")
        return
    if "=" not in arg:
        obj = objs.get(arg)
        if obj is None:
            raise UsageError(f"%config: no object {arg!r}; %config lists them")
        traits = getattr(obj, "traits", None)
        if callable(traits):
            names = sorted(obj.trait_names(config=True))
        else:
            names = sorted(k for k, v in vars(obj).items() if not k.startswith("_") and
                           isinstance(v, (bool, int, float, str, type(None))))
        print(f"{arg} options")
        print("-" * (len(arg) + 8))
        for n in names:
            print(f"{arg}.{n} = {getattr(obj, n, None)!r}")
        return
    target, _, value_text = arg.partition("=")
    cls, _, option = target.strip().partition(".")
    if not option:
        raise UsageError("%config: write NAME.option = value, e.g. %config HistoryManager.enabled = False")
    try:
        value = ast.literal_eval(value_text.strip())
    except (ValueError, SyntaxError):
        value = value_text.strip()
    conf = getattr(shell, "config", None)
    if isinstance(conf, dict):
        conf.setdefault(cls, {})[option] = value
    obj = objs.get(cls)
    if obj is not None:
        if not hasattr(obj, option):
            raise UsageError(f"%config: {cls} has no option {option!r}; %config {cls} lists them")
        try:
            setattr(obj, option, value)
        except Exception as exc:
            raise UsageError(f"%config: {cls}.{option} = {value!r} was refused: {exc}") from None


_GUIS = ("inline", "agg", "svg", "qt", "qt5", "qt6", "tk", "gtk3", "gtk4", "wx", "osx", "notebook",
         "widget", "ipympl")


def matplotlib(line: str, *, shell: Any) -> None:
    """Set up matplotlib: `%matplotlib` or `%matplotlib inline` (figures shown in the cell),
    `%matplotlib agg` (no display), `%matplotlib qt|tk|...` (windows); `--list` shows them."""
    arg = line.strip()
    if arg in ("-l", "--list"):
        print("Available matplotlib backends: " + str(list(_GUIS)))
        return
    gui = arg or "inline"
    if " " in gui or gui.startswith("-"):
        raise UsageError(f"%matplotlib: unknown option {arg!r}; use %matplotlib [--list] [BACKEND]")
    enable = getattr(shell, "enable_matplotlib", None)
    try:
        if callable(enable):
            result = enable(gui)
        else:  # a kernel without the IPython-style method: its backend module by convention
            result = importlib.import_module("jup.python.mpl_backend").activate(gui)
    except ImportError as exc:
        raise UsageError(f"%matplotlib: matplotlib is not available ({exc}); %pip install matplotlib") from None
    except ValueError as exc:
        raise UsageError(f"%matplotlib: {exc}") from None
    if gui not in ("inline", "agg") and result:
        print(f"Using matplotlib backend: {result[1] if isinstance(result, tuple) else result}")


def gui(line: str, *, shell: Any) -> None:
    """Keep a GUI toolkit's windows alive between cells: `%gui tk|qt|gtk3|gtk4|wx` processes its
    events whenever the kernel waits; `%gui` alone stops. (`%matplotlib qt` does this for you.)"""
    arg = line.strip()
    if " " in arg or arg.startswith("-"):
        raise UsageError(f"%gui: unknown option {arg!r}; use %gui [tk|qt|gtk3|gtk4|wx]")
    enable = getattr(shell, "enable_gui", None)
    if not callable(enable):
        raise UsageError("%gui: this kernel has no GUI event loop integration")
    try:
        enable(arg or None)
    except ValueError as exc:
        raise UsageError(f"%gui: {exc}") from None


MAGICS = [magic_spec(lsmagic), magic_spec(precision), magic_spec(xmode), magic_spec(autoawait),
          magic_spec(config), magic_spec(matplotlib), magic_spec(gui)]
