"""Interrupts that CPython would sit on: SIGINT redelivered to the main thread until its handler ran.

CPython's C-level handler only notes a signal; the Python handler (the kernel's, which raises
KeyboardInterrupt in the cell) runs when the main thread next executes bytecode. Two cases leave it
waiting for as long as the cell blocks, so the interrupt is lost to a `time.sleep(100)` or a socket
read: the signal landed on another thread (one of the user's, say), or on the main thread in the
instant between its last check and the blocking system call. Both happen to a kernel interrupted
right as a cell starts to wait, most often on a loaded machine.

The C-level handler also writes the signal's number to a wakeup socket (`signal.set_wakeup_fd`); the
kernel's handler drains that socket when it runs. A watcher thread that still finds a SIGINT byte
there after a short grace re-sends SIGINT to the main thread: its blocking call fails with EINTR and
the pending handler runs. A resend while the handler is pending merges with it (CPython runs a
handler once per check however many signals came), so no interrupt is ever doubled.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import threading
from collections.abc import Callable

from jup.core.kernelbase.io_thread import block_signals_here

#: seconds to wait for the handler before each resend; doubling, so a main thread that is merely
#: slow to be scheduled (a loaded machine) is not pestered, and a blocked one is woken within ~0.1 s
FIRST_GRACE = 0.05
MAX_GRACE = 1.0
#: resends for one interrupt before the watcher gives up (the cell is in C code that never checks
#: for signals; the interrupt_reply's InterruptFailed tells the user to restart)
MAX_RESENDS = 8

_SIGINT = int(signal.SIGINT)


class InterruptWatch:
    """Resends SIGINT to the main thread while a SIGINT's Python handler has not run.

    `start` and `stop` run on the main thread. The kernel's SIGINT handler calls `handled()` first
    thing; `is_ours()` says whether the handler installed now is one that does (a handler a cell
    installed itself is left alone: the watcher never resends to it)."""

    def __init__(self, is_ours: Callable[[], bool]):
        self._is_ours = is_ours
        self._main = threading.main_thread().ident
        self._drained = threading.Event()
        self._stopping = False
        self._r: socket.socket | None = None
        self._w: socket.socket | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> bool:
        """Install the wakeup socket and start the watcher; False where that is not possible (not
        the main thread, no pthread_kill), and interrupts work as before."""
        if not hasattr(signal, "pthread_kill") or threading.get_ident() != self._main:
            return False
        r, w = socket.socketpair()
        r.setblocking(False)
        w.setblocking(False)
        try:
            signal.set_wakeup_fd(w.fileno(), warn_on_full_buffer=False)
        except (ValueError, OSError):
            r.close()
            w.close()
            return False
        self._r, self._w = r, w
        os.register_at_fork(after_in_child=self._forget_in_child)
        self._thread = threading.Thread(target=self._run, name="jup-kernel-sigint", daemon=True)
        self._thread.start()
        return True

    def _forget_in_child(self) -> None:
        """A forked child (multiprocessing) is no kernel: a SIGINT it gets must not write to the
        kernel's socket, where the watcher would take it for the kernel's own and resend it."""
        r, w = self._r, self._w
        if w is None:
            return
        self._r = self._w = None
        try:
            current = signal.set_wakeup_fd(-1)
            if current != w.fileno():
                signal.set_wakeup_fd(current)
        except (ValueError, OSError):
            pass
        r.close()
        w.close()

    def stop(self) -> None:
        """Uninstall the wakeup socket (if still ours) and end the watcher."""
        if self._w is None or self._thread is None:
            return
        self._stopping = True
        try:
            current = signal.set_wakeup_fd(-1)
            if current != self._w.fileno():  # a cell installed its own since: it stays
                signal.set_wakeup_fd(current)
        except (ValueError, OSError):
            pass
        try:
            self._w.send(b"\0")  # wakes the watcher's select
        except OSError:
            pass
        if self._thread is not None:
            self._thread.join(1.0)
        if self._thread is None or not self._thread.is_alive():
            self._r.close()
            self._w.close()

    def handled(self) -> None:
        """The SIGINT handler ran (main thread): drain the wakeup socket; nothing to resend."""
        r = self._r
        if r is None:
            return
        try:
            while r.recv(4096):
                pass
        except OSError:  # BlockingIOError once empty; closed at shutdown
            pass
        self._drained.set()

    # ---- the watcher thread -----------------------------------------------------------------

    def _run(self) -> None:
        block_signals_here()
        r = self._r
        resends = 0
        grace = FIRST_GRACE
        while not self._stopping:
            self._drained.clear()  # before looking, so a drain after the look is seen
            try:
                select.select([r], [], [])
                data = r.recv(4096, socket.MSG_PEEK)
            except BlockingIOError:  # drained between the select and the peek
                continue
            except (OSError, ValueError):  # closed: the kernel is shutting down
                return
            if self._stopping:
                return
            if _SIGINT not in data or not self._is_ours():
                # other signals' bytes, or a handler that does not drain: nothing to resend; take
                # only what was peeked (a newer SIGINT byte stays for the next round)
                self._consume(len(data))
                resends, grace = 0, FIRST_GRACE
                continue
            if self._drained.wait(grace):  # the handler ran: the interrupt reached the cell
                resends, grace = 0, FIRST_GRACE
                continue
            if resends >= MAX_RESENDS:  # the main thread does not check for signals: give up
                self._consume(len(data))
                resends, grace = 0, FIRST_GRACE
                continue
            resends += 1
            grace = min(grace * 2, MAX_GRACE)
            try:
                signal.pthread_kill(self._main, signal.SIGINT)
            except (OSError, ValueError):  # the main thread is gone
                return

    def _consume(self, n: int) -> None:
        try:
            self._r.recv(n)
        except OSError:
            pass
