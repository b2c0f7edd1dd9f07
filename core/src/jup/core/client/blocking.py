"""Blocking facade: the async client's methods, run to completion on a private event loop.

No method is rebound by hand: attribute access finds the coroutine method on the async client and
runs it. The loop runs in the caller's thread (no thread hop on the hot path); if the caller's
thread already runs an event loop (a notebook cell), the private loop runs for that call in a
short-lived helper thread instead.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import os
import threading
from collections.abc import Callable, Coroutine
from typing import Any

import zmq

from jup.core.protocol.connection import ConnectionInfo
from jup.core.protocol.session import Session

from .asyncclient import AsyncKernelClient


class LoopRunner:
    """Runs coroutines on one private loop; `idle` (if set) is called while waiting, e.g. to pump
    an in-process kernel on the caller's thread."""

    def __init__(self, idle: Callable[[], Any] | None = None, slice_s: float = 0.002):
        self.loop = asyncio.new_event_loop()
        self.idle = idle
        self.slice_s = slice_s

    def run(self, coro: Coroutine) -> Any:
        """Run `coro` to completion and return its result (or raise its exception)."""
        if self.loop.is_running():  # re-entered from a hook running inside our own loop
            return self.loop.create_task(coro)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return self._run_here(coro)
        box: dict[str, Any] = {}

        def target() -> None:
            try:
                box["result"] = self._run_here(coro)
            except BaseException as e:  # handed to the caller below
                box["error"] = e
        t = threading.Thread(target=target, name="jup-blocking-call", daemon=True)
        t.start()
        t.join()
        if "error" in box:
            raise box["error"]
        return box["result"]

    def _run_here(self, coro: Coroutine) -> Any:
        if self.idle is None:
            return self.loop.run_until_complete(coro)
        task = self.loop.create_task(coro)
        while not task.done():  # bounded by the coroutine's own timeout
            self.loop.run_until_complete(asyncio.wait([task], timeout=self.slice_s))
            if not task.done():
                self.idle()
        return task.result()

    def close(self) -> None:
        """Let cancelled tasks finish, then close the loop."""
        if self.loop.is_closed():
            return
        pending = [t for t in asyncio.all_tasks(self.loop) if not t.done()]
        for t in pending:
            t.cancel()
        if self.loop.is_running():
            return  # closed from a hook inside our own loop: the next call finds it stopped
        if pending:
            self.run(asyncio.wait(pending, timeout=1.0))
        self.loop.close()


class Facade:
    """Exposes an async object's coroutine methods as blocking ones via a `_run` callable."""

    _async: Any
    _run: Callable[[Coroutine], Any]

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._async, name)
        if not inspect.iscoroutinefunction(attr):
            return attr
        run = self._run

        @functools.wraps(attr)
        def blocking(*args: Any, **kwargs: Any) -> Any:
            return run(attr(*args, **kwargs))
        setattr(self, name, blocking)  # later calls skip __getattr__
        return blocking

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | {n for n in dir(self._async) if not n.startswith("_")})


class BlockingKernelClient(Facade):
    """The same methods as AsyncKernelClient, synchronous: `kc.execute("1+1", reply=True)`."""

    def __init__(self, connection_info: ConnectionInfo | dict | str | os.PathLike | None = None,
                 session: Session | None = None, context: zmq.Context | None = None,
                 cell_tracker: dict[str, str] | None = None, *,
                 async_client: AsyncKernelClient | None = None, idle: Callable[[], Any] | None = None):
        if async_client is None:
            if connection_info is None:
                raise TypeError("BlockingKernelClient needs connection_info (a ConnectionInfo, dict or "
                                "connection file path) or async_client.")
            async_client = AsyncKernelClient(connection_info, session, context, cell_tracker)
        self._async = async_client
        self._runner = LoopRunner(idle)
        self._run = self._runner.run

    @property
    def async_client(self) -> AsyncKernelClient:
        return self._async

    def stop_channels(self) -> None:
        """Close the sockets and the private loop."""
        if not self._runner.loop.is_closed():
            self._async.stop_channels()
            self._runner.close()

    close = stop_channels

    def __enter__(self) -> BlockingKernelClient:
        self._async.start_channels()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop_channels()
