"""Blocking facade for KernelManager: its coroutines run on one shared background loop thread.

A background loop (not the caller's) is needed here because the manager must notice a crash and
restart the kernel while the caller's code is doing something else. Event callbacks therefore run
on that thread; they must not call the blocking manager back (that would wait on itself).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any

from jup.core.client.blocking import BlockingKernelClient, Facade

from .kernelmanager import KernelManager


class LoopThread:
    """One daemon thread running an event loop for every blocking manager in the process."""

    _instance: LoopThread | None = None
    _lock = threading.Lock()

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="jup-kernel-managers", daemon=True)
        self.thread.start()

    @classmethod
    def get(cls) -> LoopThread:
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def run(self, coro: Coroutine) -> Any:
        """Run `coro` on the manager thread and wait for its result."""
        if threading.current_thread() is self.thread:
            coro.close()
            raise RuntimeError("A blocking kernel manager was called from its own event callback; "
                               "use the async KernelManager there, or hand the work to another thread.")
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def call(self, fn: Any, *args: Any) -> Any:
        """Run a plain function on the manager thread (for objects that must be built there)."""
        async def wrap() -> Any:
            return fn(*args)
        return self.run(wrap())


class BlockingKernelManager(Facade):
    """KernelManager with blocking methods: `km.start()`, `km.interrupt()`, `km.shutdown()`."""

    def __init__(self, *args: Any, **kwargs: Any):
        self._thread = LoopThread.get()
        self._run = self._thread.run
        self._async = KernelManager(*args, **kwargs)

    @property
    def async_manager(self) -> KernelManager:
        return self._async

    def client(self) -> BlockingKernelClient:  # type: ignore[override]
        """A new blocking client (its own loop, in the caller's thread)."""
        return BlockingKernelClient(async_client=self._async.client())

    blocking_client = client

    def __enter__(self) -> BlockingKernelManager:
        if not self._async.has_kernel:
            self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.shutdown()
