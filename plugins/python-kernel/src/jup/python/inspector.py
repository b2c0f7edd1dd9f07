"""`obj?`, `obj??` and `inspect_request`: what an object is, in a plain-text page.

Why this shape: the same bundle serves the `?` page payload and the `inspect_reply`, so both look
alike. Names are looked up in the live namespace without running properties; the one piece of user
code we must run (`repr`, `len`) runs in a helper thread with a time limit, so a slow `__repr__`
shows as "(took too long)" instead of freezing the kernel.
"""

from __future__ import annotations

import builtins
import html
import inspect
import keyword
import os
import re
import types
from typing import Any

from jup.python.completer import call_with_timeout

__all__ = ["Inspector", "name_at_cursor"]

_REPR_LIMIT = 1000     # characters of the string form shown
_REPR_TIMEOUT = 0.5    # seconds a __repr__ may take
_NOT_FOUND = object()
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\s*\.\s*[A-Za-z_][A-Za-z0-9_]*)*")


def name_at_cursor(code: str, cursor_pos: int) -> str:
    """The dotted name the user means at `cursor_pos`: the one the cursor touches, else the
    function being called around it (`zip(a, |` -> `zip`). '' when there is none."""
    cursor_pos = max(0, min(cursor_pos, len(code)))
    for m in _NAME.finditer(code):
        if m.start() <= cursor_pos <= m.end():
            # only up to the cursor: `os.pa|th.join` means os.path
            end = code.find(".", cursor_pos)
            text = m.group() if end == -1 or end >= m.end() else code[m.start():end]
            return re.sub(r"\s+", "", text)
        if m.start() > cursor_pos:
            break
    depth = 0
    i = cursor_pos - 1
    while i >= 0:
        ch = code[i]
        if ch in ")]}":
            depth += 1
        elif ch in "([{":
            if depth == 0:
                if ch != "(":
                    return ""
                m = re.search(r"([A-Za-z_][A-Za-z0-9_]*(?:\s*\.\s*[A-Za-z_][A-Za-z0-9_]*)*)\s*$",
                              code[:i])
                return re.sub(r"\s+", "", m.group(1)) if m else ""
            depth -= 1
        i -= 1
    return ""


class Inspector:
    """Answers `inspect_request` and the shell's `?`/`??` with a mime bundle."""

    def __init__(self, shell: Any = None, repr_timeout: float = _REPR_TIMEOUT):
        self.shell = shell
        self.repr_timeout = repr_timeout

    def inspect(self, code: str, cursor_pos: int | None = None, detail_level: int = 0) -> dict:
        """The `inspect_reply` content for the name at `cursor_pos` in `code`."""
        if cursor_pos is None:
            cursor_pos = len(code)
        name = name_at_cursor(code, cursor_pos)
        stripped = code.strip()
        if re.fullmatch(r"%%?\w+", stripped):  # a magic's help
            name = stripped
        bundle = self.info(name, detail_level) if name else None
        return {"status": "ok", "found": bundle is not None, "data": bundle or {}, "metadata": {}}

    def info(self, obj_name: str, detail_level: int = 0) -> dict | None:
        """The mime bundle (text/plain, text/html) for `obj?` (detail 0) or `obj??` (detail 1);
        None when the name is not defined."""
        obj_name = obj_name.strip()
        if obj_name.startswith("%"):
            return self._magic_info(obj_name, detail_level)
        obj = self._find(obj_name)
        if obj is _NOT_FOUND:
            if keyword.iskeyword(obj_name):
                return _bundle([("Keyword", obj_name),
                                ("Docstring", f"Python keyword; see help('{obj_name}').")])
            return None
        return _bundle(self._fields(obj_name, obj, detail_level))

    # ---- lookup ---------------------------------------------------------------------------------

    def _find(self, dotted: str) -> Any:
        parts = [p for p in dotted.replace(" ", "").split(".")]
        if not parts or not all(p.isidentifier() for p in parts):
            return _NOT_FOUND
        ns = getattr(self.shell, "user_ns", None) or {}
        if parts[0] in ns:
            obj = ns[parts[0]]
        elif hasattr(builtins, parts[0]):
            obj = getattr(builtins, parts[0])
        else:
            return _NOT_FOUND
        for part in parts[1:]:
            try:
                attr = inspect.getattr_static(obj, part)
            except AttributeError:
                try:  # a dynamic attribute (module __getattr__, C extension): ask, with a limit
                    attr = call_with_timeout(getattr, self.repr_timeout, obj, part)
                except Exception:
                    return _NOT_FOUND
            else:
                if isinstance(attr, (staticmethod, classmethod)) or inspect.isfunction(attr) or \
                        isinstance(attr, (types.WrapperDescriptorType, types.MethodDescriptorType)):
                    try:
                        attr = getattr(obj, part)  # a bound method: binding runs no user code
                    except Exception:
                        pass
                # a property stays a property: we show its doc rather than run it
            obj = attr
        return obj

    # ---- fields ---------------------------------------------------------------------------------

    def _fields(self, name: str, obj: Any, detail: int) -> list[tuple[str, str]]:
        fields: list[tuple[str, str]] = []
        is_class = isinstance(obj, type)
        callable_ = callable(obj) and not is_class
        if is_class:
            sig = _signature(obj)
            if sig is not None:
                fields.append(("Init signature", f"{name}{sig}"))
        elif callable_ or isinstance(obj, (property, staticmethod, classmethod)):
            target = obj.__func__ if isinstance(obj, (staticmethod, classmethod)) else obj
            sig = _signature(target) if not isinstance(obj, property) else None
            if sig is not None:
                fields.append(("Signature", f"{name}{sig}"))
        source = _source(obj) if detail >= 1 else None
        if source is not None and not isinstance(obj, types.ModuleType):
            # with the source shown, the string form and docstring repeat what it says
            fields.append(("Source", source))
        else:
            if isinstance(obj, property):
                fields.append(("Type", "property"))
            elif not (inspect.isroutine(obj) or is_class or isinstance(obj, types.ModuleType)):
                fields.append(("Type", type(obj).__name__))
                fields.append(("String form", self._string_form(obj)))
                length = self._length(obj)
                if length is not None:
                    fields.append(("Length", str(length)))
            doc = _doc(obj)
            fields.append(("Docstring", doc if doc else "<no docstring>"))
            if is_class:
                init = getattr(obj, "__init__", None)
                init_doc = inspect.getdoc(init) if init not in (object.__init__, None) else None
                if init_doc and init_doc != doc and init_doc != inspect.getdoc(object.__init__):
                    fields.append(("Init docstring", init_doc))
            if detail >= 1 and isinstance(obj, types.ModuleType) and source is not None:
                fields.append(("Source", source))
        path = _file(obj)
        if path:
            fields.append(("File", path))
        if inspect.isroutine(obj) or is_class or isinstance(obj, types.ModuleType):
            fields.append(("Type", type(obj).__name__))
        if is_class:
            subs = self._subclasses(obj)
            if subs:
                fields.append(("Subclasses", subs))
        return fields

    def _string_form(self, obj: Any) -> str:
        try:
            text = call_with_timeout(repr, self.repr_timeout, obj)
        except TimeoutError:
            return f"<repr took longer than {self.repr_timeout:g} s; not shown>"
        except Exception as exc:
            return f"<repr raised {type(exc).__name__}: {exc}>"
        if not isinstance(text, str):
            return "<repr did not return a string>"
        if len(text) > _REPR_LIMIT:
            half = _REPR_LIMIT // 2
            text = f"{text[:half]}<...>{text[-half:]}"
        return text

    def _length(self, obj: Any) -> int | None:
        if not hasattr(type(obj), "__len__") or isinstance(obj, (str, bytes)) and len(obj) < 0:
            return None
        try:
            n = call_with_timeout(len, self.repr_timeout, obj)
        except Exception:
            return None
        return n if isinstance(n, int) else None

    def _subclasses(self, cls: type) -> str:
        try:
            subs = type.__subclasses__(cls)
        except TypeError:
            return ""
        names = [s.__name__ for s in subs[:10]]
        return ", ".join(names) + (", ..." if len(subs) > 10 else "")

    def _magic_info(self, text: str, detail: int) -> dict | None:
        kind = "cell" if text.startswith("%%") else "line"
        name = text.lstrip("%")
        registry = getattr(self.shell, "magics", None)
        if registry is None:
            return None
        spec = None
        for k in ([kind, "line", "cell"] if kind == "line" else [kind]):
            try:
                spec = registry.find(name, k)
            except Exception:
                spec = None
            if spec is not None:
                break
        if spec is None:
            return None
        doc = spec.help or inspect.getdoc(spec.func) or "<no docstring>"
        fields = [("Docstring", doc)]
        if detail >= 1:
            src = _source(spec.func)
            if src:
                fields.append(("Source", src))
        path = _file(spec.func)
        if path:
            fields.append(("File", path))
        fields.append(("Type", {"both": "line and cell magic"}.get(spec.kind, f"{spec.kind} magic")))
        return _bundle(fields)


def _signature(obj: Any) -> str | None:
    try:
        return str(inspect.signature(obj))
    except (TypeError, ValueError):
        return None


def _doc(obj: Any) -> str | None:
    if isinstance(obj, (int, float, str, bytes, list, dict, tuple, set, bool)) or obj is None:
        return inspect.getdoc(type(obj))
    try:
        return inspect.getdoc(obj)
    except Exception:
        return None


def _file(obj: Any) -> str | None:
    target = obj.fget if isinstance(obj, property) else obj
    if not (inspect.isroutine(target) or isinstance(target, type) or
            isinstance(target, types.ModuleType)):
        target = type(obj)
    try:
        path = inspect.getsourcefile(target) or inspect.getfile(target)
    except (TypeError, OSError):
        return None
    if path and not os.path.isabs(path) and not path.startswith("<"):
        path = os.path.abspath(path)
    return path


def _source(obj: Any) -> str | None:
    target = obj.fget if isinstance(obj, property) else obj
    if isinstance(target, (staticmethod, classmethod)):
        target = target.__func__
    try:
        return inspect.getsource(target).rstrip("\n")
    except (TypeError, OSError, IndentationError):
        return None


def _bundle(fields: list[tuple[str, str]]) -> dict:
    """text/plain (plain, ANSI-free) and text/html of the same fields."""
    lines = []
    width = max((len(k) for k, v in fields if "\n" not in v), default=0) + 1
    for key, value in fields:
        if "\n" in value or key in ("Docstring", "Source", "Init docstring"):
            lines.append(f"{key}:\n{value}")
        else:
            lines.append(f"{key + ':':<{width}} {value}")
    plain = "\n".join(lines)
    rows = "".join(f"<dt>{html.escape(k)}</dt><dd><pre>{html.escape(v)}</pre></dd>" for k, v in fields)
    return {"text/plain": plain, "text/html": f"<dl class=\"jup-inspect\">{rows}</dl>"}
