"""The one thread that owns a kernel's zmq sockets: it receives, dispatches, sends and runs timers.

Other threads never touch a socket: they hand frames (or a callable) to `send`/`call_soon`, which
append to a deque and wake this thread through a pipe. Blocking zmq with a poller keeps start-up
cheap (no asyncio) and the hot path short.
"""

from __future__ import annotations

import heapq
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable

import zmq

_log_fd: int | None = None
_logger = None


def log_to_fd(fd: int) -> None:
    """Send kernel log lines to `fd` (a duplicate of the real stderr, taken before fd capture)."""
    global _log_fd
    _log_fd = fd


def kernel_log():
    """The kernel's logger; `logging` (and `re`) are imported on first use, not at start-up."""
    global _logger
    if _logger is None:
        import logging
        top = logging.getLogger("jup")
        if _log_fd is not None and not top.handlers:
            handler = logging.StreamHandler(os.fdopen(_log_fd, "w", buffering=1, encoding="utf-8",
                                                      errors="replace"))
            handler.setFormatter(logging.Formatter("[jup kernel %(levelname)s] %(message)s"))
            top.addHandler(handler)
            top.setLevel(logging.INFO)
            top.propagate = False
        _logger = logging.getLogger("jup.kernel")
    return _logger

SHELL, CONTROL, STDIN, IOPUB = 0, 1, 2, 3
CHANNEL_NAMES = ("shell", "control", "stdin", "iopub")
_SOCKET_TYPES = (zmq.ROUTER, zmq.ROUTER, zmq.ROUTER, zmq.XPUB)
_ZERO_COPY_BYTES = 1 << 16  # frames above this are handed to zmq without a copy
_RECV_BATCH = 64  # messages read from one socket before looking at the others again
# iopub messages published before the first subscriber arrived are kept for it, at most this many
# and this long after start: a client's SUB socket often connects tens of ms after its shell socket
# (ZeroMQ's reconnect interval), and the status and output of a first cell sent at once were lost
IOPUB_HOLD_MESSAGES = 1000
IOPUB_HOLD_SECONDS = 2.0

# pyzmq's send_multipart/recv_multipart add a Python layer per frame (flag enums, options); the
# I/O thread moves ~30 frames per execute, so it calls the compiled socket methods with int flags
_base_send = zmq.Socket.__mro__[1].send
_base_recv = zmq.Socket.__mro__[1].recv
_NOBLOCK = int(zmq.NOBLOCK)
_MORE_NOBLOCK = int(zmq.SNDMORE) | _NOBLOCK


def send_frames(sock: zmq.Socket, frames: list) -> None:
    """send_multipart without blocking; frames above 64 KiB go without a copy."""
    last = len(frames) - 1
    for i, f in enumerate(frames):
        _base_send(sock, f, _MORE_NOBLOCK if i < last else _NOBLOCK, len(f) <= _ZERO_COPY_BYTES)


def recv_frames(sock: zmq.Socket) -> list | None:
    """recv_multipart(NOBLOCK, copy=False); None when nothing is waiting."""
    try:
        f = _base_recv(sock, _NOBLOCK, False)
    except zmq.Again:
        return None
    frames = [f]
    while f.more:
        f = _base_recv(sock, _NOBLOCK, False)
        frames.append(f)
    return frames


def block_signals_here() -> None:
    """Keep SIGINT/SIGTERM away from a helper thread, so the kernel's main thread receives them."""
    try:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    except (AttributeError, ValueError, OSError):  # not on this platform
        pass


def bind(sock: zmq.Socket, url: str) -> str:
    """Bind `url`; a tcp port 0 picks a free port. Returns the bound url."""
    if url.startswith("tcp://") and url.rsplit(":", 1)[1] == "0":
        port = sock.bind_to_random_port(url.rsplit(":", 1)[0])
        return f"{url.rsplit(':', 1)[0]}:{port}"
    sock.bind(url)
    return url


class IOThread:
    """Serves shell, control and stdin, publishes on iopub; `handler(channel, frames)` runs here."""

    def __init__(self, context: zmq.Context, urls: dict[str, str],
                 handler: Callable[[int, list], None], housekeeping: Callable[[], None] | None = None,
                 housekeeping_interval: float = 1.0):
        self.handler = handler
        self.housekeeping = housekeeping
        self.housekeeping_interval = housekeeping_interval
        self.sockets: list[zmq.Socket] = []
        self.urls: dict[str, str] = {}
        for name, kind in zip(CHANNEL_NAMES, _SOCKET_TYPES, strict=True):
            s = context.socket(kind)
            s.setsockopt(zmq.LINGER, 1000)
            if kind == zmq.ROUTER:
                s.setsockopt(zmq.ROUTER_HANDOVER, 1)  # a client reconnecting with its identity takes over
                s.setsockopt(zmq.SNDHWM, 0)  # a ROUTER drops at its high-water mark: never drop a reply
            else:  # XPUB: every new subscriber is reported, so it can be welcomed (iopub_welcome)
                s.setsockopt(zmq.XPUB_VERBOSE, 1)
                # a PUB drops what a slow subscriber cannot take past its high-water mark (1000
                # messages by default), silently: a flood of output would lose messages. Unbounded,
                # they wait in the kernel's memory instead, which the per-cell output budget bounds
                # for text (displays are bounded by what the cell itself made).
                s.setsockopt(zmq.SNDHWM, 0)
            self.urls[name] = bind(s, urls[name])
            self.sockets.append(s)
        self._out: deque = deque()
        self._held: list | None = []  # iopub frames waiting for the first subscriber (None: live)
        self._hold_until = time.monotonic() + IOPUB_HOLD_SECONDS
        self._timers: list = []
        self._timer_seq = 0
        self._timer_lock = threading.Lock()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._wake_pending = False
        self._stopping = False
        self.thread = threading.Thread(target=self._run, name="jup-kernel-io", daemon=True)
        self.ident: int | None = None

    def start(self) -> None:
        self.thread.start()

    # ---- thread-safe API ----------------------------------------------------------------------

    def send(self, channel: int, frames: list) -> None:
        """Queue frames for a socket; safe from any thread, never blocks."""
        self._out.append((channel, frames))
        self._wake()

    def call_soon(self, fn: Callable[[], None]) -> None:
        """Run `fn` on the I/O thread soon (after what was queued before it)."""
        self._out.append(fn)
        self._wake()

    def call_later(self, delay: float, fn: Callable[[], None]) -> None:
        """Run `fn` on the I/O thread after `delay` seconds."""
        with self._timer_lock:
            self._timer_seq += 1
            heapq.heappush(self._timers, (time.monotonic() + delay, self._timer_seq, fn))
        self._wake()

    def stop(self, timeout: float = 2.0) -> None:
        """Send what is queued, close the sockets and end the thread (bounded by `timeout`)."""
        self._stopping = True
        self._wake()
        if self.thread.is_alive() and threading.get_ident() != self.ident:
            self.thread.join(timeout)
        elif not self.thread.is_alive():
            self._close_sockets()

    def first_subscriber(self, welcome: list) -> None:
        """On the I/O thread, at a subscription: send `welcome`, then what iopub held back for the
        first subscriber, before anything queued since."""
        held, self._held = self._held or [], None
        self._out.extendleft(reversed([(IOPUB, welcome)] + [(IOPUB, f) for f in held]))

    def _wake(self) -> None:
        if threading.get_ident() == self.ident or self._wake_pending:
            return
        self._wake_pending = True
        try:
            os.write(self._wake_w, b"x")
        except (BlockingIOError, OSError):
            pass  # the pipe is full or closed: the thread is awake or gone anyway
        except BaseException:  # e.g. KeyboardInterrupt: never leave the flag set without a byte sent
            self._wake_pending = False
            raise

    # ---- the loop -----------------------------------------------------------------------------

    def _run(self) -> None:
        self.ident = threading.get_ident()
        block_signals_here()
        poller = zmq.Poller()
        for s in self.sockets:
            poller.register(s, zmq.POLLIN)
        poller.register(self._wake_r, zmq.POLLIN)
        next_house = time.monotonic() + self.housekeeping_interval
        try:
            while True:
                self._drain()
                if self._stopping:
                    break
                now = time.monotonic()
                deadline = next_house
                if self._timers:
                    deadline = min(deadline, self._timers[0][0])
                timeout_ms = max(0, int((deadline - now) * 1000 + 0.999))
                events = poller.poll(timeout_ms)
                for sock, _ in events:
                    if sock == self._wake_r:
                        # empty the pipe first, then clear the flag: cleared first, a wake-up
                        # written between the two would be read here with the flag left set and
                        # no byte in the pipe, and no later send would wake this thread again
                        # (each reply then waited for the poll timeout, up to 1 s)
                        try:
                            while os.read(self._wake_r, 4096):
                                pass
                        except (BlockingIOError, OSError):
                            pass
                        self._wake_pending = False
                        continue
                    channel = self.sockets.index(sock)
                    for _ in range(_RECV_BATCH):
                        frames = recv_frames(sock)
                        if frames is None:
                            break
                        try:
                            self.handler(channel, frames)
                        except Exception:
                            kernel_log().exception("error while handling a %s message", CHANNEL_NAMES[channel])
                self._run_timers()
                if time.monotonic() >= next_house:
                    # advanced with or without a housekeeping function: a deadline left in the past
                    # made every poll return at once (an in-process kernel spun a core while idle)
                    next_house = time.monotonic() + self.housekeeping_interval
                    if self.housekeeping is not None:
                        try:
                            self.housekeeping()
                        except Exception:
                            kernel_log().exception("kernel housekeeping failed")
        finally:
            self._drain()
            self._close_sockets()

    def _run_timers(self) -> None:
        now = time.monotonic()
        while True:
            with self._timer_lock:
                if not self._timers or self._timers[0][0] > now:
                    return
                _, _, fn = heapq.heappop(self._timers)
            try:
                fn()
            except Exception:
                kernel_log().exception("a kernel timer failed")

    def _drain(self) -> None:
        out, socks = self._out, self.sockets
        while out:
            item = out.popleft()
            if callable(item):
                try:
                    item()
                except Exception:
                    kernel_log().exception("a kernel callback failed")
                continue
            channel, frames = item
            if channel == IOPUB and self._held is not None:  # no subscriber yet
                if len(self._held) < IOPUB_HOLD_MESSAGES and time.monotonic() < self._hold_until:
                    self._held.append(frames)
                    continue
                held, self._held = self._held, None  # too many or too late: stop holding
                for f in held:
                    try:
                        send_frames(socks[IOPUB], f)
                    except zmq.ZMQError:
                        pass
            try:
                send_frames(socks[channel], frames)
            except zmq.Again:
                kernel_log().warning("dropped an outgoing %s message: the peer is not reading",
                            CHANNEL_NAMES[channel])
            except zmq.ZMQError as e:
                kernel_log().warning("could not send on %s: %s", CHANNEL_NAMES[channel], e)

    def _close_sockets(self) -> None:
        for s in self.sockets:
            if not s.closed:
                s.close()
        for fd in (self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass
        self._wake_r = self._wake_w = -1


class Heartbeat:
    """Echoes heartbeat pings in C (zmq.proxy on one ROUTER socket), without the GIL or our loop."""

    def __init__(self, context: zmq.Context, url: str):
        self.socket = context.socket(zmq.ROUTER)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.url = bind(self.socket, url)
        self._ctl_url = f"inproc://jup-hb-ctl-{id(self)}"
        self._ctl_in = context.socket(zmq.PAIR)
        self._ctl_in.setsockopt(zmq.LINGER, 0)
        self._ctl_in.bind(self._ctl_url)
        self._ctl_out = context.socket(zmq.PAIR)
        self._ctl_out.setsockopt(zmq.LINGER, 0)
        self._ctl_out.connect(self._ctl_url)
        self.thread = threading.Thread(target=self._run, name="jup-kernel-hb", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        block_signals_here()
        try:
            zmq.proxy_steerable(self.socket, self.socket, None, self._ctl_in)
        except zmq.ZMQError:
            pass
        finally:
            self.socket.close()
            self._ctl_in.close()

    def stop(self, timeout: float = 1.0) -> bool:
        """Stop echoing; True when the thread ended (then its sockets are closed)."""
        try:
            self._ctl_out.send(b"TERMINATE")
        except zmq.ZMQError:
            pass
        self.thread.join(timeout)  # before closing: with LINGER 0, closing could discard TERMINATE
        self._ctl_out.close()
        return not self.thread.is_alive()
