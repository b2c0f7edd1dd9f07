"""Start a kernel process in its own process group and learn the moment it exits.

Linux's pidfd makes the exit an event on the loop (no polling); elsewhere a short poll stands in.
Whatever happens, the group is killed afterwards, so a kernel's children do not outlive it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from typing import Any

#: tells a jup kernel that its manager wrote the connection file: if the manager is killed, the kernel
#: removes the file as it exits. Named again in jup.core.kernelbase.server (a kernel imports no asyncio).
OWN_CONNECTION_FILE_ENV = "JUP_OWN_CONNECTION_FILE"


def launch(argv: list[str], env: dict[str, str], cwd: str | None, **popen: Any) -> subprocess.Popen:
    """Start the kernel in a new session (its own process group, for signals to the whole group).

    The caller wrote the connection file in `argv`; the kernel learns so through the environment,
    so that a kernel orphaned by a kill -9 of its manager leaves no stale `kernel-*.json`.
    """
    env = {**env, OWN_CONNECTION_FILE_ENV: "1"}
    try:
        return subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                                start_new_session=True, close_fds=True, **popen)
    except FileNotFoundError:
        raise FileNotFoundError(f"Cannot start the kernel: {argv[0]!r} was not found. Check the "
                                "kernelspec's argv (`jup kernelspec list`).") from None


def watch_exit(proc: subprocess.Popen) -> asyncio.Future:
    """A future resolved with the return code once `proc` exits (and is reaped: no zombie)."""
    loop = asyncio.get_running_loop()
    fut: asyncio.Future = loop.create_future()
    if proc.poll() is not None:
        fut.set_result(proc.returncode)
        return fut
    pidfd = None
    if sys.platform == "linux" and hasattr(os, "pidfd_open"):
        try:
            pidfd = os.pidfd_open(proc.pid)
        except OSError:
            pidfd = None
    if pidfd is not None:
        def on_exit() -> None:
            loop.remove_reader(pidfd)
            os.close(pidfd)
            rc = proc.wait()
            if not fut.done():
                fut.set_result(rc)
        loop.add_reader(pidfd, on_exit)

        def forget(_: asyncio.Future) -> None:  # cancelled before exit: release the fd
            if fut.cancelled():
                loop.remove_reader(pidfd)
                os.close(pidfd)
        fut.add_done_callback(forget)
        return fut

    async def poll() -> None:
        for _ in range(10**9):  # until the process exits or the future is cancelled
            if proc.poll() is not None:
                if not fut.done():
                    fut.set_result(proc.returncode)
                return
            await asyncio.sleep(0.05)
    task = loop.create_task(poll())
    fut.add_done_callback(lambda _: task.cancel())
    return fut


def signal_group(proc: subprocess.Popen, sig: int) -> bool:
    """Send `sig` to the kernel's process group; False if there is nobody left to signal."""
    try:
        os.killpg(proc.pid, sig)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL whatever is left in the group and reap the kernel itself."""
    signal_group(proc, signal.SIGKILL)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
