"""%output: the full output of a cell whose per-cell output budget held part of it back.

The kernel keeps that output in a file on its own machine, so the magic reads it there and hands it
to the frontend's pager (a `page` payload), which is not subject to the budget.
"""

from __future__ import annotations

from typing import Any

from jup.core import UsageError
from jup.magics.args import magic_spec


def output(line: str, *, shell: Any) -> None:
    """Show all of a cell's output that its output budget held back: `%output N` (cell N),
    `%output` alone (the latest such cell). Add `stdout` or `stderr` to see only that stream."""
    words = line.split()
    streams = [w for w in words if w in ("stdout", "stderr")]
    rest = [w for w in words if w not in streams]
    if len(rest) > 1 or (rest and not rest[0].isdigit()):
        raise UsageError(f"%output: expected a cell number, got {' '.join(rest)!r}; e.g. %output 12")
    kernel = getattr(shell, "kernel", None)
    if not hasattr(kernel, "held_output"):
        raise UsageError("%output: this kernel does not keep held-back output")
    try:
        n, _msg_id, files = kernel.held_output(int(rest[0]) if rest else None)
    except LookupError as e:
        raise UsageError(f"%output: {e}") from None
    parts = []
    for name in streams or ("stdout", "stderr"):
        path = files.get(name)
        if path is None:
            continue
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
        except OSError as e:
            raise UsageError(f"%output: the full {name} of cell {n} is gone ({e.strerror}); it is "
                             "removed when the kernel exits") from None
        parts.append((name, text))
    if not parts:
        raise UsageError(f"%output: no {' or '.join(streams)} of cell {n} was held back")
    if len(parts) == 1:
        text = parts[0][1]
    else:
        text = "".join(f"----- {name} of cell {n} -----\n{t}" for name, t in parts)
    page = getattr(shell, "page", None)
    if page is not None:
        page({"text/plain": text})
    else:
        print(text, end="")


MAGICS = [magic_spec(output)]
