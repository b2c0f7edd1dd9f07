"""`is_complete_request`: is a cell ready to run, and if not, how far to indent the next line."""

from __future__ import annotations

import ast
import codeop
import warnings

from jup.python.transform import top_level_lines, transform_cell

_compiler = codeop.CommandCompiler()
_compiler.compiler.flags |= ast.PyCF_ALLOW_TOP_LEVEL_AWAIT


def _indent_after(code: str) -> str:
    lines = [ln for ln in code.split("\n") if ln.strip()]
    if not lines:
        return ""
    last = lines[-1]
    indent = len(last) - len(last.lstrip())
    text = top_level_lines(last)[0][1].rstrip()
    if text.endswith(":"):
        indent += 4
    elif text.split() and text.split()[0] in ("return", "pass", "break", "continue", "raise"):
        indent = max(indent - 4, 0)
    return " " * indent


def is_complete(code: str) -> dict:
    """The is_complete_reply content: status complete, incomplete (with indent) or invalid."""
    if code.lstrip().startswith("%%"):
        done = code.endswith("\n\n")
        return {"status": "complete"} if done else {"status": "incomplete", "indent": ""}
    if code.rstrip().endswith("\\"):
        return {"status": "incomplete", "indent": _indent_after(code)}
    try:
        source = transform_cell(code)
    except Exception:
        return {"status": "invalid"}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compiled = _compiler(source, "<cell>", "exec")
    except (SyntaxError, OverflowError, ValueError, MemoryError):
        return {"status": "invalid"}
    if compiled is None:
        return {"status": "incomplete", "indent": _indent_after(code)}
    last = code.split("\n")[-1]
    if last[:1] in (" ", "\t") and last.strip():  # still inside a block: wait for a blank line
        return {"status": "incomplete", "indent": _indent_after(code)}
    return {"status": "complete"}
