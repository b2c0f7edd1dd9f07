"""`IPython` itself (and `IPython.core.getipython`, `IPython.core.interactiveshell`): the names
notebooks and libraries reach for to find the running shell."""

from __future__ import annotations

from typing import Any

from jup.python.shell import Shell, current

#: Libraries compare against IPython's version to pick code paths; we behave like a recent 8.x.
version_info = (8, 30, 0, "")
__version__ = "8.30.0"

InteractiveShell = Shell


def get_ipython() -> Any:
    """The running shell, or None outside one."""
    return current()


def embed(**kwargs: Any) -> None:
    raise NotImplementedError("IPython.embed is not available in the jup kernel; you are already in one.")


__all__ = ["InteractiveShell", "embed", "get_ipython", "version_info"]
