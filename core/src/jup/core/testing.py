"""Test doubles for plugin and frontend authors: a small real kernel, and its kernelspec.

`FakeKernel` speaks the real protocol on real sockets and runs Python with `exec`, so tests can make
it print, ask for input, raise, hang or die (`os._exit(3)`). Run it as a process with
`python -m jup.core.testing -f CONNECTION_FILE`, or in this process with `in_process()` + `pump()`
(the in-process contract of `jup.core.manager.inprocess`). It imports only zmq and the protocol.

`KernelProcess` runs any kernel command line as a process and connects jupyter_client to it, the
way Jupyter's own tools meet a kernel; `temporary_kernelspec` installs a spec for one test.
jupyter_client is a test dependency: imported by those two only, never by jup at run time.
"""

from __future__ import annotations

import ast
import contextlib
import os
import secrets
import signal
import sys
import threading
import traceback
from collections.abc import Iterator
from typing import Any

import zmq

from jup.core.protocol import messages as m
from jup.core.protocol.connection import ConnectionInfo
from jup.core.protocol.session import Session

#: the kernelspec name `fake_kernel_spec()` uses
FAKE_KERNEL_NAME = "jup-fake"


class _Stream:
    """sys.stdout/stderr replacement that publishes what the cell writes."""

    def __init__(self, kernel: FakeKernel, name: str):
        self.kernel, self.name = kernel, name

    def write(self, text: str) -> int:
        if text:
            self.kernel.publish("stream", m.stream(self.name, text))
        return len(text)

    def flush(self) -> None:
        pass


class FakeKernel:
    """A minimal Python kernel: shell on the calling thread, control and heartbeat on threads."""

    implementation = "jup-fake"

    def __init__(self, info: ConnectionInfo | None = None, context: zmq.Context | None = None):
        self.connection_info = info or ConnectionInfo.allocate()
        self.context = context or zmq.Context()
        self.session = Session(self.connection_info.key, self.connection_info.signature_scheme)
        self.namespace: dict[str, Any] = {"__name__": "__main__"}
        self.count = 0
        self.running = False
        self._iopub_lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._parent: dict = {}
        self._idents: list[bytes] = []

    # ---- sockets ---------------------------------------------------------------------------

    @classmethod
    def in_process(cls) -> FakeKernel:
        """A started kernel on inproc:// endpoints, reached by clients sharing `kernel.context`."""
        info = ConnectionInfo(transport="inproc", ip="jup-fake-" + secrets.token_hex(4))
        for i, ch in enumerate(("shell", "iopub", "stdin", "control", "hb"), 1):
            setattr(info, f"{ch}_port", i)
        kernel = cls(info)
        kernel.bind()
        return kernel

    def _url(self, ch: str) -> str:
        info = self.connection_info
        if info.transport == "inproc":
            return f"inproc://{info.ip}-{getattr(info, ch + '_port')}"
        return info.url(ch)

    def bind(self) -> None:
        """Bind the five sockets and start the control and heartbeat threads."""
        ctx = self.context
        self.shell = ctx.socket(zmq.ROUTER)
        self.iopub = ctx.socket(zmq.PUB)
        self.stdin = ctx.socket(zmq.ROUTER)
        for s, ch in ((self.shell, "shell"), (self.iopub, "iopub"), (self.stdin, "stdin")):
            s.linger = 0
            s.bind(self._url(ch))
        self.running = True
        ctl = ctx.socket(zmq.ROUTER)
        ctl.linger = 0
        ctl.bind(self._url("control"))
        hb = ctx.socket(zmq.REP)
        hb.linger = 0
        hb.bind(self._url("hb"))
        for target, sock in ((self._serve_control, ctl), (self._serve_hb, hb)):
            t = threading.Thread(target=target, args=(sock,), daemon=True)
            t.start()
            self._threads.append(t)

    def publish(self, msg_type: str, content: dict, parent: dict | None = None) -> None:
        """Send on iopub (thread-safe) with the current request as parent."""
        msg = self.session.msg(msg_type, content, parent if parent is not None else self._parent)
        with self._iopub_lock:
            self.iopub.send_multipart(self.session.serialize(msg, [msg_type.encode()]))

    # ---- shell, on the caller's thread ------------------------------------------------------

    def pump(self, timeout: float = 0.0) -> bool:
        """Handle the shell requests that arrive within `timeout` s, running code on this thread;
        True if one was handled."""
        if not self.running or not self.shell.poll(int(timeout * 1000)):
            return False
        handled = False
        while self.running and self.shell.poll(0):  # bounded by the queued requests
            got = self.session.recv(self.shell, zmq.NOBLOCK)
            if got is None:
                continue
            self._handle_shell(*got)
            handled = True
        return handled

    def serve_forever(self) -> None:
        """Serve until a shutdown_request, or until the process that started it (JPY_PARENT_PID)
        is gone: a test that dies before its teardown must not leave fake kernels running."""
        parent = int(os.environ.get("JPY_PARENT_PID") or 0)
        while self.running:
            try:
                self.pump(0.1)
            except KeyboardInterrupt:  # an interrupt while idle: nothing to stop
                pass
            if parent and os.getppid() != parent:  # re-parented: our parent exited
                self.running = False

    def _reply(self, idents: list[bytes], parent: dict, msg_type: str, content: dict) -> None:
        self.session.send(self.shell, msg_type, content, parent, idents)

    def _handle_shell(self, idents: list[bytes], msg: dict) -> None:
        t, c = msg["msg_type"], msg["content"]
        self._parent, self._idents = msg, idents
        self.publish("status", m.status("busy"))
        try:
            if t == "execute_request":
                self._reply(idents, msg, "execute_reply", self._execute(c))
            elif t == "kernel_info_request":
                self._reply(idents, msg, "kernel_info_reply", m.kernel_info_reply(
                    self.implementation, "0.1", {"name": "python", "version": sys.version.split()[0],
                                                 "mimetype": "text/x-python", "file_extension": ".py"}))
            elif t == "complete_request":
                code = c["code"][: c.get("cursor_pos", len(c["code"]))]
                word = code.split()[-1] if code.split() else ""
                names = sorted(n for n in list(self.namespace) + dir(__builtins__) if n.startswith(word))
                pos = len(code)
                self._reply(idents, msg, "complete_reply", m.complete_reply(names, pos - len(word), pos))
            elif t == "inspect_request":
                name = c["code"].strip()
                found = name in self.namespace
                data = {"text/plain": repr(self.namespace[name])} if found else {}
                self._reply(idents, msg, "inspect_reply", m.inspect_reply(found, data))
            elif t == "is_complete_request":
                try:
                    ast.parse(c["code"])
                    st = "complete"
                except SyntaxError:
                    st = "incomplete" if c["code"].rstrip().endswith(":") else "invalid"
                self._reply(idents, msg, "is_complete_reply", m.is_complete_reply(st, "    "))
            elif t == "history_request":
                self._reply(idents, msg, "history_reply", m.history_reply([]))
            elif t == "comm_info_request":
                self._reply(idents, msg, "comm_info_reply", m.comm_info_reply({}))
        finally:
            self.publish("status", m.status("idle"))

    def _input(self, prompt: str = "") -> str:
        if not self._parent.get("content", {}).get("allow_stdin", True):
            raise RuntimeError("input() is not allowed: this frontend does not support stdin.")
        self.session.send(self.stdin, "input_request", m.input_request(str(prompt)), self._parent,
                          self._idents)
        for _ in range(100_000):  # waits for the user; bounded so a lost frontend cannot pin us
            got = self.session.recv(self.stdin)
            if got is not None and got[1]["msg_type"] == "input_reply":
                return got[1]["content"]["value"]
        raise EOFError("no input_reply")

    def _execute(self, c: dict) -> dict:
        if not c.get("silent"):
            self.count += 1
            self.publish("execute_input", m.execute_input(c["code"], self.count))
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = _Stream(self, "stdout"), _Stream(self, "stderr")
        self.namespace["input"] = self._input
        try:
            tree = ast.parse(c["code"])
            last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
            exec(compile(tree, "<cell>", "exec"), self.namespace)
            if last is not None:
                value = eval(compile(ast.Expression(last.value), "<cell>", "eval"), self.namespace)
                if value is not None and not c.get("silent"):
                    self.publish("execute_result", m.execute_result(self.count, {"text/plain": repr(value)}))
            ue = {k: {"status": "ok", "data": {"text/plain": repr(eval(v, self.namespace))}, "metadata": {}}
                  for k, v in (c.get("user_expressions") or {}).items()}
            return m.execute_reply("ok", self.count, ue)
        except BaseException as e:  # the user's error, reported as the protocol says
            if isinstance(e, SystemExit):
                raise
            tb = traceback.format_exception(type(e), e, e.__traceback__)
            self.publish("error", m.error(type(e).__name__, str(e), tb))
            return m.execute_reply("error", self.count, ename=type(e).__name__, evalue=str(e), traceback=tb)
        finally:
            sys.stdout, sys.stderr = saved

    # ---- control and heartbeat, on threads -------------------------------------------------

    def _serve_control(self, sock: zmq.Socket) -> None:
        if self.connection_info.transport != "inproc":
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        while self.running:
            if not sock.poll(100):
                continue
            got = self.session.recv(sock)
            if got is None:
                continue
            idents, msg = got
            t = msg["msg_type"]
            if t == "interrupt_request":
                if self.connection_info.transport == "inproc":  # never signal the host process
                    content = m.interrupt_reply("error", evalue="an in-process kernel cannot be interrupted")
                else:  # SIGINT is blocked on this thread, so the main thread gets it
                    os.kill(os.getpid(), signal.SIGINT)
                    content = m.interrupt_reply("ok")
                self.session.send(sock, "interrupt_reply", content, msg, idents)
            elif t == "shutdown_request":
                self.session.send(sock, "shutdown_reply", m.shutdown_reply(msg["content"].get("restart", False)),
                                  msg, idents)
                self.running = False
            elif t == "kernel_info_request":
                self.session.send(sock, "kernel_info_reply", m.kernel_info_reply(
                    self.implementation, "0.1", {"name": "python"}), msg, idents)
        sock.close(linger=0)

    def _serve_hb(self, sock: zmq.Socket) -> None:
        if self.connection_info.transport != "inproc":
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        while self.running:
            if sock.poll(100):
                sock.send(sock.recv())
        sock.close(linger=0)

    def close(self) -> None:
        """Stop the threads and close the sockets."""
        self.running = False
        for t in self._threads:
            t.join(timeout=2)
        for s in (self.shell, self.iopub, self.stdin):
            s.close(linger=0)


def fake_kernel_spec(interrupt_mode: str = "signal"):
    """The kernelspec of `FakeKernel` as a process (in-process factory included)."""
    from jup.core.kernelspec import KernelSpec
    return KernelSpec(name=FAKE_KERNEL_NAME, display_name="Fake (jup testing)", language="python",
                      argv=[sys.executable, "-m", "jup.core.testing", "-f", "{connection_file}"],
                      interrupt_mode=interrupt_mode, source="plugin",
                      inprocess_factory="jup.core.testing:FakeKernel.in_process")


class KernelProcess:
    """`argv + ["-f", CONNECTION_FILE]` as a process in `workdir`, with a ready jupyter_client
    `BlockingKernelClient` as `.kc`; the kernel's stderr goes to `workdir/kernel.stderr`.
    `env` adds to this process's environment; a value of None removes that variable.

    Ports are picked free but bound only by the kernel, so on a busy machine another process can
    take one in between: a kernel that dies of that is started again on fresh ports (up to
    `START_ATTEMPTS` times), as `KernelManager.start` does."""

    START_ATTEMPTS = 3

    def __init__(self, argv: list[str], workdir: str | os.PathLike, env: dict | None = None, *,
                 kernel_name: str = "", timeout: float = 30.0, cwd: str | os.PathLike | None = None):
        from pathlib import Path

        workdir = Path(workdir)
        self.stderr_path = workdir / "kernel.stderr"
        self.kc = self.proc = None
        for attempt in range(1, self.START_ATTEMPTS + 1):
            try:
                died = self._start(argv, workdir, env, kernel_name, timeout, cwd)
            except BaseException:  # nothing of a failed start may stay behind
                if self.kc is not None:
                    self.stop()
                elif self.proc is not None and self.proc.poll() is None:
                    self.proc.kill()
                    self.proc.wait(5)
                raise
            if not died:
                return
            tail = self.stderr_path.read_text(errors="replace")[-2000:]
            lost_a_port = bool(self.info.ports_in_use()) or "Address already in use" in tail
            self.stop()
            if not lost_a_port or attempt == self.START_ATTEMPTS:
                why = "exited" if self.proc.returncode is not None else f"did not start within {timeout} s"
                raise RuntimeError(f"kernel {argv} {why}: {tail}")

    def _start(self, argv: list[str], workdir: Any, env: dict | None, kernel_name: str,
               timeout: float, cwd: Any) -> bool:
        """Launch and wait until the kernel answers; True if it exited or timed out instead."""
        import subprocess
        import time

        from jupyter_client import BlockingKernelClient

        self.kc = self.proc = None
        self.info = info = ConnectionInfo.allocate(kernel_name=kernel_name)
        self.connection_file = str(info.write(workdir / f"kernel-{secrets.token_hex(4)}.json"))
        self.stderr = open(self.stderr_path, "w")
        self.proc = subprocess.Popen([*argv, "-f", self.connection_file], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=self.stderr,
                                     env={k: v for k, v in {**os.environ, **(env or {})}.items()
                                          if v is not None}, cwd=cwd)
        self.kc = BlockingKernelClient()
        self.kc.load_connection_file(self.connection_file)
        self.kc.start_channels()
        deadline = time.monotonic() + timeout
        while True:  # in slices, so that a kernel that exited is noticed within ~1 s, not at the end
            try:
                self.kc.wait_for_ready(timeout=max(0.5, min(1.0, deadline - time.monotonic())))
                return False
            except RuntimeError:
                if self.proc.poll() is not None or time.monotonic() >= deadline:
                    return True

    def reply(self, get: Any, msg_id: str, timeout: float = 10.0) -> dict:
        """The message answering `msg_id` from `get` (e.g. `kc.get_shell_msg`), others skipped."""
        import time
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = get(timeout=max(0.01, deadline - time.monotonic()))
            if msg["parent_header"].get("msg_id") == msg_id:
                return msg
        raise AssertionError(f"no reply to {msg_id} within {timeout} s")

    def shell_reply(self, msg_id: str, timeout: float = 10.0) -> dict:
        return self.reply(self.kc.get_shell_msg, msg_id, timeout)

    def control_reply(self, msg_id: str, timeout: float = 10.0) -> dict:
        return self.reply(self.kc.get_control_msg, msg_id, timeout)

    def send_control(self, msg_type: str, content: dict | None = None) -> str:
        """Send a control request; its msg_id."""
        msg = self.kc.session.msg(msg_type, content or {})
        self.kc.control_channel.send(msg)
        return msg["header"]["msg_id"]

    def control(self, msg_type: str, content: dict | None = None, timeout: float = 10.0) -> dict:
        """Send a control request and return its reply."""
        return self.control_reply(self.send_control(msg_type, content), timeout)

    def iopub_until_idle(self, msg_id: str, timeout: float = 10.0) -> list[dict]:
        """The iopub messages of one request, through its status idle."""
        import time
        out: list[dict] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = self.kc.get_iopub_msg(timeout=max(0.01, deadline - time.monotonic()))
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            out.append(msg)
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                return out
        raise AssertionError(f"no idle for {msg_id}; got {[m['msg_type'] for m in out]}")

    def run(self, code: str, timeout: float = 10.0) -> tuple[dict, list[dict]]:
        """Execute `code`: (execute_reply content, the cell's iopub messages through idle)."""
        msg_id = self.kc.execute(code)
        reply = self.shell_reply(msg_id, timeout)
        return reply["content"], self.iopub_until_idle(msg_id, timeout)

    def stop(self) -> None:
        """shutdown_request, then kill if the kernel does not exit within 5 s; close the client."""
        if self.proc.poll() is None:
            try:
                self.control("shutdown_request", {"restart": False}, timeout=5)
                self.proc.wait(5)
            except Exception:
                self.proc.kill()
                self.proc.wait(5)
        self.kc.stop_channels()
        self.stderr.close()


@contextlib.contextmanager
def temporary_kernelspec(name: str, spec: dict) -> Iterator[str]:
    """Install kernelspec `spec` (a kernel.json dict) as `name` in a temporary directory put first
    on JUPYTER_PATH, for the duration; yields that directory."""
    import json
    import tempfile
    saved = os.environ.get("JUPYTER_PATH")
    with tempfile.TemporaryDirectory() as tmp:
        spec_dir = os.path.join(tmp, "kernels", name)
        os.makedirs(spec_dir)
        with open(os.path.join(spec_dir, "kernel.json"), "w") as f:
            json.dump(spec, f)
        os.environ["JUPYTER_PATH"] = tmp + (os.pathsep + saved if saved else "")
        try:
            yield tmp
        finally:
            if saved is None:
                os.environ.pop("JUPYTER_PATH", None)
            else:
                os.environ["JUPYTER_PATH"] = saved


@contextlib.contextmanager
def first_port_taken(channel: str = "shell") -> Iterator[list]:
    """For the duration, the first `ConnectionInfo.allocate()` hands out a `channel` port that a
    listening socket of this process already holds (as another program may take a port between its
    pick and the kernel's bind); later allocations are the real ones. Yields the list of the
    ConnectionInfo objects handed out, in order."""
    import socket
    squatter = socket.socket()
    squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    squatter.bind(("127.0.0.1", 0))
    squatter.listen()
    taken = squatter.getsockname()[1]
    real = ConnectionInfo.__dict__["allocate"]
    handed: list = []

    def allocate(*args: Any, **kwargs: Any) -> ConnectionInfo:
        info = real.__func__(ConnectionInfo, *args, **kwargs)
        if not handed:
            setattr(info, f"{channel}_port", taken)
        handed.append(info)
        return info

    ConnectionInfo.allocate = allocate  # type: ignore[method-assign]
    try:
        yield handed
    finally:
        ConnectionInfo.allocate = real  # type: ignore[method-assign]
        squatter.close()


def _stat(pid: str) -> tuple[int, int, str] | None:
    """(ppid, pgrp, state) of a process, from /proc."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            rest = f.read().rsplit(")", 1)[1].split()
        return int(rest[1]), int(rest[2]), rest[0]
    except (OSError, IndexError, ValueError):
        return None


def leftover_processes(pids: list[int]) -> list[tuple[int, str]]:
    """(pid, state) of every process still around that is one of `pids`, in their process groups,
    or a zombie child of this process: what a kernel manager must not leave behind (Linux).

    A dead grandchild waiting for init to reap it (state Z, not our child) is not counted: it is
    gone, and reaping orphans is init's job."""
    found = []
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        st = _stat(entry)
        if st is None:
            continue
        ppid, pgrp, state = st
        if state == "Z" and ppid != me:
            continue
        if int(entry) in pids or pgrp in pids or (ppid == me and state == "Z"):
            found.append((int(entry), state))
    return found


def main(argv: list[str] | None = None) -> int:
    """`python -m jup.core.testing -f CONNECTION_FILE`: serve until shutdown_request."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) != 2 or argv[0] != "-f":
        print("usage: python -m jup.core.testing -f CONNECTION_FILE", file=sys.stderr)
        return 2
    kernel = FakeKernel(ConnectionInfo.read(argv[1]))
    kernel.bind()
    kernel.serve_forever()
    kernel.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
