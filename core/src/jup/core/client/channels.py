"""One reader per socket that hands each incoming message to whoever waits for it.

Replies go to the coroutine that sent the request (keyed by the parent's msg_id); iopub messages go
to the subscriber of their parent (so `execute_interactive` sees only its own cell's output); the
rest waits in a bounded queue for `get_*_msg`. Concurrent requests on one client never steal each
other's replies, which a plain "read the next message" client cannot promise.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Callable
from typing import Any

import zmq

from jup.core.errors import KernelTimeout
from jup.core.protocol.session import Session

log = logging.getLogger("jup.client")

#: messages kept for get_*_msg when nobody reads them; older ones are dropped (zmq would drop too)
QUEUE_LIMIT = 10_000


class Channel:
    """A socket plus its dispatch tables; all methods run on the client's event loop."""

    def __init__(self, name: str, socket: Any, session: Session,
                 on_message: Callable[[dict], None] | None = None):
        self.name = name
        self.socket = socket
        self.session = session
        self.on_message = on_message  # seen first, for every message (cell tracking)
        self.waiters: dict[str, asyncio.Future] = {}
        self.subscribers: dict[str, asyncio.Queue] = {}
        self.queue: collections.deque[dict] = collections.deque()
        self._arrived: asyncio.Event | None = None
        #: set when the kernel's XPUB iopub welcomed this subscriber (JEP 65): iopub is live
        self.welcomed: asyncio.Event | None = None
        self._reader: asyncio.Task | None = None
        self._dropped = 0

    # -- the reader --------------------------------------------------------------------------

    def ensure_reader(self) -> None:
        """Start the reader on the running loop (lazily, so a client can be built anywhere)."""
        if self._reader is None or self._reader.done():
            if self._arrived is None:
                self._arrived = asyncio.Event()
                self.welcomed = asyncio.Event()
            self._reader = asyncio.get_running_loop().create_task(self._read(), name=f"jup-{self.name}")

    async def _read(self) -> None:
        recv = self.socket.recv_multipart
        feed = self.session.feed
        while True:
            try:
                frames = await recv(copy=False)
            except (zmq.ZMQError, asyncio.CancelledError):
                return
            got = feed(frames)
            if got is not None:
                self.dispatch(got[1])

    def dispatch(self, msg: dict) -> None:
        """Route one good message: reply waiter, then parent subscriber, then the open queue."""
        if self.on_message is not None:
            self.on_message(msg)
        if msg["msg_type"] == "iopub_welcome":  # protocol plumbing, not output: consumed here
            assert self.welcomed is not None
            self.welcomed.set()
            return
        parent = msg["parent_header"].get("msg_id") if msg["parent_header"] else None
        if parent is not None:
            fut = self.waiters.pop(parent, None)
            if fut is not None:
                if not fut.done():
                    fut.set_result(msg)
                return
            sub = self.subscribers.get(parent)
            if sub is not None:
                sub.put_nowait(msg)
                return
        if len(self.queue) >= QUEUE_LIMIT:
            self.queue.popleft()
            self._dropped += 1
            if self._dropped == 1:
                log.warning("%s: more than %d unread messages; dropping the oldest. Read them with "
                            "get_%s_msg() or use execute_interactive().", self.name, QUEUE_LIMIT, self.name)
        self.queue.append(msg)
        assert self._arrived is not None
        self._arrived.set()

    # -- what callers use --------------------------------------------------------------------

    def expect_reply(self, msg_id: str) -> asyncio.Future:
        """A future that receives the reply to `msg_id` (register before sending)."""
        self.ensure_reader()
        fut = asyncio.get_running_loop().create_future()
        self.waiters[msg_id] = fut
        return fut

    def subscribe(self, msg_id: str) -> asyncio.Queue:
        """A queue of every message whose parent is `msg_id` (register before sending)."""
        self.ensure_reader()
        q: asyncio.Queue = asyncio.Queue()
        self.subscribers[msg_id] = q
        return q

    def unsubscribe(self, msg_id: str) -> None:
        """Stop routing `msg_id`'s messages; later ones go to the open queue."""
        self.subscribers.pop(msg_id, None)

    async def get(self, timeout: float | None) -> dict:
        """The next message nobody else claimed; KernelTimeout after `timeout` seconds."""
        self.ensure_reader()
        assert self._arrived is not None
        if not self.queue:
            try:
                async with asyncio.timeout(timeout):
                    while not self.queue:  # bounded by the timeout
                        self._arrived.clear()
                        await self._arrived.wait()
            except TimeoutError:
                raise KernelTimeout(f"No message on the {self.name} channel within {timeout} s; "
                                    "the kernel may be busy or dead.") from None
        msg = self.queue.popleft()
        if not self.queue:
            self._arrived.clear()
        return msg

    async def wait_reply(self, fut: asyncio.Future, msg_id: str, timeout: float | None,
                         what: str) -> dict:
        """Await a reply future, forgetting it on timeout."""
        try:
            async with asyncio.timeout(timeout):
                return await fut
        except TimeoutError:
            self.waiters.pop(msg_id, None)
            raise KernelTimeout(f"The kernel did not answer {what} within {timeout} s; "
                                "it may be busy (interrupt it) or dead (restart it).") from None

    def close(self) -> None:
        """Stop the reader and close the socket; pending waiters get cancelled."""
        if self._reader is not None and not self._reader.done():
            self._reader.cancel()
        for fut in self.waiters.values():
            if not fut.done():
                fut.cancel()
        self.waiters.clear()
        # a request sent just before closing still goes out (zmq connects in the background)
        self.socket.close(linger=0 if self.name == "iopub" else 500)
