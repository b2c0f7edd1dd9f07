"""Where the shell's kernel comes from: in-process Python, a kernel started by name, or an existing one.

jup.core's manager and client do the work (any Jupyter kernelspec or jup kernel plugin); the shell
sees only `KernelBridge`.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from jup.core.errors import JupError, KernelError
from jup.terminal.bridge import KernelBridge

DEFAULT_KERNEL = "python"


# ---- jup.core ------------------------------------------------------------------------------------

class CoreHandle:
    """A kernel process run by jup.core's KernelManager; its death events reach the bridge."""

    def __init__(self, km: Any, name: str):
        self.km, self.name = km, name
        self.bridge: KernelBridge | None = None
        km.on_event(self._on_event)

    def _on_event(self, event: Any) -> None:
        if event.name == "died" and self.bridge is not None and event.error is not None:
            self.bridge.mark_dead(event.error)

    async def interrupt(self) -> None:
        reply = await self.km.interrupt()
        if isinstance(reply, dict) and reply.get("status") == "error":
            raise KernelError(reply.get("evalue") or "The kernel could not be interrupted; restart it.")

    async def restart(self) -> None:
        await self.km.restart(now=True)

    async def shutdown(self) -> None:
        await self.km.shutdown()

    def returncode(self) -> int | None:
        return None  # the manager says when and why through its "died" event

    def can_restart(self) -> bool:
        return True


class InProcessHandle:
    """The Python kernel inside this process: requests are served on this thread between awaits."""

    in_process = True

    def __init__(self, km: Any, name: str):
        self.km, self.name = km, name
        self._pump_task: asyncio.Task | None = None

    def start_pumping(self) -> None:
        self._pump_task = asyncio.get_running_loop().create_task(self._pump())

    async def _pump(self) -> None:
        idle = 0.001
        while self.km.is_alive():
            try:
                busy = self.km.pump(0)
            except KeyboardInterrupt:  # Ctrl-C while user code ran here: the kernel reports it
                busy = True
            idle = 0.001 if busy else min(idle * 2, 0.02)
            await asyncio.sleep(idle)  # yield to the client; short while busy, longer when idle

    async def interrupt(self) -> None:
        return None  # SIGINT reaches the user's code directly, it runs on this thread

    async def restart(self) -> None:
        if self._pump_task is not None:
            self._pump_task.cancel()
        self.km.restart()
        self.start_pumping()

    def fresh_client(self) -> Any:
        """A client for the new kernel object after a restart."""
        client = self.km.async_client()
        client.start_channels()
        return client

    async def shutdown(self) -> None:
        if self._pump_task is not None:
            self._pump_task.cancel()
        self.km.shutdown()

    def returncode(self) -> int | None:
        return None

    def can_restart(self) -> bool:
        return True


async def _open_core(m: Any, name: str | None) -> KernelBridge:
    """A kernel through jup.core: in-process Python by default, else a process per kernelspec."""
    if name is None:
        try:
            km = m.InProcessKernelManager(DEFAULT_KERNEL)
            km.start()
        except Exception as e:  # missing or broken in-process kernel: a process still serves
            fallback = _fallback_kernel(m)
            print(f"jup terminal: the in-process Python kernel is not available ({e}); "
                  f"using the {fallback!r} kernel instead.", file=sys.stderr)
            return await _open_core(m, fallback)
        return open_in_process(km, DEFAULT_KERNEL)
    # ipc: a kernel we start is for us alone, and ipykernel warns about unencrypted tcp at every start
    km = m.KernelManager(name, autorestart=False, transport="tcp" if sys.platform == "win32" else "ipc")
    await km.start()
    handle = CoreHandle(km, name)
    client = km.client()
    client.start_channels()
    sync_client = km.blocking_client()
    sync_client.start_channels()
    bridge = KernelBridge(client, handle, sync_client=sync_client)
    handle.bridge = bridge
    return bridge


def open_in_process(km: Any, name: str) -> KernelBridge:
    """A bridge to a started in-process kernel manager (jup.core.manager.InProcessKernelManager)."""
    from jup.terminal.inprocess import InProcessExecutor
    handle = InProcessHandle(km, name)
    client = km.async_client()
    client.start_channels()
    handle.start_pumping()
    bridge = KernelBridge(client, handle, sync_client=None)
    bridge.executor = InProcessExecutor(km)
    return bridge


def _fallback_kernel(m: Any) -> str:
    """The kernel to use when the in-process one is missing: ours as a process, else ipykernel."""
    try:
        from jup.core.kernelspec import find_kernel_specs
        names = set(find_kernel_specs())
    except Exception:
        names = set()
    import importlib.util
    if DEFAULT_KERNEL in names and importlib.util.find_spec("jup.python.__main__") is not None:
        return DEFAULT_KERNEL
    return "python3" if "python3" in names else DEFAULT_KERNEL


# ---- attached ------------------------------------------------------------------------------------

class AttachedHandle:
    """A kernel someone else started (`--existing`): we can interrupt it by message, not restart it."""

    def __init__(self, client: Any, name: str):
        self.client, self.name = client, name

    async def interrupt(self) -> None:
        await self.client.interrupt()  # interrupt_request on the control channel

    async def restart(self) -> None:
        raise KernelError("This kernel was started elsewhere (--existing); restart it where it runs.")

    async def shutdown(self) -> None:
        return None

    def returncode(self) -> int | None:
        return None

    def can_restart(self) -> bool:
        return False


async def _attach(connection_file: str | None) -> KernelBridge:
    """Connect to a kernel someone else started, found by `--existing [FILE]`."""
    from jup.core.protocol.connection import ConnectionInfo, find_connection_file
    path = find_connection_file(connection_file or None)
    info = ConnectionInfo.read(path)
    from jup.core.client import AsyncKernelClient, BlockingKernelClient
    client, sync_client = AsyncKernelClient(info), BlockingKernelClient(info)
    client.start_channels()
    sync_client.start_channels()
    return KernelBridge(client, AttachedHandle(client, path.name), sync_client=sync_client)


async def _learn_execution_count(bridge: KernelBridge) -> None:
    """An attached kernel may have run cells already: a silent empty cell's reply carries its count,
    so the first prompt is `In [n+1]`, not `In [1]` followed by `Out[n+1]`."""
    try:
        reply = await bridge.request("execute", "", silent=True, store_history=False, timeout=5.0)
    except JupError:
        return
    count = reply.get("execution_count")
    if isinstance(count, int) and count > 0:
        bridge.execution_count = count


async def open_kernel(name: str | None = None, existing: str | None = None, attach: bool = False,
                      timeout: float = 60.0) -> KernelBridge:
    """A started, ready bridge: attach if asked, else start `name` (default: Python in-process)."""
    if attach:
        bridge = await _attach(existing)
        await bridge.start(timeout=10.0)
        await _learn_execution_count(bridge)
        return bridge
    import jup.core.manager as m
    bridge = await _open_core(m, name)
    try:
        await bridge.start(timeout=timeout)
    except BaseException:
        await bridge.close(shutdown=True)
        raise
    return bridge
