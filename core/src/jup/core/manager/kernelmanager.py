"""KernelManager: start a kernel process, watch it, restart it after a crash, stop it cleanly.

One coroutine per concern: `_watch` waits for the process to exit (a pidfd event, no polling),
`_heartbeat` samples liveness and memory, `_recover` restarts with backoff. Every way out
(shutdown, crash, kill -9, restart, interpreter exit) reaps the process group and removes the
connection file, so no zombie and no stale `kernel-*.json` is left behind.
"""

from __future__ import annotations

import asyncio
import atexit
import enum
import logging
import os
import signal
import subprocess
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jup.core.client.asyncclient import AsyncKernelClient
from jup.core.client.blocking import BlockingKernelClient
from jup.core.errors import KernelDied, KernelError, KernelTimeout
from jup.core.kernelspec import KernelSpec, get_kernel_spec
from jup.core.paths import jupyter_runtime_dir
from jup.core.protocol.connection import ConnectionInfo
from jup.core.protocol.messages import new_id

from . import death
from .launcher import kill_group, launch, signal_group, watch_exit
from .restarter import KernelEvent, RestartPolicy

log = logging.getLogger("jup.manager")

_LIVE: weakref.WeakSet[KernelManager] = weakref.WeakSet()

#: A kernel's interrupt grace when JUP_INTERRUPT_GRACE does not set one (as in jup.core.kernelbase).
DEFAULT_INTERRUPT_GRACE = 1.0
#: Seconds past the kernel's grace before the manager answers an interrupt the kernel cannot.
INTERRUPT_REPLY_MARGIN = 0.5
#: Starts tried when a kernel dies because another process bound one of its ports first.
START_ATTEMPTS = 3

# Run silently in a kernel being handed over: cwd, PWD and the old cwd's sys.path entry move together.
CHANGE_DIR_CODE = """\
def _jup_change_dir(new):
    import os, sys
    old = os.path.realpath(os.getcwd())
    os.chdir(new)
    os.environ["PWD"] = new
    sys.path[:] = [new if p and os.path.realpath(p) == old else p for p in sys.path]
_jup_change_dir({path!r})
del _jup_change_dir
"""


class KernelState(enum.Enum):
    """Where a managed kernel is in its life; one value instead of scattered flags."""

    NEW = "new"
    STARTING = "starting"
    RUNNING = "running"
    RESTARTING = "restarting"
    DEAD = "dead"          # crashed and not restarted
    SHUTDOWN = "shutdown"  # stopped on request


def resolve_spec(kernel: str | KernelSpec) -> KernelSpec:
    """A KernelSpec from a name (looked up) or a spec (as is)."""
    return kernel if isinstance(kernel, KernelSpec) else get_kernel_spec(kernel)


class KernelManager:
    """Owns one kernel process. Async; `BlockingKernelManager` is the blocking facade.

    Events (`on_event`) tell a frontend what to show: started, restarting (with the KernelDied
    that says why), restarted, died (gave up), unresponsive/responsive, shutdown.
    """

    def __init__(self, kernel_name: str | KernelSpec = "python3", *, cwd: str | None = None,
                 env: dict[str, str] | None = None, transport: str = "tcp", ip: str = "127.0.0.1",
                 autorestart: bool = True, restart_policy: RestartPolicy | None = None,
                 heartbeat_interval: float = 3.0, shutdown_wait: float = 5.0,
                 start_timeout: float = 60.0, popen_kwargs: dict | None = None):
        self.spec = resolve_spec(kernel_name)
        self.kernel_name = self.spec.name
        self.cwd, self.env = cwd, dict(env or {})
        self.transport, self.ip = transport, ip
        self.autorestart = autorestart
        self.policy = restart_policy or RestartPolicy()
        self.heartbeat_interval, self.shutdown_wait = heartbeat_interval, shutdown_wait
        self.start_timeout = start_timeout
        self.popen_kwargs = dict(popen_kwargs or {})
        self.state = KernelState.NEW
        self.connection_info: ConnectionInfo | None = None
        self.connection_file: str | None = None
        self.proc: subprocess.Popen | None = None
        self.last_death: KernelDied | None = None
        #: {msg_id: code} of executes sent by this manager's clients and not yet answered
        self.cells: dict[str, str] = {}
        self._callbacks: list[Callable[[KernelEvent], Any]] = []
        self._exit: asyncio.Future | None = None
        self._tasks: set[asyncio.Task] = set()
        self._hb_task: asyncio.Task | None = None
        self._ctl: AsyncKernelClient | None = None
        self._oom_before: int | None = None
        self._last_rss: int | None = None

    # ---- events -----------------------------------------------------------------------------

    def on_event(self, callback: Callable[[KernelEvent], Any]) -> Callable[[], None]:
        """Call `callback(event)` on every KernelEvent; returns a function that unsubscribes."""
        self._callbacks.append(callback)
        return lambda: self._callbacks.remove(callback) if callback in self._callbacks else None

    def _emit(self, name: str, error: KernelDied | None = None, restarts: int = 0) -> None:
        ev = KernelEvent(name, self, error, restarts)
        log.info("kernel %s: %s", self.kernel_name, ev.message)
        for cb in list(self._callbacks):
            try:
                cb(ev)
            except Exception:  # a frontend's bug must not stop the manager
                log.exception("kernel event callback %r failed", cb)

    # ---- lifecycle --------------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def is_alive(self) -> bool:
        """True while the kernel process runs."""
        return self.proc is not None and self.proc.poll() is None

    @property
    def has_kernel(self) -> bool:
        return self.state in (KernelState.STARTING, KernelState.RUNNING, KernelState.RESTARTING)

    async def start(self, wait: bool = True, timeout: float | None = None) -> None:
        """Allocate ports, write the connection file and launch; with `wait`, until it answers.

        The ports are free when picked but bound only by the kernel, so another process may take
        one in between; with `wait`, a kernel that died of that is started again on fresh ports.
        """
        if self.has_kernel:
            raise KernelError(f"The {self.kernel_name} kernel is already running; restart() it instead.")
        rd = jupyter_runtime_dir()
        self.connection_file = os.path.join(rd, f"kernel-{new_id()}.json")
        self.policy = RestartPolicy(self.policy.max_restarts, self.policy.window, self.policy.backoff,
                                    self.policy.max_backoff)
        _LIVE.add(self)
        for attempt in range(1, START_ATTEMPTS + 1):
            self.connection_info = ConnectionInfo.allocate(self.ip, self.transport,
                                                           kernel_name=self.kernel_name)
            try:
                await self._launch(wait, self.start_timeout if timeout is None else timeout)
                break
            except KernelDied:
                taken = self.connection_info.ports_in_use()
                if attempt == START_ATTEMPTS or not taken:
                    self._abandon()
                    raise
                log.info("kernel %s: port(s) %s were taken by another process before it bound them; "
                         "starting it again on fresh ports", self.kernel_name, taken)
                self._drop_ports()
            except BaseException:
                self._abandon()
                raise
        self._emit("started")

    def _drop_ports(self) -> None:
        """A start lost its ports to another process: forget the dead kernel and its client."""
        if self.proc is not None:
            kill_group(self.proc)
        if self._ctl is not None:
            self._ctl.stop_channels()
            self._ctl = None
        self.cells.clear()

    def _abandon(self) -> None:
        """A start failed: nothing of it may remain."""
        self._stop_heartbeat()
        if self.proc is not None:
            kill_group(self.proc)
        self.state = KernelState.DEAD
        self._remove_files()
        _LIVE.discard(self)

    async def _launch(self, wait: bool, timeout: float) -> None:
        assert self.connection_info is not None and self.connection_file is not None
        self.connection_info.write(self.connection_file)
        env = dict(os.environ)
        env.update(self.spec.env)
        env.update(self.env)
        env["JPY_PARENT_PID"] = str(os.getpid())
        self._oom_before = death.oom_kill_count()
        self._last_rss = None
        self.state = KernelState.STARTING
        self.proc = proc = launch(self.spec.launch_argv(self.connection_file), env, self.cwd,
                                  **self.popen_kwargs)
        self._exit = watch_exit(proc)
        self._spawn(self._watch(proc, self._exit))
        if wait:
            await self._wait_ready(proc, timeout)
        self.state = KernelState.RUNNING
        if self.heartbeat_interval and self.heartbeat_interval > 0:
            self._hb_task = self._spawn(self._heartbeat(proc))

    def _spawn(self, coro: Any) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _wait_ready(self, proc: subprocess.Popen, timeout: float) -> None:
        """Until kernel_info is answered; KernelDied if it exits first, KernelTimeout if slow."""
        assert self._exit is not None
        ready = asyncio.ensure_future(self.control_client().wait_for_ready(timeout))
        done, _ = await asyncio.wait({ready, self._exit}, return_when=asyncio.FIRST_COMPLETED)
        if ready in done:
            try:
                ready.result()
                return
            except KernelTimeout:
                kill_group(proc)
                raise KernelTimeout(f"The {self.kernel_name} kernel did not answer within {timeout} s of "
                                    "starting, so it was stopped. Check its argv and its stderr.") from None
        ready.cancel()
        raise self._explain(proc.returncode)

    def _explain(self, returncode: int | None) -> KernelDied:
        oom = death.likely_oom(returncode, self._oom_before, death.oom_kill_count(), self._last_rss,
                               death.memory_limit() if self._last_rss else None)
        cell = next(iter(self.cells.values()), None)
        return KernelDied(returncode, cell=cell, oom=oom, kernel_name=f"kernel {self.kernel_name!r}")

    async def _watch(self, proc: subprocess.Popen, exited: asyncio.Future) -> None:
        """Wait for this process to end; if nobody asked for that, recover."""
        rc = await exited
        kill_group(proc)  # the kernel's children go with it
        if proc is not self.proc or self.state is not KernelState.RUNNING:
            return  # expected (shutdown, restart) or during start (the starter reports it)
        self._stop_heartbeat()
        err = self._explain(rc)
        self.last_death = err
        self.cells.clear()
        await self._recover(err)

    async def _recover(self, err: KernelDied) -> None:
        """Restart with backoff while the policy allows; else report `died`."""
        for _ in range(self.policy.max_restarts + 1):
            if not (self.autorestart and self.policy.allow()):
                break
            n = self.policy.record()
            self.state = KernelState.RESTARTING
            self._emit("restarting", err, n)
            await asyncio.sleep(self.policy.delay())  # backoff, not synchronisation
            if self.state is not KernelState.RESTARTING:
                return  # shut down meanwhile
            try:
                await self._launch(True, self.start_timeout)
                self._emit("restarted", restarts=n)
                return
            except (KernelDied, KernelTimeout) as e:
                err = e if isinstance(e, KernelDied) else KernelDied(
                    self.proc.returncode if self.proc else None, kernel_name=f"kernel {self.kernel_name!r}")
                self.last_death = err
        self.state = KernelState.DEAD
        self._remove_files()
        self._emit("died", err)

    async def _heartbeat(self, proc: subprocess.Popen) -> None:
        """Every interval: sample RSS (for OOM diagnosis) and ping; say when it stops answering."""
        misses = 0
        ctl = self.control_client()
        delay = self.heartbeat_interval
        while proc.poll() is None:  # ends with the process (or is cancelled)
            await asyncio.sleep(delay)
            self._last_rss = death.rss(proc.pid) or self._last_rss
            # the echo is answered in C, without the interpreter lock: half an interval is ample,
            # and after a miss the next ping goes at once, so a kernel that froze just after a
            # beat is reported within two intervals (wait, miss, miss)
            ok = await ctl.heartbeat(timeout=self.heartbeat_interval / 2)
            delay = self.heartbeat_interval if ok else 0
            if proc.poll() is not None:
                return
            if not ok:
                misses += 1
                if misses == 2:
                    self._emit("unresponsive")
            else:
                if misses >= 2:
                    self._emit("responsive")
                misses = 0

    def _stop_heartbeat(self) -> None:
        if self._hb_task is not None and self._hb_task is not asyncio.current_task():
            self._hb_task.cancel()
        self._hb_task = None

    async def _stop_process(self, now: bool, restart: bool = False) -> None:
        """shutdown_request, then SIGTERM, then SIGKILL, each with a bounded wait; reap the group."""
        proc, exited = self.proc, self._exit
        if proc is None or exited is None:
            return
        self._stop_heartbeat()
        if proc.poll() is None and not now:
            try:
                await self.control_client().shutdown(restart=restart)
            except Exception as e:  # socket trouble: fall through to signals
                log.debug("shutdown_request failed: %s", e)
            await asyncio.wait({exited}, timeout=self.shutdown_wait)
        for sig, wait_s in ((signal.SIGTERM, 2.0), (signal.SIGKILL, 5.0)):
            if exited.done() or proc.poll() is not None:
                break
            signal_group(proc, sig)
            await asyncio.wait({exited}, timeout=wait_s)
        kill_group(proc)

    async def shutdown(self, now: bool = False) -> None:
        """Stop the kernel: politely (unless `now`), then by signal; remove its files."""
        self.state = KernelState.SHUTDOWN
        await self._stop_process(now)
        for t in list(self._tasks):
            if t is not asyncio.current_task():
                t.cancel()
        if self._ctl is not None:
            self._ctl.stop_channels()
            self._ctl = None
        self._remove_files()
        _LIVE.discard(self)
        self._emit("shutdown")

    async def restart(self, now: bool = False, timeout: float | None = None) -> None:
        """Stop the kernel and start a new one on the same ports (clients stay connected)."""
        if self.connection_info is None:
            raise KernelError("The kernel was never started; call start() first.")
        self.state = KernelState.RESTARTING
        await self._stop_process(now, restart=True)
        self.cells.clear()
        _LIVE.add(self)
        try:
            await self._launch(True, self.start_timeout if timeout is None else timeout)
        except BaseException:
            self._abandon()
            raise
        self._emit("restarted")

    def interrupt_grace(self) -> float:
        """The grace the kernel gives an interrupted cell (its JUP_INTERRUPT_GRACE, default 1 s)."""
        for env in (self.env, self.spec.env, os.environ):
            if "JUP_INTERRUPT_GRACE" in env:
                try:
                    return max(0.0, float(env["JUP_INTERRUPT_GRACE"]))
                except ValueError:
                    break  # the kernel ignores a bad value too and keeps its default
        return DEFAULT_INTERRUPT_GRACE

    async def interrupt(self, timeout: float | None = None) -> dict | None:
        """Stop the running cell: by message (the kernel's interrupt_reply content is returned,
        saying whether it worked) or by SIGINT to the process group (None: no answer to give).

        A kernel answers within its grace (`interrupt_grace()`); one that cannot answer at all has
        C code holding the interpreter lock, so after the grace + INTERRUPT_REPLY_MARGIN (or
        `timeout`) this manager answers for it with an `error` that says so.
        """
        if not self.is_alive():
            raise KernelError(f"The {self.kernel_name} kernel is not running; restart it first.")
        if self.spec.interrupt_mode == "message":
            wait = self.interrupt_grace() + INTERRUPT_REPLY_MARGIN if timeout is None else timeout
            try:
                reply = await self.control_client().interrupt(reply=True, timeout=wait)
            except KernelTimeout:
                # no thread of the kernel could answer, yet it lives: C code holds the interpreter lock
                if self.is_alive() and await self.control_client().heartbeat(timeout=0.5):
                    return {"status": "error", "ename": "InterruptFailed", "traceback": [], "evalue": (
                        f"The {self.kernel_name} kernel did not answer the interrupt within {wait:g} s "
                        "although it is alive: the running code is inside C code that holds the "
                        "interpreter lock and cannot be stopped there. Restart the kernel to stop it "
                        "(its state will be lost).")}
                raise
            return reply["content"]
        assert self.proc is not None
        signal_group(self.proc, signal.SIGINT)
        return None

    def signal_interrupt(self) -> None:
        """SIGINT to the kernel's process group (what `interrupt()` does for interrupt_mode 'signal')."""
        if self.proc is not None and self.proc.poll() is None:
            signal_group(self.proc, signal.SIGINT)

    async def change_dir(self, path: str, timeout: float = 10.0) -> None:
        """Move a running Python kernel to `path` (used when a pooled kernel is handed over).

        The cwd, `PWD` and the `sys.path` entry of the old cwd (a `python -m` start puts it first)
        all move, so `import helper` finds the notebook's own modules as in a fresh kernel.
        """
        code = CHANGE_DIR_CODE.format(path=str(path))
        reply = await self.control_client().execute(code, silent=True, store_history=False,
                                                    allow_stdin=False, reply=True, timeout=timeout)
        if reply["content"].get("status") != "ok":
            raise KernelError(f"The kernel could not change to {path}: {reply['content'].get('evalue')}")

    # ---- clients ----------------------------------------------------------------------------

    def client(self, **kwargs: Any) -> AsyncKernelClient:
        """A new async client connected to this kernel (it reports its cells to this manager)."""
        if self.connection_info is None:
            raise KernelError("The kernel was never started; call start() first.")
        kc = AsyncKernelClient(self.connection_info, cell_tracker=self.cells, **kwargs)
        if self.spec.interrupt_mode != "message":  # cancel's fallback interrupts as this manager does
            kc.interrupt_fallback = self.signal_interrupt
        return kc

    def blocking_client(self) -> BlockingKernelClient:
        """A new blocking client connected to this kernel."""
        return BlockingKernelClient(async_client=self.client())

    def control_client(self) -> AsyncKernelClient:
        """The manager's own client (readiness, shutdown, interrupt, heartbeat)."""
        if self._ctl is None:
            self._ctl = self.client()
            self._ctl.start_channels()
        return self._ctl

    # ---- files and exit ---------------------------------------------------------------------

    def _remove_files(self) -> None:
        if self.connection_file:
            Path(self.connection_file).unlink(missing_ok=True)
        info = self.connection_info
        if info is not None and info.transport == "ipc":
            for ch in ("shell", "iopub", "stdin", "control", "hb"):
                Path(f"{info.ip}-{getattr(info, ch + '_port')}").unlink(missing_ok=True)

    def cleanup_now(self) -> None:
        """Synchronous last resort (interpreter exit): TERM, then KILL the group; remove files."""
        proc = self.proc
        if proc is not None and proc.poll() is None:
            signal_group(proc, signal.SIGTERM)
            try:
                proc.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                pass
        if proc is not None:
            kill_group(proc)
        self._remove_files()
        self.state = KernelState.SHUTDOWN

    async def __aenter__(self) -> KernelManager:
        if not self.has_kernel:
            await self.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.shutdown()


@atexit.register
def _cleanup_at_exit() -> None:
    for km in list(_LIVE):
        km.cleanup_now()
