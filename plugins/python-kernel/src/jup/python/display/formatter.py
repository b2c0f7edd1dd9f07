"""Turns any object into a mime bundle: `_repr_*_` methods, `_repr_mimebundle_`, formatters added
for a type (by plugins through the `jup_display_formatters` hook, or by user code through
`formatters[mime].for_type`), and the pretty printer for text/plain.

A formatter that raises must not lose the user's result: the bundle falls back to text/plain and
the error is reported on stderr with the formatter's name.
"""

from __future__ import annotations

import base64
import sys
from collections.abc import Callable
from typing import Any

from jup.python.display import pretty as _pretty

#: Mime types in the order frontends usually prefer them, with the method that makes each.
MIME_METHODS: dict[str, str] = {
    "text/plain": "_repr_pretty_",
    "text/html": "_repr_html_",
    "text/markdown": "_repr_markdown_",
    "image/svg+xml": "_repr_svg_",
    "image/png": "_repr_png_",
    "application/pdf": "_repr_pdf_",
    "image/jpeg": "_repr_jpeg_",
    "text/latex": "_repr_latex_",
    "application/json": "_repr_json_",
    "application/javascript": "_repr_javascript_",
}

_BINARY = {"image/png", "image/jpeg", "application/pdf"}


def _report(what: str, exc: BaseException, instead: str = "text/plain") -> None:
    """Say on stderr that a formatter failed, without raising again."""
    try:
        sys.stderr.write(f"{what} raised {type(exc).__name__}: {exc}; showing {instead} instead.\n")
    except Exception:
        pass


def _type_key(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


class MimeFormatter:
    """Computes one mime type for an object: type-registered functions first, then the method."""

    def __init__(self, mimetype: str, method: str | None):
        self.mimetype = mimetype
        self.method = method
        self.enabled = True
        self.type_printers: dict[Any, Callable[[Any], Any]] = {}

    def for_type(self, typ: Any, func: Callable[[Any], Any] | None = None):
        """Use `func(obj)` for objects of `typ` (a class or "module.Name"); returns the old one."""
        old = self.type_printers.get(typ)
        if func is not None:
            self.type_printers[typ] = func
        return old

    def for_type_by_name(self, module: str, name: str, func: Callable[[Any], Any] | None = None):
        return self.for_type(f"{module}.{name}", func)

    def pop(self, typ: Any, default: Any = None):
        return self.type_printers.pop(typ, default)

    def lookup(self, obj: Any) -> Callable[[Any], Any] | None:
        try:
            mro = type(obj).__mro__
        except AttributeError:
            return None
        for base in mro:
            f = self.type_printers.get(base) or self.type_printers.get(_type_key(base))
            if f is not None:
                return f
        return None

    def __call__(self, obj: Any) -> Any:
        if not self.enabled:
            return None
        f = self.lookup(obj)
        if f is not None:
            return f(obj)
        if self.method is None or isinstance(obj, type):
            return None
        meth = _method(obj, self.method)
        return meth() if meth is not None else None


def _method(obj: Any, name: str):
    """`obj.name` if it is a real method: objects whose `__getattr__` answers anything are skipped."""
    try:
        meth = getattr(obj, name, None)
    except Exception:
        return None
    if meth is None or not callable(meth):
        return None
    try:
        if getattr(obj, "_jup_no_such_attribute_probe_", None) is not None:
            return None
    except Exception:
        return None
    return meth


class DisplayFormatter:
    """Formats objects into (data, metadata) bundles; `float_precision` serves `%precision`."""

    def __init__(self) -> None:
        self.formatters: dict[str, MimeFormatter] = {
            m: MimeFormatter(m, None if m == "text/plain" else meth) for m, meth in MIME_METHODS.items()}
        self.plain_text_only = False
        self._float_format: str | None = None
        self._float_precision = ""
        #: Called once before the first object is formatted: the shell loads the plugins'
        #: formatters then, so a session that never shows a value never loads plugins.
        self.before_first_use: Callable[[], None] | None = None

    def _first_use(self) -> None:
        hook, self.before_first_use = self.before_first_use, None
        if hook is not None:
            try:
                hook()
            except Exception as e:
                _report("Loading the plugins' display formatters", e, "the built-in formatters")

    # ---- %precision -----------------------------------------------------------------------------

    @property
    def float_precision(self) -> str:
        return self._float_precision

    @float_precision.setter
    def float_precision(self, value: str | int) -> None:
        """'' resets; an int n means '%.nf'; a string is a %-format like '%.3e'."""
        if value == "" or value is None:
            self._float_format, self._float_precision = None, ""
            _numpy_precision(8)  # numpy's own default
            return
        digits = None
        if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
            digits = int(value)
            fmt = f"%.{digits}f"
        elif isinstance(value, str) and "%" in value:
            fmt = value
        else:
            raise ValueError(f"Precision must be an integer or a %-format like '%.3f', not {value!r}.")
        try:
            fmt % 3.14159
        except (TypeError, ValueError):
            raise ValueError(f"{value!r} is not a usable float format; try an integer like 3.")
        self._float_format, self._float_precision = fmt, str(value)
        if digits is not None:
            _numpy_precision(digits)

    # ---- plugins --------------------------------------------------------------------------------

    def add_spec(self, spec: Any) -> None:
        """Add a `FormatterSpec` (mimetype, func, type) from the `jup_display_formatters` hook."""
        fmt = self.formatters.get(spec.mimetype)
        if fmt is None:
            fmt = self.formatters[spec.mimetype] = MimeFormatter(spec.mimetype, None)
        fmt.for_type(spec.type, spec.func)

    # ---- formatting -----------------------------------------------------------------------------

    def plain(self, obj: Any) -> str:
        """text/plain: a registered printer, else the pretty printer, else a repr that cannot fail."""
        if self.before_first_use is not None:
            self._first_use()
        f = self.formatters["text/plain"].lookup(obj)
        try:
            if f is not None:
                return str(f(obj))
            return _pretty.pretty(obj, float_format=self._float_format)
        except Exception as e:
            _report(f"The text/plain formatter {_name(f)}for {type(obj).__name__}", e, "the default repr")
            return object.__repr__(obj)

    def format(self, obj: Any, include: Any = None, exclude: Any = None) -> tuple[dict, dict]:
        """The mime bundle for `obj` and its metadata."""
        if self.before_first_use is not None:
            self._first_use()
        data: dict[str, Any] = {}
        md: dict[str, Any] = {}

        def wanted(m: str) -> bool:
            return (include is None or m in include) and not (exclude and m in exclude)

        if not isinstance(obj, type) and not self.plain_text_only:
            meth = _method(obj, "_repr_mimebundle_")
            if meth is not None:
                try:
                    res = meth(include=include, exclude=exclude)
                except Exception as e:
                    _report(f"{type(obj).__name__}._repr_mimebundle_", e)
                    res = None
                if isinstance(res, tuple) and len(res) == 2:
                    bundle, bmd = res
                else:
                    bundle, bmd = res, None
                if isinstance(bundle, dict):
                    data.update({k: v for k, v in bundle.items() if wanted(k)})
                if isinstance(bmd, dict):
                    md.update(bmd)
            for mime, fmt in self.formatters.items():
                if mime == "text/plain" or mime in data or not wanted(mime):
                    continue
                try:
                    value = fmt(obj)
                except NotImplementedError:
                    continue
                except Exception as e:
                    _report(f"The {mime} formatter {_name(fmt.lookup(obj))}for {type(obj).__name__}", e)
                    continue
                if value is None:
                    continue
                if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], dict):
                    value, vmd = value
                    md[mime] = vmd
                data[mime] = _jsonable(mime, value)
        if "text/plain" not in data and wanted("text/plain"):
            data["text/plain"] = self.plain(obj)
        return data, md


def _numpy_precision(digits: int) -> None:
    """`%precision N` also sets how numpy prints arrays, as in IPython (only if numpy is loaded:
    importing it here would cost the user ~100 ms they did not ask for)."""
    numpy = sys.modules.get("numpy")
    set_options = getattr(numpy, "set_printoptions", None)
    if set_options is not None:
        try:
            set_options(precision=digits)
        except Exception as e:
            _report("numpy.set_printoptions", e, "numpy's current precision")


def _name(func: Any) -> str:
    """`(module.function) ` for a registered formatter, so the user knows whose it is."""
    if func is None:
        return ""
    return f"({getattr(func, '__module__', '?')}.{getattr(func, '__qualname__', func)}) "


def _jsonable(mime: str, value: Any) -> Any:
    """Binary data goes base64, JSON stays structured, everything else becomes text."""
    if mime in _BINARY or (isinstance(value, bytes) and mime.startswith("image/")):
        if isinstance(value, (bytes, bytearray, memoryview)):
            return base64.b64encode(bytes(value)).decode("ascii")
        return str(value)
    if mime == "application/json" or mime.endswith("+json"):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else str(value)
