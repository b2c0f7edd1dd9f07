"""%output: the full output of a cell whose per-cell output budget held part of it back.

The kernel keeps that output in a file on its own machine, so the magic reads it there and hands it
to the frontend's pager (a `page` payload), which is not subject to the budget.
"""

from __future__ import annotations

from typing import Any

from jup.core import UsageError
from jup.magics.args import magic_spec

#: at most this much text goes to the pager at once; the rest is named, with how to see it
PAGE_LIMIT = 8 << 20


def _read(path: str, first: int, last: int | None, limit: int) -> tuple[str, int, bool]:
    """Lines first..last (1-based, inclusive; last None = to the end) of a file, up to `limit`
    characters: (text, number of the last line read, whether more was left out). Reads line by
    line, so a file of gigabytes costs only what is shown."""
    out: list[str] = []
    size, n = 0, first - 1
    with open(path, encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            if n < first:
                continue
            if last is not None and n > last:
                return "".join(out), n - 1, False
            if out and size + len(line) > limit:  # (one line longer than the limit is shown whole)
                return "".join(out), n - 1, True
            out.append(line)
            size += len(line)
    return "".join(out), n, False


def _line_range(value: str) -> tuple[int, int | None]:
    start, sep, end = value.partition(":")
    try:
        first = int(start) if start else 1
        last = int(end) if end else None
    except ValueError:
        first = 0
    if not sep or first < 1 or (last is not None and last < first):
        raise UsageError(f"%output -l: expected START:END line numbers (1-based, either may be "
                         f"left out), got {value!r}; e.g. -l 1000:2000")
    return first, last


def output(line: str, *, shell: Any) -> None:
    """Show all of a cell's output that its output budget held back: `%output N` (cell N),
    `%output` alone (the latest such cell). Add `stdout` or `stderr` to see only that stream, and
    `-l START:END` for those lines only (1-based; `-l 5000:` from line 5000 on). More than 8 MiB
    at once is cut there, with the command that shows the next part."""
    words = line.split()
    lines: tuple[int, int | None] = (1, None)
    if "-l" in words:
        at = words.index("-l")
        if at + 1 >= len(words):
            raise UsageError("%output -l needs START:END, e.g. %output 12 -l 1000:2000")
        lines = _line_range(words[at + 1])
        del words[at:at + 2]
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
            text, last, more = _read(path, *lines, PAGE_LIMIT)
        except OSError as e:
            raise UsageError(f"%output: the full {name} of cell {n} is gone ({e.strerror}); it is "
                             "removed when the kernel exits") from None
        if more:
            text += (f"[jup] cut at line {last} ({PAGE_LIMIT >> 20} MiB shown); the next part: "
                     f"%output {n} {name} -l {last + 1}:   (the whole file: {path})\n")
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
