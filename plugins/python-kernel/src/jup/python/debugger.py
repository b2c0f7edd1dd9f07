"""The debugger `%pdb` and `%debug` start: the standard pdb, with cells named `Cell In[N], line L`
as tracebacks name them, and without the shell's own frames at the top of the stack (the user did
not write them, and stepping into them only confuses)."""

from __future__ import annotations

import pdb
import types
from typing import Any

from jup.python.traceback import display_filename


class Debugger(pdb.Pdb):
    """pdb for cells. `nosigint` defaults to True: pdb's own Ctrl-C handler would otherwise outlive
    `continue` and swallow every later interrupt of the kernel."""

    def __init__(self, hidden_files: tuple[str, ...] = (), **kwargs: Any):
        kwargs.setdefault("nosigint", True)
        super().__init__(**kwargs)
        self.hidden_files = hidden_files

    def format_stack_entry(self, frame_lineno: tuple, lprefix: str = ": ") -> str:
        """pdb's `file(line)func()`, except that a cell reads `Cell In[N], line L, in func()`."""
        text = super().format_stack_entry(frame_lineno, lprefix)
        frame, lineno = frame_lineno
        filename = frame.f_code.co_filename
        shown = display_filename(filename)
        head = f"{filename}({lineno!r})"
        if shown != filename and text.startswith(head):
            text = f"{shown}, line {lineno}, in " + text[len(head):]
        return text

    def post_mortem(self, tb: types.TracebackType) -> None:
        """Inspect the frames of a finished exception, starting at the user's innermost frame."""
        self.reset()
        self.interaction(None, self.user_frames(tb))

    def user_frames(self, tb: types.TracebackType) -> types.TracebackType:
        """`tb` without the leading frames that belong to `hidden_files` (all of it if every frame
        does, so there is always something to look at)."""
        first = tb
        while first is not None and first.tb_frame.f_code.co_filename in self.hidden_files:
            first = first.tb_next
        return first if first is not None else tb
