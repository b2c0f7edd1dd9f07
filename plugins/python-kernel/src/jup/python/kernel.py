"""`PythonKernel`: the shell on the Jupyter wire. Cells run on the main thread through the shell;
completion, inspection and history are answered by the shell's helpers on the kernel base's worker
threads, so they work while a cell runs.

The shell, the IPython compatibility layer and plugins load in a background thread started by
`kernel_ready`, after the sockets are up, so neither `kernel_info_reply` nor the first cell's
arrival waits for them; a cell (or a completion) that needs them waits for the loader.
"""

from __future__ import annotations

import builtins
import io
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from jup.core.kernelbase import Kernel
from jup.core.kernelbase.io_thread import block_signals_here

EOF_ANSWER = "\x04"  #: an input_reply value meaning Ctrl-D: input() raises EOFError

_PY_VERSION = sys.version.split()[0]  # what platform.python_version() says, without importing platform

__version__ = "0.1.0"


class KernelPublisher:
    """The shell's publisher in a kernel: everything goes to iopub or into the execute_reply."""

    def __init__(self, kernel: Kernel):
        self.kernel = kernel

    def display(self, data: dict, metadata: dict, transient: dict, update: bool) -> None:
        self.kernel.display(data, metadata, transient, update)

    def stream(self, name: str, text: str) -> None:
        self.kernel.stream(name, text)

    def clear_output(self, wait: bool) -> None:
        self.kernel.clear_output(wait)

    def execute_result(self, count: int, data: dict, metadata: dict) -> None:
        self.kernel.publish("execute_result", {"execution_count": count, "data": data,
                                               "metadata": metadata})

    def payload(self, payload: dict) -> None:
        payload = dict(payload)
        source = payload.pop("source")
        self.kernel.send_payload(source, **payload)

    def error(self, ename: str, evalue: str, traceback: list[str]) -> None:
        self.kernel.publish("error", {"ename": ename, "evalue": evalue, "traceback": traceback})


class _StreamView(io.TextIOBase):
    """An open file object over one of the kernel's streams: what sys.stdout becomes again after
    user code closed it, so the next cell's output still reaches the frontend."""

    encoding = "utf-8"
    errors = "replace"

    def __init__(self, target: Any):
        super().__init__()
        self._target = target

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def write(self, s: str) -> int:
        return self._target.write(s)

    def flush(self) -> None:
        self._target.flush()

    def fileno(self) -> int:
        return self._target.fileno()


class PythonKernel(Kernel):
    """The `python` kernel."""

    implementation = "jup-python"
    implementation_version = __version__
    language_info = {
        "name": "python", "version": _PY_VERSION, "mimetype": "text/x-python",
        "codemirror_mode": {"name": "ipython", "version": 3}, "pygments_lexer": "ipython3",
        "nbconvert_exporter": "python", "file_extension": ".py",
    }
    banner = f"Python {_PY_VERSION} — jup kernel {__version__}"
    help_links = [{"text": "Python Reference", "url": "https://docs.python.org/3/"}]

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._shell = None
        self._shell_lock = threading.Lock()
        self._loader: threading.Thread | None = None  # loads the shell and plugins after start
        self._load_error: Exception | None = None
        self._started = False  # jup_kernel_startup was called

    # ---- set-up ---------------------------------------------------------------------------------

    @property
    def shell(self) -> Any:
        """The kernel's shell (made on first use)."""
        if self._shell is None:
            with self._shell_lock:  # the loader thread and an introspection worker may both ask
                if self._shell is None:
                    self._make_shell()
        return self._shell

    def _make_shell(self) -> None:
        """Create the shell (IPython compatibility installed first)."""
        from jup.python import compat
        from jup.python.shell import Shell
        compat.install()
        shell_cls = type("ZMQInteractiveShell", (Shell,), {
            "__doc__": "The kernel's shell; named like IPython's so libraries that look for a "
                       "notebook kernel by class name find one."})
        user_ns = None
        if not self.in_process:  # out of process, the user's namespace is `__main__`, so pickle
            import types  # finds the functions and classes cells define
            main = types.ModuleType("__main__", "The user's namespace.")
            sys.modules["__main__"] = main
            user_ns = main.__dict__
        self._shell = shell_cls(publisher=KernelPublisher(self), kernel=self, user_ns=user_ns)

    def kernel_ready(self) -> None:
        """Out of process, the shell and plugins (~100 ms of imports and entry points) load in a
        background thread while the kernel already answers; the main thread waits for them only
        when a cell is to run. `jup_kernel_startup` is then called on the main thread as soon as it
        is free, and always before the first cell runs (not before kernel_info or completion)."""
        if self.in_process:  # the host uses the shell right away: load here, as before
            self._load()
            self._ensure_started()
            return
        os.environ.setdefault("MPLBACKEND", "module://jup.python.mpl_backend")
        builtins.input = self._input
        import getpass
        getpass.getpass = self._getpass
        self._loader = threading.Thread(target=self._load_in_background, name="jup-kernel-load",
                                        daemon=True)
        self._loader.start()

    def _load(self) -> None:
        shell = self.shell
        from jup.python import comm
        comm.install(self)
        try:
            shell.load_plugins()
        except Exception as e:
            self._load_error = e
        # the shell has imported what orjson needs by now, so fast JSON costs ~1 ms here, not 20
        from jup.core.protocol import enable_fast_json
        enable_fast_json()

    def _load_in_background(self) -> None:
        block_signals_here()
        try:
            self._load()
        except Exception as e:  # the shell itself failed: the first cell will say so
            self._load_error = e
        finally:
            self.call_on_main(self._ensure_started)

    def _wait_loaded(self, timeout: float | None = None) -> None:
        loader = self._loader
        if loader is not None and loader.is_alive() and threading.current_thread() is not loader:
            loader.join(timeout)

    def _ensure_started(self) -> None:
        """Main thread: wait for the loader, then call `jup_kernel_startup` (once)."""
        if self._started:
            return
        self._wait_loaded()
        self._started = True
        shell = self.shell
        try:
            if self._load_error is not None:
                raise self._load_error
            host = shell.plugin_host
            if host is not None:
                host.call("jup_kernel_startup", kernel=self)
        except Exception as e:
            shell.write_err(f"Plugins failed to start ({type(e).__name__}: {e}); the kernel runs without them.\n")

    def reopen_stream(self, name: str) -> io.TextIOBase:
        """A fresh sys.stdout / sys.stderr for the shell after user code closed the old one."""
        return _StreamView(self.stdout if name == "stdout" else self.stderr)

    # The frontend's Ctrl-D comes as EOF_ANSWER (as jupyter_console and ipykernel agree): EOFError,
    # as input() at the end of a file. An interrupt while waiting is raised afresh, so the user's
    # traceback ends here and not deep in threading's wait. One frame each, as they show there.
    def _input(self, prompt: Any = "") -> str:
        try:
            value = self.raw_input(str(prompt))
        except KeyboardInterrupt:
            raise KeyboardInterrupt("interrupted while waiting for input") from None
        if value == EOF_ANSWER:
            raise EOFError("end of input (Ctrl-D)")
        return value

    def _getpass(self, prompt: str = "Password: ", stream: Any = None) -> str:
        try:
            value = self.raw_input(str(prompt), password=True)
        except KeyboardInterrupt:
            raise KeyboardInterrupt("interrupted while waiting for input") from None
        if value == EOF_ANSWER:
            raise EOFError("end of input (Ctrl-D)")
        return value

    @contextmanager
    def _frontend_input(self) -> Iterator[None]:
        """In-process: input() and getpass() ask the frontend only while a cell runs, so the host's
        own threads keep the real ones."""
        if not self.in_process:  # out of process they are replaced for good in kernel_ready
            yield
            return
        import getpass
        saved = builtins.input, getpass.getpass
        builtins.input, getpass.getpass = self._input, self._getpass
        try:
            yield
        finally:
            builtins.input, getpass.getpass = saved

    # ---- requests -------------------------------------------------------------------------------

    def do_execute(self, code: str, silent: bool, store_history: bool = True,
                   user_expressions: dict | None = None, allow_stdin: bool = False) -> dict:
        if not self._started:
            self._ensure_started()
        shell = self.shell
        shell.execution_count = self.execution_count if store_history else self.execution_count + 1
        with self._frontend_input():
            result = shell.run_cell(code, store_history=store_history, silent=silent)
        if result.success:
            reply: dict = {"status": "ok"}
        else:
            err = shell.last_error or {"ename": type(result.error_in_exec or result.error_before_exec).__name__,
                                       "evalue": str(result.error_in_exec or result.error_before_exec),
                                       "traceback": []}
            reply = {"status": "error", **err}
        reply["user_expressions"] = self._user_expressions(user_expressions or {})
        return reply

    def _user_expressions(self, expressions: dict) -> dict:
        out = {}
        for name, expr in expressions.items():
            try:
                value = self.shell.ev(expr)
                data, md = self.shell.formatter.format(value)
                out[name] = {"status": "ok", "data": data, "metadata": md}
            except Exception as e:
                out[name] = {"status": "error", "ename": type(e).__name__, "evalue": str(e),
                             "traceback": []}
        return out

    def do_complete(self, code: str, cursor_pos: int) -> dict:
        self._wait_loaded(self.introspection_deadline)  # magics come from plugins
        return self.shell.completer.complete(code, cursor_pos)

    def do_inspect(self, code: str, cursor_pos: int, detail_level: int = 0) -> dict:
        self._wait_loaded(self.introspection_deadline)
        return self.shell.inspector.inspect(code, cursor_pos, detail_level)

    def do_history(self, hist_access_type: str, output: bool, raw: bool, session: int | None = None,
                   start: int | None = None, stop: int | None = None, n: int | None = None,
                   pattern: str | None = None, unique: bool = False) -> dict:
        return self.shell.history.reply({
            "hist_access_type": hist_access_type, "output": output, "raw": raw, "session": session or 0,
            "start": start, "stop": stop, "n": n, "pattern": pattern, "unique": unique})

    def do_is_complete(self, code: str) -> dict:
        from jup.python.iscomplete import is_complete
        return is_complete(code)

    def do_shutdown(self, restart: bool) -> dict:
        shell = self._shell
        if shell is not None and shell._history is not None:
            try:
                shell._history.close(timeout=2.0)
            except Exception:
                pass
        return {"status": "ok", "restart": restart}
