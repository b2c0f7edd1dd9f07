"""Tracebacks as notebook users read them: coloured, cells named `Cell In[N]`, the failing line
marked with an arrow, and four levels of detail (`%xmode`):

- Plain: the standard Python layout, coloured;
- Context (default): each frame with a few lines around the failing one;
- Verbose: Context plus the values of the local variables each frame uses;
- Minimal: only `ExceptionType: message`.

The shell's own frames are left out, so the user sees only their code and the libraries it called.
"""

from __future__ import annotations

import linecache
import re
import types
from typing import Any

MODES = ("Plain", "Context", "Verbose", "Minimal")
CONTEXT_LINES = 2

RED, GREEN, YELLOW, BLUE, CYAN, BOLD, RESET = ("\x1b[31m", "\x1b[32m", "\x1b[33m", "\x1b[34m",
                                               "\x1b[36m", "\x1b[1m", "\x1b[0m")
_CELL_FILE = re.compile(r"^<jup-input-(\d+)-[0-9a-f]+>$")
_RULE = "-" * 75
#: frames at the bottom of a traceback from these files are the kernel's, not the user's: the
#: signal handler of a KeyboardInterrupt, the input() that raised EOFError for a Ctrl-D answer
_KERNEL_FILES = ("/jup/core/kernelbase/", "/jup/python/kernel.py")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def strip_ansi(text: str) -> str:
    """The text without colour codes, for logs and tests."""
    return _ANSI.sub("", text)


def cell_filename(count: int | None, code: str) -> str:
    """The pseudo file name under which a cell's code is compiled (and found again for tracebacks)."""
    import zlib
    return f"<jup-input-{count if count is not None else 0}-{zlib.crc32(code.encode()):08x}>"


def display_filename(filename: str) -> str:
    m = _CELL_FILE.match(filename)
    return f"Cell In[{m.group(1)}]" if m else filename


def normalize_mode(mode: str) -> str:
    """The canonical spelling of an xmode, or ValueError listing the choices."""
    for m in MODES:
        if m.lower() == str(mode).strip().lower():
            return m
    raise ValueError(f"Unknown traceback mode {mode!r}; choose one of {', '.join(MODES)}.")


class TracebackFormatter:
    """Formats exceptions into the list of strings an `error` message carries."""

    def __init__(self, mode: str = "Context", color: bool = True,
                 hidden_files: tuple[str, ...] = ()):
        self.mode = normalize_mode(mode)
        self.color = color
        self.hidden_files = hidden_files

    def _c(self, code: str, text: str) -> str:
        return f"{code}{text}{RESET}" if self.color else text

    def _frames(self, tb: types.TracebackType | None) -> list[types.TracebackType]:
        frames = []
        while tb is not None:
            frames.append(tb)
            tb = tb.tb_next
        # Leave out the shell's own frames at the top: the user did not write them.
        while frames and frames[0].tb_frame.f_code.co_filename in self.hidden_files:
            frames.pop(0)
        # ...and the kernel's own frames at the bottom (signal handler, input()).
        while frames and any(k in frames[-1].tb_frame.f_code.co_filename.replace("\\", "/")
                             for k in _KERNEL_FILES):
            frames.pop()
        return frames

    def format(self, etype: type[BaseException], evalue: BaseException,
               tb: types.TracebackType | None) -> list[str]:
        """The traceback as a list of (coloured) strings, one per frame plus header and message."""
        chain = self._chain(evalue)
        out: list[str] = []
        for i, exc in enumerate(chain):
            out.extend(self._format_one(type(exc), exc, exc.__traceback__ if i < len(chain) - 1 else tb))
            if i < len(chain) - 1:
                nxt = chain[i + 1]
                how = ("The above exception was the direct cause of the following exception:"
                       if nxt.__cause__ is exc else
                       "During handling of the above exception, another exception occurred:")
                out.append("\n" + how + "\n")
        return out

    @staticmethod
    def _chain(evalue: BaseException) -> list[BaseException]:
        chain: list[BaseException] = [evalue]
        seen = {id(evalue)}
        cur = evalue
        for _ in range(50):
            nxt = cur.__cause__ or (None if cur.__suppress_context__ else cur.__context__)
            if nxt is None or id(nxt) in seen:
                break
            seen.add(id(nxt))
            chain.append(nxt)
            cur = nxt
        return list(reversed(chain))

    def _message(self, etype: type, evalue: BaseException) -> str:
        name = etype.__qualname__ if etype.__module__ in ("builtins", "__main__") else \
            f"{etype.__module__}.{etype.__qualname__}"
        text = _safe_str(evalue)
        notes = getattr(evalue, "__notes__", None)
        if isinstance(notes, list):
            text += "".join("\n" + _safe_str(n) for n in notes)
        return f"{self._c(RED + BOLD, name)}: {text}" if text else self._c(RED + BOLD, name)

    def _format_one(self, etype, evalue, tb) -> list[str]:
        if self.mode == "Minimal":
            return [self._message(etype, evalue)]
        out: list[str] = []
        frames = self._frames(tb)
        if self.mode != "Plain":
            out.append(self._c(RED, _RULE))
            out.append(f"{self._c(RED + BOLD, etype.__name__.ljust(42))}Traceback (most recent call last)")
        else:
            out.append("Traceback (most recent call last):")
        for f, repeats in _collapse(frames):
            out.append(self._format_frame(f))
            if repeats:
                out.append(f"    [... skipping similar frames: {f.tb_frame.f_code.co_name} at line "
                           f"{f.tb_lineno} ({repeats} times)]")
        if isinstance(evalue, SyntaxError):
            out.append(self.format_syntax_error(evalue, header=False)[0])
        else:
            out.append(self._message(etype, evalue))
        return out

    def _format_frame(self, tb: types.TracebackType) -> str:
        frame = tb.tb_frame
        code = frame.f_code
        lineno = tb.tb_lineno or frame.f_lineno or 0
        fname = code.co_filename
        shown = display_filename(fname)
        where = "" if shown.startswith("Cell In") and code.co_name == "<module>" else f", in {code.co_name}"
        if self.mode == "Plain":
            line = linecache.getline(fname, lineno, frame.f_globals).strip()
            return (f'  File {self._c(GREEN, shown)}, line {self._c(GREEN, str(lineno))}'
                    f'{", in " + self._c(CYAN, code.co_name) if where else ""}\n'
                    + (f"    {line}" if line else ""))
        head = (f"{self._c(GREEN, shown)}, line {self._c(GREEN, str(lineno))}"
                if shown.startswith("Cell In") else
                f"File {self._c(GREEN, shown)}:{self._c(GREEN, str(lineno))}")
        if where:
            head += f", in {self._c(CYAN, code.co_name)}({_arg_names(code)})"
        lines = [head]
        width = len(str(lineno + CONTEXT_LINES))
        for n in range(max(1, lineno - CONTEXT_LINES), lineno + CONTEXT_LINES + 1):
            src = linecache.getline(fname, n, frame.f_globals)
            if not src:
                if n > lineno:
                    break
                continue
            src = src.rstrip("\n")
            if n == lineno:
                arrow = "----> " + str(n).rjust(width)
                lines.append(f"{self._c(GREEN, arrow)} {src}")
            else:
                lines.append(f"{self._c(GREEN, str(n).rjust(width + 6))} {src}")
        if self.mode == "Verbose":
            lines.extend(self._locals(frame))
        return "\n".join(lines) + "\n"

    def _locals(self, frame: types.FrameType) -> list[str]:
        names = set(frame.f_code.co_names) | set(frame.f_code.co_varnames)
        out = []
        scope = frame.f_locals
        for name in sorted(names):
            if name in scope and not name.startswith("__"):
                value = scope[name]
                if isinstance(value, (types.ModuleType, types.FunctionType, type)):
                    continue
                out.append(f"        {self._c(CYAN, name)} = {_short_repr(value)}")
        return out

    def format_syntax_error(self, evalue: SyntaxError, header: bool = True) -> list[str]:
        """A SyntaxError pointing at the column where Python stopped understanding the code."""
        fname = evalue.filename or "<unknown>"
        shown = display_filename(fname)
        lineno = evalue.lineno or 1
        text = evalue.text
        if text is None:
            text = linecache.getline(fname, lineno)
        parts = [f"  {self._c(GREEN, shown)}, line {self._c(GREEN, str(lineno))}"]
        if text:
            stripped = text.rstrip("\n")
            indent = len(stripped) - len(stripped.lstrip())
            parts.append("    " + stripped.strip())
            if evalue.offset:
                start = max(evalue.offset - 1 - indent, 0)
                end = getattr(evalue, "end_offset", None)
                same_line = getattr(evalue, "end_lineno", lineno) == lineno
                width = max((end - evalue.offset) if end and same_line and end > evalue.offset else 1, 1)
                parts.append("    " + " " * start + self._c(RED + BOLD, "^" * width))
        msg = f"{self._c(RED + BOLD, type(evalue).__name__)}: {evalue.msg}"
        parts.append(msg)
        return ["\n".join(parts)]


def _collapse(frames: list[types.TracebackType]) -> list[tuple[types.TracebackType, int]]:
    """Runs of the same frame (deep recursion) become one frame and a count of the others."""
    out: list[tuple[types.TracebackType, int]] = []
    prev = None
    for f in frames:
        key = (f.tb_frame.f_code, f.tb_lineno)
        if key == prev:
            out[-1] = (out[-1][0], out[-1][1] + 1)
        else:
            out.append((f, 0))
        prev = key
    return out


def _safe_str(obj: Any) -> str:
    try:
        return str(obj)
    except Exception as e:
        return f"<exception str() failed: {type(e).__name__}>"


def _short_repr(value: Any, limit: int = 200) -> str:
    try:
        r = repr(value)
    except Exception as e:
        r = f"<repr failed: {type(e).__name__}>"
    return r if len(r) <= limit else r[: limit - 3] + "..."


def _arg_names(code: types.CodeType) -> str:
    """`a, b, *rest, **kw`: the frame's parameters, as IPython shows them after the function name."""
    if code.co_name.startswith("<"):  # a module, class body or comprehension: no parameters
        return ""
    import inspect
    try:
        info = inspect.getargs(code)
    except TypeError:
        return ""
    names = list(info.args)
    if info.varargs:
        names.append("*" + info.varargs)
    if info.varkw:
        names.append("**" + info.varkw)
    return ", ".join(names)
