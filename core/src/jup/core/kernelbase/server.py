"""`Kernel`: the kernel-side server of the Jupyter protocol that every Python-implemented jup kernel
subclasses. See the package docstring (`jup.core.kernelbase`) for the contract.

Threads: the I/O thread owns the sockets and answers kernel_info, control and comm_info itself;
introspection (complete, inspect, is_complete, history) runs on worker threads under a deadline;
execute and comm messages go to a queue that the MAIN thread drains (`serve`, or `pump` in-process).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import zmq

from jup.core.errors import ProtocolError
from jup.core.kernelbase.comm import CommManager
from jup.core.kernelbase.io_thread import (
    CONTROL,
    IOPUB,
    SHELL,
    STDIN,
    Heartbeat,
    IOThread,
    block_signals_here,
    kernel_log,
    log_to_fd,
)
from jup.core.kernelbase.iostream import (
    MAX_CHUNK,
    OutputBudget,
    OutStream,
    current_parent,
    route_thread_output_to_starting_cell,
)
from jup.core.protocol.messages import PROTOCOL_VERSION, new_id, now_iso
from jup.core.protocol.session import Session

# published before any of the cell's code ran: no C-level output of the cell can precede them
_NO_FD_SYNC = frozenset({"status", "execute_input"})

#: set to "1" by jup's kernel launcher: the manager wrote the connection file, so if the manager dies
#: (JPY_PARENT_PID gone) the kernel removes the file on its way out; nobody else would.
OWN_CONNECTION_FILE_ENV = "JUP_OWN_CONNECTION_FILE"


class StdinNotImplementedError(RuntimeError):
    """The frontend that sent this cell cannot answer input requests (its allow_stdin was false)."""


def _env_number(name: str, default: float) -> float:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return float(value)
    except ValueError:
        kernel_log().warning("ignoring %s=%r: it must be a number", name, value)
        return default


class _MainQueue:
    """Execute and comm messages waiting for the main thread; cancel-able by msg_id."""

    def __init__(self) -> None:
        self._items: deque = deque()
        self._cond = threading.Condition()
        self.stopped = False
        #: called (from the putting thread) after each put and on stop: wakes an idle waiter
        self.waker: Any = None

    def __len__(self) -> int:
        return len(self._items)

    def put(self, item: tuple) -> None:
        with self._cond:
            self._items.append(item)
            self._cond.notify()
        self._wake()

    def stop(self) -> None:
        with self._cond:
            self.stopped = True
            self._cond.notify_all()
        self._wake()

    def _wake(self) -> None:
        waker = self.waker
        if waker is not None:
            try:
                waker()
            except Exception:  # a closed event loop: the main thread notices it on its own
                pass

    def get(self, timeout: float | None) -> tuple | None:
        """Next item, or None on timeout or stop."""
        with self._cond:
            if not self._items and not self.stopped:
                if timeout is None:
                    while not self._items and not self.stopped:
                        self._cond.wait(1.0)
                elif timeout > 0:
                    self._cond.wait(timeout)
            if self.stopped or not self._items:
                return None
            return self._items.popleft()

    def remove(self, msg_id: str) -> tuple | None:
        """Take out the queued execute with this msg_id (None if it is not waiting)."""
        with self._cond:
            for item in self._items:
                if item[0] is None:  # a call_on_main function
                    continue
                if item[1]["header"].get("msg_id") == msg_id and item[1]["msg_type"] == "execute_request":
                    self._items.remove(item)
                    return item
        return None

    def take_executes(self) -> list[tuple]:
        """Remove and return every queued execute_request (comm messages stay)."""
        with self._cond:
            taken = [i for i in self._items if i[0] is not None and i[1]["msg_type"] == "execute_request"]
            if taken:
                self._items = deque(i for i in self._items
                                    if i[0] is None or i[1]["msg_type"] != "execute_request")
            return taken


class _Job:
    """One introspection request: replied once, by the worker or by the deadline's fallback."""

    __slots__ = ("idents", "msg", "replied", "lock", "partial")

    def __init__(self, idents: list, msg: dict):
        self.idents, self.msg = idents, msg
        self.replied = False
        self.partial: dict | None = None  # what the kernel found so far (Kernel.partial_reply)
        self.lock = threading.Lock()

    def claim(self) -> bool:
        with self.lock:
            if self.replied:
                return False
            self.replied = True
            return True


class _Introspector:
    """Worker threads for introspection; a stuck worker is left behind and a fresh one takes over."""

    MAX_WORKERS = 4

    def __init__(self, kernel: Kernel):
        self.kernel = kernel
        self._jobs: deque = deque()
        self._cond = threading.Condition()
        self._idle = 0
        self._workers = 0

    def submit(self, job: _Job) -> bool:
        """Queue a job; False if every worker is stuck (the caller replies with the fallback)."""
        with self._cond:
            if self._idle == 0:
                if self._workers >= self.MAX_WORKERS:
                    return False
                self._workers += 1
                threading.Thread(target=self._work, name=f"jup-introspect-{self._workers}",
                                 daemon=True).start()
            self._jobs.append(job)
            self._cond.notify()
        return True

    def _work(self) -> None:
        block_signals_here()
        while True:
            with self._cond:
                self._idle += 1
                while not self._jobs:
                    self._cond.wait()
                self._idle -= 1
                job = self._jobs.popleft()
            self.kernel._run_introspection(job)


class Kernel:
    """Base class of Python-implemented kernels: override the `do_*` methods, call the services."""

    implementation = "jup-kernel"
    implementation_version = "0.1.0"
    language_info: dict = {"name": "text", "mimetype": "text/plain", "file_extension": ".txt"}
    banner = ""
    help_links: list = []

    #: Characters of text output per cell before the rest is held back (0 = unlimited).
    output_budget: int = int(_env_number("JUP_OUTPUT_BUDGET", 5_000_000))
    #: Keep the files with held-back cell output after the kernel exits (env JUP_KEEP_OUTPUT_FILES=1).
    keep_output_files: bool = os.environ.get("JUP_KEEP_OUTPUT_FILES", "") not in ("", "0")
    #: Seconds an introspection request may take before it is answered without a result.
    introspection_deadline: float = _env_number("JUP_INTROSPECTION_DEADLINE", 1.0)
    #: Seconds an interrupted cell has to stop before interrupt_reply says it could not be stopped.
    interrupt_grace: float = _env_number("JUP_INTERRUPT_GRACE", 1.0)
    #: Seconds stream output may wait before it is sent.
    flush_interval: float = 0.05
    #: Capture file descriptors 1 and 2 (C code, subprocesses) in the running cell (not in-process).
    capture_fds: bool = True
    #: GIL switch interval (s) of a kernel process: how soon the I/O thread gets to answer control
    #: messages while a cell computes in Python (CPython's default, 5 ms, delays every interrupt).
    switch_interval: float = 0.001
    #: Redelivers a SIGINT whose handler CPython left pending (see interrupt_watch); set by `main`.
    _interrupt_watch: Any = None
    #: Called on the main thread each time it has waited `idle_interval` s with nothing to run
    #: (a GUI toolkit's events, a background warm-up); None, the main thread sleeps until work comes.
    idle_hook: Any = None
    idle_interval: float = 0.05
    #: Waits for the next request in place of the main thread's plain wait, so that work of the
    #: kernel's own (an event loop's tasks) runs while idle: `wait(timeout)` runs on the main
    #: thread until `wake()` is called (from any thread; a wake before `wait` makes it return at
    #: once) or `timeout` s (None: no limit) passed. None: the main thread sleeps on the queue.
    #: If it has `run(fn)`, comm messages and `call_on_main` functions are run as `run(handler)`
    #: (inside its event loop, so that their code can start tasks); executes are not.
    idle_waiter: Any = None

    def __init__(self, connection_info: Any, *, context: zmq.Context | None = None,
                 in_process: bool = False):
        info = connection_info if isinstance(connection_info, dict) else connection_info.to_dict()
        self.connection_info: dict = dict(info)
        self.in_process = in_process
        self.context: zmq.Context = context or zmq.Context()
        self._own_context = context is None
        self.session = Session(key=info.get("key", ""), signature_scheme=info.get("signature_scheme",
                                                                                  "hmac-sha256"),
                               username="kernel")
        self.execution_count = 0
        self.parent: dict | None = None
        self.payloads: list[dict] = []
        self.comm_manager = CommManager(self.publish)
        self._parent_idents: list = []
        self._allow_stdin = False
        self._queue = _MainQueue()
        self._introspector = _Introspector(self)
        self._introspection_job = threading.local()
        self._in_cell = False
        self._main_busy = False
        self._executing = False  # an execute is between busy and its reply
        self._interrupt_requested = False
        self._cell_seq = 0
        self._pending_interrupts: list = []
        self._input_lock = threading.Lock()
        self._input_wait: list | None = None  # [threading.Event, value]
        self._stopping = False
        self.shut_down = threading.Event()
        self._main_ident = threading.main_thread().ident
        self._pump_ident: int | None = None
        self._output_dir: str | None = None
        self._fd_captures: list = []
        self._sync_fds: Any = None  # fdcapture.sync_all, imported only when fds are captured
        self._host_streams: tuple | None = None  # in-process, during a cell: the host's stdout/stderr
        self._parent_pid = int(os.environ.get("JPY_PARENT_PID") or 0)
        self._ppid = os.getppid()
        #: the connection file to remove if the parent dies (set by `main` when our manager wrote it)
        self._own_connection_file: str | None = None
        self._budget = OutputBudget(self.output_budget, self._output_directory)
        self.io: IOThread | None = None
        self.heartbeat: Heartbeat | None = None
        self.stdout: OutStream | None = None
        self.stderr: OutStream | None = None

    # ---- start and stop -----------------------------------------------------------------------

    def _url(self, channel: str) -> str:
        info = self.connection_info
        port = info.get(f"{channel}_port", 0)
        transport = info.get("transport", "tcp")
        if transport == "tcp":
            return f"tcp://{info.get('ip', '127.0.0.1')}:{port}"
        return f"{transport}://{info['ip']}-{port}"

    def start(self) -> None:
        """Bind the sockets and start the I/O and heartbeat threads; returns at once."""
        urls = {ch: self._url(ch) for ch in ("shell", "control", "stdin", "iopub")}
        self.io = IOThread(self.context, urls, self._on_frames,
                           housekeeping=None if self.in_process else self._watch_parent)
        self.heartbeat = Heartbeat(self.context, self._url("hb"))
        if self.connection_info.get("transport", "tcp") == "tcp":
            for ch in ("shell", "control", "stdin", "iopub"):
                self.connection_info[f"{ch}_port"] = int(self.io.urls[ch].rsplit(":", 1)[1])
            self.connection_info["hb_port"] = int(self.heartbeat.url.rsplit(":", 1)[1])
        self.io.start()
        self.heartbeat.start()
        fd1 = fd2 = None
        if self.capture_fds and not self.in_process:
            from jup.core.kernelbase.fdcapture import FdCapture, sync_all
            self._sync_fds = sync_all
            sys.stdout.flush()
            sys.stderr.flush()
            self._fd_captures = [FdCapture(1, self._fd_writer("stdout")),
                                 FdCapture(2, self._fd_writer("stderr"))]
            fd1, fd2 = 1, 2
        host_out = host_err = None
        if self.in_process:
            host_out, host_err = self._host_stream(0), self._host_stream(1)
        self.stdout = OutStream("stdout", self._send_stream, self.io.call_later, self._current_parent,
                                self._budget, self.flush_interval, fileno=fd1, host=host_out)
        self.stderr = OutStream("stderr", self._send_stream, self.io.call_later, self._current_parent,
                                self._budget, self.flush_interval, fileno=fd2, host=host_err)
        route_thread_output_to_starting_cell()
        if not self.in_process:
            sys.stdout, sys.stderr = self.stdout, self.stderr
        self.publish("status", {"execution_state": "starting"}, parent={})

    def _host_stream(self, index: int):
        """In-process: the host's stream for writes from its own threads (not started by a cell)."""
        def host() -> Any:
            saved = self._host_streams
            if saved is None or threading.get_ident() == self._pump_ident:
                return None
            return saved[index]
        return host

    def _fd_writer(self, name: str):
        def write(text: str) -> None:
            stream = self.stdout if name == "stdout" else self.stderr
            if self.parent is None or stream is None:  # no cell yet: keep it on the original fd
                cap = self._fd_captures[0 if name == "stdout" else 1]
                os.write(cap.original, text.encode("utf-8", "replace"))
            else:
                stream.write(text, self.parent)
        return write

    def close(self) -> None:
        """Flush output, stop the threads, close the sockets and remove the kernel's output files."""
        for s in (self.stdout, self.stderr):
            if s is not None:
                s.flush()
        if not self.in_process and sys.stdout is self.stdout:
            sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
        for cap in self._fd_captures:
            cap.close()
        if self.io is not None:
            self.io.stop()
        hb_done = self.heartbeat.stop() if self.heartbeat is not None else True
        if self._own_context and hb_done and not self.in_process:
            self.context.term()  # in-process, the host's client sockets may still live in it
        self._remove_output_files()

    def _output_directory(self) -> str:
        if self._output_dir is None:
            from jup.core.paths import jupyter_runtime_dir
            self._output_dir = os.path.join(jupyter_runtime_dir(), f"jup-kernel-{os.getpid()}-{new_id()[:8]}")
        return self._output_dir

    def _remove_output_files(self) -> None:
        if self.keep_output_files:
            return
        if self._output_dir and os.path.isdir(self._output_dir):
            import shutil
            shutil.rmtree(self._output_dir, ignore_errors=True)

    def kernel_ready(self) -> None:
        """Called once on the main thread when the sockets are up, before the first execute."""

    # ---- the main thread ----------------------------------------------------------------------

    def serve(self) -> None:
        """Run queued executes on this (main) thread until shutdown."""
        self.kernel_ready()
        while not self._stopping:
            hook, waiter = self.idle_hook, self.idle_waiter
            timeout = None if hook is None else self.idle_interval
            if waiter is None:
                self._queue.waker = None
                item = self._queue.get(timeout)
            else:
                item = self._wait_in(waiter, timeout)
            if item is None:
                if self._queue.stopped or self._stopping:
                    break
                if hook is None:
                    if waiter is None:
                        break
                    continue
                try:
                    hook()
                except Exception as e:  # a broken hook must not end the kernel: drop it
                    self.idle_hook = None
                    sys.__stderr__.write(f"jup kernel: idle hook {hook!r} failed ({type(e).__name__}: "
                                         f"{e}); it is removed.\n")
                continue
            run = getattr(waiter, "run", None)
            if run is not None and (item[0] is None or item[1]["msg_type"] != "execute_request"):
                run(lambda item=item: self._handle_main(item))  # comm handlers on the waiter's loop
            else:
                self._handle_main(item)

    def _wait_in(self, waiter: Any, timeout: float | None) -> tuple | None:
        """Let `waiter` do the idle waiting; the next queued item, or None if there is none yet."""
        self._queue.waker = waiter.wake  # set before looking, so no put goes unnoticed
        item = self._queue.get(0)
        if item is not None or self._queue.stopped:
            return item
        try:
            waiter.wait(timeout)
        except KeyboardInterrupt:
            kernel_log().warning("an interrupt arrived between cells and was ignored")
        except Exception as e:  # a broken waiter must not end the kernel: wait plainly from now on
            self.idle_waiter = self._queue.waker = None
            sys.__stderr__.write(f"jup kernel: idle waiter {waiter!r} failed ({type(e).__name__}: "
                                 f"{e}); it is removed.\n")
        return self._queue.get(0)

    def pump(self, timeout: float = 0.0) -> int:
        """In-process mode: run what is queued on the calling thread, waiting up to `timeout` for the
        first item. Returns how many messages were handled."""
        self._pump_ident = threading.get_ident()
        n = 0
        item = self._queue.get(timeout)
        while item is not None:
            self._handle_main(item)
            n += 1
            item = self._queue.get(0)
        return n

    def call_on_main(self, fn: Any) -> None:
        """Run `fn()` on the main thread between cells, after the executes queued before it."""
        self._queue.put((None, fn))

    def _handle_main(self, item: tuple) -> None:
        idents, msg = item
        if idents is None:  # call_on_main
            try:
                msg()
            except KeyboardInterrupt:
                kernel_log().warning("an interrupt arrived between cells and was ignored")
            except Exception:
                kernel_log().exception("a call on the main thread failed")
            return
        kind = msg["msg_type"]
        try:
            if kind == "execute_request":
                self._execute(idents, msg)
            else:
                self._main_busy = True
                self.publish("status", {"execution_state": "busy"}, parent=msg)
                # what the handler sends or prints answers this comm message, not the last cell
                # (a widget's request_state reply; an interact callback's output in its Output widget)
                token = current_parent.set(msg)
                try:
                    getattr(self.comm_manager, kind)(msg)
                finally:
                    current_parent.reset(token)
                    self.publish("status", {"execution_state": "idle"}, parent=msg)
                    self._main_busy = False
        except KeyboardInterrupt:
            kernel_log().warning("an interrupt arrived between cells and was ignored")
        except Exception:  # a bug must not take the kernel down: say so and serve the next request
            kernel_log().exception("failed to handle a %s", kind)

    @contextmanager
    def _redirected(self) -> Iterator[None]:
        """In-process: route sys.stdout/stderr to the kernel only while a cell runs."""
        if not self.in_process:
            yield
            return
        saved = self._host_streams = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = self.stdout, self.stderr
        try:
            yield
        finally:
            sys.stdout, sys.stderr = saved
            self._host_streams = None

    def _execute(self, idents: list, msg: dict) -> None:
        content = msg["content"]
        code = content.get("code", "")
        silent = bool(content.get("silent", False))
        store_history = bool(content.get("store_history", True)) and not silent
        allow_stdin = bool(content.get("allow_stdin", True))
        self._cell_seq += 1
        self._interrupt_requested = False
        self._main_busy = self._executing = True
        self.parent, self._parent_idents, self._allow_stdin = msg, idents, allow_stdin
        token = current_parent.set(msg)
        self.payloads = []
        self.publish("status", {"execution_state": "busy"}, parent=msg)
        if store_history:
            self.execution_count += 1
        if not silent:
            self.publish("execute_input", {"code": code, "execution_count": self.execution_count},
                         parent=msg)
        started = now_iso()
        with self._redirected():
            try:
                self._in_cell = True
                if self._interrupt_requested:  # the interrupt came while the cell was starting
                    raise KeyboardInterrupt
                reply = self.do_execute(code, silent, store_history, content.get("user_expressions") or {},
                                        allow_stdin)
                self._in_cell = False
            except KeyboardInterrupt:
                self._in_cell = False
                reply = self._error_reply("KeyboardInterrupt", "interrupted",
                                          ["KeyboardInterrupt: the cell was interrupted"])
            except (Exception, SystemExit) as e:  # exit() in a cell is an error, not the kernel's end
                self._in_cell = False
                import traceback
                tb = traceback.format_exception(type(e), e, e.__traceback__)
                reply = self._error_reply(type(e).__name__, str(e), [line.rstrip("\n") for line in tb])
            finally:
                self._in_cell = False
                self._interrupt_requested = False
            self._end_cell_output(msg)
        reply = self._complete_execute_reply(reply)
        # stop_on_error aborts the executes received before this reply goes out, and only those:
        # a client that waits for the reply (or the idle below, sent after the aborts) and then
        # sends the next cell must see it run
        doomed = (self._queue.take_executes()
                  if reply["status"] == "error" and content.get("stop_on_error", True) else ())
        reply_meta = {"started": started, "status": reply["status"], "dependencies_met": True}
        held = self._held_back(msg)
        if held:
            reply_meta["jup"] = held
        self._send(SHELL, "execute_reply", reply, msg, idents, metadata=reply_meta)
        current_parent.reset(token)
        seq = self._cell_seq
        self._executing = False
        if self._pending_interrupts:  # an interrupt_reply waits for this cell to end
            self.io.call_soon(lambda: self._cell_finished(seq))
        for item in doomed:
            self._abort(*item)
        self.publish("status", {"execution_state": "idle"}, parent=msg)
        self._main_busy = False

    def _error_reply(self, ename: str, evalue: str, traceback: list[str]) -> dict:
        self.publish("error", {"ename": ename, "evalue": evalue, "traceback": traceback})
        return {"status": "error", "ename": ename, "evalue": evalue, "traceback": traceback}

    def _complete_execute_reply(self, reply: dict | None) -> dict:
        reply = dict(reply or {})
        reply.setdefault("status", "ok")
        reply["execution_count"] = self.execution_count
        if reply["status"] == "ok":
            reply.setdefault("user_expressions", {})
            reply.setdefault("payload", list(self.payloads))
        elif reply["status"] == "error":
            reply.setdefault("ename", "Error")
            reply.setdefault("evalue", "")
            reply.setdefault("traceback", [])
        return reply

    def _end_cell_output(self, msg: dict) -> None:
        if self._fd_captures:
            self._sync_fds(self._fd_captures)
        for s in (self.stdout, self.stderr):  # both flushed before either closes the cell's budget
            s.flush()
        for s in (self.stdout, self.stderr):
            s.finish_cell(msg)

    def _held_back(self, msg: dict) -> dict | None:
        """The execute_reply metadata's `jup` field when the cell's output passed its budget."""
        msg_id = msg["header"].get("msg_id", "")
        streams = self._budget.held.get(msg_id)
        if not streams:
            return None
        self._budget.label(msg_id, self.execution_count)
        sizes = {}
        for name, path in streams.items():
            try:
                sizes[name] = os.path.getsize(path)
            except OSError:
                pass
        return {"held_back": sizes, "output_id": msg_id, "execution_count": self.execution_count}

    def _abort(self, idents: list, msg: dict, status: bool = True) -> None:
        """Reply 'aborted' to an execute that will not run."""
        if status:
            self.publish("status", {"execution_state": "busy"}, parent=msg)
        self._send(SHELL, "execute_reply", {"status": "aborted", "execution_count": self.execution_count},
                   msg, idents, metadata={"status": "aborted"})
        if status:
            self.publish("status", {"execution_state": "idle"}, parent=msg)

    # ---- sending ------------------------------------------------------------------------------

    def _send(self, channel: int, msg_type: str, content: dict, parent: dict | None,
              idents: list | None = None, metadata: dict | None = None, buffers: list | None = None) -> None:
        self.io.send(channel, self.session.frames(msg_type, content, parent, idents, metadata, buffers))

    def _current_parent(self) -> dict | None:
        return current_parent.get() or self.parent

    def get_parent(self, channel: str | None = None) -> dict | None:
        """The request the running code answers (ipykernel's API): libraries such as the ipywidgets
        Output widget read its header's msg_id to have the frontend route that output to them."""
        return self._current_parent()

    def _send_stream(self, name: str, text: str, parent: dict | None) -> None:
        self._send(IOPUB, "stream", {"name": name, "text": text}, parent)

    def publish(self, msg_type: str, content: dict, parent: dict | None = None,
                metadata: dict | None = None, buffers: list | None = None) -> None:
        """Send a message on iopub (from any thread), after the stream output written before it."""
        if msg_type not in _NO_FD_SYNC:
            if self._fd_captures:  # C-level output written before this message comes first
                self._sync_fds(self._fd_captures)
            for s in (self.stdout, self.stderr):
                if s is not None:
                    s.flush()
        self._send(IOPUB, msg_type, content, self._current_parent() if parent is None else parent,
                   None, metadata, buffers)

    def stream(self, name: str, text: str, parent: dict | None = None) -> None:
        """Write text to 'stdout' or 'stderr' of the cell (batched like print)."""
        s = self.stdout if name == "stdout" else self.stderr
        s.write(text, parent)

    def execute_result(self, data: dict, metadata: dict | None = None) -> None:
        """Publish the cell's result (the `Out[N]` of a frontend)."""
        self.publish("execute_result", {"execution_count": self.execution_count, "data": data,
                                        "metadata": metadata or {}})

    def display(self, data: dict, metadata: dict | None = None, transient: dict | None = None,
                update: bool = False) -> None:
        """Publish display_data (or update_display_data for transient['display_id'] when update)."""
        if update and not (transient or {}).get("display_id"):
            raise ValueError("update=True needs transient={'display_id': ...} naming the display to update.")
        self.publish("update_display_data" if update else "display_data",
                     {"data": data, "metadata": metadata or {}, "transient": transient or {}})

    def clear_output(self, wait: bool = False) -> None:
        """Ask the frontend to clear the cell's output (now, or when new output arrives if wait)."""
        self.publish("clear_output", {"wait": wait})

    def send_payload(self, source: str, **data: Any) -> None:
        """Attach a payload to this cell's execute_reply, e.g. ('set_next_input', text=..., replace=False)
        or ('page', data={'text/plain': ...}, start=0)."""
        self.payloads.append({"source": source, **data})

    def held_output(self, execution_count: int | None = None) -> tuple[int, str, dict[str, str]]:
        """(execution count, msg_id, {stream: file}) of a cell whose output passed its budget, for
        `%output N` (None: the latest such cell). LookupError with a sentence for the user if none."""
        cells = self._budget.cell_of
        if not cells:
            raise LookupError("no cell's output has passed its budget in this kernel")
        n = max(cells) if execution_count is None else execution_count
        if n not in cells:
            raise LookupError(f"cell {n}'s output was not held back (cells with held-back output: "
                              f"{', '.join(map(str, sorted(cells)))})")
        return n, cells[n], dict(self._budget.held.get(cells[n], {}))

    def raw_input(self, prompt: str = "", password: bool = False) -> str:
        """Ask the frontend for a line of input through the stdin channel and wait for it."""
        if not self._allow_stdin:
            raise StdinNotImplementedError(
                "This frontend does not accept input requests (allow_stdin is false), so the cell cannot "
                "ask for input; run it from a frontend that supports input, or pass the value in code.")
        for s in (self.stdout, self.stderr):
            s.flush()
        event = threading.Event()
        with self._input_lock:
            self._input_wait = [event, None]
        self._send(STDIN, "input_request", {"prompt": prompt, "password": password}, self.parent,
                   self._parent_idents)
        try:
            while not event.wait(0.5):
                if self._stopping:
                    raise EOFError("the kernel is shutting down")
        finally:
            with self._input_lock:
                wait, self._input_wait = self._input_wait, None
        if wait is None or wait[1] is None:  # woken by shutdown, not by an answer
            raise EOFError("the kernel is shutting down")
        return wait[1]

    # ---- the I/O thread: dispatch -------------------------------------------------------------

    def _on_frames(self, channel: int, frames: list) -> None:
        if channel == IOPUB:  # a subscription: welcome the subscriber, so it knows iopub is live
            event = frames[0].bytes if frames else b""
            if event[:1] == b"\x01":
                welcome = self.session.frames("iopub_welcome",
                                              {"subscription": event[1:].decode("utf-8", "replace")}, {})
                self.io.first_subscriber(welcome)
            return
        try:
            idents, msg = self.session.deserialize(frames)
        except ProtocolError as e:  # what Session.feed does, with logging imported only now
            self.session.rejected += 1
            kernel_log().warning("dropped a bad message (%s): %s", type(e).__name__, e)
            return
        kind = msg["msg_type"]
        if channel == STDIN:
            self._on_stdin(msg)
        elif channel == CONTROL and kind in self._CONTROL:
            getattr(self, self._CONTROL[kind])(channel, idents, msg)
        elif kind in self._MAIN_THREAD:
            self._queue.put((idents, msg))
        elif kind in self._INTROSPECTION:
            self._introspect(idents, msg)
        elif kind == "kernel_info_request":
            self._reply_now(channel, idents, msg, "kernel_info_reply", self._kernel_info())
        elif kind == "comm_info_request":
            target = msg["content"].get("target_name")
            self._reply_now(channel, idents, msg, "comm_info_reply",
                            {"status": "ok", "comms": self.comm_manager.info(target)})
        elif kind in self._CONTROL:
            getattr(self, self._CONTROL[kind])(channel, idents, msg)
        else:
            kernel_log().warning("ignored a message of unknown type %r on %s", kind,
                        "control" if channel == CONTROL else "shell")
            if kind.endswith("_request"):
                self._send(channel, kind[:-8] + "_reply",
                           {"status": "error", "ename": "UnknownMessageType",
                            "evalue": f"this kernel does not handle {kind}", "traceback": []}, msg, idents)

    _MAIN_THREAD = frozenset({"execute_request", "comm_open", "comm_msg", "comm_close"})
    _INTROSPECTION = {"complete_request": "complete_reply", "inspect_request": "inspect_reply",
                      "is_complete_request": "is_complete_reply", "history_request": "history_reply"}
    _CONTROL = {"shutdown_request": "_on_shutdown", "interrupt_request": "_on_interrupt",
                "cancel_request": "_on_cancel", "debug_request": "_on_debug",
                "output_request": "_on_output"}

    def _kernel_busy(self) -> bool:
        return self._main_busy or len(self._queue) > 0

    def _reply_now(self, channel: int, idents: list, msg: dict, reply_type: str, content: dict,
                   metadata: dict | None = None) -> None:
        """Reply from the I/O thread; status busy/idle only when no cell is running (so a frontend's
        busy indicator does not flicker to idle while a cell runs)."""
        show = not self._kernel_busy()
        if show:
            self.publish("status", {"execution_state": "busy"}, parent=msg)
        self._send(channel, reply_type, content, msg, idents, metadata)
        if show:
            self.publish("status", {"execution_state": "idle"}, parent=msg)

    def _kernel_info(self) -> dict:
        return {"status": "ok", "protocol_version": PROTOCOL_VERSION, "implementation": self.implementation,
                "implementation_version": self.implementation_version,
                "language_info": self.language_info, "banner": self.banner,
                "help_links": self.help_links, "debugger": False,
                "jup": {"rejected_messages": self.session.rejected, "pid": os.getpid(),
                        # the control extensions this kernel answers (docs/protocol.md): a client
                        # knows at once whether to cancel or to fall back to an interrupt
                        "control_extensions": ["cancel_request", "output_request"]}}

    # ---- introspection ------------------------------------------------------------------------

    def _introspect(self, idents: list, msg: dict) -> None:
        job = _Job(idents, msg)
        if not self._introspector.submit(job):
            self._introspection_fallback(job, "every introspection worker is stuck in earlier requests")
            return
        self.io.call_later(self.introspection_deadline, lambda: self._introspection_fallback(
            job, f"it took longer than {self.introspection_deadline:g} s"))

    def _run_introspection(self, job: _Job) -> None:
        msg = job.msg
        c = msg["content"]
        kind = msg["msg_type"]
        token = current_parent.set(msg)
        self._introspection_job.job = job
        try:
            if kind == "complete_request":
                code = c.get("code", "")
                reply = self.do_complete(code, c.get("cursor_pos", len(code)))
            elif kind == "inspect_request":
                code = c.get("code", "")
                reply = self.do_inspect(code, c.get("cursor_pos", len(code)), c.get("detail_level", 0))
            elif kind == "is_complete_request":
                reply = self.do_is_complete(c.get("code", ""))
            else:
                reply = self.do_history(c.get("hist_access_type", "tail"), c.get("output", False),
                                        c.get("raw", True), c.get("session"), c.get("start"),
                                        c.get("stop"), c.get("n"), c.get("pattern"), c.get("unique", False))
            reply = dict(reply or {})
            reply.setdefault("status", "ok")
            if kind == "complete_request":
                pos = c.get("cursor_pos", len(c.get("code", "")))
                for k, v in (("matches", []), ("cursor_start", pos), ("cursor_end", pos), ("metadata", {})):
                    reply.setdefault(k, v)
            elif kind == "inspect_request":
                for k, v in (("found", False), ("data", {}), ("metadata", {})):
                    reply.setdefault(k, v)
            elif kind == "history_request":
                reply.setdefault("history", [])
        except Exception as e:
            kernel_log().exception("%s failed", kind)
            reply = {"status": "error", "ename": type(e).__name__, "evalue": str(e), "traceback": []}
        finally:
            current_parent.reset(token)
            self._introspection_job.job = None
        if job.claim():
            self._reply_now(SHELL, job.idents, msg, self._INTROSPECTION[kind], reply)

    def partial_reply(self, content: dict) -> None:
        """From do_complete/do_inspect/...: what you have so far, sent if the deadline passes first."""
        job = getattr(self._introspection_job, "job", None)
        if job is not None:
            job.partial = dict(content)

    def _introspection_fallback(self, job: _Job, why: str) -> None:
        if not job.claim():
            return
        msg, c = job.msg, job.msg["content"]
        note = f"skipped: {why}"
        kind = msg["msg_type"]
        if job.partial is not None:  # the kernel said what it had found so far: send that
            reply = dict(job.partial)
            reply.setdefault("status", "ok")
            if kind in ("complete_request", "inspect_request"):
                reply["metadata"] = {**(reply.get("metadata") or {}), "jup_skipped": note}
        elif kind == "complete_request":
            pos = c.get("cursor_pos", len(c.get("code", "")))
            reply = {"status": "ok", "matches": [], "cursor_start": pos, "cursor_end": pos,
                     "metadata": {"jup_skipped": note}}
        elif kind == "inspect_request":
            reply = {"status": "ok", "found": False, "data": {}, "metadata": {"jup_skipped": note}}
        elif kind == "is_complete_request":
            reply = {"status": "unknown"}
        else:
            reply = {"status": "ok", "history": []}
        kernel_log().warning("%s %s", kind, note)
        self._reply_now(SHELL, job.idents, msg, self._INTROSPECTION[kind], reply, {"jup_skipped": note})

    # ---- control ------------------------------------------------------------------------------

    def _on_stdin(self, msg: dict) -> None:
        if msg["msg_type"] != "input_reply":
            kernel_log().warning("ignored a %r on stdin (only input_reply is expected)", msg["msg_type"])
            return
        with self._input_lock:
            wait = self._input_wait
            if wait is None:
                kernel_log().warning("ignored an input_reply: no input was requested")
                return
            wait[1] = str(msg["content"].get("value", ""))
            wait[0].set()

    def _on_interrupt(self, channel: int, idents: list, msg: dict) -> None:
        if not self._executing:
            self._send(channel, "interrupt_reply", {"status": "ok"}, msg, idents)
            return
        self._interrupt_requested = True
        seq = self._cell_seq
        self._pending_interrupts.append((channel, idents, msg, seq))
        self.interrupt_main()
        self.io.call_later(self.interrupt_grace, lambda: self._interrupt_timed_out(seq))

    def interrupt_main(self) -> None:
        """Raise KeyboardInterrupt in the thread running cells (also wakes a sleep or a wait)."""
        target = self._pump_ident if self.in_process and self._pump_ident else self._main_ident
        try:
            signal.pthread_kill(target, signal.SIGINT)
        except (AttributeError, OSError, ValueError):
            import _thread
            _thread.interrupt_main()

    def _cell_finished(self, seq: int) -> None:
        keep = []
        for channel, idents, msg, s in self._pending_interrupts:
            if s <= seq:
                self._send(channel, "interrupt_reply", {"status": "ok"}, msg, idents)
            else:
                keep.append((channel, idents, msg, s))
        self._pending_interrupts = keep

    def _interrupt_timed_out(self, seq: int) -> None:
        still = [p for p in self._pending_interrupts if p[3] == seq]
        if not still:
            return
        self._pending_interrupts = [p for p in self._pending_interrupts if p[3] != seq]
        stuck = self._executing and self._cell_seq == seq
        for channel, idents, msg, _ in still:
            if not stuck:  # the cell ended (its end raced with the interrupt): it did stop
                self._send(channel, "interrupt_reply", {"status": "ok"}, msg, idents)
                continue
            self._send(channel, "interrupt_reply", {
                "status": "error", "ename": "InterruptFailed",
                "evalue": (f"The running code did not stop within {self.interrupt_grace:g} s of the interrupt: "
                           "it is probably inside C code that does not check for interrupts. Restart the "
                           "kernel to stop it (the kernel's state will be lost)."),
                "traceback": []}, msg, idents)

    def _on_cancel(self, channel: int, idents: list, msg: dict) -> None:
        target = msg["content"].get("msg_id", "")
        item = self._queue.remove(target)
        if item is not None:
            self._abort(*item, status=False)
        self._send(channel, "cancel_reply", {"status": "ok", "cancelled": item is not None}, msg, idents)

    def _on_output(self, channel: int, idents: list, msg: dict) -> None:
        """jup output_request: a chunk of a cell's full output that its budget held back."""
        c = msg["content"]
        try:
            name = c.get("name")
            if name not in (None, "stdout", "stderr"):
                raise LookupError(f"name must be 'stdout' or 'stderr', not {name!r}")
            content = self._budget.read(str(c.get("msg_id", "")), name, c.get("offset", 0),
                                        c.get("size", MAX_CHUNK))
        except (LookupError, TypeError, ValueError) as e:
            content = {"status": "error", "ename": type(e).__name__, "evalue": str(e),
                       "traceback": []}
        self._send(channel, "output_reply", content, msg, idents)

    def _on_debug(self, channel: int, idents: list, msg: dict) -> None:
        c = msg["content"]
        self._send(channel, "debug_reply", {
            "type": "response", "request_seq": c.get("seq", 0), "seq": 0, "success": False,
            "command": c.get("command", ""), "message": "This kernel has no debugger."}, msg, idents)

    def _on_shutdown(self, channel: int, idents: list, msg: dict) -> None:
        restart = bool(msg["content"].get("restart", False))
        try:
            content = dict(self.do_shutdown(restart) or {})
        except Exception as e:
            kernel_log().exception("do_shutdown failed")
            content = {"status": "error", "ename": type(e).__name__, "evalue": str(e), "traceback": []}
        content.setdefault("status", "ok")
        content.setdefault("restart", restart)
        self._send(channel, "shutdown_reply", content, msg, idents)
        self.publish("shutdown_reply", content, parent=msg)
        self._begin_stop()

    def _begin_stop(self) -> None:
        if self._stopping:
            return
        self._stopping = True
        self.shut_down.set()
        self._queue.stop()
        with self._input_lock:
            if self._input_wait is not None:
                self._input_wait[0].set()
        if self._in_cell:
            self.interrupt_main()
        if not self.in_process:
            self.io.call_later(self.interrupt_grace + 1.0, self._force_exit)

    def _force_exit(self) -> None:
        """The main thread did not come back (stuck in C): send what is queued and leave."""
        kernel_log().warning("the running cell did not stop; exiting anyway")
        self.io._drain()
        self.io._close_sockets()
        self._remove_output_files()
        os._exit(0)

    def _watch_parent(self) -> None:
        """Housekeeping on the I/O thread: exit when the process named by JPY_PARENT_PID is gone."""
        if self._parent_pid <= 1:  # like ipykernel: watch only when the starter asked (JPY_PARENT_PID)
            return
        gone = self._ppid == self._parent_pid and os.getppid() != self._ppid  # we were re-parented
        try:
            os.kill(self._parent_pid, 0)
        except ProcessLookupError:
            gone = True
        except PermissionError:
            pass
        if gone and not self._stopping:
            kernel_log().warning("the process that started this kernel is gone; shutting down")
            self._remove_own_connection_file()
            self._begin_stop()

    def _remove_own_connection_file(self) -> None:
        """The manager that wrote our connection file died (kill -9): nobody else will remove it."""
        path, self._own_connection_file = self._own_connection_file, None
        if path:
            try:
                os.unlink(path)
            except OSError:  # already gone, or not ours to remove after all
                pass

    # ---- to override --------------------------------------------------------------------------

    def do_execute(self, code: str, silent: bool, store_history: bool = True,
                   user_expressions: dict | None = None, allow_stdin: bool = False) -> dict:
        """Run a cell on the main thread; publish output, return the execute_reply content."""
        raise NotImplementedError("this kernel does not execute code")

    def do_complete(self, code: str, cursor_pos: int) -> dict:
        return {"status": "ok", "matches": [], "cursor_start": cursor_pos, "cursor_end": cursor_pos,
                "metadata": {}}

    def do_inspect(self, code: str, cursor_pos: int, detail_level: int = 0) -> dict:
        return {"status": "ok", "found": False, "data": {}, "metadata": {}}

    def do_history(self, hist_access_type: str, output: bool, raw: bool, session: int | None = None,
                   start: int | None = None, stop: int | None = None, n: int | None = None,
                   pattern: str | None = None, unique: bool = False) -> dict:
        return {"status": "ok", "history": []}

    def do_is_complete(self, code: str) -> dict:
        return {"status": "unknown"}

    def do_shutdown(self, restart: bool) -> dict:
        return {"status": "ok", "restart": restart}

    # ---- entry points -------------------------------------------------------------------------

    @classmethod
    def main(cls, argv: list[str] | None = None) -> int:
        """Run the kernel from a connection file (`-f FILE`) until shutdown; returns the exit code."""
        argv = sys.argv[1:] if argv is None else argv
        path = None
        for i, a in enumerate(argv):
            if a in ("-f", "--connection-file") and i + 1 < len(argv):
                path = argv[i + 1]
            elif a.startswith(("-f=", "--connection-file=")):
                path = a.split("=", 1)[1]
        if not path:
            print(f"usage: {cls.__module__} -f CONNECTION_FILE  (the file a kernel manager wrote)",
                  file=sys.stderr)
            return 2
        try:
            info = _read_connection_file(path)
        except ValueError as e:
            print(e, file=sys.stderr)
            return 2
        # our launcher says it wrote this file; popped so that the user's subprocesses do not inherit it
        own_file = os.environ.pop(OWN_CONNECTION_FILE_ENV, "") == "1"
        log_to_fd(os.dup(2))
        sys.setswitchinterval(cls.switch_interval)
        kernel = cls(info)
        if own_file:
            kernel._own_connection_file = os.path.abspath(path)
        try:
            kernel.start()
        except zmq.ZMQError as e:
            print(f"The kernel could not listen on {info.get('ip')}: {e}. Is another kernel using {path}?",
                  file=sys.stderr)
            return 1
        previous_int = signal.signal(signal.SIGINT, kernel._on_sigint)
        signal.signal(signal.SIGTERM, kernel._on_sigterm)
        from jup.core.kernelbase.interrupt_watch import InterruptWatch
        def handler_drains() -> bool:  # the kernel's handler, or one standing in for it
            handler = signal.getsignal(signal.SIGINT)
            return handler == kernel._on_sigint or getattr(handler, "calls_sigint_arrived", False)
        watch = InterruptWatch(handler_drains)
        kernel._interrupt_watch = watch if watch.start() else None
        try:
            kernel.serve()
        finally:
            kernel.close()
            signal.signal(signal.SIGINT, previous_int)
            watch.stop()
        others = [t for t in threading.enumerate() if not t.daemon and t is not threading.current_thread()]
        if others:  # a user thread would keep the process alive after shutdown
            sys.__stdout__.flush()
            os._exit(0)
        return 0

    def sigint_arrived(self) -> None:
        """A SIGINT reached Python code on the main thread: the watcher has nothing to redeliver.
        A SIGINT handler that stands in for the kernel's while a cell runs (and calls it only at
        times) calls this first, and has an attribute `calls_sigint_arrived = True`."""
        if self._interrupt_watch is not None:
            self._interrupt_watch.handled()

    def _on_sigint(self, signum: int, frame: Any) -> None:
        self.sigint_arrived()
        if self._in_cell:
            raise KeyboardInterrupt
        if self._executing:  # the cell is starting (busy, execute_input sent): stop it when it starts
            self._interrupt_requested = True

    def _on_sigterm(self, signum: int, frame: Any) -> None:
        self._remove_output_files()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)

    @classmethod
    def in_process(cls, context: zmq.Context | None = None, **kwargs: Any) -> Kernel:
        """A started kernel in this process on inproc:// endpoints; the caller drains it with `pump`."""
        name = f"jup-kernel-{new_id()[:12]}"
        info = {"transport": "inproc", "ip": name, "shell_port": 1, "iopub_port": 2, "stdin_port": 3,
                "control_port": 4, "hb_port": 5, "key": "", "signature_scheme": "hmac-sha256",
                "kernel_name": kwargs.pop("kernel_name", "")}
        kernel = cls(info, context=context or zmq.Context(), in_process=True, **kwargs)
        kernel._own_context = context is None
        kernel.start()
        kernel.kernel_ready()
        return kernel


def _read_connection_file(path: str) -> dict:
    """The connection file as a dict (read with json alone: ConnectionInfo costs ~10 ms of imports)."""
    import json
    try:
        with open(path) as f:
            info = json.load(f)
    except FileNotFoundError:
        raise ValueError(f"Connection file {path} does not exist; a kernel manager writes it before "
                         "starting the kernel (or use `jup kernel`, which writes one).") from None
    except (OSError, ValueError) as e:
        raise ValueError(f"Connection file {path} could not be read: {e}.") from None
    if not isinstance(info, dict) or "shell_port" not in info:
        raise ValueError(f"Connection file {path} is not a kernel connection file (no shell_port).")
    return info
