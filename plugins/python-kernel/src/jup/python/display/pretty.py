"""A pretty printer that lays out containers the way IPython users expect: everything on one line
when it fits in 79 columns, otherwise one item per line, nested, with cycles shown as `[...]`.

Objects take part through `_repr_pretty_(p, cycle)`, using `p.text`, `p.breakable`, `p.group`,
`p.pretty` and `p.indent`. The printer first records a stream of tokens, then lays it out in one
pass that knows, for each group, whether it fits on the rest of the line.
"""

from __future__ import annotations

import collections
import contextlib
import re
import types
from collections.abc import Iterator
from typing import Any

MAX_WIDTH = 79
MAX_SEQ_LENGTH = 1000

_TEXT, _BREAK, _BEGIN, _END = 0, 1, 2, 3


class PrettyPrinter:
    """Collects the tokens for one object, then `getvalue()` lays them out."""

    def __init__(self, max_width: int = MAX_WIDTH, max_seq_length: int = MAX_SEQ_LENGTH,
                 float_format: str | None = None):
        self.max_width = max_width
        self.max_seq_length = max_seq_length
        self.float_format = float_format
        self._tokens: list[tuple] = []
        self._stack: list[int] = []  # ids of the objects being printed, for cycle detection
        self.indentation = 0

    # ---- the API `_repr_pretty_` implementations use --------------------------------------------

    def text(self, obj: str) -> None:
        """Add text that is never broken."""
        if obj:
            self._tokens.append((_TEXT, obj))

    def breakable(self, sep: str = " ") -> None:
        """Add a place where the line may break; `sep` is written when it does not."""
        self._tokens.append((_BREAK, sep))

    def break_(self) -> None:
        """Force a line break."""
        self._tokens.append((_BREAK, None))

    def begin_group(self, indent: int = 0, open: str = "") -> None:
        self.text(open)
        self._tokens.append((_BEGIN, indent))

    def end_group(self, dedent: int = 0, close: str = "") -> None:
        self._tokens.append((_END, dedent))
        self.text(close)

    @contextlib.contextmanager
    def group(self, indent: int = 0, open: str = "", close: str = "") -> Iterator[None]:
        """Items inside break together: all on one line, or each on its own."""
        self.begin_group(indent, open)
        try:
            yield
        finally:
            self.end_group(indent, close)

    @contextlib.contextmanager
    def indent(self, indent: int) -> Iterator[None]:
        with self.group(indent):
            yield

    def _enumerate(self, seq) -> Iterator[tuple[int, Any]]:
        """Enumerate at most `max_seq_length` items, writing `...` if there are more."""
        for idx, x in enumerate(seq):
            if self.max_seq_length and idx >= self.max_seq_length:
                self.text(",")
                self.breakable()
                self.text("...")
                return
            yield idx, x

    def pretty(self, obj: Any) -> None:
        """Add the pretty form of `obj`."""
        oid = id(obj)
        cycle = oid in self._stack
        self._stack.append(oid)
        try:
            _dispatch(self, obj, cycle)
        finally:
            self._stack.pop()

    # ---- layout ---------------------------------------------------------------------------------

    def getvalue(self) -> str:
        toks = self._tokens
        n = len(toks)
        # Width of each group laid flat, and of the text that follows it up to the next break.
        flat = [0] * n
        open_at: list[int] = []
        for i, (kind, _val) in enumerate(toks):
            if kind == _BEGIN:
                open_at.append(i)
            elif kind == _END and open_at:
                b = open_at.pop()
                flat[b] = sum(len(t[1]) if t[0] == _TEXT else len(t[1] or "\n" * 999)
                              for t in toks[b:i] if t[0] in (_TEXT, _BREAK))
                trail, j = 0, i + 1
                while j < n and toks[j][0] != _BREAK:
                    if toks[j][0] == _TEXT:
                        trail += len(toks[j][1])
                    j += 1
                flat[b] += trail
        out: list[str] = []
        col = 0
        indent = 0
        stack: list[tuple[bool, int]] = [(True, 0)]  # (broken, indent before the group)
        for i, (kind, val) in enumerate(toks):
            if kind == _TEXT:
                out.append(val)
                nl = val.rfind("\n")
                col = len(val) - nl - 1 if nl >= 0 else col + len(val)
            elif kind == _BREAK:
                if val is None or stack[-1][0]:
                    out.append("\n" + " " * indent)
                    col = indent
                else:
                    out.append(val)
                    col += len(val)
            elif kind == _BEGIN:
                parent_broken = stack[-1][0]
                broken = parent_broken and col + flat[i] > self.max_width
                stack.append((broken, indent))
                indent += val
            elif kind == _END and len(stack) > 1:
                _, indent = stack.pop()
        return "".join(out)


# ---- printers for built-in types ----------------------------------------------------------------

def _seq(open: str, close: str, empty: str | None = None):
    def printer(obj, p: PrettyPrinter, cycle: bool) -> None:
        if cycle:
            p.text(open + "..." + close)
            return
        if empty is not None and not obj:
            p.text(empty)
            return
        items = obj
        if isinstance(obj, (set, frozenset)):
            try:
                items = sorted(obj)
            except Exception:
                items = list(obj)
        with p.group(len(open), open, close):
            for idx, x in p._enumerate(items):
                if idx:
                    p.text(",")
                    p.breakable()
                p.pretty(x)
            if isinstance(obj, tuple) and len(obj) == 1:
                p.text(",")
    return printer


def _dict(obj, p: PrettyPrinter, cycle: bool) -> None:
    if cycle:
        p.text("{...}")
        return
    with p.group(1, "{", "}"):
        for idx, key in p._enumerate(obj.keys()):
            if idx:
                p.text(",")
                p.breakable()
            p.pretty(key)
            p.text(": ")
            p.pretty(obj[key])


def _wrapped(name: str, inner):
    """`Counter({...})`, `deque([...])`: the type name around a plain container."""
    def printer(obj, p: PrettyPrinter, cycle: bool) -> None:
        if cycle:
            p.text(name + "(...)")
            return
        with p.group(len(name) + 1, name + "(", ")"):
            inner(obj, p)
    return printer


def _default_dict(obj, p, cycle):
    name = type(obj).__name__
    if cycle:
        p.text(name + "(...)")
        return
    with p.group(len(name) + 1, name + "(", ")"):
        p.pretty(obj.default_factory)
        p.text(",")
        p.breakable()
        _dict(obj, p, False)


def _type(obj, p, cycle) -> None:
    mod = getattr(obj, "__module__", None)
    name = getattr(obj, "__qualname__", None) or obj.__name__
    p.text(name if mod in (None, "builtins") else f"{mod}.{name}")


def _function(obj, p, cycle) -> None:
    """`<function __main__.f(x, y=1)>`: where it lives and how to call it."""
    mod = obj.__module__
    name = obj.__qualname__ if mod in (None, "builtins") else f"{mod}.{obj.__qualname__}"
    try:
        import inspect
        sig = str(inspect.signature(obj))
    except (TypeError, ValueError):
        sig = ""
    p.text(f"<function {name}{sig}>")


def _float(obj, p, cycle) -> None:
    if p.float_format:
        try:
            p.text(p.float_format % obj)
            return
        except (TypeError, ValueError):
            pass
    p.text(repr(obj))


def _repr_text(obj, p, cycle) -> None:
    """Fall back to repr(), keeping multi-line reprs readable under indentation."""
    text = repr(obj)
    lines = text.splitlines()
    with p.group():
        for idx, line in enumerate(lines):
            if idx:
                p.break_()
            p.text(line)


def _counter(obj, p):
    if obj:
        _dict(dict(obj.most_common()), p, False)


def _ordered(obj, p):
    if obj:
        _seq("[", "]")(list(obj.items()), p, False)


def _deque(obj, p):
    _seq("[", "]")(list(obj), p, False)
    if obj.maxlen is not None:
        p.text(f", maxlen={obj.maxlen}")


_re_pattern_type = type(re.compile(""))

_BY_TYPE: dict[type, Any] = {
    list: _seq("[", "]"), tuple: _seq("(", ")"), set: _seq("{", "}", "set()"),
    frozenset: _seq("frozenset({", "})", "frozenset()"), dict: _dict,
    collections.defaultdict: _default_dict,
    collections.Counter: _wrapped("Counter", _counter),
    collections.OrderedDict: _wrapped("OrderedDict", _ordered),
    collections.deque: _wrapped("deque", _deque),
    float: _float, type: _type, types.FunctionType: _function,
}

#: Extra printers added at run time (`for_type`), by class or by "module.Name".
_EXTRA: dict[Any, Any] = {}


def for_type(typ: Any, func) -> None:
    """Print objects of `typ` (a class or a "module.Name" string) with `func(obj, p, cycle)`."""
    _EXTRA[typ] = func


def _dispatch(p: PrettyPrinter, obj: Any, cycle: bool) -> None:
    cls = type(obj)
    try:
        mro = cls.__mro__
    except AttributeError:
        mro = (cls,)
    for base in mro:
        printer = _EXTRA.get(base) or _EXTRA.get(f"{base.__module__}.{base.__qualname__}")
        if printer is not None:
            printer(obj, p, cycle)
            return
        printer = _BY_TYPE.get(base)
        if printer is not None and (base is cls or cls.__repr__ is base.__repr__):
            printer(obj, p, cycle)
            return
        if "_repr_pretty_" in base.__dict__ and not isinstance(obj, type):
            obj._repr_pretty_(p, cycle)
            return
        if base is not object and "__repr__" in base.__dict__:
            break
    if isinstance(obj, type):
        _type(obj, p, cycle)
    else:
        _repr_text(obj, p, cycle)


def pretty(obj: Any, max_width: int = MAX_WIDTH, max_seq_length: int = MAX_SEQ_LENGTH,
           float_format: str | None = None) -> str:
    """The pretty form of `obj` as a string."""
    p = PrettyPrinter(max_width, max_seq_length, float_format)
    p.pretty(obj)
    return p.getvalue()


def pprint(obj: Any, max_width: int = MAX_WIDTH) -> None:
    """Print the pretty form of `obj`."""
    print(pretty(obj, max_width))
