"""A warm pool: kernels started ahead of time, so a new notebook gets one in milliseconds.

Pooled kernels start in a neutral temporary cwd and are moved to the requested directory when taken
(for Python kernels, a silent execute moves the cwd, `PWD` and the old cwd's `sys.path` entry;
other languages keep the neutral cwd). A replacement starts in the background `refill_delay` s
after the last take, so the new owner's first requests do not compete with a process start.
`shutdown()` stops every kernel the pool still holds. How many to keep per kernelspec is the
`WarmPool.sizes` option (`configured_pool_size`, `KernelPool.from_config`).
"""

from __future__ import annotations

import asyncio
import collections
import logging
import os
import shutil
import tempfile
from typing import TYPE_CHECKING, Any

from jup.core.errors import KernelError
from jup.core.kernelspec import KernelSpec

from .kernelmanager import KernelManager, resolve_spec

if TYPE_CHECKING:
    from traitlets.config import Config

log = logging.getLogger("jup.pool")

#: Seconds after the last hand-over before replacements start (WarmPool.refill_delay).
REFILL_DELAY = 0.5
#: Pool sizes a long-running frontend uses when WarmPool.sizes does not name the kernelspec.
LONG_RUNNING_DEFAULTS = {"python": 1}


def _warm_pool_options(config: Config | None) -> Any:
    from jup.core import config as jup_config

    if config is None:
        config = jup_config.current_config() or jup_config.get_config()
    return jup_config.WarmPool(config=config)


def configured_pool_size(kernel_name: str, long_running: bool = False, config: Config | None = None) -> int:
    """How many warm kernels of `kernel_name` a frontend should keep: `WarmPool.sizes`, else the
    default (1 for jup's Python kernel when `long_running`, such as a web server; 0 otherwise)."""
    sizes = _warm_pool_options(config).sizes
    if kernel_name in sizes:
        return int(sizes[kernel_name])
    return LONG_RUNNING_DEFAULTS.get(kernel_name, 0) if long_running else 0


class KernelPool:
    """Keeps `size` started kernels of one kernelspec; `await pool.take(cwd)` hands one over."""

    def __init__(self, kernel_name: str | KernelSpec = "python3", size: int = 1,
                 refill_delay: float = REFILL_DELAY, **manager_kwargs: Any):
        if size < 0:
            raise ValueError(f"A pool size must be 0 or more, not {size}.")
        self.spec = resolve_spec(kernel_name)
        self.size = size
        self.refill_delay = refill_delay
        self._refill_handle: asyncio.TimerHandle | None = None
        self.manager_kwargs = manager_kwargs
        self.neutral_dir = tempfile.mkdtemp(prefix="jup-pool-")
        self._ready: collections.deque[KernelManager] = collections.deque()
        self._starting: dict[asyncio.Task, KernelManager] = {}
        self._closed = False

    @classmethod
    def from_config(cls, kernel_name: str, long_running: bool = False, config: Config | None = None,
                    **manager_kwargs: Any) -> KernelPool | None:
        """The pool the user's config asks for (see `configured_pool_size`); None when it is 0."""
        size = configured_pool_size(kernel_name, long_running, config)
        if size == 0:
            return None
        delay = _warm_pool_options(config).refill_delay
        return cls(kernel_name, size=size, refill_delay=delay, **manager_kwargs)

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
        if self._refill_handle is not None:  # an earlier take's refill must not start during this
            self._refill_handle.cancel()     # handover (its round trip can outlast refill_delay on a
            self._refill_handle = None       # busy machine); it is scheduled again below
        km = None
        while self._ready:  # skip any that died while waiting
            cand = self._ready.popleft()
            if cand.is_alive():
                km = cand
                break
            await cand.shutdown(now=True)
        if km is None:
            self._schedule_refill()  # after this cold start, not against it
            km = KernelManager(self.spec, cwd=cwd, **self.manager_kwargs)
            await km.start(timeout=timeout)
            return km
        try:
            if cwd and self.spec.language.lower() == "python":
                await km.change_dir(os.path.abspath(cwd))
            km.cwd = cwd or km.cwd
        finally:  # refill after the new owner's first requests: a process start would slow them
            self._schedule_refill()
        return km

    def _schedule_refill(self) -> None:
        """(Re)start the refill timer: replacements start `refill_delay` s after the last take."""
        if self._refill_handle is not None:
            self._refill_handle.cancel()
        self._refill_handle = asyncio.get_running_loop().call_later(self.refill_delay, self._refill)

    async def shutdown(self) -> None:
        """Stop every kernel still in the pool (taken ones belong to their takers)."""
        self._closed = True
        if self._refill_handle is not None:
            self._refill_handle.cancel()
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
