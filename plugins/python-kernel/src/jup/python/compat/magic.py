"""`IPython.core.magic`: how notebooks and libraries define their own magics, served by our shell.

    @register_line_magic
    def hello(line): ...

    @magics_class
    class MyMagics(Magics):
        @line_magic
        def hi(self, line): ...
    get_ipython().register_magics(MyMagics)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jup.core.errors import UsageError
from jup.python.shell import current

_KIND = "_jup_magic_kind"


def _shell_or_fail() -> Any:
    shell = current()
    if shell is None:
        raise UsageError("No running shell: magics can only be registered inside the jup kernel or shell.")
    return shell


def _either_form(action: Callable[[Callable, str], Callable]) -> Callable:
    """A decorator usable bare (`@deco`) or with a name (`@deco("name")`), as IPython's are."""
    def decorator(arg: Any = None) -> Any:
        if callable(arg):
            return action(arg, arg.__name__)
        return lambda func: action(func, arg or func.__name__)
    return decorator


def _register(kind: str) -> Callable:
    def register(func: Callable, name: str) -> Callable:
        _shell_or_fail().register_magic_function(func, kind, name)
        return func
    return _either_form(register)


register_line_magic = _register("line")
register_cell_magic = _register("cell")
register_line_cell_magic = _register("line_cell")


def _mark(kind: str) -> Callable:
    def mark(func: Callable, name: str) -> Callable:
        setattr(func, _KIND, (kind, name))
        return func
    return _either_form(mark)


line_magic = _mark("line")
cell_magic = _mark("cell")
line_cell_magic = _mark("line_cell")


def magics_class(cls: type) -> type:
    """Collect the methods marked with line_magic/cell_magic into `cls.magics`."""
    table: dict[str, dict[str, str]] = {"line": {}, "cell": {}}
    for attr, value in vars(cls).items():
        mark = getattr(value, _KIND, None)
        if mark is None:
            continue
        kind, name = mark
        if kind in ("line", "line_cell"):
            table["line"][name] = attr
        if kind in ("cell", "line_cell"):
            table["cell"][name] = attr
    cls.magics = table
    return cls


class Magics:
    """Base of a class of magics; `self.shell` is the running shell."""

    magics: dict = {"line": {}, "cell": {}}

    def __init__(self, shell: Any = None, **kwargs: Any):
        self.shell = shell if shell is not None else current()


def needs_local_scope(func: Callable) -> Callable:
    func.needs_local_scope = True  # type: ignore[attr-defined]
    return func


def no_var_expand(func: Callable) -> Callable:
    func._ipython_magic_no_var_expand = True  # type: ignore[attr-defined]
    return func


__all__ = ["Magics", "UsageError", "cell_magic", "line_cell_magic", "line_magic", "magics_class",
           "needs_local_scope", "no_var_expand", "register_cell_magic", "register_line_cell_magic",
           "register_line_magic"]
