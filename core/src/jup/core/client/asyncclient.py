"""The asyncio kernel client: jupyter_client's method names on `zmq.asyncio` sockets.

Request methods send and return the msg_id, or with `reply=True` wait for and return the reply, so
`await kc.execute("1+1", reply=True)` reads like jupyter_client's blocking client. Replies are
routed by parent msg_id (see `channels`), so many requests can be in flight at once.
"""

from __future__ import annotations

import asyncio
import getpass
import inspect as _inspect
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import zmq
import zmq.asyncio

from jup.core.errors import KernelError, KernelTimeout
from jup.core.protocol import messages as m
from jup.core.protocol.connection import ConnectionInfo
from jup.core.protocol.session import Session
from jup.core.protocol.wire import enable_fast_json

from .channels import Channel

Hook = Callable[[dict], Any] | Callable[[dict], Awaitable[Any]]

#: Seconds a kernel has to answer its first cancel_request before it is taken not to know it.
CANCEL_KNOWN_WITHIN = 1.0


def endpoint(info: ConnectionInfo, channel: str) -> str:
    """The zmq endpoint of one channel, including the in-process `inproc` transport."""
    if info.transport == "inproc":
        return f"inproc://{info.ip}-{getattr(info, channel + '_port')}"
    return info.url(channel)


def as_connection_info(info: ConnectionInfo | dict | str | os.PathLike) -> ConnectionInfo:
    """Accept what users have at hand: a ConnectionInfo, a dict, or a connection file path."""
    if isinstance(info, ConnectionInfo):
        return info
    if isinstance(info, dict):
        return ConnectionInfo.from_dict(info)
    return ConnectionInfo.read(info)


def _unknown_type_error(content: dict) -> bool:
    """Whether a reply is a kernel's "I do not know this message type" error."""
    if content.get("status") != "error":
        return False
    text = f"{content.get('ename', '')} {content.get('evalue', '')}".lower()
    return any(w in text for w in ("unknown", "unsupported", "not supported", "not implemented"))


def default_output_hook(msg: dict) -> None:
    """Print a cell's output the way a terminal user expects (stream, results, errors)."""
    t, c = msg["msg_type"], msg["content"]
    if t == "stream":
        (sys.stdout if c.get("name") != "stderr" else sys.stderr).write(c.get("text", ""))
    elif t in ("execute_result", "display_data", "update_display_data"):
        text = c.get("data", {}).get("text/plain")
        if text is not None:
            sys.stdout.write(text + "\n")
    elif t == "error":
        sys.stderr.write("\n".join(c.get("traceback") or [f"{c.get('ename')}: {c.get('evalue')}"]) + "\n")


def default_stdin_hook(msg: dict) -> str:
    """Answer input() in the kernel from this process's terminal."""
    c = msg["content"]
    return getpass.getpass(c.get("prompt", "")) if c.get("password") else input(c.get("prompt", ""))


class AsyncKernelClient:
    """Talks to one kernel over its five channels. Use from one event loop.

    `cell_tracker`, if given, is a dict the client fills with {msg_id: code} for executes in
    flight (a KernelManager passes its own, to say which cell ran when the kernel died).
    """

    def __init__(self, connection_info: ConnectionInfo | dict | str | os.PathLike,
                 session: Session | None = None, context: zmq.Context | None = None,
                 cell_tracker: dict[str, str] | None = None):
        self.connection_info = info = as_connection_info(connection_info)
        enable_fast_json()  # ~2 ms once asyncio is loaded; every message is then ~10x cheaper to code
        import hmac  # noqa: F401  OpenSSL's HMAC: ~2x faster signing than the built-in SHA-256
        self.session = session or Session(info.key, info.signature_scheme)
        if context is None:
            context = zmq.asyncio.Context.instance()
        elif not isinstance(context, zmq.asyncio.Context):
            context = zmq.asyncio.Context.shadow(context)  # same C context: inproc works
        self.context = context
        self.cell_tracker = cell_tracker
        self.allow_stdin = True
        self._channels: dict[str, Channel] = {}
        self._hb: Any = None
        #: how `cancel` interrupts a kernel that does not know cancel_request (None: interrupt_request)
        self.interrupt_fallback: Callable[[], Any] | None = None
        self._cancel_known: bool | None = None  # does the kernel answer cancel_request?

    # ---- lifecycle --------------------------------------------------------------------------

    def start_channels(self) -> None:
        """Connect the sockets (cheap; the kernel need not be up yet: zmq queues until it is)."""
        if self._channels:
            return
        ident = self.session.session_id.encode()
        for name, kind in (("shell", zmq.DEALER), ("control", zmq.DEALER), ("stdin", zmq.DEALER),
                           ("iopub", zmq.SUB)):
            s = self.context.socket(kind)
            s.linger = 0
            if name in ("shell", "stdin"):
                s.identity = ident  # the kernel routes input_request by the shell identity
            if kind == zmq.SUB:
                s.setsockopt(zmq.SUBSCRIBE, b"")
            s.connect(endpoint(self.connection_info, name))
            self._channels[name] = Channel(
                name, s, self.session, self._track if name == "shell" and self.cell_tracker is not None else None)

    @property
    def channels_running(self) -> bool:
        return bool(self._channels)

    def stop_channels(self) -> None:
        """Close every socket; pending requests are cancelled."""
        for ch in self._channels.values():
            ch.close()
        self._channels.clear()
        if self._hb is not None:
            self._hb.close(linger=0)
            self._hb = None

    close = stop_channels

    async def __aenter__(self) -> AsyncKernelClient:
        self.start_channels()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.stop_channels()

    def _track(self, msg: dict) -> None:
        if msg["msg_type"] == "execute_reply" and self.cell_tracker is not None:
            self.cell_tracker.pop(msg["parent_header"].get("msg_id"), None)

    def _ch(self, name: str) -> Channel:
        if not self._channels:
            self.start_channels()
        return self._channels[name]

    # ---- sending ----------------------------------------------------------------------------

    async def _request(self, channel: str, msg_type: str, content: dict, reply: bool,
                       timeout: float | None) -> str | dict:
        ch = self._ch(channel)
        msg = self.session.msg(msg_type, content)
        msg_id = msg["header"]["msg_id"]
        fut = ch.expect_reply(msg_id) if reply else None
        await ch.socket.send_multipart(self.session.serialize(msg))
        if fut is None:
            return msg_id
        return await ch.wait_reply(fut, msg_id, timeout, msg_type)

    async def execute(self, code: str, silent: bool = False, store_history: bool = True,
                      user_expressions: dict | None = None, allow_stdin: bool | None = None,
                      stop_on_error: bool = True, reply: bool = False,
                      timeout: float | None = None) -> str | dict:
        """Run code; the msg_id, or the execute_reply with `reply=True`."""
        if allow_stdin is None:
            allow_stdin = self.allow_stdin
        content = m.execute_request(code, silent, store_history, user_expressions, allow_stdin,
                                    stop_on_error)
        ch = self._ch("shell")
        msg = self.session.msg("execute_request", content)
        msg_id = msg["header"]["msg_id"]
        if self.cell_tracker is not None:
            if len(self.cell_tracker) > 1000:  # replies nobody read: forget the oldest
                self.cell_tracker.pop(next(iter(self.cell_tracker)))
            self.cell_tracker[msg_id] = code
        fut = ch.expect_reply(msg_id) if reply else None
        await ch.socket.send_multipart(self.session.serialize(msg))
        if fut is None:
            return msg_id
        return await ch.wait_reply(fut, msg_id, timeout, "execute_request")

    async def complete(self, code: str, cursor_pos: int | None = None, reply: bool = False,
                       timeout: float | None = None) -> str | dict:
        """Ask for completions at `cursor_pos` (default: end of code)."""
        return await self._request("shell", "complete_request", m.complete_request(code, cursor_pos),
                                   reply, timeout)

    async def inspect(self, code: str, cursor_pos: int | None = None, detail_level: int = 0,
                      reply: bool = False, timeout: float | None = None) -> str | dict:
        """Ask for help on the object at `cursor_pos`."""
        return await self._request("shell", "inspect_request",
                                   m.inspect_request(code, cursor_pos, detail_level), reply, timeout)

    async def history(self, raw: bool = True, output: bool = False, hist_access_type: str = "range",
                      reply: bool = False, timeout: float | None = None, **kwargs: Any) -> str | dict:
        """Ask for input history ('range', 'tail' or 'search'; kwargs as in the protocol)."""
        return await self._request("shell", "history_request",
                                   m.history_request(hist_access_type, output, raw, **kwargs), reply, timeout)

    async def is_complete(self, code: str, reply: bool = False,
                          timeout: float | None = None) -> str | dict:
        """Ask whether `code` is a complete statement (for a console's Enter key)."""
        return await self._request("shell", "is_complete_request", m.is_complete_request(code),
                                   reply, timeout)

    async def kernel_info(self, reply: bool = False, timeout: float | None = None) -> str | dict:
        """Ask for the kernel's language and implementation."""
        answer = await self._request("shell", "kernel_info_request", {}, reply, timeout)
        if reply:
            self._learn_extensions(answer)
        return answer

    def _learn_extensions(self, reply: dict) -> None:
        """What a kernel_info_reply says about jup's control extensions: a jup kernel lists the ones
        it answers; a kernel without the list (ipykernel, IRkernel...) answers none of them."""
        content = reply.get("content") if isinstance(reply, dict) else None
        if not isinstance(content, dict) or content.get("status", "ok") != "ok":
            return
        jup = content.get("jup")
        listed = jup.get("control_extensions") if isinstance(jup, dict) else None
        self._cancel_known = isinstance(listed, list) and "cancel_request" in listed

    async def comm_info(self, target_name: str | None = None, reply: bool = False,
                        timeout: float | None = None) -> str | dict:
        """List the kernel's open comms, optionally for one target."""
        return await self._request("shell", "comm_info_request", m.comm_info_request(target_name),
                                   reply, timeout)

    async def shutdown(self, restart: bool = False, reply: bool = False,
                       timeout: float | None = None) -> str | dict:
        """Ask the kernel to exit (on control, so a busy kernel hears it)."""
        return await self._request("control", "shutdown_request", m.shutdown_request(restart),
                                   reply, timeout)

    async def interrupt(self, reply: bool = False, timeout: float | None = None) -> str | dict:
        """Ask the kernel to stop the running cell (for kernels with interrupt_mode 'message')."""
        return await self._request("control", "interrupt_request", {}, reply, timeout)

    async def cancel(self, msg_id: str, reply: bool = False, timeout: float | None = None,
                     known_within: float = CANCEL_KNOWN_WITHIN) -> str | dict:
        """Drop one queued execute (jup extension; see docs/protocol.md) without stopping the running one.

        With `reply=True`, a kernel that does not know `cancel_request` (no answer within
        `known_within` s, or an error reply naming an unknown message type) gets the usual Jupyter
        abort instead: the running cell is interrupted, so the kernel aborts the executes queued
        behind it (stop_on_error). The returned reply then says so: `cancelled` False,
        `fallback` "interrupt", `interrupt` (the interrupt_reply status, "signal" or "no reply")
        and a `note` for the user. Later cancels on this client go to the fallback at once, and
        so does the first when the client has the kernel's kernel_info (`wait_for_ready` asks for
        it): a jup kernel lists `cancel_request` among its control extensions there.
        """
        if not reply:
            return await self._request("control", "cancel_request", m.cancel_request(msg_id), False, None)
        if self._cancel_known is not False:
            wait = known_within if self._cancel_known is None else timeout
            if timeout is not None:
                wait = min(wait, timeout) if wait is not None else timeout
            try:
                answer = await self._request("control", "cancel_request", m.cancel_request(msg_id), True, wait)
            except KernelTimeout:
                if self._cancel_known:  # it knew it before: slow now, not ignorant
                    raise
                answer = None
            if answer is not None and not _unknown_type_error(answer["content"]):
                self._cancel_known = True
                return answer
        fallback = await self._cancel_by_interrupt(msg_id, timeout)
        if fallback["content"]["interrupt"] != "no reply":  # alive yet silent on cancel: it does not
            self._cancel_known = False                      # know it (a stuck kernel is left unjudged)
        return fallback

    async def _cancel_by_interrupt(self, msg_id: str, timeout: float | None) -> dict:
        """The abort every Jupyter kernel knows: interrupt the running cell (see `cancel`)."""
        if self.interrupt_fallback is not None:
            self.interrupt_fallback()
            how = "signal"
        else:
            try:
                answer = await self.interrupt(reply=True, timeout=timeout if timeout is not None else 5.0)
                how = answer["content"].get("status", "ok")
            except KernelTimeout:
                how = "no reply"
        content = {"status": "ok", "cancelled": False, "fallback": "interrupt", "interrupt": how, "note": (
            "This kernel does not support jup's cancel_request, so the running cell was interrupted "
            "instead; the kernel aborts the cells queued behind it (those sent with stop_on_error, "
            "the default), including the one to cancel.")}
        return self.session.msg("cancel_reply", content, metadata={"jup_cancel_target": msg_id})

    async def fetch_output(self, msg_id: str, name: str | None = None, offset: int = 0,
                           size: int = 1 << 20, timeout: float = 5.0) -> dict:
        """One chunk of the output a cell's budget held back (jup extension; see docs/protocol.md).

        `msg_id` is the cell's execute_request msg_id (its execute_reply metadata's
        `jup.output_id`). Returns the output_reply content: `text`, `next_offset`, `total`, `eof`.
        Raises KernelError when the kernel has nothing for that cell, KernelTimeout when it does not
        answer (kernels without the extension, such as ipykernel, stay silent).
        """
        try:
            reply = await self._request("control", "output_request",
                                        m.output_request(msg_id, name, offset, size), True, timeout)
        except KernelTimeout:
            raise KernelTimeout(f"The kernel did not answer output_request within {timeout} s: it may "
                                "not support fetching held-back output (a jup extension), or be "
                                "dead.") from None
        content = reply["content"]
        if content.get("status") != "ok":
            raise KernelError(f"The kernel could not return that output: "
                              f"{content.get('evalue') or content.get('ename') or 'unknown error'}")
        return content

    async def input(self, string: str) -> None:
        """Answer the kernel's input_request."""
        ch = self._ch("stdin")
        await ch.socket.send_multipart(self.session.serialize(self.session.msg("input_reply",
                                                                             m.input_reply(string))))

    # ---- receiving --------------------------------------------------------------------------

    async def get_shell_msg(self, timeout: float | None = None) -> dict:
        """The next unclaimed shell reply (KernelTimeout after `timeout` s)."""
        return await self._ch("shell").get(timeout)

    async def get_iopub_msg(self, timeout: float | None = None) -> dict:
        """The next iopub message not routed to an execute_interactive call."""
        return await self._ch("iopub").get(timeout)

    async def get_stdin_msg(self, timeout: float | None = None) -> dict:
        """The next input_request."""
        return await self._ch("stdin").get(timeout)

    async def get_control_msg(self, timeout: float | None = None) -> dict:
        """The next unclaimed control reply."""
        return await self._ch("control").get(timeout)

    # ---- heartbeat and readiness ------------------------------------------------------------

    async def heartbeat(self, timeout: float = 1.0) -> bool:
        """True if the kernel echoes a ping within `timeout` seconds."""
        if self._hb is None:
            self._hb = self.context.socket(zmq.REQ)
            self._hb.linger = 0
            self._hb.setsockopt(zmq.REQ_RELAXED, 1)
            self._hb.setsockopt(zmq.REQ_CORRELATE, 1)
            self._hb.connect(endpoint(self.connection_info, "hb"))
        await self._hb.send(b"ping")
        try:
            async with asyncio.timeout(timeout):
                await self._hb.recv()
            return True
        except TimeoutError:
            return False

    is_alive = heartbeat

    async def wait_for_ready(self, timeout: float | None = 60.0) -> dict:
        """Wait until the kernel answers kernel_info and iopub is connected; the kernel_info_reply.

        A SUB socket misses what is published before its subscription arrives, so the iopub
        status of our own request is awaited too (retrying, bounded by `timeout`).
        """
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        iopub, shell = self._ch("iopub"), self._ch("shell")
        iopub.ensure_reader()
        assert iopub.welcomed is not None
        # a welcome from before (e.g. from the kernel before a restart) proves nothing now; if this
        # subscription was welcomed already, our request's status arrives instead
        iopub.welcomed.clear()
        for attempt in range(1000):
            left = None if deadline is None else deadline - loop.time()
            if left is not None and left <= 0:
                break
            msg = self.session.msg("kernel_info_request", {})
            msg_id = msg["header"]["msg_id"]
            sub = iopub.subscribe(msg_id)
            fut = shell.expect_reply(msg_id)
            await shell.socket.send_multipart(self.session.serialize(msg))
            try:
                reply = await shell.wait_reply(fut, msg_id, None if left is None else max(left, 0.01),
                                               "kernel_info_request")
                try:  # the reply came, so iopub's status (or its welcome) should be close behind
                    # short first waits: a subscription that has not joined yet is the usual
                    # cause, and asking again is cheaper than waiting long for a lost status
                    async with asyncio.timeout(min(0.02 * 2 ** attempt, 1.0)):
                        await _first_of(sub.get(), iopub.welcomed.wait())
                    self._learn_extensions(reply)
                    return reply
                except TimeoutError:
                    continue
            except KernelTimeout:
                break
            finally:
                iopub.unsubscribe(msg_id)
        raise KernelTimeout(f"The kernel was not ready within {timeout} s (no kernel_info_reply with "
                            "iopub status); check that it started and that the connection file matches.")

    # ---- the high-level call ----------------------------------------------------------------

    async def execute_interactive(self, code: str, silent: bool = False, store_history: bool = True,
                                  user_expressions: dict | None = None, allow_stdin: bool | None = None,
                                  stop_on_error: bool = True, timeout: float | None = None,
                                  output_hook: Hook | None = None,
                                  stdin_hook: Hook | None = None) -> dict:
        """Run code, hand each of its iopub messages to `output_hook` (default: print them) and
        answer its input() calls with `stdin_hook` (default: this terminal); the execute_reply.
        A stdin hook returns the answer, or calls `client.input()` itself and returns None.

        Only this cell's messages reach the hook; it returns once the reply came and the kernel
        went idle. KernelTimeout after `timeout` seconds.
        """
        if allow_stdin is None:
            allow_stdin = stdin_hook is not None or (self.allow_stdin and sys.stdin is not None
                                                     and sys.stdin.isatty())
        output_hook = output_hook or default_output_hook
        stdin_hook = stdin_hook or default_stdin_hook
        shell, iopub = self._ch("shell"), self._ch("iopub")
        content = m.execute_request(code, silent, store_history, user_expressions, allow_stdin, stop_on_error)
        msg = self.session.msg("execute_request", content)
        msg_id = msg["header"]["msg_id"]
        if self.cell_tracker is not None:
            self.cell_tracker[msg_id] = code
        sub = iopub.subscribe(msg_id)
        fut = shell.expect_reply(msg_id)
        stdin_task = None
        if allow_stdin:
            stdin_task = asyncio.get_running_loop().create_task(self._serve_stdin(msg_id, stdin_hook))
        await shell.socket.send_multipart(self.session.serialize(msg))
        try:
            async with asyncio.timeout(timeout):
                while True:  # ends at this cell's idle status; bounded by `timeout`
                    out = await sub.get()
                    if out["msg_type"] == "status":
                        if out["content"].get("execution_state") == "idle":
                            break
                        continue
                    r = output_hook(out)
                    if _inspect.isawaitable(r):
                        await r
                return await fut
        except TimeoutError:
            shell.waiters.pop(msg_id, None)
            raise KernelTimeout(f"The cell did not finish within {timeout} s; interrupt the kernel or "
                                "raise the timeout.") from None
        finally:
            iopub.unsubscribe(msg_id)
            if stdin_task is not None:
                stdin_task.cancel()

    async def _serve_stdin(self, msg_id: str, hook: Hook) -> None:
        stdin = self._ch("stdin")
        sub = stdin.subscribe(msg_id)
        loop = asyncio.get_running_loop()
        try:
            while True:  # until the cell ends (cancelled by execute_interactive)
                req = await sub.get()
                if req["msg_type"] != "input_request":
                    continue
                if _inspect.iscoroutinefunction(hook):
                    value = await hook(req)
                elif hook is default_stdin_hook:
                    value = await loop.run_in_executor(None, hook, req)
                else:
                    value = hook(req)
                    if _inspect.isawaitable(value):
                        value = await value
                if value is not None:  # None: the hook answered with client.input() itself
                    await self.input(str(value))
        finally:
            stdin.unsubscribe(msg_id)


async def _first_of(*aws: Any) -> None:
    """Wait until any of the awaitables is done; cancel the others."""
    tasks = [asyncio.ensure_future(a) for a in aws]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for t in tasks:
            t.cancel()
