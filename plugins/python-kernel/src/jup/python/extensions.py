"""IPython-style extensions: a module with `load_ipython_extension(shell)` (and optionally
`unload_ipython_extension(shell)`), loaded by name. Many published packages ship one, so
`%load_ext` and `shell.extension_manager.load_extension(...)` must call it as IPython does.
"""

from __future__ import annotations

import importlib
from typing import Any

#: Extensions IPython ships, by the name notebooks load them with, and where ours live.
BUILTIN = {"autoreload": "jup.python.autoreload"}


def _import(module_str: str) -> Any:
    try:
        return importlib.import_module(module_str)
    except ModuleNotFoundError as exc:
        if exc.name != module_str or module_str not in BUILTIN:
            raise
        return importlib.import_module(BUILTIN[module_str])


class ExtensionManager:
    """Loads, unloads and reloads extension modules for one shell; remembers which are loaded.

    The methods return None on success, else a short reason ("already loaded", "not loaded",
    "no load function", "no unload function") that `%load_ext` and friends turn into a message.
    """

    def __init__(self, shell: Any):
        self.shell = shell
        self.loaded: set[str] = set()

    def load_extension(self, module_str: str) -> str | None:
        """Import `module_str` and call its `load_ipython_extension(shell)`."""
        if module_str in self.loaded:
            return "already loaded"
        module = _import(module_str)
        load = getattr(module, "load_ipython_extension", None)
        if not callable(load):
            return "no load function"
        load(self.shell)
        self.loaded.add(module_str)
        return None

    def unload_extension(self, module_str: str) -> str | None:
        """Call the module's `unload_ipython_extension(shell)` and forget it."""
        if module_str not in self.loaded:
            return "not loaded"
        unload = getattr(_import(module_str), "unload_ipython_extension", None)
        if not callable(unload):
            return "no unload function"
        unload(self.shell)
        self.loaded.discard(module_str)
        return None

    def reload_extension(self, module_str: str) -> str | None:
        """Unload (if loaded), re-import the module's code from disk, and load it again."""
        if module_str in self.loaded:
            reason = self.unload_extension(module_str)
            if reason is not None:
                return reason
            importlib.reload(_import(module_str))
        return self.load_extension(module_str)
