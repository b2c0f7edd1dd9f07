"""IPython compatibility: inside our kernel, `import IPython.display` and `get_ipython()` work
whether or not IPython is installed, so real notebooks run unchanged.

`install()` puts a finder first on `sys.meta_path` that serves the IPython modules notebooks use
from the modules of this package, shadowing a real IPython in the kernel process (mixing the two
would give objects the frontend cannot show). A module outside that list fails to import with a
message that says so.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
import types

#: IPython module -> (our module, is a package)
MODULES: dict[str, tuple[str, bool]] = {
    "IPython": ("jup.python.compat.root", True),
    "IPython.display": ("jup.python.compat.display", False),
    "IPython.core": ("jup.python.compat.empty", True),
    "IPython.core.display": ("jup.python.compat.display", False),
    "IPython.core.display_functions": ("jup.python.compat.display", False),
    "IPython.core.getipython": ("jup.python.compat.root", False),
    "IPython.core.magic": ("jup.python.compat.magic", False),
    "IPython.core.error": ("jup.python.compat.error", False),
    "IPython.core.interactiveshell": ("jup.python.compat.root", False),
    "IPython.lib": ("jup.python.compat.empty", True),
    "IPython.lib.pretty": ("jup.python.display.pretty", False),
    "IPython.utils": ("jup.python.compat.empty", True),
    "IPython.utils.capture": ("jup.python.compat.capture", False),
    "IPython.extensions": ("jup.python.compat.empty", True),
    "IPython.extensions.autoreload": ("jup.python.autoreload", False),
}


class _Loader:
    """A loader by protocol, not by subclassing importlib.abc (whose import pulls importlib.resources,
    pathlib and tempfile into every kernel: ~1.3 MiB of idle memory)."""

    def __init__(self, source: str, package: bool):
        self.source = source
        self.package = package

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        mod = types.ModuleType(spec.name)
        src = importlib.import_module(self.source)
        for k, v in vars(src).items():
            if not k.startswith("__") or k in ("__all__", "__doc__", "__version__"):
                setattr(mod, k, v)
        if self.package:
            mod.__path__ = []
        return mod

    def exec_module(self, module: types.ModuleType) -> None:
        pass


class IPythonCompatFinder:
    """Serves `MODULES`; any other `IPython.*` name is refused with an explanation."""

    def find_spec(self, fullname: str, path=None, target=None):
        if fullname != "IPython" and not fullname.startswith("IPython."):
            return None
        entry = MODULES.get(fullname)
        if entry is None:
            raise ModuleNotFoundError(
                f"No module named {fullname!r}: the jup kernel provides IPython.display, "
                "IPython.core.magic and get_ipython() in place of IPython, not this module. "
                "Use jup's own API or run the notebook with the ipykernel kernel.", name=fullname)
        return importlib.machinery.ModuleSpec(fullname, _Loader(*entry), is_package=entry[1])


_finder: IPythonCompatFinder | None = None


def install() -> None:
    """Serve IPython's names from jup in this process (idempotent)."""
    global _finder
    if _finder is not None and _finder in sys.meta_path:
        return
    for name in [n for n in sys.modules if n == "IPython" or n.startswith("IPython.")]:
        del sys.modules[name]
    _finder = IPythonCompatFinder()
    sys.meta_path.insert(0, _finder)


def uninstall() -> None:
    """Stop serving IPython from jup (tests use this to leave the process as it was)."""
    global _finder
    if _finder is not None and _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
    _finder = None
    for name in [n for n in sys.modules if n == "IPython" or n.startswith("IPython.")]:
        del sys.modules[name]
