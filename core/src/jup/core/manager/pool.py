"""A warm pool: kernels started ahead of time, so a new notebook gets one in milliseconds.

Pooled kernels start in a neutral temporary cwd and are moved to the requested directory when taken
(for Python kernels, a silent `os.chdir`; other languages keep the neutral cwd). Taking one starts
a replacement in the background; `shutdown()` stops every kernel the pool still holds.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import os
import shutil
import tempfile
from typing import Any

from jup.core.errors import KernelError
from jup.core.kernelspec import KernelSpec

from .kernelmanager import KernelManager, resolve_spec

log = logging.getLogger("jup.pool")

REFILL_DELAY = 0.05  # seconds after a hand-over before a replacement starts, so the new owner goes first


class KernelPool:
    """Keeps `size` started kernels of one kernelspec; `await pool.take(cwd)` hands one over."""

    def __init__(self, kernel_name: str | KernelSpec = "python3", size: int = 1, **manager_kwargs: Any):
        if size < 0:
            raise ValueError(f"A pool size must be 0 or more, not {size}.")
        self.spec = resolve_spec(kernel_name)
        self.size = size
        self.manager_kwargs = manager_kwargs
        self.neutral_dir = tempfile.mkdtemp(prefix="jup-pool-")
        self._ready: collections.deque[KernelManager] = collections.deque()
        self._starting: dict[asyncio.Task, KernelManager] = {}
        self._closed = False

    @property
    def ready(self) -> int:
        """How many kernels are started and waiting."""
        return len(self._ready)

    async def start(self, wait: bool = False) -> None:
        """Begin filling the pool; with `wait`, until it is full (or a start failed)."""
        self._refill()
        if wait and self._starting:
            await asyncio.gather(*self._starting, return_exceptions=True)

    def _refill(self) -> None:
        for _ in range(self.size):  # at most `size` new starts
            if self._closed or len(self._ready) + len(self._starting) >= self.size:
                return
            km = KernelManager(self.spec, cwd=self.neutral_dir, **self.manager_kwargs)
            task = asyncio.get_running_loop().create_task(self._start_one(km))
            self._starting[task] = km

    async def _start_one(self, km: KernelManager) -> None:
        try:
            await km.start()
            if self.spec.language.lower() == "python":  # the first execute sets up the shell: pay it
                await km.change_dir(self.neutral_dir)   # here, so take() costs one round trip
        except Exception as e:  # reported; the pool stays usable and take() starts one directly
            log.warning("warm pool: the %s kernel failed to start: %s", self.spec.name, e)
            return
        finally:
            self._starting.pop(asyncio.current_task(), None)  # type: ignore[arg-type]
        if self._closed:
            await km.shutdown(now=True)
            return
        self._ready.append(km)

    async def take(self, cwd: str | None = None, timeout: float | None = None) -> KernelManager:
        """A running kernel manager, moved to `cwd`; from the pool if one is ready, else started now."""
        if self._closed:
            raise KernelError("This kernel pool was shut down; create a new one.")
        km = None
        while self._ready:  # skip any that died while waiting
            cand = self._ready.popleft()
            if cand.is_alive():
                km = cand
                break
            await cand.shutdown(now=True)
        if km is None:
            self._refill()
            km = KernelManager(self.spec, cwd=cwd, **self.manager_kwargs)
            await km.start(timeout=timeout)
            return km
        try:
            if cwd and self.spec.language.lower() == "python":
                await km.change_dir(os.path.abspath(cwd))
            km.cwd = cwd or km.cwd
        finally:  # refill once the kernel is handed over: spawning a process would delay the hand-over
            asyncio.get_running_loop().call_later(REFILL_DELAY, self._refill)
        return km

    async def shutdown(self) -> None:
        """Stop every kernel still in the pool (taken ones belong to their takers)."""
        self._closed = True
        starting = list(self._starting)
        for t in starting:  # a cancelled start kills its process (KernelManager._abandon)
            t.cancel()
        if starting:
            await asyncio.gather(*starting, return_exceptions=True)
        kms = list(self._ready)
        self._ready.clear()
        await asyncio.gather(*(km.shutdown(now=True) for km in kms), return_exceptions=True)
        shutil.rmtree(self.neutral_dir, ignore_errors=True)

    async def __aenter__(self) -> KernelPool:
        await self.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.shutdown()
