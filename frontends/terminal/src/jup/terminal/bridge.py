"""KernelBridge: the few kernel operations the shell needs, as awaitables, over a kernel client.

The shell never touches sockets or message ids: it asks the bridge to execute, complete, inspect...
The bridge runs one reader per channel and routes each message to whoever waits for its parent, so
output streams while a cell runs and a completion can be asked for at any time.

A client here is anything with the jupyter_client-style async API (`execute`, `complete`, ...
return a msg_id; `get_shell_msg`/`get_iopub_msg`/`get_stdin_msg` await the next message).
The process side (interrupt, restart, exit status) is a `KernelHandle`.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from jup.core.errors import KernelDied, KernelTimeout

EOF_ANSWER = "\x04"  #: the input_reply value for Ctrl-D: the kernel raises EOFError (ipykernel's convention)

OutputHook = Callable[[dict], None]
InputHook = Callable[[str, bool], Awaitable[str]]


class KernelHandle(Protocol):
    """The process side of a kernel: what a manager does (nothing, for an attached kernel)."""

    name: str

    async def interrupt(self) -> None: ...
    async def restart(self) -> None: ...
    async def shutdown(self) -> None: ...
    def returncode(self) -> int | None: ...
    def can_restart(self) -> bool: ...


async def maybe_await(value: Any) -> Any:
    """Await `value` if it is awaitable: clients differ in which calls are coroutines."""
    if inspect.isawaitable(value):
        return await value
    return value


class KernelBridge:
    """Requests and replies to one kernel, with its output routed to the cell that caused it."""

    def __init__(self, client: Any, handle: KernelHandle, sync_client: Any = None,
                 death_poll: float = 0.2):
        self.client = client
        self.handle = handle
        self.sync_client = sync_client
        self.kernel_info: dict = {}
        self.died: KernelDied | None = None
        self._death_poll = death_poll
        self._replies: dict[str, asyncio.Future] = {}
        self._iopub: dict[str, OutputHook] = {}
        self._idle: dict[str, asyncio.Event] = {}
        self._busy: dict[str, asyncio.Event] = {}
        self._input_hook: InputHook | None = None
        self._asking: asyncio.Future | None = None  # the input() question on screen, if any
        self._running_code: str | None = None
        self._tasks: list[asyncio.Task] = []
        self._watcher: asyncio.Task | None = None
        self.other_output: OutputHook | None = None  #: output from other clients' cells
        self.running_started: asyncio.Event | None = None  #: set when the kernel says it is busy with our cell
        self.executor: Any = None  #: runs cells itself (in-process kernels), else None
        self.execution_count = 0  #: the kernel's count after our last cell
        self.held_back: dict | None = None  #: the last cell's execute_reply metadata `jup` (output past its budget)
        self.on_death: Callable[[KernelDied], None] | None = None  #: told as soon as the kernel dies

    # ---- lifecycle ------------------------------------------------------------------------------

    @property
    def language_info(self) -> dict:
        return self.kernel_info.get("language_info", {})

    async def start(self, timeout: float = 30.0) -> dict:
        """Start the channel readers and wait until the kernel answers kernel_info and its status
        messages reach our iopub reader (a fresh subscriber misses what is published before it
        joins: a `-c` cell's whole output, on a kernel that answers quickly)."""
        loop = asyncio.get_running_loop()
        self._tasks = self._start_readers()
        self._watcher = loop.create_task(self._watch_process())
        await self.wait_ready(timeout)
        await self._wait_iopub()
        return self.kernel_info

    def _start_readers(self) -> list[asyncio.Task]:
        """One reader per channel. Not iopub when an executor runs the cells: it shows their output
        itself, and a second reader would only pile up (and warn about) a copy of a long output."""
        loop = asyncio.get_running_loop()
        channels = [(self.client.get_shell_msg, self._on_shell), (self.client.get_stdin_msg, self._on_stdin)]
        if self.executor is None:
            channels.append((self.client.get_iopub_msg, self._on_iopub))
        return [loop.create_task(self._pump(get, handle)) for get, handle in channels]

    async def wait_ready(self, timeout: float = 30.0) -> None:
        """Ask kernel_info until answered (a fresh kernel may drop the first request)."""
        deadline = asyncio.get_running_loop().time() + timeout
        attempt = 0.5
        while True:
            self._check_dead()
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise KernelTimeout(f"The {self.handle.name} kernel did not answer within {timeout:.0f} s; "
                                    "check that it starts on its own (`jupyter kernelspec list`).")
            try:
                self.kernel_info = await self.request("kernel_info", timeout=min(attempt, left))
                return
            except KernelTimeout:
                attempt = min(attempt * 2, 5.0)

    async def close(self, shutdown: bool = True) -> None:
        """Stop the readers and, if we own the kernel, shut it down."""
        if self._watcher is not None:
            self._tasks.append(self._watcher)
            self._watcher = None
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            try:
                await t
            except (asyncio.CancelledError, Exception):
                pass
        self._tasks = []
        if shutdown:
            try:
                await self.handle.shutdown()
            except Exception:
                pass
        stop = getattr(self.client, "stop_channels", None)
        if stop:
            await maybe_await(stop())
        if self.sync_client is not None:
            try:
                self.sync_client.stop_channels()
            except Exception:
                pass

    # ---- readers --------------------------------------------------------------------------------

    async def _pump(self, get: Callable[..., Awaitable[dict]], handle: Callable[[dict], Any]) -> None:
        while True:
            msg = await get()
            try:
                result = handle(msg)
                if inspect.isawaitable(result):
                    await result
            except Exception as e:  # a bad message must not stop the reader
                import sys
                print(f"[jup terminal] could not handle a {msg.get('msg_type')} message: {e}", file=sys.stderr)

    def _parent(self, msg: dict) -> str | None:
        return (msg.get("parent_header") or {}).get("msg_id")

    def _on_shell(self, msg: dict) -> None:
        fut = self._replies.pop(self._parent(msg) or "", None)
        if fut is not None and not fut.done():
            fut.set_result(msg)

    def _on_iopub(self, msg: dict) -> None:
        parent = self._parent(msg)
        hook = self._iopub.get(parent or "")
        if msg.get("msg_type") == "status":
            state = msg["content"].get("execution_state")
            if state == "idle" and parent in self._idle:
                self._idle[parent].set()
            elif state == "busy" and parent in self._busy:
                self._busy[parent].set()
            return
        if hook is not None:
            hook(msg)
        elif self.other_output is not None:
            self.other_output(msg)

    async def _on_stdin(self, msg: dict) -> None:
        if msg.get("msg_type") != "input_request":
            return
        content = msg["content"]
        value = ""
        if self._input_hook is not None:
            # a task of its own, so that the cell's end (or the kernel's death) can take the question away
            asking = self._asking = asyncio.ensure_future(
                _ask(self._input_hook, content.get("prompt", ""), bool(content.get("password"))))
            try:
                value = await asking
            except _CtrlC:  # Ctrl-C at the prompt: KeyboardInterrupt in the cell, no answer
                await self.interrupt()
                return
            except EOFError:  # Ctrl-D: input() raises EOFError in the cell
                value = EOF_ANSWER
            except asyncio.CancelledError:
                if asking.cancelled() and not _cancelling():  # the question was withdrawn, not this reader
                    return
                raise
            finally:
                self._asking = None
        await maybe_await(self.client.input(value))

    def _withdraw_question(self) -> asyncio.Future | None:
        """The kernel no longer waits for an answer: take the input prompt off the screen. Returns
        the question's task to await (its prompt must let go of the terminal before another asks)."""
        asking = self._asking
        if asking is None or asking.done():
            return None
        asking.cancel()
        return asking

    async def _watch_process(self) -> None:
        while self.died is None:
            code = self.handle.returncode()
            if code is not None:
                self._mark_dead(code)
                return
            await asyncio.sleep(self._death_poll)  # polling the process, not synchronising a test

    def _mark_dead(self, code: int) -> None:
        self.mark_dead(KernelDied(code, cell=self._running_code, kernel_name=f"{self.handle.name} kernel"))

    def mark_dead(self, died: KernelDied) -> None:
        """The kernel process ended (the manager says why): fail whatever waits on it."""
        self.died = died
        if self.on_death is not None:
            self.on_death(died)
        for fut in list(self._replies.values()):
            if not fut.done():
                fut.set_exception(self.died)
        self._replies.clear()
        for ev in self._idle.values():
            ev.set()
        self._withdraw_question()

    def _check_dead(self) -> None:
        if self.died is not None:
            raise self.died

    # ---- requests -------------------------------------------------------------------------------

    async def request(self, method: str, *args: Any, timeout: float | None = 10.0, **kw: Any) -> dict:
        """Send a shell request (`client.<method>(...)`) and return the reply's content."""
        self._check_dead()
        msg_id = await maybe_await(getattr(self.client, method)(*args, **kw))
        fut = asyncio.get_running_loop().create_future()
        self._replies[msg_id] = fut
        try:
            reply = await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            self._replies.pop(msg_id, None)
            self._check_dead()
            raise KernelTimeout(f"The kernel did not answer {method} within {timeout} s.") from None
        return reply["content"]

    async def execute(self, code: str, output: OutputHook, input_hook: InputHook | None = None,
                      silent: bool = False, store_history: bool = True) -> dict:
        """Run `code`; every output message goes to `output` as it arrives. Returns the reply content."""
        self._check_dead()
        self.held_back = None
        if self.executor is not None:  # blocks this loop while the user's code runs on this thread
            content = self.executor.run(code, output, allow_stdin=input_hook is not None, silent=silent,
                                        store_history=store_history)
            self.execution_count = content.get("execution_count") or self.execution_count
            if store_history and not silent:
                self.held_back = _held_in_process(self.executor, content.get("execution_count"))
            return content
        msg_id = await maybe_await(self.client.execute(code, silent=silent, store_history=store_history,
                                                       allow_stdin=input_hook is not None))
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        idle = asyncio.Event()
        self._busy[msg_id] = self.running_started = asyncio.Event()
        self._replies[msg_id], self._iopub[msg_id], self._idle[msg_id] = fut, output, idle
        self._input_hook, self._running_code = input_hook, code
        try:
            reply = await fut
            if not idle.is_set():  # output sent before the reply may still be in flight
                try:
                    await asyncio.wait_for(idle.wait(), 2.0)
                except TimeoutError:
                    pass
            self.execution_count = reply["content"].get("execution_count") or self.execution_count
            self.held_back = (reply.get("metadata") or {}).get("jup")  # output past the cell's budget
            return reply["content"]
        finally:
            asking = self._withdraw_question()
            if asking is not None:
                await asyncio.wait({asking}, timeout=5.0)
            self._iopub.pop(msg_id, None)
            self._idle.pop(msg_id, None)
            self._busy.pop(msg_id, None)
            self._replies.pop(msg_id, None)
            self._input_hook = self._running_code = None

    async def complete(self, code: str, cursor_pos: int, timeout: float = 3.0) -> dict:
        return await self.request("complete", code, cursor_pos, timeout=timeout)

    async def inspect(self, code: str, cursor_pos: int, detail_level: int = 0, timeout: float = 3.0) -> dict:
        return await self.request("inspect", code, cursor_pos, detail_level, timeout=timeout)

    async def history_tail(self, n: int = 1000) -> list[str]:
        """The kernel's most recent inputs, oldest first (empty if the kernel keeps none)."""
        try:
            reply = await self.request("history", raw=True, output=False, hist_access_type="tail",
                                       n=n, timeout=5.0)
        except KernelTimeout:
            return []
        out = []
        for entry in reply.get("history") or []:
            if isinstance(entry, (list, tuple)) and len(entry) >= 3:
                src = entry[2][0] if isinstance(entry[2], (list, tuple)) else entry[2]
                if isinstance(src, str) and src.strip():
                    out.append(src)
        return out

    def is_complete_now(self, code: str, timeout: float = 1.0) -> dict | None:
        """is_complete answered synchronously (for the Enter key), or None if it cannot be asked."""
        if self.executor is not None and self.died is None:  # an in-process kernel: ask it directly
            ask = getattr(self.executor, "is_complete", None)
            return ask(code) if ask is not None else None
        if self.sync_client is None or self.died is not None:
            return None
        try:
            reply = self.sync_client.is_complete(code, reply=True, timeout=timeout)
        except Exception:
            return None
        return reply.get("content")

    async def interrupt(self) -> None:
        await self.handle.interrupt()

    async def restart(self, timeout: float = 30.0) -> dict:
        """Restart the kernel process and wait until it answers again; history in the shell stays."""
        await self.handle.restart()
        self.died = None
        fresh = getattr(self.handle, "fresh_client", None)
        if fresh is not None:  # an in-process kernel is a new object: reconnect the readers
            for t in self._tasks:
                t.cancel()
            await maybe_await(getattr(self.client, "stop_channels", lambda: None)())
            self.client = fresh()
            self._tasks = self._start_readers()
        if self._watcher is None or self._watcher.done():
            self._watcher = asyncio.get_running_loop().create_task(self._watch_process())
        await self.wait_ready(timeout)
        await self._wait_iopub()
        return self.kernel_info

    async def _wait_iopub(self, timeout: float = 5.0) -> None:
        """Wait until the kernel's status messages reach our iopub reader: a new or restarted
        kernel answers on shell before our subscriber has (re)connected, and the next cell's output
        would be lost. Gives up quietly after `timeout` (output may then start late, not fail)."""
        if self.executor is not None:  # in-process: the executor checks this per cell
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        for attempt in range(1, 50):
            left = deadline - loop.time()
            if left <= 0:
                return
            msg_id = await maybe_await(self.client.kernel_info())
            idle = self._idle[msg_id] = asyncio.Event()
            self._replies[msg_id] = loop.create_future()  # the reply is expected, not stray
            try:
                await asyncio.wait_for(idle.wait(), min(0.1 * attempt, left))
                return
            except TimeoutError:
                continue
            finally:
                self._idle.pop(msg_id, None)
                self._replies.pop(msg_id, None)


class _CtrlC(Exception):
    """Ctrl-C at an input prompt, carried out of its task as an ordinary exception (asyncio stops
    the whole loop on a KeyboardInterrupt that leaves a task)."""


async def _ask(hook: InputHook, prompt: str, password: bool) -> str:
    try:
        return await hook(prompt, password)
    except KeyboardInterrupt:
        raise _CtrlC() from None


def _cancelling() -> bool:
    """Whether the running task itself is being cancelled (not just something it awaited)."""
    task = asyncio.current_task()
    return bool(task is not None and task.cancelling())


def _held_in_process(executor: Any, count: int | None) -> dict | None:
    """What an in-process kernel's budget held back of cell `count` (the execute_reply metadata's
    `jup` field, which the in-process executor does not pass on)."""
    kernel = getattr(getattr(executor, "km", None), "kernel", None)
    if not count or not hasattr(kernel, "held_output"):
        return None
    try:
        n, msg_id, files = kernel.held_output(count)
    except LookupError:
        return None
    import os
    sizes = {name: os.path.getsize(p) for name, p in files.items() if os.path.exists(p)}
    return {"held_back": sizes, "output_id": msg_id, "execution_count": n}
