"""Kernel-side stdout/stderr: text batched by time and size, routed to the cell that wrote it, and
kept within a per-cell output budget.

Routing: the parent message of the running cell lives in a context variable. asyncio tasks copy it
on creation; `threading.Thread.start` is wrapped so a thread started by a cell keeps that cell as
its parent, even after a later cell started. Writes never block user code: they append to a
buffer, and the I/O thread flushes it after `flush_interval`, or the writer flushes when the batch
grows past `max_batch` characters. While output floods (a timed flush found more than `FLOOD`
characters) the interval doubles, up to `MAX_INTERVAL`: fewer, larger messages, which a frontend
renders faster; the first output of a cell still comes within `flush_interval`.
"""

from __future__ import annotations

import contextvars
import io
import os
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

#: The message whose output the current thread or task is producing (None: the kernel's current cell).
current_parent: contextvars.ContextVar[dict | None] = contextvars.ContextVar("jup_parent", default=None)

_get_parent = current_parent.get
_thread_start_patched = False


def route_thread_output_to_starting_cell() -> None:
    """Make threads started inside a cell write under that cell (idempotent)."""
    global _thread_start_patched
    if _thread_start_patched:
        return
    _thread_start_patched = True
    original_start = threading.Thread.start

    def start(self: threading.Thread) -> None:
        parent = current_parent.get()
        if parent is not None:
            run = self.run

            def run_under_parent() -> None:
                current_parent.set(parent)
                run()

            self.run = run_under_parent  # type: ignore[method-assign]
        original_start(self)

    start.__doc__ = original_start.__doc__
    threading.Thread.start = start  # type: ignore[method-assign]


def _size(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


#: Most bytes one output_reply carries.
MAX_CHUNK = 1 << 20


def _whole_chars(data: bytes) -> int:
    """Length of `data` without a UTF-8 character cut off at its end."""
    for back in range(1, min(4, len(data)) + 1):
        b = data[-back]
        if b & 0xC0 == 0x80:  # a continuation byte: look further back for the lead byte
            continue
        need = 1 if b < 0x80 else 2 if b < 0xE0 else 3 if b < 0xF0 else 4
        return len(data) - back if need > back else len(data)
    return len(data)


class _CellOutput:
    """What one cell wrote to one stream so far, for the budget."""

    __slots__ = ("kept", "file", "path", "tail", "tail_size", "overflow")

    def __init__(self) -> None:
        self.kept: list[str] | None = []
        self.file: Any = None
        self.path = ""
        self.tail: deque[str] = deque()
        self.tail_size = 0
        self.overflow = 0


class OutputBudget:
    """Per-cell limit on the text sent to frontends; the rest goes to a file, its tail comes at the end.

    `limit` is in characters, stdout and stderr together (0 = unlimited); each stream that overflows
    gets its own file with its full output. Beyond `limit - tail` characters the frontend gets one
    notice line; when the cell ends it gets a marker saying how much was held back and where the
    full output is, then the last `tail` characters.
    """

    def __init__(self, limit: int, directory: Callable[[], str]):
        self.limit = max(0, int(limit))
        self.tail_limit = min(self.limit // 10, 64 * 1024)
        self.head_limit = self.limit - self.tail_limit
        self._directory = directory
        self._cells: dict[tuple[str, str], _CellOutput] = {}
        self._sent: dict[str, int] = {}  # msg_id -> characters sent for that cell, both streams
        self._lock = threading.Lock()
        self.files: list[str] = []
        #: msg_id -> {stream name: file} of every cell whose output was held back (for output_request)
        self.held: dict[str, dict[str, str]] = {}
        #: execution_count -> msg_id of the cells in `held` (for `%output N`)
        self.cell_of: dict[int, str] = {}
        self._writing: set[tuple[str, str]] = set()  # files of cells still running (not eof yet)

    def admit(self, key: tuple[str, str], text: str) -> str:
        """Return the part of `text` to send now; keep the rest in the cell's file and tail."""
        if not self.limit:
            return text
        with self._lock:
            st = self._cells.get(key)
            if st is None:
                st = self._cells[key] = _CellOutput()
            if st.file is not None:
                self._hold(st, text)
                return ""
            sent = self._sent.get(key[0], 0)
            room = max(0, self.head_limit - sent)
            if len(text) <= room:
                self._sent[key[0]] = sent + len(text)
                if st.kept is not None:
                    st.kept.append(text)
                return text
            head, rest = text[:room], text[room:]
            self._sent[key[0]] = sent + len(head)
            self._open_file(key, st)
            st.file.write("".join(st.kept or ()))
            st.file.write(head)
            st.kept = None
            self._hold(st, rest)
            return (head + ("" if head.endswith("\n") or not head else "\n")
                    + f"[jup] this cell's output passed its {_size(self.limit)} budget; the rest of its "
                    f"{key[1]} goes to {st.path} and its last lines will follow when the cell ends.\n")

    def _open_file(self, key: tuple[str, str], st: _CellOutput) -> None:
        d = self._directory()
        os.makedirs(d, mode=0o700, exist_ok=True)
        st.path = os.path.join(d, f"cell-{key[0][:12] or 'none'}-{key[1]}.txt")
        fd = os.open(st.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        st.file = open(fd, "w", encoding="utf-8", errors="replace")
        self.files.append(st.path)
        self.held.setdefault(key[0], {})[key[1]] = st.path
        self._writing.add(key)

    def _hold(self, st: _CellOutput, text: str) -> None:
        st.file.write(text)
        st.overflow += len(text)
        st.tail.append(text)
        st.tail_size += len(text)
        while st.tail and st.tail_size - len(st.tail[0]) >= self.tail_limit:
            st.tail_size -= len(st.tail.popleft())

    def finish(self, key: tuple[str, str]) -> str:
        """End a cell's accounting for one stream; returns the marker and tail to send ('' if none)."""
        with self._lock:
            self._sent.pop(key[0], None)
            st = self._cells.pop(key, None)
        if st is None or st.file is None:
            return ""
        st.file.close()
        self._writing.discard(key)
        tail = "".join(st.tail)[-self.tail_limit:] if self.tail_limit else ""
        nl = tail.find("\n")
        if 0 <= nl < len(tail) - 1 and len(tail) >= self.tail_limit:
            tail = tail[nl + 1:]  # start the tail on a whole line
        held = st.overflow - len(tail)
        return (f"[jup] {_size(held)} of {key[1]} held back (budget {_size(self.limit)} per cell); "
                f"full output: {st.path} (output id {key[0]})\n" + tail)

    def label(self, msg_id: str, execution_count: int) -> None:
        """Remember which execution count a held-back cell had, so `%output N` can find it."""
        if msg_id in self.held:
            self.cell_of[execution_count] = msg_id

    def read(self, msg_id: str, name: str | None = None, offset: int = 0,
             size: int = MAX_CHUNK) -> dict:
        """One chunk of a held-back cell's full output, as the content of an output_reply.

        Offsets are bytes of the UTF-8 file; a chunk ends on a character boundary, so `next_offset`
        is where the next chunk starts. Raises LookupError (a sentence for the user) when there is
        nothing to read.
        """
        streams = self.held.get(msg_id)
        if not streams:
            raise LookupError(f"no output was held back for the cell with msg_id {msg_id!r}: either its "
                              "output fit the budget or this kernel did not run it")
        if name is None:
            name = "stdout" if "stdout" in streams else next(iter(streams))
        path = streams.get(name)
        if path is None:
            raise LookupError(f"no {name} was held back for cell {msg_id!r} (held back: "
                              f"{', '.join(sorted(streams))})")
        offset, size = max(0, int(offset)), max(1, min(int(size), MAX_CHUNK))
        try:
            with open(path, "rb") as f:
                total = os.fstat(f.fileno()).st_size
                f.seek(offset)
                data = f.read(size)
        except OSError as e:
            raise LookupError(f"the full {name} of cell {msg_id!r} is gone ({path}: {e.strerror}); "
                              "it is removed when the kernel exits") from None
        end = offset + len(data)
        if end < total:
            data = data[:_whole_chars(data)]
            end = offset + len(data)
        sizes = {}
        for n, p in streams.items():
            try:
                sizes[n] = os.path.getsize(p)
            except OSError:
                pass
        return {"status": "ok", "name": name, "text": data.decode("utf-8", "replace"), "offset": offset,
                "next_offset": end, "total": total,
                "eof": end >= total and (msg_id, name) not in self._writing, "held": sizes}


class OutStream(io.TextIOBase):
    """A text stream whose writes become `stream` messages on iopub under the writer's cell."""

    FLOOD = 32 * 1024  #: characters in one timed flush that make the next interval longer
    MAX_INTERVAL = 0.2  #: seconds; ipykernel flushes every 0.2 s

    def __init__(self, name: str, send: Callable[[str, str, dict | None], None],
                 schedule: Callable[[float, Callable[[], None]], None],
                 default_parent: Callable[[], dict | None], budget: OutputBudget,
                 flush_interval: float = 0.05, max_batch: int = 1 << 20, fileno: int | None = None,
                 host: Callable[[], Any] | None = None):
        super().__init__()
        self.name = name
        self._send = send
        self._schedule = schedule
        self._default_parent = default_parent
        self._budget = budget
        self.flush_interval = flush_interval
        self._interval = flush_interval  # grows while output floods, back to flush_interval after
        self.max_batch = max_batch
        self._fileno = fileno
        self._host = host  # in-process: where writes of the host's own threads go (None: to the cell)
        self._lock = threading.Lock()
        self._segments: list[tuple[dict, list[str]]] = []  # (parent, texts) in order of writing
        self._last_parent: dict | None = None  # the last segment's parent and texts, for appending
        self._last_texts: list[str] | None = None
        self._size = 0
        self._scheduled = False

    # file-like surface user code expects
    encoding = "utf-8"
    errors = "replace"

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        if self._fileno is None:
            raise io.UnsupportedOperation("this kernel stream has no file descriptor")
        return self._fileno

    def write(self, s: str, parent: dict | None = None) -> int:
        # the hot path of every print(): one context lookup, one lock, one append
        if parent is None:
            parent = _get_parent()
            if parent is None:
                host = self._host() if self._host is not None else None
                if host is not None:
                    return host.write(s)
                parent = self._default_parent() or {}
        if s.__class__ is not str:
            if not isinstance(s, str):
                raise TypeError(f"write() argument must be str, not {type(s).__name__}")
        n = len(s)
        with self._lock:
            if parent is self._last_parent:
                self._last_texts.append(s)
            else:
                self._last_parent, self._last_texts = parent, [s]
                self._segments.append((parent, self._last_texts))
            self._size += n
            if self._size >= self.max_batch:
                self._flush_locked()
            elif not self._scheduled:
                self._scheduled = True
                self._schedule(self._interval, self._timed_flush)
        return n

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def _timed_flush(self) -> None:
        with self._lock:
            self._scheduled = False
            if self._size >= self.FLOOD:
                self._interval = min(self._interval * 2, max(self.MAX_INTERVAL, self.flush_interval))
            else:
                self._interval = self.flush_interval
            self._flush_locked()

    def flush(self) -> None:
        with self._lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        segs, self._segments, self._size = self._segments, [], 0
        self._last_parent = self._last_texts = None
        for parent, texts in segs:
            hdr = parent.get("header") or {}
            text = self._budget.admit((hdr.get("msg_id", ""), self.name), "".join(texts))
            if text:
                self._send(self.name, text, parent)

    def finish_cell(self, parent: dict) -> None:
        """Flush, then send the budget marker and tail if this cell overflowed."""
        with self._lock:
            self._flush_locked()
            self._interval = self.flush_interval
            msg_id = (parent.get("header") or {}).get("msg_id", "")
            rest = self._budget.finish((msg_id, self.name))
            if rest:
                self._send(self.name, rest, parent)
