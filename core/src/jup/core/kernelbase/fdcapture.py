"""Capture file descriptors 1 and 2 (C code, subprocesses) into the kernel's streams.

Each fd is pointed at a pipe; a reader thread decodes what arrives and writes it to the kernel's
stream, so it shows in the cell that is running. `sync()` makes sure everything written before it
was routed (used when a cell ends, before its reply).
"""

from __future__ import annotations

import codecs
import fcntl
import os
import select
import sys
import termios
import threading
from collections.abc import Callable

from jup.core.kernelbase.io_thread import block_signals_here

_SYNC = "\x00\x1bjup-fd-sync\x1b\x00"


_libc: list = []


def _libc_flush() -> None:
    """Flush C stdio buffers (printf) if ctypes is already loaded, without importing it otherwise."""
    ctypes = sys.modules.get("ctypes")
    if ctypes is None:
        return
    try:
        if not _libc:
            _libc.append(ctypes.CDLL(None).fflush)
        _libc[0](None)
    except Exception:
        pass


class FdCapture:
    """Redirect one fd into `write(text)`; `original` is a duplicate of where the fd pointed before."""

    def __init__(self, fd: int, write: Callable[[str], None]):
        self.fd = fd
        self.write = write
        self.original = os.dup(fd)
        r, w = os.pipe()
        os.dup2(w, fd)
        os.close(w)
        self._r = r
        self._busy = False
        self._synced = threading.Event()
        self._lock = threading.Lock()
        self.thread = threading.Thread(target=self._read, name=f"jup-fd{fd}-reader", daemon=True)
        self.thread.start()

    def _read(self) -> None:
        block_signals_here()
        decode = codecs.getincrementaldecoder("utf-8")("replace").decode
        carry = ""
        while True:
            try:  # wait first, then mark busy, then read: see pending() for why this order
                select.select([self._r], [], [])
                self._busy = True
                data = os.read(self._r, 65536)
            except (OSError, ValueError):
                break
            if not data:
                break
            text = carry + decode(data)
            carry = ""
            if _SYNC in text:
                text = text.replace(_SYNC, "")
                self._synced.set()
            else:
                for k in range(len(_SYNC) - 1, 0, -1):  # a marker split across two reads
                    if text.endswith(_SYNC[:k]):
                        text, carry = text[:-k], text[-k:]
                        break
            if text:
                try:
                    self.write(text)
                except Exception:
                    pass
            self._busy = False
        try:
            os.close(self._r)
        except OSError:
            pass

    def pending(self) -> bool:
        """True if bytes wait in the pipe or the reader is still routing some.

        The pipe is looked at before the flag: the reader sets the flag before it reads, so bytes
        that left the pipe before our look are either routed already or still flagged."""
        buf = bytearray(4)
        try:
            fcntl.ioctl(self._r, termios.FIONREAD, buf)
        except OSError:
            return False
        return int.from_bytes(buf, sys.byteorder) > 0 or self._busy

    def sync(self, timeout: float = 2.0) -> None:
        """Wait (bounded) until what was written to the fd so far has been routed."""
        _libc_flush()
        if not self.pending():
            return
        with self._lock:
            self._synced.clear()
            try:
                os.write(self.fd, _SYNC.encode())
            except OSError:
                return
            self._synced.wait(timeout)

    def readable_fd(self) -> int:
        return self._r

    def close(self) -> None:
        """Point the fd back where it was; the reader ends when the last writer closes the pipe."""
        _libc_flush()
        try:
            os.dup2(self.original, self.fd)
        except OSError:
            pass


def sync_all(captures: list[FdCapture], timeout: float = 2.0) -> None:
    """`sync()` each capture, looking at all their pipes with one system call: every call that
    releases the GIL lets the I/O thread in, and a cell's end costs one hand-off instead of two."""
    if not captures:
        return
    _libc_flush()
    try:
        ready = select.select([c.readable_fd() for c in captures], [], [], 0)[0]
    except (OSError, ValueError):
        return
    for c in captures:
        if c._busy or c.readable_fd() in ready:
            with c._lock:
                c._synced.clear()
                try:
                    os.write(c.fd, _SYNC.encode())
                except OSError:
                    continue
                c._synced.wait(timeout)
