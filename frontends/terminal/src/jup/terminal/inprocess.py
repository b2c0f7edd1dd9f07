"""Running cells on an in-process kernel: user code on this (the main) thread, I/O on a helper thread.

An in-process kernel runs a cell inside `pump()` on the caller's thread, which blocks our event loop
for as long as the cell runs. So while the main thread pumps, a helper thread sends the request,
shows output as it arrives and answers `input()` from the terminal; Ctrl-C raises KeyboardInterrupt
right in the user's code, as in plain Python.
"""

from __future__ import annotations

import signal
import sys
import threading
import uuid
from collections.abc import Callable
from typing import Any

import zmq

from jup.core.protocol import Session
from jup.core.protocol.connection import ConnectionInfo
from jup.core.protocol.messages import execute_request

InputReader = Callable[..., str]


def terminal_input(prompt: str, password: bool, abandoned: Callable[[], bool] = lambda: False) -> str:
    """Answer input()/getpass() on the real terminal (the cell's sys.stdout is the kernel's): at a
    prompt_toolkit prompt on a tty, else a plain line from the piped stdin.

    Gives up (EOFError) when `abandoned()` turns true, e.g. the cell ended while we waited.
    """
    from jup.terminal.lineinput import ask_line_blocking, terminal_is_interactive
    if terminal_is_interactive():
        return ask_line_blocking(prompt, password, abandoned)
    # piped: a password is read like any line (a pipe echoes nothing); not with getpass, which
    # the in-process kernel points at itself while the cell runs
    import select
    out, inp = sys.__stdout__, sys.__stdin__
    out.write(prompt)
    out.flush()
    while True:  # until a line is typed or the cell no longer waits for one
        ready, _, _ = select.select([inp], [], [], 0.1)
        if ready:
            break
        if abandoned():
            out.write("\n")
            raise EOFError("the cell ended while waiting for input")
    line = inp.readline()
    if not line:
        raise EOFError("end of input")
    return line.rstrip("\n")


class InProcessKernel:
    """A started in-process kernel without jup.core's manager and clients (and so without asyncio):
    what a batch run needs, `kernel` and `pump`, as InProcessKernelManager offers them."""

    def __init__(self, kernel: Any):
        self.kernel = kernel

    def pump(self, timeout: float = 0.0) -> bool:
        return bool(self.kernel.pump(timeout))

    def close(self) -> None:
        if self.kernel is not None:
            self.kernel.close()
            self.kernel = None


def start_in_process(name: str = "python") -> InProcessKernel | None:
    """Start kernel `name` in this process from its kernelspec's `inprocess_factory`; None if there is
    no such kernel, it has no factory or the factory fails (the caller then uses the general path,
    which reports why)."""
    import importlib

    from jup.core.kernelspec import get_kernel_spec

    try:
        path = get_kernel_spec(name).inprocess_factory
        if not path:
            return None
        module, _, attr = path.partition(":")
        factory: Any = importlib.import_module(module)
        for part in attr.split(".") if attr else []:
            factory = getattr(factory, part)
        if isinstance(factory, type) and hasattr(factory, "in_process"):
            factory = factory.in_process  # a kernel class (kernelbase.Kernel style)
        return InProcessKernel(factory())
    except Exception:
        return None


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _info(kernel: Any) -> ConnectionInfo:
    info = kernel.connection_info
    return info if isinstance(info, ConnectionInfo) else ConnectionInfo.from_dict(dict(info))


class InProcessExecutor:
    """Executes cells on an in-process kernel; one helper thread per cell."""

    def __init__(self, km: Any, read_input: InputReader = terminal_input, pump_slice: float = 0.02):
        self.km = km
        self.read_input = read_input
        self.pump_slice = pump_slice
        self._runner: int | None = None  # the main thread's id while it runs a cell (Ctrl-C goes there)

    def is_complete(self, code: str) -> dict | None:
        """The kernel's own is_complete answer (it knows `%%cell` magics, `!cmd`...), asked of the kernel
        object directly: it lives in this process and is idle while the person types. None if it
        cannot say, so the caller guesses."""
        ask = getattr(getattr(self.km, "kernel", None), "do_is_complete", None)
        if ask is None:
            return None
        try:
            reply = ask(code)
        except Exception:
            return None
        if not isinstance(reply, dict) or reply.get("status") not in ("complete", "incomplete", "invalid"):
            return None
        return reply

    def run(self, code: str, output: Callable[[dict], None], allow_stdin: bool = True,
            silent: bool = False, store_history: bool = True) -> dict:
        """Run `code`; returns the execute_reply content once its output has been shown."""
        result: dict[str, Any] = {}
        done = threading.Event()
        worker = threading.Thread(target=self._work, name="jup-terminal-io", daemon=True,
                                  args=(code, output, allow_stdin, silent, store_history, result, done))
        worker.start()
        # asyncio.run's own SIGINT handler only cancels the main task: while user code runs here,
        # Ctrl-C must raise KeyboardInterrupt in it, as in plain Python
        previous = signal.signal(signal.SIGINT, signal.default_int_handler) if _main_thread() else None
        self._runner = threading.get_ident() if previous is not None else None
        try:
            while not done.is_set():  # ends when the helper saw the reply and idle (or failed)
                try:
                    self.km.pump(self.pump_slice)
                except KeyboardInterrupt:  # Ctrl-C between two requests: nothing of the user's to stop
                    pass
        finally:
            self._runner = None
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
        worker.join(timeout=5)
        if "error" in result:
            raise result["error"]
        return result["reply"]

    def _work(self, code: str, output: Callable[[dict], None], allow_stdin: bool, silent: bool,
              store_history: bool, result: dict, done: threading.Event) -> None:
        kernel = self.km.kernel
        info = _info(kernel)
        session = Session(info.key, info.signature_scheme)
        ctx: zmq.Context = kernel.context
        ident = uuid.uuid4().hex.encode()
        socks = []

        def connect(kind: int, channel: str) -> zmq.Socket:
            s = ctx.socket(kind)
            s.linger = 0
            if kind == zmq.DEALER:
                s.identity = ident
            else:
                s.setsockopt(zmq.SUBSCRIBE, b"")
            s.connect(f"inproc://{info.ip}-{getattr(info, channel + '_port')}")
            socks.append(s)
            return s

        try:
            shell, stdin, iopub = connect(zmq.DEALER, "shell"), connect(zmq.DEALER, "stdin"), connect(zmq.SUB, "iopub")
            self._handshake(session, shell, iopub)
            req = session.send(shell, "execute_request", execute_request(
                code, silent=silent, store_history=store_history, allow_stdin=allow_stdin))
            result["reply"] = self._follow(session, req, shell, stdin, iopub, output)
        except BaseException as e:  # handed to the main thread, which raises it
            result["error"] = e
        finally:
            for s in socks:
                s.close(linger=0)
            done.set()
            wake = getattr(kernel, "call_on_main", None)  # end the main thread's wait in pump() now,
            if wake is not None:  # not a pump slice later (20 ms on every cell)
                wake(lambda: None)

    def _handshake(self, session: Session, shell: zmq.Socket, iopub: zmq.Socket) -> None:
        """Ask kernel_info until its status shows on our iopub socket: then no output can be missed."""
        for attempt in range(50):
            msg = session.send(shell, "kernel_info_request", {})
            if iopub.poll(int(100 * (attempt + 1))):
                got = session.recv(iopub)
                for _ in range(1000):  # drain what arrived, bounded
                    if got is not None and got[1]["parent_header"].get("msg_id") == msg["msg_id"]:
                        break
                    if not iopub.poll(200):
                        break
                    got = session.recv(iopub)
                while shell.poll(500):  # the kernel_info_reply(s)
                    session.recv(shell)
                    if not shell.poll(0):
                        break
                return
        raise TimeoutError("The in-process kernel did not answer kernel_info.")

    def _answer(self, request: dict, shell: zmq.Socket) -> str | None:
        """The input_reply value for an input_request, or None when no reply is due: Ctrl-C
        interrupted the cell, or the cell ended while we asked."""
        from jup.terminal.lineinput import EOF_ANSWER
        prompt, password = request.get("prompt", ""), bool(request.get("password"))
        try:
            if self.read_input is terminal_input:
                return terminal_input(prompt, password, abandoned=lambda: bool(shell.poll(0)))
            return self.read_input(prompt, password)
        except KeyboardInterrupt:  # Ctrl-C at the prompt: KeyboardInterrupt in the cell, as in IPython
            if self._runner is not None:
                signal.pthread_kill(self._runner, signal.SIGINT)
                return None
            return ""  # no thread of ours to interrupt: end the wait with an empty answer
        except EOFError:  # Ctrl-D or the end of piped input: EOFError in the cell
            return None if shell.poll(0) else EOF_ANSWER

    def _follow(self, session: Session, req: dict, shell: zmq.Socket, stdin: zmq.Socket,
                iopub: zmq.Socket, output: Callable[[dict], None]) -> dict:
        poller = zmq.Poller()
        for s in (shell, stdin, iopub):
            poller.register(s, zmq.POLLIN)
        msg_id = req["msg_id"]
        reply: dict | None = None
        idle = False
        while reply is None or not idle:  # for as long as the cell runs
            events = dict(poller.poll(100))
            if iopub in events:
                got = session.recv(iopub)
                if got is not None and got[1]["parent_header"].get("msg_id") == msg_id:
                    m = got[1]
                    if m["msg_type"] == "status":
                        idle = idle or m["content"].get("execution_state") == "idle"
                    else:
                        output(m)
            if stdin in events:
                got = session.recv(stdin)
                if got is not None and got[1]["msg_type"] == "input_request":
                    value = self._answer(got[1]["content"], shell)
                    if value is not None:
                        session.send(stdin, "input_reply", {"value": value}, parent=got[1])
            if shell in events:
                got = session.recv(shell)
                if got is not None and got[1]["parent_header"].get("msg_id") == msg_id:
                    reply = got[1]["content"]
        return reply
