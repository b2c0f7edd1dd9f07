"""Comms for Python code in the kernel: open channels to frontend widgets and register targets.

Built on the kernel base's comm manager. Widget libraries written against the `comm` package
(`comm.create_comm`, `comm.get_comm_manager`) work too: `install` makes those two functions
answer with ours, now if `comm` is imported, else the moment it is.
"""

from __future__ import annotations

import importlib.machinery
import sys
from collections.abc import Callable
from typing import Any

_kernel: Any = None


def get_comm_manager() -> Any:
    """The running kernel's comm manager (register_target, open, info)."""
    if _kernel is None:
        raise RuntimeError("Comms need a running jup kernel; none is running in this process.")
    return _kernel.comm_manager


def create_comm(target_name: str = "", data: dict | None = None, metadata: dict | None = None,
                buffers: list | None = None, comm_id: str | None = None, **kwargs: Any) -> Any:
    """Open a comm to the frontend on `target_name` (what `comm.create_comm` does)."""
    return get_comm_manager().open(target_name, data=data, metadata=metadata, buffers=buffers,
                                   comm_id=comm_id)


Comm = create_comm


def register_target(target_name: str, callback: Callable[[Any, dict], Any]) -> None:
    """Call `callback(comm, open_msg)` when a frontend opens a comm on `target_name`."""
    get_comm_manager().register_target(target_name, callback)


def _patch(module: Any) -> None:
    module.create_comm = create_comm
    module.get_comm_manager = get_comm_manager


class _PatchLoader:
    """Loader by protocol (importlib.abc's import pulls pathlib and tempfile into every kernel)."""

    def __init__(self, loader: Any):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module) -> None:
        self.loader.exec_module(module)
        _patch(module)


class _CommFinder:
    """Patches the `comm` package right after it is imported."""

    def find_spec(self, fullname: str, path=None, target=None):
        if fullname != "comm":
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return None
        spec.loader = _PatchLoader(spec.loader)
        return spec


def install(kernel: Any) -> None:
    """Serve comms for `kernel` through this module and the `comm` package."""
    global _kernel
    _kernel = kernel
    if "comm" in sys.modules:
        _patch(sys.modules["comm"])
    elif not any(isinstance(f, _CommFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _CommFinder())
