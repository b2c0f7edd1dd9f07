"""Magics for IPython-style extensions: %load_ext, %unload_ext and %reload_ext.

An extension is a module with `load_ipython_extension(shell)`; the shell's extension manager
does the work, these magics turn its answers into messages a user can act on.
"""

from __future__ import annotations

from typing import Any

from jup.core import UsageError
from jup.magics.args import magic_spec


def _manager(shell: Any, prog: str) -> Any:
    manager = getattr(shell, "extension_manager", None)
    if manager is None:
        raise UsageError(f"%{prog}: this shell cannot load IPython-style extensions")
    return manager


def _module_name(line: str, prog: str) -> str:
    name = line.strip()
    if not name or " " in name:
        raise UsageError(f"%{prog}: give one module name, e.g. %{prog} autoreload")
    return name


def _call(shell: Any, prog: str, method: str, name: str) -> str | None:
    try:
        return getattr(_manager(shell, prog), method)(name)
    except ModuleNotFoundError as exc:
        if exc.name and (name == exc.name or name.startswith(exc.name + ".")):
            raise UsageError(f"%{prog}: no module named {exc.name!r}; check the name, or install "
                             f"the package that provides it (%pip install ...)") from None
        raise


_NOT_AN_EXTENSION = "The {name} module is not an IPython extension (it has no load_ipython_extension)."


def load_ext(line: str, *, shell: Any) -> None:
    """Load an IPython extension by module name: `%load_ext module` imports it and calls its
    `load_ipython_extension(shell)`."""
    name = _module_name(line, "load_ext")
    reason = _call(shell, "load_ext", "load_extension", name)
    if reason == "already loaded":
        print(f"The {name} extension is already loaded. To reload it, use:\n  %reload_ext {name}")
    elif reason == "no load function":
        print(_NOT_AN_EXTENSION.format(name=name))


def unload_ext(line: str, *, shell: Any) -> None:
    """Unload an IPython extension: calls the module's `unload_ipython_extension(shell)`."""
    name = _module_name(line, "unload_ext")
    reason = _call(shell, "unload_ext", "unload_extension", name)
    if reason == "not loaded":
        print(f"The {name} extension is not loaded.")
    elif reason == "no unload function":
        print(f"The {name} extension doesn't define how to unload it.")


def reload_ext(line: str, *, shell: Any) -> None:
    """Reload an IPython extension: unload it, re-read its module from disk, load it again."""
    name = _module_name(line, "reload_ext")
    reason = _call(shell, "reload_ext", "reload_extension", name)
    if reason == "no unload function":
        print(f"The {name} extension doesn't define how to unload it, so it cannot be reloaded.")
    elif reason == "no load function":
        print(_NOT_AN_EXTENSION.format(name=name))


MAGICS = [magic_spec(load_ext), magic_spec(unload_ext), magic_spec(reload_ext)]
