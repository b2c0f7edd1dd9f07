"""The `autoreload` extension (`%load_ext autoreload`, then `%autoreload 2`): before each cell,
modules whose source file changed are reloaded, so edits to your own code take effect without
restarting the kernel. Countless notebooks start with those two lines.

Functions and classes already imported elsewhere (`from mod import f`) keep working with the new
code: a reloaded function's code is put into the old function object, and a reloaded class's
methods into the old class. Modules of the Python installation and its site-packages are not
watched (they do not change while you work).
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
import types
from typing import Any

_MODES = {"0": 0, "off": 0, "1": 1, "explicit": 1, "2": 2, "all": 2, "3": 3, "complete": 3}


class Reloader:
    """Remembers each watched module's file mtime and reloads the ones that changed."""

    def __init__(self, shell: Any):
        self.shell = shell
        self.mode = 0
        self.explicit: set[str] = set()
        self.skipped: set[str] = set()
        self.mtimes: dict[str, float] = {}
        self._installed = {os.path.realpath(p) for p in {sys.prefix, sys.base_prefix, sys.exec_prefix}}

    def _source(self, module: Any) -> str | None:
        path = getattr(module, "__file__", None)
        if not isinstance(path, str) or not path.endswith(".py"):
            return None
        real = os.path.realpath(path)
        if any(real.startswith(p + os.sep) for p in self._installed):
            return None
        return real

    def _watched(self) -> list[tuple[str, Any, str]]:
        names = self.explicit if self.mode == 1 else set(sys.modules)
        found = []
        for name in sorted(names):
            module = sys.modules.get(name)
            if module is None or name in self.skipped or name == "__main__":
                continue
            path = self._source(module)
            if path is not None:
                found.append((name, module, path))
        return found

    def check(self, force: bool = False) -> None:
        """Reload every watched module whose file changed since it was last seen."""
        if self.mode == 0 and not force:
            return
        for name, module, path in self._watched():
            try:
                mtime = os.stat(path).st_mtime
            except OSError:
                continue
            seen = self.mtimes.setdefault(path, mtime)
            if mtime == seen:
                continue
            self.mtimes[path] = mtime
            try:
                reload_in_place(module)
            except Exception:
                self.shell.write_err(f"[autoreload of {name} failed: "
                                     f"{traceback.format_exc(limit=-1).strip()}]\n")

    def snapshot(self) -> None:
        """Note the current mtimes (what is loaded now is up to date)."""
        for _, _, path in self._watched():
            try:
                self.mtimes.setdefault(path, os.stat(path).st_mtime)
            except OSError:
                pass


def _update_function(old: types.FunctionType, new: types.FunctionType) -> None:
    for attr in ("__code__", "__defaults__", "__kwdefaults__", "__doc__", "__dict__"):
        try:
            setattr(old, attr, getattr(new, attr))
        except (AttributeError, TypeError, ValueError):  # e.g. a closure of another size
            pass


def _update_class(old: type, new: type) -> None:
    for key, value in list(vars(new).items()):
        if key in ("__dict__", "__weakref__", "__module__", "__qualname__"):
            continue
        current = vars(old).get(key)
        if isinstance(current, types.FunctionType) and isinstance(value, types.FunctionType):
            _update_function(current, value)
            continue
        try:
            setattr(old, key, value)
        except (AttributeError, TypeError):
            pass


def reload_in_place(module: types.ModuleType) -> None:
    """Reload `module`; old functions and classes of it take the new code."""
    before = dict(vars(module))
    importlib.reload(module)
    for key, old in before.items():
        new = vars(module).get(key)
        if new is None or new is old or getattr(old, "__module__", None) != module.__name__:
            continue
        if isinstance(old, types.FunctionType) and isinstance(new, types.FunctionType):
            _update_function(old, new)
        elif isinstance(old, type) and isinstance(new, type):
            _update_class(old, new)


def load_ipython_extension(shell: Any) -> None:
    """Add %autoreload and %aimport, and check for changed modules before every cell."""
    reloader = Reloader(shell)
    shell._autoreloader = reloader

    def autoreload(line: str = "") -> None:
        """%autoreload: reload changed modules now; %autoreload 0|1|2|3 (off|explicit|all|complete)
        sets when it happens: never, only %aimport-ed modules, or every module before each cell."""
        arg = line.strip()
        if not arg:
            reloader.check(force=True)
            return
        if arg.lstrip("-") not in _MODES:
            from jup.core.errors import UsageError
            raise UsageError(f"%autoreload: unknown mode {arg!r}; use 0 (off), 1 (explicit), 2 (all) "
                             "or 3 (complete)")
        reloader.mode = _MODES[arg.lstrip("-")]
        reloader.snapshot()

    def aimport(line: str = "") -> None:
        """%aimport mod[, mod2]: import and watch (in mode 1); %aimport -mod: never reload it;
        alone, lists both."""
        names = [n.strip() for n in line.replace(",", " ").split() if n.strip()]
        if not names:
            print("Modules to reload:\n" + " ".join(sorted(reloader.explicit)))
            print("\nModules to skip:\n" + " ".join(sorted(reloader.skipped)))
            return
        for name in names:
            if name.startswith("-"):
                reloader.skipped.add(name[1:])
                reloader.explicit.discard(name[1:])
                continue
            module = importlib.import_module(name)
            reloader.explicit.add(name)
            reloader.skipped.discard(name)
            shell.push({name.split(".")[0]: sys.modules[name.split(".")[0]]})
            path = reloader._source(module)
            if path is not None:
                reloader.mtimes.setdefault(path, os.stat(path).st_mtime)

    def before_cell(*_: Any) -> None:
        reloader.check()

    reloader.hook = before_cell
    shell.register_magic_function(autoreload, "line", "autoreload")
    shell.register_magic_function(aimport, "line", "aimport")
    shell.events.register("pre_run_cell", before_cell)


def unload_ipython_extension(shell: Any) -> None:
    reloader = getattr(shell, "_autoreloader", None)
    if reloader is not None:
        shell.events.unregister("pre_run_cell", reloader.hook)
        shell._autoreloader = None
